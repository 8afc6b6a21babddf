"""`ProgramNames`: the one place that decides which names a program sees, on every executor.

```python
names = ProgramNames({"github": specs})        # once per tool set (host) or per specs (guest)
globals_ = names.bind(send)                     # per execution: no per-tool work
# {"github": Namespace, "search_tools": ..., "ToolError": ToolError,
#  "tool_namespaces": {"github": [...]}, "__tool_namespaces": {...}}
```

The in-process sandbox binds the names the host prepared; a guest (a worker process, an E2B
sandbox) rebuilds the same `ProgramNames` from the `run` frame's `specs` and binds them there, so a
program sees exactly the same names wherever it runs.

Standard library + the kernel: ships to guests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .errors import ToolError
from .protocol import Send
from .stubs import PreparedNamespaces, make_search_tools

__all__ = ["Names", "ProgramNames"]


class Names(Protocol):
    """What an executor needs of a program's names (`ProgramNames` is the one implementation
    code mode uses; tests of the sandbox itself may bring their own)."""

    @property
    def specs(self) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        """The tool specs as plain data, for a guest that builds the same names on its side."""
        ...

    def bind(self, send: Send) -> Mapping[str, object]:
        """The names of one execution, whose tool calls go through `send`."""
        ...


def _plain(spec: Any) -> dict[str, Any]:
    # A host `ToolSpec` or the plain dict it ships as.
    return dict(spec) if isinstance(spec, Mapping) else dict(spec.to_dict())


class ProgramNames:
    """The injected names of a program, prepared once from tool specs by namespace identifier."""

    __slots__ = ("specs", "listing", "_prepared", "_tool_error")

    def __init__(self, specs: Mapping[str, Sequence[Any]], *, tool_error: type[Exception] = ToolError) -> None:
        self.specs: dict[str, list[dict[str, Any]]] = {ns: [_plain(s) for s in items] for ns, items in specs.items()}
        """The specs as plain data, as they cross to a guest in the `run` frame."""
        self.listing: dict[str, list[str]] = {
            ns: [str(spec.get("identifier") or spec["name"]) for spec in items] for ns, items in self.specs.items()
        }
        """`{namespace: [tool identifiers]}` (a clashing tool by its original name), as programs see it."""
        self._prepared = PreparedNamespaces(self.specs)
        self._tool_error = tool_error

    def bind(self, send: Send) -> dict[str, object]:
        """The names of one execution, whose tool calls go through `send`."""
        names: dict[str, object] = dict(self._prepared.bind(send, tool_error=self._tool_error))
        names["search_tools"] = make_search_tools(send, tool_error=self._tool_error)
        names["ToolError"] = self._tool_error
        listing = {ns: list(tools) for ns, tools in self.listing.items()}
        names["tool_namespaces"] = listing
        names["__tool_namespaces"] = listing  # mcp_use's name for it; the system prompt tells agents to use it
        return names
