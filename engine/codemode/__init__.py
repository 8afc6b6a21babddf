"""Code mode: run agent programs whose tool calls reach the client's MCP sessions."""

from __future__ import annotations

from .mode import CodeMode
from .prompt import CODE_MODE_SYSTEM_PROMPT, code_mode_instructions
from .server import build_code_mode_server

__all__ = ["CODE_MODE_SYSTEM_PROMPT", "CodeMode", "build_code_mode_server", "code_mode_instructions"]
