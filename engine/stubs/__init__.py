"""Tool stubs on the host: plain-data specs from MCP tool schemas, and their rendered Python source.

`spec` turns `mcp.types.Tool`s into plain-data `ToolSpec`s with sanitised identifiers; `render` writes
the stubs as Python source for prompts, documentation and type checks. The callable namespaces a
program uses are built from those specs by the kernel (`engine.kernel.stubs`, `engine.kernel.names`),
which also ships to guests.
"""

from __future__ import annotations

from .render import render_all, render_namespace
from .spec import NameCollisionError, ToolSpec, namespace_identifier, specs_for_server

__all__ = [
    "NameCollisionError",
    "ToolSpec",
    "namespace_identifier",
    "render_all",
    "render_namespace",
    "specs_for_server",
]
