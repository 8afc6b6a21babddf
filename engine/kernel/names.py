"""`ProgramNames`: the one place that decides which names a program sees, on every executor.

```python
names = ProgramNames({"github": specs})        # once per tool set (host) or per specs (guest)
globals_ = names.bind(send)                     # per execution: no per-tool work
# {"github": Namespace, "search_tools": ..., "results": Results, "ToolError": ToolError,
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
from .stubs import PreparedNamespaces, Results, make_search_tools

__all__ = ["UNAVAILABLE_KEY", "Names", "ProgramNames", "UnavailableServer"]

UNAVAILABLE_KEY = " unavailable"
"""The key under which `ProgramNames.specs` carries the unavailable servers to a guest (never a
namespace identifier: it has a space), so the `run` frame needs no field of its own."""


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


class UnavailableServer:
    """The name of a server a program cannot use now: any use of a tool says which and why.

    `await down.tool()` raises `ToolError("server 'down' is unavailable: <reason>")` at the
    attribute (or item) access, instead of a bare `NameError` that hides the reason.
    """

    __slots__ = ("_server", "_reason", "_tool_error")

    def __init__(self, server: str, reason: str, tool_error: type[Exception]) -> None:
        object.__setattr__(self, "_server", server)
        object.__setattr__(self, "_reason", reason)
        object.__setattr__(self, "_tool_error", tool_error)

    def _raise(self, tool: object) -> Any:
        # ToolError(server, tool, message), as a failed call raises it.
        message = f"server {self._server!r} is unavailable: {self._reason}"
        raise self._tool_error(self._server, str(tool), message)

    def __getattr__(self, name: str) -> Any:
        return self._raise(name)

    def __getitem__(self, name: str) -> Any:
        return self._raise(name)

    def __setattr__(self, name: str, value: object) -> None:
        self._raise(name)

    def __dir__(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        return f"<server {self._server!r}: unavailable: {self._reason}>"


class ProgramNames:
    """The injected names of a program, prepared once from tool specs by namespace identifier.

    `unavailable` (`{namespace identifier: (server, reason)}`) names the servers a program cannot
    use now; each is bound as an `UnavailableServer`, unless a loaded namespace has its name.
    """

    __slots__ = ("specs", "listing", "unavailable", "_prepared", "_tool_error")

    def __init__(
        self,
        specs: Mapping[str, Sequence[Any]],
        *,
        tool_error: type[Exception] = ToolError,
        unavailable: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        shipped = specs.get(UNAVAILABLE_KEY) or ()
        self.unavailable: dict[str, tuple[str, str]] = dict(unavailable or {})
        for entry in shipped:  # from a guest's `run` frame: [{"namespace", "server", "reason"}]
            if isinstance(entry, Mapping):
                self.unavailable[str(entry.get("namespace"))] = (str(entry.get("server")), str(entry.get("reason")))
        specs = {ns: items for ns, items in specs.items() if ns != UNAVAILABLE_KEY}
        self.specs: dict[str, list[dict[str, Any]]] = {ns: [_plain(s) for s in items] for ns, items in specs.items()}
        """The specs as plain data, as they cross to a guest in the `run` frame (the unavailable
        servers under `UNAVAILABLE_KEY`)."""
        self.listing: dict[str, list[str]] = {
            ns: [str(spec.get("identifier") or spec["name"]) for spec in items] for ns, items in self.specs.items()
        }
        """`{namespace: [tool identifiers]}` (a clashing tool by its original name), as programs see it."""
        self._prepared = PreparedNamespaces(self.specs)
        self._tool_error = tool_error
        if self.unavailable:
            self.specs[UNAVAILABLE_KEY] = [
                {"namespace": ns, "server": server, "reason": reason}
                for ns, (server, reason) in self.unavailable.items()
            ]

    def bind(self, send: Send) -> dict[str, object]:
        """The names of one execution, whose tool calls go through `send`."""
        names: dict[str, object] = {
            ns: UnavailableServer(server, reason, self._tool_error)
            for ns, (server, reason) in self.unavailable.items()
        }
        names.update(self._prepared.bind(send, tool_error=self._tool_error))
        names["search_tools"] = make_search_tools(send, tool_error=self._tool_error)
        names.setdefault("results", Results(send, self._tool_error))  # a server named `results` keeps its name
        names["ToolError"] = self._tool_error
        listing = {ns: list(tools) for ns, tools in self.listing.items()}
        names["tool_namespaces"] = listing
        names["__tool_namespaces"] = listing  # mcp_use's name for it; the system prompt tells agents to use it
        return names
