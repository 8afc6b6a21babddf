"""`codemode check`: connect to every configured server and report each one's state.

One line per server: connected (with its tool count and how long the handshake took), failed
(with the reason), or disabled. Every server is tried, so one run shows every problem of a config.
Exit code 0 when every enabled server connected, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

import anyio

from .connect import ServerStatus, connect_all
from .render import Spinner, Style, table, wants_colour
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
