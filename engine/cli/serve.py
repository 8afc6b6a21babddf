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
from typing import Any

import anyio
import anyio.abc
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


class _Stopper:
    """Turns SIGINT/SIGTERM into a clean stop: cancel while connecting or on stdio, ask uvicorn to exit."""

    def __init__(self, scope: anyio.CancelScope) -> None:
        self.scope = scope
        self.http: Any = None
        """The uvicorn server once it runs: it gets `should_exit` so it can finish its shutdown."""

    async def watch(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        if sys.platform == "win32":  # no signal receivers there: Ctrl-C arrives as KeyboardInterrupt
            task_status.started()
            return
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            task_status.started()
            async for _ in signals:
                if self.http is None:
                    self.scope.cancel()
                    return
                # A second signal forces the exit, as uvicorn itself would.
                if self.http.should_exit:
                    self.http.force_exit = True
                self.http.should_exit = True


async def serve(client: MCPClient, args: argparse.Namespace) -> int:
    """Connect, serve until told to stop, then close every downstream server."""
    try:
        async with anyio.create_task_group() as group:
            # Signals are handled from the start: a stop while servers are still starting is clean too.
            stopper = _Stopper(group.cancel_scope)
            await group.start(stopper.watch)
            spinner = Spinner(quiet=args.quiet)
            with spinner.running("connecting to servers"):
                statuses = await connect_all(
                    client, on_done=lambda s, done, total: spinner.update(f"connecting to servers ({done}/{total})")
                )
            _announce(statuses, args.quiet)
            server = build_server(client, statuses, name=args.name)
            if args.http:
                await _serve_http(server, args, stopper)
            else:
                await _serve_stdio(server)
            group.cancel_scope.cancel()  # served to the end: stop watching for signals
    finally:
        with anyio.CancelScope(shield=True):
            await client.close_all_sessions()
        if not args.quiet:
            print("codemode: stopped; all servers closed", file=sys.stderr)
    return 0


async def _serve_stdio(server: MCPServer) -> None:
    lowlevel = server._lowlevel_server  # noqa: SLF001 - MCPServer.run_stdio_async cannot take our streams
    async with claimed_stdio() as (stdin, stdout), stdio_server(stdin=stdin, stdout=stdout) as (read, write):
        await lowlevel.run(read, write, lowlevel.create_initialization_options())


async def _serve_http(server: MCPServer, args: argparse.Namespace, stopper: _Stopper) -> None:
    import uvicorn  # only HTTP needs it (a dependency of mcp's server side)

    class Uvicorn(uvicorn.Server):
        """Uvicorn without its own signal handlers: `serve` handles signals, then asks it to exit."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    app = server.streamable_http_app(streamable_http_path=args.path, host=args.host)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    http = Uvicorn(config)
    if not args.quiet:
        print(f"codemode: serving on http://{args.host}:{args.port}{args.path}", file=sys.stderr)
    stopper.http = http
    await http.serve()
