"""Captured output of guest runs: a per-run capped buffer, and the `sys.stdout` stand-in that routes to it.

The guest's real stdout carries link records, so nothing a program prints may reach it. At start-up
the guest points `sys.stdout`/`sys.stderr` at `RoutingStream`s, which send each write to the run
bound to the writing thread (the run's worker thread binds itself), and points fd 1 at a pipe whose
bytes (subprocesses, `os.write(1, ...)`) are read back by `drain_fd` and routed the same way.

Standard library only: shipped to guests.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable

from ..kernel.report import valid_text

__all__ = ["RunOutput", "RoutingStream", "bind", "bound", "drain_fd"]

MARKER = "... [output truncated: over {limit} characters]"


class RunOutput:
    """One run's output, capped at `limit` characters, with text not yet streamed to the host."""

    def __init__(self, limit: int, flush: Callable[[str, str], None]) -> None:
        self.limit = limit
        self.chars = 0
        self.truncated = False
        self._chunks: list[str] = []
        self._unsent: list[tuple[str, str]] = []
        self._unsent_size = 0
        self._flush = flush
        self._lock = threading.Lock()

    def write(self, text: str, stream: str = "stdout") -> None:
        if not text:
            return
        text = valid_text(text)  # a lone surrogate cannot be framed: never let it near the channel
        with self._lock:
            if self.truncated:
                return
            room = self.limit - self.chars
            if len(text) > room:
                text = text[: max(room, 0)]
                self.truncated = True
            self.chars += len(text)
            self._chunks.append(text)
            self._unsent.append((text, stream))
            self._unsent_size += len(text)
            big = self._unsent_size >= 8192
        if big:
            self.flush()

    def flush(self) -> None:
        """Stream what was written since the last flush to the host (as `log` frames)."""
        with self._lock:
            unsent, self._unsent, self._unsent_size = self._unsent, [], 0
        if not unsent:
            return
        merged: list[tuple[str, str]] = []
        for text, stream in unsent:
            if merged and merged[-1][1] == stream:
                merged[-1] = (merged[-1][0] + text, stream)
            else:
                merged.append((text, stream))
        for text, stream in merged:
            self._flush(text, stream)

    def lines(self) -> list[str]:
        """The output as lines (a trailing newline adds no empty line), plus the marker if cut."""
        with self._lock:
            text = "".join(self._chunks)
        if text.endswith("\n"):
            text = text[:-1]
        out = text.split("\n") if text else []
        if self.truncated:
            out.append(MARKER.format(limit=self.limit))
        return out


_local = threading.local()
_fallback: list[RunOutput] = []
"""Runs in progress, newest last: output from a thread bound to no run goes to the newest."""
_fallback_lock = threading.Lock()


def bind(output: RunOutput | None) -> None:
    """Bind the calling thread's writes to `output` (None: unbind)."""
    _local.output = output


def bound() -> RunOutput | None:
    """The output the calling thread writes to, if any."""
    output: RunOutput | None = getattr(_local, "output", None)
    return output


def register(output: RunOutput) -> None:
    with _fallback_lock:
        _fallback.append(output)


def unregister(output: RunOutput) -> None:
    with _fallback_lock:
        if output in _fallback:
            _fallback.remove(output)


def _target() -> RunOutput | None:
    output = bound()
    if output is not None:
        return output
    with _fallback_lock:
        return _fallback[-1] if _fallback else None


class RoutingStream(io.TextIOBase):
    """A text stream that writes to the current run's output; writes with no run are dropped."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return f"<{self._name}>"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        output = _target()
        if output is not None:
            output.write(text, self._name)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def drain_fd(fd: int, stream: str) -> None:
    """Read `fd` until EOF, routing the text to the newest run (runs as a daemon thread)."""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        output = _target()
        if output is not None:
            output.write(data.decode("utf-8", "replace"), stream)
