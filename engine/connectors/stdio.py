"""A local stdio server: a subprocess spoken to over its stdin/stdout.

Its stderr goes to a real temporary file (the child writes to the descriptor directly), kept
until the session closes, so a server that fails to start can say why.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from mcp.client.stdio import StdioServerParameters, stdio_client

from .base import Target

__all__ = ["StdioConnector"]


@dataclass
class StdioConnector:
    """A server run as a subprocess; its stderr is kept so a failed start can say why."""

    name: str
    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None
    cwd: str | None = None
    connect_timeout: float = 30.0
    request_timeout: float | None = 60.0
    _stderr: IO[str] | None = field(default=None, init=False, repr=False)

    def transports(self) -> Iterator[tuple[str, Target]]:
        params = StdioServerParameters(command=self.command, args=self.args, env=self.env, cwd=self.cwd)
        self.close_diagnostics()
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        yield "stdio", stdio_client(params, errlog=self._stderr)

    def diagnostics(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            lines = self._stderr.read()[-4000:].strip().splitlines()
        except (OSError, ValueError):
            return ""
        return "\n".join(lines[-10:])

    def close_diagnostics(self) -> None:
        """Release the stderr capture file."""
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
