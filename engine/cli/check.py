"""`codemode check`: connect to every configured server and report each one's state; with a FILE,
type-check that program against the servers' stubs instead.

One line per server: connected (with its tool count and how long the handshake took), failed
(with the reason), or disabled. Every server is tried, so one run shows every problem of a config.
Exit code 0 when every enabled server connected, 1 otherwise.

`codemode check FILE` runs the pre-run type check of `execute_code(check="types")` (learned shapes
from the config's store included) and prints each finding as `FILE:LINE:COLUMN: error|warning
Type: message`. Exit code 1 when a finding would refuse the run, 2 when the check could not run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

import anyio

from engine import CheckReport

from .connect import ServerStatus, connect_all, load_tools
from .render import Spinner, Style, table, wants_colour
from .run import read_program
from .settings import Settings, add_settings_arguments, load_settings

__all__ = ["add_parser", "status_rows"]

_STATE_COLOURS = {"connected": ("green",), "failed": ("red", "bold"), "disabled": ("dim",)}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "check",
        help="connect to every server and report its state",
        description="Connect to every configured server at once and report each one: connected (tools, "
        "latency), failed (why) or disabled. Exit code 1 when any enabled server failed.",
    )
    add_settings_arguments(parser, limits=False)
    parser.add_argument("program", nargs="?", metavar="FILE",
                        help="type-check this program (or - for stdin) against the servers' stubs instead")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the failures")
    parser.add_argument("--no-color", action="store_true", help="never colour the output")
    parser.set_defaults(handler=check_command)


async def check(settings: Settings, *, quiet: bool = False) -> list[ServerStatus]:
    spinner = Spinner(quiet=quiet)
    async with settings.client() as client:
        total = len(client.get_server_names())
        with spinner.running(f"connecting to {total} servers"):
            return await connect_all(
                client, on_done=lambda s, done, n: spinner.update(f"connecting to servers ({done}/{n}): {s.name}")
            )


def status_rows(statuses: list[ServerStatus]) -> list[list[str]]:
    rows = []
    for status in statuses:
        latency = "" if status.latency is None or status.state != "connected" else f"{status.latency * 1000:.0f} ms"
        detail = status.error or ""
        if status.state == "connected" and status.server_info:
            detail = f"{status.server_info.get('name') or ''} {status.server_info.get('version') or ''}".strip()
        rows.append([status.name, status.state, str(len(status.tools)) if status.state == "connected" else "",
                     latency, detail])
    return rows


def check_command(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    if args.program is not None:
        return _check_program(args, settings)
    statuses = anyio.run(lambda: check(settings, quiet=args.quiet or args.json))
    failed = [s for s in statuses if not s.ok]
    if args.json:
        print(json.dumps({"ok": not failed, "servers": [s.to_dict() for s in statuses]}, indent=2))
    elif args.quiet:
        for status in failed:
            print(f"{status.name}: {status.error}")
    else:
        style = Style(wants_colour(sys.stdout, disabled=args.no_color))
        rows = status_rows(statuses)
        width = shutil.get_terminal_size((120, 24)).columns if sys.stdout.isatty() else None
        colours = [_STATE_COLOURS[s.state] for s in statuses]
        print(table(["SERVER", "STATE", "TOOLS", "LATENCY", "DETAIL"], rows, style=style, max_width=width,
                    cell_styles=lambda row, column: colours[row] if column == 1 else ()))
        enabled = [s for s in statuses if s.state != "disabled"]
        summary = f"{len(enabled) - len(failed)}/{len(enabled)} servers connected"
        if len(enabled) < len(statuses):
            summary += f", {len(statuses) - len(enabled)} disabled"
        print(style(summary, "bold", "red" if failed else "green"))
    return 1 if failed else 0


def _check_program(args: argparse.Namespace, settings: Settings) -> int:
    code = read_program(args.program)
    report = anyio.run(lambda: _type_check(settings, code, quiet=args.quiet or args.json))
    name = "<stdin>" if args.program == "-" else args.program
    if args.json:
        print(json.dumps({"status": report.status, "reason": report.reason, "errors": report.errors,
                          "warnings": report.warnings}, indent=2, ensure_ascii=False))
    else:
        style = Style(wants_colour(sys.stdout, disabled=args.no_color))
        if report.status == "skipped":
            print(style(f"{name}: the type check did not run: {report.reason}", "yellow"))
        found = [("error", f) for f in report.errors]
        if not args.quiet:
            found += [("warning", f) for f in report.warnings]
        found.sort(key=lambda item: (item[1]["line"] or 0, item[1]["column"] or 0))
        for severity, finding in found:
            where = f"{name}:{finding['line']}:{finding['column']}"
            label = style(severity, "red", "bold") if severity == "error" else style(severity, "yellow")
            print(f"{where}: {label} {finding['type']}: {finding['message']}")
        if report.status == "ok" and not args.quiet:
            summary = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
            print(style(summary, "bold", "red" if report.errors else "green"))
    if report.status == "skipped":
        return 2
    return 1 if report.errors else 0


async def _type_check(settings: Settings, code: str, *, quiet: bool) -> CheckReport:
    async with settings.client() as client:
        await load_tools(client, quiet=quiet)
        return await client.code_mode_engine().check(code)
