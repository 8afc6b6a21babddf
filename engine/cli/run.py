"""`codemode run FILE|-`: run one program against the configured servers and print what it did.

Prints the error (with its line), the program's output and its result, and exits 0 when the
program succeeded, 1 when it failed. `--json` prints the raw envelope instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import anyio

from engine import ConfigError, envelope_text

from .connect import load_tools
from .render import Style, wants_colour
from .settings import Settings, add_settings_arguments, load_settings

__all__ = ["add_parser"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "run",
        help="run a program and print its result, output and error",
        description="Run one code-mode program (a file, or - for stdin) with every configured server as a "
        "namespace: `await <server>.<tool>(...)`. Exit code 0 on success, 1 when the program failed.",
    )
    parser.add_argument("program", metavar="FILE", help="the program's file, or - to read it from stdin")
    add_settings_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the raw result envelope as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the result (or the error)")
    parser.add_argument("--no-color", action="store_true", help="never colour the output")
    parser.set_defaults(handler=run_command)


def read_program(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"program file {name!r}: {exc.strerror or exc}") from None


def run_command(args: argparse.Namespace) -> int:
    code = read_program(args.program)
    settings = load_settings(args)
    envelope = anyio.run(_run, settings, code, args.quiet or args.json)
    failed = envelope.get("error") is not None
    if args.json:
        print(json.dumps(envelope, indent=2, ensure_ascii=False, default=str))
    elif args.quiet:
        if failed:
            print(envelope["error"], file=sys.stderr)
        else:
            result = envelope.get("result")
            print(result if isinstance(result, str) else json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(envelope_text(envelope, style=Style(wants_colour(sys.stdout, disabled=args.no_color))))
    return 1 if failed else 0


async def _run(settings: Settings, code: str, quiet: bool) -> dict[str, object]:
    async with settings.client() as client:
        await load_tools(client, quiet=quiet)  # the program's time limit starts once the servers are up
        return await client.execute_code(code)  # under the settings' limits
