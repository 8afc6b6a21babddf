"""Code mode's side of typed results: learning output shapes, and stubs and search results that show them.

`TypedResults` owns the `ShapeRegistry` of one `CodeMode`: it hands each execution the bridge
`Hooks` that feed it (only for tools that declare no `outputSchema`: a declared one always wins),
renders the stubs with the learned shapes (cached per tool set and registry version), and adds
`observed_output` to `search_tools(detail_level="full")` entries. See docs/typed-results.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ..bridge.hooks import Hooks
from ..envelope import CheckFinding, Envelope, error_envelope
from ..errors import CodeModeError
from ..kernel.report import ErrorInfo
from ..limits import Limits
from ..shapes import Learned, ShapeRegistry
from ..store import Store
from ..stubs import render_all
from ..tools import ToolSet
from ..typecheck import CheckReport, StubNames, TypeChecker, stub_names

CheckMode = Literal["types", "off"]
CHECK_MODES: tuple[CheckMode, ...] = ("types", "off")

__all__ = ["CHECK_MODES", "CheckMode", "TypedResults", "check_mode"]


def check_mode(value: object) -> CheckMode:
    """`value` if it is a check mode; a `CodeModeError` naming the choices otherwise."""
    if value == "types":
        return "types"
    if value == "off":
        return "off"
    raise CodeModeError(f"check must be one of {', '.join(map(repr, CHECK_MODES))}, got {value!r}")


class TypedResults:
    """Learned shapes of one `CodeMode`; see the module docstring."""

    def __init__(self, store: Store, *, learn: bool = True, check: CheckMode = "off") -> None:
        self.shapes = ShapeRegistry(store, enabled=learn)
        self.check = check_mode(check)
        """The default of `execute(check=...)`."""
        self.checker = TypeChecker()
        self._hooks: tuple[ToolSet, Hooks] | None = None
        self._stubs: tuple[ToolSet, int, str] | None = None
        self._names: tuple[str, StubNames] | None = None
        self._checked: tuple[ToolSet, int, str] | None = None

    @property
    def learning(self) -> bool:
        return self.shapes.enabled

    def hooks(self, toolset: ToolSet) -> Hooks | None:
        """The hooks that feed the registry for one execution (None when learning is off).

        They hold no state of the execution, so the same ones serve every execution on the same
        tool set (made again when the tool lists change)."""
        if not self.shapes.enabled:
            return None
        if self._hooks is None or self._hooks[0] is not toolset:
            self._hooks = (toolset, Hooks(observe=self._observer(toolset)))
        return self._hooks[1]

    def _observer(self, toolset: ToolSet) -> Callable[[str, str, Any], None]:
        declared = frozenset(
            (spec.server, spec.name) for specs in toolset.specs.values() for spec in specs if spec.output_schema
        )
        observe = self.shapes.observe

        def observed(server: str, tool: str, value: Any) -> None:
            if (server, tool) not in declared:
                observe(server, tool, value)

        return observed

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

    def checked_stubs(self, toolset: ToolSet) -> str:
        """The stubs the type check reads: the learned shapes without their counts, so that the
        checker's stubs module changes only when a shape does (a changed module costs a re-check)."""
        self.shapes.drain()
        cached = self._checked
        if cached is not None and cached[0] is toolset and cached[1] == self.shapes.shape_version:
            return cached[2]
        observed = {key: Learned(schema={k: v for k, v in found.schema.items() if k != "description"}, results=0)
                    for key, found in self.shapes.snapshot(self.undeclared(toolset)).items()}
        source = toolset.stubs()
        if observed and toolset.specs:
            try:
                source = render_all(toolset.specs, observed)
            except Exception:  # noqa: BLE001 - as in stubs(): the plain stubs
                source = toolset.stubs()
        self._checked = (toolset, self.shapes.shape_version, source)
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

    # -- the pre-run check ---------------------------------------------------------------------

    async def precheck(self, toolset: ToolSet, code: str, limits: Limits) -> tuple[Envelope | None, list[CheckFinding]]:
        """Type-check `code` against the stubs with learned shapes: `(refusal envelope or None, warnings)`.

        A certain error refuses the run (nothing was called): its envelope's `error_info` is the
        first error, the rest are in `check_warnings`. A check that could not run says why in the
        warnings, and the run goes ahead."""
        report = await self.report(toolset, code)
        if report.status == "skipped":
            message = f"the type check did not run ({report.reason}); the program ran unchecked"
            return None, [CheckFinding(type="TypeCheckSkipped", message=message, line=None, column=None, rule="")]
        if not report.errors:
            return None, report.warnings
        first = report.errors[0]
        line, column = first["line"], first["column"]
        lines = code.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        shown = lines[line - 1].strip()[:200] if line is not None and 0 < line <= len(lines) else ""
        traceback = (f"Type check before the run (no tool was called):\n  line {line}, column {column}\n"
                     + (f"    {shown}\n" if shown else "") + f"{first['type']}: {first['message']}")
        info = ErrorInfo(type=first["type"], message=first["message"], line=line, column=column, traceback=traceback)
        envelope = error_envelope(info, execution_time=report.seconds, limits=limits.as_dict())
        rest = report.errors[1:] + report.warnings
        if rest:
            envelope["check_warnings"] = rest
        return envelope, []

    async def report(self, toolset: ToolSet, code: str) -> CheckReport:
        """The checker's report on `code` against `toolset`'s stubs with the learned shapes."""
        await self.sync(toolset)
        stubs = self.checked_stubs(toolset)
        return await self.checker.check(code, stubs, self._stub_names(toolset, stubs))

    def _stub_names(self, toolset: ToolSet, stubs: str) -> StubNames:
        if self._names is None or self._names[0] is not stubs:
            tools = {ns: [spec.identifier for spec in specs if spec.identifier] for ns, specs in toolset.specs.items()}
            self._names = (stubs, stub_names(stubs, tools))
        return self._names[1]

    async def aclose(self) -> None:
        await self.shapes.aclose()
        await self.checker.aclose()
