"""A small MCP server written with the mcp SDK, used by the tests over stdio, streamable HTTP and SSE.

Run: `python toy.py [stdio | http PORT | sse PORT] [--crash-at-start]`.
Its tools cover every kind of result (text, JSON, structured, image, several items, errors) and
every failure mode (a crash mid-call, a hang, a slow call); `meet` is a barrier for tests of
concurrency.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image
from mcp.types import TextContent
from pydantic import BaseModel

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

server = MCPServer("toy", instructions="A toy server for engine's tests.")
NOTES: dict[str, str] = {}


class Sum(BaseModel):
    total: int
    count: int


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def echo(text: str, times: int = 1) -> str:
    """Echo the text back, `times` times joined by spaces."""
    return " ".join([text] * times)


@server.tool()
def summarize(numbers: list[int]) -> Sum:
    """Sum a list of numbers (structured output)."""
    return Sum(total=sum(numbers), count=len(numbers))


@server.tool()
def two_items() -> list[TextContent]:
    """Return two text items."""
    return [TextContent(type="text", text="first"), TextContent(type="text", text="second")]


@server.tool()
def picture() -> Image:
    """Return a tiny PNG image."""
    return Image(data=PNG, format="png")


@server.tool()
def fail(message: str = "boom") -> str:
    """Always fails with the given message."""
    raise ToolError(message)


@server.tool()
async def sleep(seconds: float) -> str:
    """Sleep, then say how long."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


MEET_BOUND = 10.0
"""Seconds `meet` waits at most: a bound on a hang (a broken test gets `met: false`), not a speed."""


class Meeting:
    """The callers of `meet` for one group: how many wait now, the most that ever waited at once."""

    def __init__(self) -> None:
        self.waiting = 0
        self.most_waiting = 0
        self.met = asyncio.Event()


MEETINGS: dict[str, Meeting] = {}


@server.tool()
async def meet(n: int, group: str = "", linger: float = 0.0) -> dict[str, bool | int]:
    """Wait until `n` calls of the same group wait at the same time (a barrier for concurrency tests),
    then stay `linger` seconds longer, still counted as waiting.

    Returns whether they met and the most calls of the group that were ever waiting together.
    Once met, the group stays met: later calls only linger."""
    meeting = MEETINGS.setdefault(group, Meeting())
    meeting.waiting += 1
    meeting.most_waiting = max(meeting.most_waiting, meeting.waiting)
    if meeting.waiting >= n:
        meeting.met.set()
    try:
        await asyncio.wait_for(meeting.met.wait(), MEET_BOUND)
        await asyncio.sleep(linger)
    except TimeoutError:
        pass
    finally:
        meeting.waiting -= 1
    return {"met": meeting.met.is_set(), "most_waiting": meeting.most_waiting}


@server.tool()
async def hang() -> str:
    """Never answers."""
    await asyncio.Event().wait()
    return "unreachable"


@server.tool()
def crash() -> str:
    """Kill the server process mid-call."""
    os._exit(3)


@server.tool()
def put_note(key: str, text: str) -> str:
    """Store a note under a key."""
    NOTES[key] = text
    return "ok"


@server.tool()
def get_note(key: str) -> str:
    """Read a note by key."""
    return NOTES[key]


@server.tool()
def env(name: str) -> str | None:
    """Read one environment variable of the server process."""
    return os.environ.get(name)


@server.tool()
async def add_tool(name: str, ctx: Context) -> str:
    """Register a new tool at run time and tell the client its tool list changed."""

    def dynamic() -> str:
        return f"I am {name}"

    server.add_tool(dynamic, name=name, description=f"A tool added at run time: {name}")
    await ctx.notify_tools_changed()  # 2026-07-28 clients listen on `subscriptions/listen`
    try:
        await ctx.session.send_tool_list_changed()  # older clients get the plain notification
    except Exception:  # noqa: BLE001 - not deliverable on a 2026-07-28 connection
        pass
    return "added"


@server.tool()
async def log_and_return(message: str, ctx: Context) -> str:
    """Send a log message to the client, then return."""
    await ctx.info(message)
    return message


@server.tool(name="clash-name")
def clash_dash() -> str:
    """One of two tools whose names sanitise to the same identifier."""
    return "dash"


@server.tool(name="clash_name")
def clash_underscore() -> str:
    """The other one."""
    return "underscore"


@server.resource("note://{key}")
def note_resource(key: str) -> str:
    """A note as a resource."""
    return NOTES.get(key, f"no note {key}")


@server.resource("info://server")
def server_info() -> str:
    """Static information about this server."""
    return "toy server"


@server.prompt()
def greet(name: str) -> str:
    """Greet someone."""
    return f"Hello, {name}!"


def main(argv: list[str]) -> None:
    if "--crash-at-start" in argv:
        print("toy: refusing to start (as asked)", file=sys.stderr)
        sys.exit(7)
    mode = argv[0] if argv else "stdio"
    if mode == "stdio":
        server.run("stdio")
    elif mode == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(argv[1]))
    elif mode == "sse":
        server.run("sse", host="127.0.0.1", port=int(argv[1]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
