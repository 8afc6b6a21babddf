"""`ToolCatalog`: every tool of every MCP server, cached, with ranked search and detail levels.

The catalog is pure data: it never talks to a server. Whoever owns the sessions feeds it with
`set_tools(server, tools)` after `tools/list`, calls `invalidate(server)` when the server sends
`notifications/tools/list_changed` (then `has_tools(server)` is False until the next `set_tools`), and
`remove(server)` when the server goes away. Each `set_tools` rebuilds only that server's part of the search
index (`search.py`).

`search()` returns the seed's shape, `{"meta": {...}, "results": [...]}`. Ranking always runs on the
full text of each tool; the detail level only decides how much of each ranked tool is returned, so a
query that matches a description still finds the tool at the `names` level.

The internal code-mode tools live under the pseudo-server `CODE_MODE_SERVER` (`"code_mode"`): they can be
stored, but they are never indexed, searched or counted as user tools.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, Final, Literal, NamedTuple, get_args

import mcp.types

from ..stubs.spec import sanitize_identifier
from .search import Document, SearchIndex, build_part

__all__ = ["CODE_MODE_SERVER", "DETAIL_LEVELS", "CatalogStatistics", "DetailLevel", "ToolCatalog", "python_identifier"]

CODE_MODE_SERVER: Final = "code_mode"
"""The pseudo-server of the internal code-mode tools; never part of search results or counts."""

DetailLevel = Literal["names", "descriptions", "full"]
DETAIL_LEVELS: Final[tuple[DetailLevel, ...]] = get_args(DetailLevel)


class CatalogStatistics(NamedTuple):
    """A snapshot of the catalog's cache state."""

    #: user servers whose tools are stored (stale ones included; `code_mode` excluded)
    servers: int
    #: user tools stored across those servers
    tools: int
    #: servers invalidated by `tools/list_changed` and not refreshed by `set_tools` yet
    stale_servers: int
    #: per-server index parts built since the catalog was created
    index_builds: int
    #: searches answered since the catalog was created
    searches: int


def python_identifier(name: str, fallback: str = "tool") -> str:
    """A Python identifier for a server or tool name, as the agent's program calls it.

    The stub generator's own sanitiser (`engine.stubs.spec.sanitize_identifier`), so search results
    name exactly what the program can call: `my-github` -> `my_github`, `2fa` -> `tool_2fa`,
    `import` -> `import_`, `list` -> `list_`.
    """
    return sanitize_identifier(name, fallback=fallback)


def _namespace_identifier(server: str) -> str:
    return python_identifier(server, "server")


class _ServerEntry:
    """One server's tools, sorted by name, with their result entries precomputed per detail level."""

    __slots__ = ("entries", "stale", "tools")

    def __init__(
        self,
        server: str,
        tools: Sequence[mcp.types.Tool],
        namespace: Callable[[str], str],
        identifier: Callable[[str], str],
    ) -> None:
        self.tools = sorted(tools, key=lambda t: t.name)
        self.stale = False
        namespace_name = namespace(server)
        self.entries: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
        for tool in self.tools:
            names = {
                "server": server,
                "name": tool.name,
                "namespace": namespace_name,
                "identifier": identifier(tool.name),
            }
            descriptions = {**names, "description": tool.description or ""}
            full = {**descriptions, "input_schema": tool.input_schema}
            if tool.output_schema is not None:
                full["output_schema"] = tool.output_schema
            self.entries.append((names, descriptions, full))


def _document(tool: mcp.types.Tool) -> Document:
    properties = tool.input_schema.get("properties") if isinstance(tool.input_schema, dict) else None
    params: list[str] = []
    texts: list[str] = []
    if isinstance(properties, dict):
        for param, schema in properties.items():
            params.append(str(param))
            if isinstance(schema, dict):
                if isinstance(schema.get("description"), str):
                    texts.append(schema["description"])
                if isinstance(schema.get("enum"), list):
                    texts.extend(str(v) for v in schema["enum"])
    title = tool.title or (tool.annotations.title if tool.annotations is not None else None) or ""
    return Document(tool.name, title, tool.description or "", params, " ".join(texts))


