"""`codemode tools [QUERY]` and `codemode stubs [SERVER]`: what the configured servers offer.

`tools` lists every tool as a table (`NAMESPACE.TOOL` and the first line of its description), or
ranks them against QUERY with the same search an agent's `search_tools` uses. `stubs` prints the
typed Python stubs a program calls, one class per server. Servers that fail to start are named on
stderr; the others are still listed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import Any

import anyio

from engine import ServerState

from .connect import load_tools
from .render import Style, table, wants_colour
from .settings import Settings, add_settings_arguments, load_settings

__all__ = ["add_parsers"]


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tools = commands.add_parser(
        "tools",
        help="list the tools of the configured servers, or search them",
        description="List every tool of the configured servers, or rank them against QUERY (the search "
        "agents use through search_tools).",
    )
    tools.add_argument("query", nargs="?", default="", metavar="QUERY", help="words to search for")
    add_settings_arguments(tools, limits=False)
    tools.add_argument("-n", "--limit", type=int, help="show at most N tools")
    tools.add_argument("--detail", choices=["names", "descriptions", "full"], default="descriptions",
                       help="detail of --json output (default descriptions)")
    tools.add_argument("--json", action="store_true", help="print the search result as JSON")
    tools.add_argument("-q", "--quiet", action="store_true", help="print only namespace.tool, one per line")
    tools.add_argument("--no-color", action="store_true", help="never colour the output")
    tools.set_defaults(handler=tools_command)

    stubs = commands.add_parser(
        "stubs",
        help="print the Python stubs programs call",
        description="Print the generated, typed Python stubs of every server's tools (or of one server).",
    )
    stubs.add_argument("server_name", nargs="?", metavar="SERVER", help="only this server")
    add_settings_arguments(stubs, limits=False)
    stubs.add_argument("-q", "--quiet", action="store_true", help="no progress or warnings on stderr")
    stubs.set_defaults(handler=stubs_command)


async def _search(settings: Settings, args: argparse.Namespace) -> tuple[list[ServerState], dict[str, Any]]:
    async with settings.client() as client:
        states = await load_tools(client, quiet=args.quiet or args.json)
        found = await client.search_tools(args.query, detail_level=args.detail if args.json else "descriptions",
                                          limit=args.limit)
    return states, found


def _first_line(text: Any) -> str:
    return str(text or "").strip().split("\n", 1)[0]


def tools_command(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    states, found = anyio.run(_search, settings, args)
    failed = any(state.state == "failed" for state in states)
    results: list[dict[str, Any]] = found["results"]
    if args.json:
        print(json.dumps(found, indent=2, ensure_ascii=False))
    elif args.quiet:
        for tool in results:
            print(f"{tool['namespace']}.{tool['identifier']}")
    else:
        style = Style(wants_colour(sys.stdout, disabled=args.no_color))
        rows = [[f"{tool['namespace']}.{tool['identifier']}", _first_line(tool.get("description"))]
                for tool in results]
        width = shutil.get_terminal_size((120, 24)).columns if sys.stdout.isatty() else None
        print(table(["TOOL", "DESCRIPTION"], rows, style=style, max_width=width,
                    cell_styles=lambda row, column: ("cyan",) if column == 0 else ()))
        meta = found["meta"]
        what = f"{meta['result_count']} of {meta['total_tools']} tools"
        if args.query:
            what += f" matching {args.query!r}"
        print(style(f"{what} from {len(meta['namespaces'])} servers", "dim"))
    return 1 if failed else 0


async def _stubs(settings: Settings, quiet: bool) -> tuple[list[ServerState], str]:
    async with settings.client() as client:
        states = await load_tools(client, quiet=quiet)
        return states, client.code_mode_engine().stubs()


def stubs_command(args: argparse.Namespace) -> int:
    if args.server_name:
        args.servers = [args.server_name]
    settings = load_settings(args)
    states, source = anyio.run(_stubs, settings, args.quiet)
    if source:
        print(source, end="")
    return 1 if any(state.state == "failed" for state in states) else 0
