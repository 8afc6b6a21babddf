"""Placeholder until code mode lands: every entry point raises a clear error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..envelope import Envelope
from ..errors import CodeModeError

if TYPE_CHECKING:
    from ..client import MCPClient
    from ..session import MCPSession

__all__ = ["CodeMode"]


class CodeMode:
    """Runs programs for one client."""

    def __init__(self, client: MCPClient, *, executor: str, executor_options: dict[str, Any]) -> None:
        self.client = client

    def watch(self, session: MCPSession) -> None:
        """Follow a session's tool-list changes."""

    def forget(self, server: str) -> None:
        """Drop what is known of a closed session."""

    async def execute(self, code: str, *, timeout: float) -> Envelope:
        raise CodeModeError("execute_code is not implemented yet")

    async def search(self, query: str, *, detail_level: str, limit: int | None) -> dict[str, Any]:
        raise CodeModeError("search_tools is not implemented yet")

    async def aclose(self) -> None:
        """Release the executor."""
