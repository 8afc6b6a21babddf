"""Code mode: run agent programs whose tool calls reach the client's MCP sessions."""

from __future__ import annotations

from .mode import CodeMode

__all__ = ["CodeMode"]
