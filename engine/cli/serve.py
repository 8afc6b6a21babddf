"""`codemode serve`: run the code-mode MCP server over stdio or streamable HTTP.

Starts every configured server (those that fail are reported on stderr and listed as unavailable
in the instructions), builds the server of `server.py`, and serves until end of input (stdio), or
SIGINT/SIGTERM (either transport). Every downstream server is closed before the command returns,
whatever ended it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import warnings
from collections.abc import Iterator

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPDeprecationWarning

from ..client import MCPClient
from .connect import ServerStatus, connect_all
from .render import Spinner
from .server import build_server
from .settings import add_settings_arguments, load_settings
from .stdio import claimed_stdio

__all__ = ["add_parser", "serve"]

logger = logging.getLogger("engine.cli")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the code-mode MCP server (tools execute_code and search_tools)",
        description="Serve code mode over MCP: one server in front of every configured server, with two tools, "
        "execute_code and search_tools. Stdio by default (for desktop clients); --http for streamable HTTP.",
    )
    add_settings_arguments(parser)
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    parser.add_argument("--path", default="/mcp", help="HTTP path of the MCP endpoint (default /mcp)")
    parser.add_argument("--name", default="codemode", help="the server name clients see (default codemode)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no status lines on stderr")
    parser.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    # Log messages are deprecated from protocol 2026-07-28 on, but clients of earlier versions and
    # clients that opt in still show them: sending them is deliberate, the warning is noise.
    warnings.filterwarnings("ignore", message="The logging capability is deprecated", category=MCPDeprecationWarning)
    return anyio.run(serve, settings.client(), args)


def _announce(statuses: list[ServerStatus], quiet: bool) -> None:
    if quiet:
        return
    for status in statuses:
        if status.state == "connected":
            print(f"codemode: {status.name}: {len(status.tools)} tools", file=sys.stderr)
        elif status.state == "failed":
            print(f"codemode: {status.name}: unavailable: {status.error}", file=sys.stderr)


async def serve(client: MCPClient, args: argparse.Namespace) -> int:
    """Connect, serve until told to stop, then close every downstream server."""
    try:
        spinner = Spinner(quiet=args.quiet)
        with spinner.running("connecting to servers"):
            statuses = await connect_all(
                client, on_done=lambda s, done, total: spinner.update(f"connecting to servers ({done}/{total})")
            )
        _announce(statuses, args.quiet)
        server = build_server(client, statuses, name=args.name)
        if args.http:
            await _serve_http(server, args)
        else:
            await _serve_stdio(server)
    finally:
        with anyio.CancelScope(shield=True):
            await client.close_all_sessions()
        if not args.quiet:
            print("codemode: stopped; all servers closed", file=sys.stderr)
    return 0


async def _serve_stdio(server: MCPServer) -> None:
    lowlevel = server._lowlevel_server  # noqa: SLF001 - MCPServer only runs stdio on the SDK's own claim
    async with anyio.create_task_group() as group:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    group.cancel_scope.cancel()
                    return

        group.start_soon(stop_on_signal)
        async with claimed_stdio() as (stdin, stdout), stdio_server(stdin=stdin, stdout=stdout) as (read, write):
            await lowlevel.run(read, write, lowlevel.create_initialization_options())
        group.cancel_scope.cancel()  # end of input: stop listening for signals


class _Uvicorn(uvicorn.Server):
    """Uvicorn without its own signal handlers: `serve` handles signals, then asks it to exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve_http(server: MCPServer, args: argparse.Namespace) -> None:
    app = server.streamable_http_app(streamable_http_path=args.path, host=args.host)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    http = _Uvicorn(config)
    if not args.quiet:
        print(f"codemode: serving on http://{args.host}:{args.port}{args.path}", file=sys.stderr)
    async with anyio.create_task_group() as group:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    # A second signal forces the exit, as uvicorn itself would.
                    if http.should_exit:
                        http.force_exit = True
                    http.should_exit = True

        group.start_soon(stop_on_signal)
        await http.serve()
        group.cancel_scope.cancel()
