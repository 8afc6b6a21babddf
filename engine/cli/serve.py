"""`codemode serve`: run the code-mode MCP server over stdio or streamable HTTP.

The MCP server starts at once and answers `initialize` without waiting for the downstream servers:
they connect in the background (`ToolHost.start_loading`), each reported on stderr as it connects
or fails. The instructions are built after a short wait (`FAST_START`) so that servers that start
quickly are listed with their tools; one still starting is listed as "starting", and a program
that uses it waits for it within its own timeout. Serves until end of input (stdio), or
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

from engine import CodeMode, MCPClient, build_code_mode_server

from .body_limit import MAX_REQUEST_BYTES, ExplainedBodyLimit
from .settings import add_settings_arguments, load_settings
from .stdio import claimed_stdio

__all__ = ["FAST_START", "add_parser", "serve"]

logger = logging.getLogger("engine.cli")

FAST_START = 0.5
"""Seconds `serve` waits for downstream servers before it builds its instructions and starts serving."""

_ANNOUNCE_POLL = 0.1
"""Seconds between two looks at the servers still starting, to report each one as it settles."""


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
    # Programs a model wrote, for clients we do not control: the pool of confined worker processes,
    # unless the flags or the file say otherwise (docs/executors.md).
    settings = load_settings(args, default_executor="process")
    if not args.quiet:
        print(f"codemode: programs run on the {settings.executor!r} executor", file=sys.stderr)
    # Log messages are deprecated from protocol 2026-07-28 on, but clients of earlier versions and
    # clients that opt in still show them: sending them is deliberate, the warning is noise.
    warnings.filterwarnings("ignore", message="The logging capability is deprecated", category=MCPDeprecationWarning)
    # The pre-run type check is on unless the file turns it off: warm, it costs a few ms (docs/benchmarks.md).
    return anyio.run(serve, settings.client(check_default="types"), args)


async def _announce(mode: CodeMode, quiet: bool) -> None:
    """One stderr line per downstream server as it connects or fails, until none is starting."""
    told: set[str] = set()
    while True:
        states = mode.states()
        for state in states:
            if state.server in told or state.state not in ("connected", "failed"):
                continue
            told.add(state.server)
            if quiet:
                continue
            if state.state == "connected":
                print(f"codemode: {state.server}: {len(state.tools)} tools", file=sys.stderr)
            else:
                print(f"codemode: {state.server}: unavailable: {state.error}", file=sys.stderr)
        if not any(state.state == "connecting" for state in states):
            return
        await anyio.sleep(_ANNOUNCE_POLL)


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
    """Serve at once, connect the downstream servers meanwhile, and close them all at the end."""
    mode = client.code_mode_engine()
    try:
        async with anyio.create_task_group() as group:
            # Signals are handled from the start: a stop while servers are still starting is clean too.
            stopper = _Stopper(group.cancel_scope)
            await group.start(stopper.watch)
            mode.tool_host.start_loading()
            # A short, bounded wait: servers that start fast are in the instructions with their tools,
            # and a slow one never holds up the client's handshake (whose timeout may be 5 s).
            await mode.tool_host.wait_loaded(FAST_START)
            group.start_soon(_announce, mode, args.quiet)
            server = build_code_mode_server(mode, name=args.name)
            if args.http:
                await _serve_http(server, args, stopper)
            else:
                await _serve_stdio(server, quiet=args.quiet)
            group.cancel_scope.cancel()  # served to the end: stop watching for signals
    finally:
        with anyio.CancelScope(shield=True):
            # Stop the loads still in flight first: closing a session that is still in its handshake
            # waits up to 10 s for it (MCPSession.disconnect), while a cancelled load abandons it at once.
            await mode.tool_host.aclose()
            await client.close_all_sessions()
        if not args.quiet:
            print("codemode: stopped; all servers closed", file=sys.stderr)
    return 0


async def _serve_stdio(server: MCPServer, *, quiet: bool) -> None:
    lowlevel = server._lowlevel_server  # noqa: SLF001 - MCPServer.run_stdio_async cannot take our streams
    async with claimed_stdio() as (stdin, stdout), stdio_server(stdin=stdin, stdout=stdout) as (read, write):
        if not quiet:
            print("codemode: serving on stdio", file=sys.stderr)
        await lowlevel.run(read, write, lowlevel.create_initialization_options())


async def _serve_http(server: MCPServer, args: argparse.Namespace, stopper: _Stopper) -> None:
    import uvicorn  # only HTTP needs it (a dependency of mcp's server side)

    class Uvicorn(uvicorn.Server):
        """Uvicorn without its own signal handlers: `serve` handles signals, then asks it to exit."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    # An oversized request is refused before it is read whole, with a JSON-RPC error saying why.
    inner = server.streamable_http_app(
        streamable_http_path=args.path, host=args.host, max_request_body_size=MAX_REQUEST_BYTES
    )
    app = ExplainedBodyLimit(inner)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    http = Uvicorn(config)
    if not args.quiet:
        print(f"codemode: serving on http://{args.host}:{args.port}{args.path}", file=sys.stderr)
    stopper.http = http
    await http.serve()
