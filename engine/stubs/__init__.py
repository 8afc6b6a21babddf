"""Tool stubs: per-server namespaces of async Python functions generated from MCP tool schemas.

`spec` turns `mcp.types.Tool`s into plain-data `ToolSpec`s with sanitised identifiers, `runtime`
builds the callable namespaces a program uses (they only ever send bridge frames), `schema` checks
arguments before a call leaves the program, and `render` writes the stubs as Python source for
prompts and documentation.
"""

from __future__ import annotations

from .render import render_all, render_namespace
from .runtime import Namespace, PreparedNamespaces, ToolLimitError, build_namespaces, make_search_tools
from .spec import NameCollisionError, ToolSpec, namespace_identifier, namespace_identifiers, specs_for_server

__all__ = [
    "NameCollisionError",
    "Namespace",
    "PreparedNamespaces",
    "ToolLimitError",
    "ToolSpec",
    "build_namespaces",
    "make_search_tools",
    "namespace_identifier",
    "namespace_identifiers",
    "render_all",
    "render_namespace",
    "specs_for_server",
]
