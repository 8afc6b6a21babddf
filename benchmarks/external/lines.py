"""The loop every runner script serves: one JSON request per stdin line, one JSON reply per stdout line.

Imported by the scripts beside it (they run as `python <script>`, so this folder is on their path)
in each peer's own virtual environment: standard library only.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any


async def serve(
    handle: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
    close: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Answer requests with `handle` until stdin closes, then `close`. A request that raises is
    answered with its error, and serving goes on: the harness decides what is fatal."""
    loop = asyncio.get_running_loop()
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            try:
                reply = await handle(json.loads(line))
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            sys.stdout.write(json.dumps(reply, default=str) + "\n")
            sys.stdout.flush()
    finally:
        if close is not None:
            await close()
