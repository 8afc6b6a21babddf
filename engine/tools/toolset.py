"""`ToolSet`: a frozen snapshot of every loaded server's tools, in every shape an execution needs.

Built once per change of the tool lists (a server loaded, failed, changed its tools, was removed)
by `ToolHost`, and shared by every execution until the next change:

- `namespaces`: `{namespace identifier: server}`, collision-checked. Two servers whose names sanitise
  to the same identifier (`my-gh`, `my_gh`) both stay reachable: the first in configuration order keeps
  the identifier, the next gets `my_gh_2` (and so on), and the clash is logged. Never a silent drop.
- `specs`: the `ToolSpec`s by namespace identifier; `names`: the kernel's `ProgramNames` prepared from
  them; `catalog`: the ranked search over the same tools; `stubs()`: the rendered Python stubs.
- `unavailable`: `{server: reason}` for the servers a program cannot use now (failed, still starting).

Pure data, no I/O.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import mcp.types as types

from ..catalog import ToolCatalog
from ..kernel.names import ProgramNames
from ..kernel.stubs import PreparedNamespaces
from ..stubs import ToolSpec, namespace_identifier, render_all, specs_for_server

__all__ = ["ToolSet", "assign_namespaces"]

logger = logging.getLogger("engine.tools")


def assign_namespaces(servers: Sequence[str]) -> dict[str, str]:
    """`{server: namespace identifier}` for `servers` in order, every identifier distinct.

    A server whose identifier is taken (by an earlier server, or as the plain identifier of any other
    server) gets the first free `<identifier>_2`, `_3`, ...: which server keeps the plain name depends
    only on the order, never on which servers happen to be loaded. Computed (and a clash logged)
    once per distinct list: every execution asks, with the same servers.
    """
    return dict(_assign(tuple(servers)))


@functools.lru_cache(maxsize=64)
def _assign(servers: tuple[str, ...]) -> dict[str, str]:
    plain = {server: namespace_identifier(server) for server in servers}
    reserved = set(plain.values())
    taken: set[str] = set()
    out: dict[str, str] = {}
    for server in servers:
        identifier = plain[server]
        if identifier in taken:
            n = 2
            while f"{identifier}_{n}" in taken or f"{identifier}_{n}" in reserved:
                n += 1
            others = [s for s in out if plain[s] == identifier]
            logger.warning(
                "servers %s and %r both map to namespace %r: %r is reachable as %r",
                ", ".join(map(repr, others)), server, identifier, server, f"{identifier}_{n}",
            )
            identifier = f"{identifier}_{n}"
        taken.add(identifier)
        out[server] = identifier
    return out


def _unique_tools(server: str, tools: Sequence[types.Tool]) -> list[types.Tool]:
    # A server that lists a name twice loses the later copies, not its place in every program.
    seen: set[str] = set()
    kept: list[types.Tool] = []
    for tool in tools:
        if tool.name in seen:
            logger.warning("server %r lists tool %r twice: the later one is left out", server, tool.name)
            continue
        seen.add(tool.name)
        kept.append(tool)
    return kept


def _build_server(server: str, identifier: str, listed: Sequence[types.Tool]) -> None:
    """Build one server's tools into specs and stubs (raises when one of them cannot be)."""
    built = specs_for_server(server, listed, on_collision="original_only")
    PreparedNamespaces({identifier: [spec.to_dict() for spec in built]})
    render_all({identifier: built})


def _buildable(server: str, identifier: str, listed: Sequence[types.Tool]) -> tuple[list[types.Tool], dict[str, str]]:
    """Only reached when a server's tools fail to build together: each tool tried on its own."""
    kept: list[types.Tool] = []
    left_out: dict[str, str] = {}
    for tool in listed:
        try:
            _build_server(server, identifier, [tool])
        except Exception as exc:  # noqa: BLE001 - the reason is kept and logged
            left_out[str(tool.name)] = f"{type(exc).__name__}: {exc}"[:500]
            logger.warning("server %r: tool %r is left out: %s", server, tool.name, left_out[str(tool.name)])
            continue
        kept.append(tool)
    return kept, left_out


def _bare(server: str, reason: str) -> str:
    # A ServerError's text already names the server; a program reads "server 'x' is unavailable: <reason>".
    return reason.removeprefix(f"server {server!r}: ")


