"""Code mode's side of typed results: learning output shapes, and stubs and search results that show them.

`TypedResults` owns the `ShapeRegistry` of one `CodeMode`: it hands each execution the bridge
`Hooks` that feed it (only for tools that declare no `outputSchema`: a declared one always wins),
renders the stubs with the learned shapes (cached per tool set and registry version), and adds
`observed_output` to `search_tools(detail_level="full")` entries. See docs/typed-results.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..bridge.hooks import Hooks
from ..shapes import ShapeRegistry
from ..store import Store
from ..stubs import render_all
from ..tools import ToolSet

__all__ = ["TypedResults"]


class TypedResults:
    """Learned shapes of one `CodeMode`; see the module docstring."""

    def __init__(self, store: Store, *, learn: bool = True) -> None:
        self.shapes = ShapeRegistry(store, enabled=learn)
        self._declared: tuple[ToolSet, frozenset[tuple[str, str]]] | None = None
        self._stubs: tuple[ToolSet, int, str] | None = None

    @property
    def learning(self) -> bool:
        return self.shapes.enabled

    def hooks(self, toolset: ToolSet) -> Hooks | None:
        """The hooks that feed the registry for one execution (None when learning is off)."""
        if not self.shapes.enabled:
            return None
        return Hooks(observe=self._observer(toolset))

    def _observer(self, toolset: ToolSet) -> Callable[[str, str, Any], None]:
        declared = self._declared_of(toolset)
        observe = self.shapes.observe

        def observed(server: str, tool: str, value: Any) -> None:
            if (server, tool) not in declared:
                observe(server, tool, value)

        return observed

    def _declared_of(self, toolset: ToolSet) -> frozenset[tuple[str, str]]:
        if self._declared is None or self._declared[0] is not toolset:
            declared = frozenset(
                (spec.server, spec.name) for specs in toolset.specs.values() for spec in specs if spec.output_schema
            )
            self._declared = (toolset, declared)
        return self._declared[1]

    @staticmethod
    def undeclared(toolset: ToolSet) -> list[tuple[str, str]]:
        """`(server, tool)` of every loaded tool without an `outputSchema`: those shapes are learned for."""
        return [(s.server, s.name) for specs in toolset.specs.values() for s in specs if not s.output_schema]

    async def sync(self, toolset: ToolSet) -> None:
        """Write pending shapes and read what other clients sharing the store learned (rate-limited)."""
        await self.shapes.sync(self.undeclared(toolset))

    def stubs(self, toolset: ToolSet) -> str:
        """The stubs of `toolset` with the learned shapes as return types."""
        self.shapes.drain()
        cached = self._stubs
        if cached is not None and cached[0] is toolset and cached[1] == self.shapes.version:
            return cached[2]
        observed = self.shapes.snapshot(self.undeclared(toolset))
        if not observed or not toolset.specs:
            source = toolset.stubs()
        else:
            try:
                source = render_all(toolset.specs, observed)
            except Exception:  # noqa: BLE001 - a shape the renderer cannot write leaves the plain stubs
                source = toolset.stubs()
        self._stubs = (toolset, self.shapes.version, source)
        return source

    def label(self, found: dict[str, Any]) -> dict[str, Any]:
        """Full-detail `search_tools` entries of tools without an `outputSchema` get `observed_output`:
        `{"schema": JSON Schema, "results": how many results it was learned from}`."""
        results = found.get("results")
        if not isinstance(results, list):
            return found
        labelled: list[Any] = []
        for entry in results:
            server, tool = entry.get("server"), entry.get("name")
            if "input_schema" in entry and "output_schema" not in entry and isinstance(server, str) \
                    and isinstance(tool, str) and (learned := self.shapes.learned(server, tool)) is not None:
                entry = {**entry, "observed_output": {"schema": learned.schema, "results": learned.results}}
            labelled.append(entry)
        return {**found, "results": labelled}

    async def aclose(self) -> None:
        await self.shapes.aclose()
