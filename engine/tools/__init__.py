"""Tools for code mode: `ToolHost` (loads and calls every server's tools through the client's sessions)
and `ToolSet` (a frozen snapshot of them, per change, in every shape an execution needs)."""

from __future__ import annotations

from .host import RETRY_AFTER, ServerState, SessionSource, ToolHost
from .toolset import ToolSet, assign_namespaces

__all__ = ["RETRY_AFTER", "ServerState", "SessionSource", "ToolHost", "ToolSet", "assign_namespaces"]
