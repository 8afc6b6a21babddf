"""The request size limit of `codemode serve --http`, said as a JSON-RPC error instead of a bare 413.

The SDK's streamable HTTP app refuses a body over its `max_request_body_size` before reading it
whole (a declared `Content-Length` over the limit: at once, without reading; a streamed body: as
soon as it passes the limit), which bounds the memory and time one request costs. But it answers
with a plain-text `413`, which an MCP client turns into an opaque error (the SDK's client:
`MCPError(-32603, 'Server returned an error response')`). `ExplainedBodyLimit` wraps the app and
rewrites that one answer into a JSON-RPC error body (`id: null`, as for a request whose id was
never read; the SDK's client puts its own request id back) that says what was refused and why.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from mcp.types import INVALID_REQUEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import MAX_PROGRAM_CHARS

__all__ = ["MAX_REQUEST_BYTES", "ExplainedBodyLimit", "too_large_message"]

MAX_REQUEST_BYTES = DEFAULT_MAX_REQUEST_BODY_SIZE
"""The largest HTTP request body `serve --http` reads (4 MiB): room for the longest program
`execute_code` accepts, whose own limit then says so."""


def too_large_message(declared: int | None, limit: int = MAX_REQUEST_BYTES) -> str:
    """What a client is told when its request body is over `limit` bytes."""
    size = f"{declared:,} bytes" if declared is not None else f"more than {limit:,} bytes"
    return (
        f"request refused: its body has {size}; codemode serve reads at most {limit:,} bytes per request "
        f"(a program may have at most {MAX_PROGRAM_CHARS:,} characters). "
        "Pass large data through tool calls instead of writing it into the program."
    )


class ExplainedBodyLimit:
    """ASGI wrapper: the wrapped app's `413` answers go out as a JSON-RPC error that says why."""

    def __init__(self, app: ASGIApp, limit: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        refused = False

        async def explained(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 413:
                refused = True  # the plain-text answer is replaced as a whole
                return
            if refused:
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    await _send_error(send, too_large_message(declared, self.limit))
                return
            await send(message)

        await self.app(scope, receive, explained)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_error(send: Send, message: str) -> None:
    payload: dict[str, Any] = {"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": message}}
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
