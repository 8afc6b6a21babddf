"""The process's stdin/stdout as the MCP wire, claimed so nothing else can write on it.

`claimed_stdio()` duplicates fd 0 and fd 1 to private descriptors for the wire and points fd 0 at
the null device and fd 1 at stderr while serving: stray output (a library printing, a downstream
server started without pipes) goes to stderr instead of corrupting the JSON-RPC stream.

It differs from the SDK's own `stdio_server()` claim in one way that matters for shutdown: stdin
is read by a daemon thread that feeds a queue, so a signal can end the server while a read is
blocked (the SDK reads stdin in a worker thread a cancel has to wait for, and that a non-daemon
thread keeps the interpreter alive for).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

__all__ = ["QueueLineReader", "claimed_stdio"]


class QueueLineReader(anyio.AsyncFile[str]):
    """An `AsyncFile` whose `readline` awaits lines a daemon thread reads from a binary file."""

    def __init__(self, binary: io.BufferedReader) -> None:
        super().__init__(io.TextIOWrapper(binary, encoding="utf-8", errors="replace"))
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        text = self.wrapped

        def pump() -> None:
            while True:
                try:
                    line = text.readline()
                except (OSError, ValueError):
                    line = ""
                try:
                    loop.call_soon_threadsafe(self._queue.put_nowait, line)
                except RuntimeError:  # the loop is closed: nobody reads any more
                    return
                if not line:
                    return

        threading.Thread(target=pump, name="codemode-stdin", daemon=True).start()

    async def readline(self) -> str:
        """The next line, or `""` at end of input. Cancellable at any time."""
        line = await self._queue.get()
        if not line:
            self._queue.put_nowait("")  # end of input stays end of input
        return line


@asynccontextmanager
async def claimed_stdio() -> AsyncIterator[tuple[anyio.AsyncFile[str], anyio.AsyncFile[str]]]:
    """Yield (stdin, stdout) async text files on private duplicates of fd 0 and fd 1."""
    sys.stdout.flush()
    wire_in = os.dup(0)
    wire_out = os.dup(1)
    saved_in, saved_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    try:
        # closefd=False for stdin: the reader thread may still be blocked on it when we leave.
        reader = QueueLineReader(io.BufferedReader(io.FileIO(wire_in, "rb", closefd=False)))
        out = io.BufferedWriter(io.FileIO(wire_out, "wb", closefd=True))
        writer = anyio.wrap_file(io.TextIOWrapper(out, encoding="utf-8"))
        yield reader, writer
    finally:
        os.dup2(saved_in, 0)
        os.dup2(saved_out, 1)
        os.close(saved_in)
        os.close(saved_out)