@dataclass(frozen=True, eq=False)
class ToolSet:
    """What every execution needs from the tool lists, computed once per change of them."""

    namespaces: dict[str, str]
    """`{namespace identifier: server}` of the servers a program can call now."""
    specs: dict[str, list[ToolSpec]]
    """The tools by namespace identifier."""
    names: ProgramNames
    """The names a program sees, prepared (`ProgramNames.bind(send)` per execution)."""
    catalog: ToolCatalog
    """Ranked search over the same tools."""
    unavailable: dict[str, str] = field(default_factory=dict)
    """`{server: reason}` for usable servers a program cannot call now."""
    left_out: dict[str, dict[str, str]] = field(default_factory=dict)
    """`{server: {tool: reason}}`: tools programs cannot use (their listing could not be parsed, or
    their stubs could not be built); their servers stay."""

    @classmethod
    def build(
        cls,
        servers: Sequence[str],
        tools: Mapping[str, Sequence[types.Tool]],
        unavailable: Mapping[str, str],
        *,
        skipped: Mapping[str, Mapping[str, str]] | None = None,
    ) -> ToolSet:
        """The snapshot for `servers` (configuration order) given the loaded `tools` of some of them
        (and `skipped`: `{server: {tool: reason}}` for tools their listing left out already)."""
        identifiers = assign_namespaces(servers)
        catalog = ToolCatalog(namespace=identifiers.__getitem__)
        namespaces: dict[str, str] = {}
        specs: dict[str, list[ToolSpec]] = {}
        left_out: dict[str, dict[str, str]] = {s: dict(r) for s, r in (skipped or {}).items() if r and s in tools}
        listed_by_server: dict[str, list[types.Tool]] = {}
        for server in servers:
            if server not in tools:
                continue
            listed = _unique_tools(server, tools[server])
            identifier = identifiers[server]
            try:
                server_specs = specs_for_server(server, listed, on_collision="original_only")
            except Exception:  # noqa: BLE001 - one tool that cannot be built is left out, not its server
                listed, dropped = _buildable(server, identifier, listed)
                left_out.setdefault(server, {}).update(dropped)
                server_specs = specs_for_server(server, listed, on_collision="original_only")
            namespaces[identifier] = server
            specs[identifier] = server_specs
            listed_by_server[server] = listed
        down = {s: unavailable[s] for s in servers if s in unavailable and s not in tools}
        # A program that names a server it cannot use is told which and why, not a bare NameError.
        reasons = {identifiers[s]: (s, _bare(s, why)) for s, why in down.items()}
        try:
            names = ProgramNames(specs, unavailable=reasons)
        except Exception:  # noqa: BLE001 - the stubs of every tool are built together; find the ones that fail
            for identifier, server in namespaces.items():
                try:
                    PreparedNamespaces({identifier: [spec.to_dict() for spec in specs[identifier]]})
                except Exception:  # noqa: BLE001
                    kept, dropped = _buildable(server, identifier, listed_by_server[server])
                    left_out.setdefault(server, {}).update(dropped)
                    listed_by_server[server] = kept
                    specs[identifier] = specs_for_server(server, kept, on_collision="original_only")
            names = ProgramNames(specs, unavailable=reasons)
        for server, listed in listed_by_server.items():
            catalog.set_tools(server, listed)
        return cls(
            namespaces=namespaces,
            specs=specs,
            names=names,
            catalog=catalog,
            unavailable=down,
            left_out=left_out,
        )

    def namespace_of(self, server: str) -> str | None:
        """The identifier programs use for `server`, if it is loaded."""
        for identifier, name in self.namespaces.items():
            if name == server:
                return identifier
        return None

    @functools.cached_property
    def rendered_stubs(self) -> str:
        if not self.specs:
            return ""
        try:
            return render_all(self.specs)
        except Exception:  # noqa: BLE001 - a namespace whose stubs cannot be rendered is named, not fatal
            parts: list[str] = []
            for identifier, specs in self.specs.items():
                try:
                    parts.append(render_all({identifier: specs}))
                except Exception as exc:  # noqa: BLE001
                    parts.append(f"# {identifier}: stubs could not be rendered ({type(exc).__name__})\n")
            return "\n".join(parts)

    def stubs(self) -> str:
        """The Python stubs of every loaded tool (empty when none), rendered once per snapshot."""
        return self.rendered_stubs
