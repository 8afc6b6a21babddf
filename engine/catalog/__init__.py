"""The tool catalog: every tool of every MCP server, cached, with ranked search and detail levels.

`ToolCatalog` is the only class most callers need; `search` and `text` hold the index and the text
analysis behind it.
"""

from __future__ import annotations

from .catalog import CODE_MODE_SERVER, DETAIL_LEVELS, CatalogStatistics, DetailLevel, ToolCatalog, python_identifier

__all__ = ["CODE_MODE_SERVER", "DETAIL_LEVELS", "CatalogStatistics", "DetailLevel", "ToolCatalog", "python_identifier"]