class ToolCatalog:
    """Every tool of every server, with ranked search.

    ```python
    catalog = ToolCatalog()
    catalog.set_tools("github", (await session.list_tools()).tools)
    catalog.search("open a pull request", detail_level="names", limit=5)
    catalog.invalidate("github")          # on notifications/tools/list_changed
    catalog.has_tools("github")           # False until set_tools("github", ...) again
    ```

    Args:
        namespace: turns a server name into the result entries' `namespace` (the Python name of the
            server's namespace in a program).
        identifier: turns a tool name into the result entries' `identifier` (the stub's name).
            Both default to `python_identifier`; pass the stub generator's functions so they agree.
    """

    def __init__(
        self,
        *,
        namespace: Callable[[str], str] = _namespace_identifier,
        identifier: Callable[[str], str] = python_identifier,
    ) -> None:
        self._namespace = namespace
        self._identifier = identifier
        self._servers: dict[str, _ServerEntry] = {}
        self._index = SearchIndex()
        self._index_builds = 0
        self._searches = 0

    def set_tools(self, server: str, tools: Sequence[mcp.types.Tool]) -> None:
        """Replace `server`'s tools and rebuild its part of the index; clears its stale mark."""
        entry = _ServerEntry(server, tools, self._namespace, self._identifier)
        self._servers[server] = entry
        if server == CODE_MODE_SERVER:
            return
        self._index.set_part(server, build_part(server, [_document(t) for t in entry.tools]))
        self._index_builds += 1

    def invalidate(self, server: str) -> None:
        """Mark `server`'s tools stale: `has_tools(server)` is False until `set_tools` is called again.

        Stale tools stay searchable and callable meanwhile: a list that is a moment old is more useful to
        an agent than none. Unknown servers are ignored.
        """
        entry = self._servers.get(server)
        if entry is not None:
            entry.stale = True

    def remove(self, server: str) -> None:
        """Forget `server` and its tools; unknown servers are ignored."""
        self._servers.pop(server, None)
        self._index.remove_part(server)

    def has_tools(self, server: str) -> bool:
        """True if `server`'s tools are stored and not stale."""
        entry = self._servers.get(server)
        return entry is not None and not entry.stale

    def tools(self, server: str) -> list[mcp.types.Tool]:
        """`server`'s tools sorted by name (possibly stale); an empty list for an unknown server."""
        entry = self._servers.get(server)
        return list(entry.tools) if entry is not None else []

    def servers(self) -> list[str]:
        """The user servers whose tools are stored, sorted; `code_mode` is never listed."""
        return sorted(s for s in self._servers if s != CODE_MODE_SERVER)

    def statistics(self) -> CatalogStatistics:
        user = [e for s, e in self._servers.items() if s != CODE_MODE_SERVER]
        return CatalogStatistics(
            servers=len(user),
            tools=sum(len(e.tools) for e in user),
            stale_servers=sum(e.stale for e in user),
            index_builds=self._index_builds,
            searches=self._searches,
        )

    def search(
        self,
        query: str = "",
        detail_level: DetailLevel = "full",
        limit: int | None = None,
        servers: Collection[str] | None = None,
    ) -> dict[str, Any]:
        """Rank the user tools against `query` and return `{"meta": ..., "results": [...]}`.

        Args:
            query: words, a tool name, or `server.tool`; empty (or only stopwords) lists every tool
                ordered by server then name.
            detail_level: `names` -> server, name, namespace, identifier; `descriptions` adds
                `description`; `full` adds `input_schema` (and `output_schema` when the tool has one).
            limit: at most this many results (a positive int), or None for every match.
            servers: restrict the search to these servers; None searches all of them.

        Returns:
            `meta` has `total_tools` (user tools in the searched servers), `namespaces` (those servers'
            names, sorted) and `result_count`. Each result is a fresh dict; schemas are shared, not copied.

        Raises:
            ValueError: `detail_level` is not one of `DETAIL_LEVELS`, or `limit` is not positive.
            TypeError: `query` is not a string or `limit` is not an int.
        """
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, got {type(query).__name__}")
        if detail_level not in DETAIL_LEVELS:
            allowed = ", ".join(repr(level) for level in DETAIL_LEVELS)
            raise ValueError(f"detail_level must be one of {allowed}; got {detail_level!r}")
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise TypeError(f"limit must be a positive int or None, got {type(limit).__name__}")
            if limit <= 0:
                raise ValueError(f"limit must be a positive int or None, got {limit}")
        self._searches += 1
        level = DETAIL_LEVELS.index(detail_level)
        wanted = self.servers() if servers is None else sorted(s for s in set(servers) if s in self._servers)
        scope = [s for s in wanted if s != CODE_MODE_SERVER]

        hits = self._index.rank(query, scope, limit)
        results: list[dict[str, Any]]
        if hits is None:
            results = []
            for server in scope:
                entries = self._servers[server].entries
                if limit is not None:
                    entries = entries[: limit - len(results)]
                results.extend(dict(e[level]) for e in entries)
                if limit is not None and len(results) >= limit:
                    break
        else:
            results = [dict(self._servers[h.server].entries[h.position][level]) for h in hits]
        return {
            "meta": {
                "total_tools": sum(len(self._servers[s].tools) for s in scope),
                "namespaces": scope,
                "result_count": len(results),
            },
            "results": results,
        }
