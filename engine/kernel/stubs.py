"""Builds the tool namespaces a program calls: `await github.create_issue(owner=..., title=...)`.

Each namespace is an object whose attributes are async stub functions, one per tool. A stub checks
its keyword arguments against the tool's input schema (before anything is sent), encodes a `call`
frame, awaits the reply through `send`, and returns the result value or raises the error it carries.
The objects hold nothing but plain data and `send`: no session, no host object, nothing reachable
through a public attribute except other stubs.

Standard library + the kernel's protocol, schema checker and errors: ships to guests with the kernel.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from . import protocol as _protocol
from . import schema as _schema
from .errors import ToolError, raise_for
from .protocol import Send

__all__ = [
    "DETAIL_LEVELS",
    "MAX_SEARCH_QUERY",
    "OPEN_RESULT",
    "Namespace",
    "PreparedNamespaces",
    "Results",
    "build_namespaces",
    "make_search_tools",
    "open_arguments",
    "search_arguments",
]

Stub = Callable[..., Awaitable[Any]]

AMBIGUOUS = "?"
"""Prefix of the key of a tool whose name clashed with another's after sanitising (not an identifier)."""

DOC_LIMIT = 2000
"""Characters of a tool's description kept in its stub's docstring."""

# Call ids are unique per process so that stubs of several namespaces (and `search_tools`) can share
# one multiplexed channel. `next()` on a count is atomic under the GIL.
_ids = itertools.count(1)

_SIMPLE_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}


class Namespace:
    """The tools of one MCP server, as async functions: `await ns.tool(...)` or `await ns["orig-name"](...)`.

    Stub functions are made on first use from templates prepared once per tool list, so a program
    pays only for the tools it touches, however many the servers offer.
    """

    __slots__ = ("_name", "_server", "_templates", "_originals", "_send", "_tool_error", "_stubs")
    _name: str
    _server: str
    _templates: Mapping[str, _StubTemplate]
    _originals: Mapping[str, str]
    _send: Send
    _tool_error: type[Exception]
    _stubs: dict[str, Stub]

    def __init__(
        self,
        name: str,
        server: str,
        templates: Mapping[str, _StubTemplate],
        originals: Mapping[str, str],
        send: Send,
        tool_error: type[Exception],
    ) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_server", server)
        object.__setattr__(self, "_templates", templates)
        object.__setattr__(self, "_originals", originals)
        object.__setattr__(self, "_send", send)
        object.__setattr__(self, "_tool_error", tool_error)
        object.__setattr__(self, "_stubs", {})

    def __getattr__(self, name: str) -> Stub:
        stubs: dict[str, Stub] = object.__getattribute__(self, "_stubs")
        stub = stubs.get(name)
        if stub is not None:
            return stub
        template = self._templates.get(name)
        if template is None:
            raise AttributeError(self._missing(name))
        stub = stubs[name] = template.bind(self._send, self._tool_error)
        return stub

    def __getitem__(self, name: str) -> Stub:
        identifier = self._originals.get(name, name)
        if not isinstance(identifier, str) or identifier not in self._templates:
            raise KeyError(self._missing(name))
        return self.__getattr__(identifier)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"namespace {self._name!r} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"namespace {self._name!r} is read-only")

    def __dir__(self) -> list[str]:
        return sorted(name for name in self._templates if not name.startswith(AMBIGUOUS))

    def __repr__(self) -> str:
        names = self.__dir__()
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        return f"<namespace {self._name} (server {self._server!r}): {len(names)} tools: {shown}>"

    def _missing(self, name: str) -> str:
        clashing = [t.tool for key, t in self._templates.items() if key.startswith(AMBIGUOUS) and t.clashes == name]
        if clashing:
            options = " or ".join(f"{self._name}[{tool!r}]" for tool in clashing)
            return (
                f"{self._name}.{name} is ambiguous: tools {', '.join(repr(t) for t in clashing)} all map to "
                f"{name!r}; call one by its original name: {options}"
            )
        names = self.__dir__()
        close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
        ordered = close + [n for n in names if n not in close]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"{self._name} has no tool {name!r}.{hint} Available: {', '.join(ordered) or 'none'}"


async def _roundtrip(send: Send, server: str, tool: str, arguments: dict[str, Any], tool_error: type[Exception]) -> Any:
    call_id = next(_ids)
    try:
        frame = _protocol.encode(_protocol.call_frame(call_id, server, tool, arguments), check=False)
    except _protocol.FrameError as exc:
        raise TypeError(
            f"{server}.{tool}() arguments must be plain data (str, int, float, bool, None, list, dict): {exc}"
        ) from None
    if len(frame) > _protocol.MAX_FRAME_SIZE:
        raise ValueError(
            f"{server}.{tool}() arguments are {len(frame)} bytes encoded, over the limit of {_protocol.MAX_FRAME_SIZE}"
        )
    reply = _protocol.decode(await send(frame))
    if reply.get("id") != call_id:
        raise RuntimeError(f"bridge reply for call {reply.get('id')!r} arrived for call {call_id}")
    if reply["k"] == "result":
        return reply["value"]
    if reply["k"] == "error":
        raise raise_for(reply["error"], server, tool, tool_error)
    raise RuntimeError(f"unexpected {reply['k']!r} frame in reply to a tool call")


def _signature(schema: Mapping[str, Any]) -> inspect.Signature:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    declared_required = schema.get("required")
    required: list[Any] = declared_required if isinstance(declared_required, list) else []
    parameters = []
    identifiers = _schema.parameter_identifiers(schema)
    for python_name, original in identifiers.items():
        prop = properties.get(original)
        prop = prop if isinstance(prop, Mapping) else {}
        declared = prop.get("type")
        annotation: Any = (
            _SIMPLE_TYPES.get(declared, inspect.Parameter.empty)
            if isinstance(declared, str)
            else inspect.Parameter.empty
        )
        if original in required:
            default: Any = inspect.Parameter.empty
        else:
            default = prop.get("default")
        parameters.append(
            inspect.Parameter(python_name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        )
    extra = schema.get("additionalProperties")
    if not properties or extra is True or isinstance(extra, Mapping):
        # Never the name of a property (a tool may well have one called `arguments`).
        name = _schema.extra_arguments_name(identifiers)
        parameters.append(inspect.Parameter(name, inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(parameters)


def _docstring(description: str, server: str, tool: str) -> str:
    text = description.strip() or f"Tool {tool!r} of server {server!r}."
    if len(text) > DOC_LIMIT:
        text = text[: DOC_LIMIT - 3] + "..."
    return text


class _StubTemplate:
    """Everything about one tool's stub that does not depend on the execution: built once."""

    __slots__ = ("server", "tool", "identifier", "clashes", "where", "checker", "doc", "signature")

    def __init__(self, spec: Mapping[str, Any], namespace: str) -> None:
        self.server = str(spec["server"])
        self.tool = str(spec["name"])
        self.identifier = str(spec["identifier"] or "")
        self.clashes = str(spec.get("clashes") or "")
        schema = spec.get("input_schema") or {}
        self.where = f"{namespace}.{self.identifier}" if self.identifier else f"{namespace}[{self.tool!r}]"
        self.checker = _schema.ArgumentChecker(schema, self.where)
        self.doc = _docstring(str(spec.get("description") or ""), self.server, self.tool)
        self.signature = _signature(schema)

    def bind(self, send: Send, tool_error: type[Exception]) -> Stub:
        """The stub function of one execution: the template's checks, then a frame through `send`."""
        server, tool, where, check = self.server, self.tool, self.where, self.checker.check

        async def stub(*args: Any, **kwargs: Any) -> Any:
            if args:
                raise TypeError(f"{where}() takes keyword arguments only, e.g. {where}(name=value)")
            return await _roundtrip(send, server, tool, check(kwargs), tool_error)

        stub.__name__ = self.identifier or "tool"
        stub.__qualname__ = where
        stub.__doc__ = self.doc
        stub.__signature__ = self.signature  # type: ignore[attr-defined]
        return stub


def _spec_dict(spec: Any) -> Mapping[str, Any]:
    # A ToolSpec (host side) or its `to_dict()` (shipped to a guest).
    if isinstance(spec, Mapping):
        return spec
    as_dict: Mapping[str, Any] = spec.to_dict()
    return as_dict


class PreparedNamespaces:
    """Tool specs turned into stub templates once; `bind(send)` makes one execution's namespaces.

    ```python
    prepared = PreparedNamespaces(specs)          # when the tool lists change
    namespaces = prepared.bind(send, tool_error=ToolError)   # per execution: no per-tool work
    ```
    """

    def __init__(self, specs: Mapping[str, Sequence[Any]]) -> None:
        self._namespaces: dict[str, tuple[str, dict[str, _StubTemplate], dict[str, str]]] = {}
        for namespace, tool_specs in specs.items():
            templates: dict[str, _StubTemplate] = {}
            originals: dict[str, str] = {}
            server = namespace
            for raw in tool_specs:
                spec = _spec_dict(raw)
                template = _StubTemplate(spec, namespace)
                server = template.server
                # A tool without an identifier (its name clashed with another's) is keyed by a
                # string that is not an identifier: reachable only as `ns["original-name"]`.
                key = template.identifier or f"{AMBIGUOUS}{template.tool}"
                if key in templates:
                    raise ValueError(f"namespace {namespace!r} has two tools named {key!r}")
                templates[key] = template
                originals[template.tool] = key
            self._namespaces[namespace] = (server, templates, originals)

    def bind(self, send: Send, *, tool_error: type[Exception]) -> dict[str, Namespace]:
        """One `Namespace` per namespace identifier, whose stubs send through `send`."""
        return {
            namespace: Namespace(namespace, server, templates, originals, send, tool_error)
            for namespace, (server, templates, originals) in self._namespaces.items()
        }


def build_namespaces(
    specs: Mapping[str, Sequence[Any]], send: Send, *, tool_error: type[Exception]
) -> dict[str, Namespace]:
    """One `Namespace` per key of `specs` (namespace identifier -> ToolSpecs or their dicts).

    Args:
        specs: tool specs by namespace identifier (`namespace_identifier(server)`).
        send: the executor's `Send`: one encoded frame out, the encoded reply back.
        tool_error: the class raised for a failed tool, called as `tool_error(server, tool, message)`.
    """
    return PreparedNamespaces(specs).bind(send, tool_error=tool_error)


DETAIL_LEVELS = ("names", "descriptions", "full")
"""What `search_tools` returns per tool: names only, with descriptions, or with the schemas too."""

MAX_SEARCH_QUERY = 1000
"""Characters of a `search_tools` query: the host tokenises and ranks it, so its size is capped."""


def search_arguments(query: object, detail_level: object, limit: object) -> dict[str, Any]:
    """Check `search_tools`' arguments; return them as the call's arguments, or raise.

    The one rule, applied in the program (before anything is sent), at the host (a frame may be
    forged) and by the library's `search_tools`, so every caller gets the same message.

    Raises:
        TypeError: `query` is not a str, or `limit` is not an int or None.
        ValueError: `detail_level` is not one of `DETAIL_LEVELS`, the query is too long, or `limit` < 1.
    """
    if not isinstance(query, str):
        raise TypeError(f"search_tools() query must be a str, got {type(query).__name__}")
    if len(query) > MAX_SEARCH_QUERY:
        raise ValueError(f"search_tools() query is {len(query)} characters, over the limit of {MAX_SEARCH_QUERY}")
    if detail_level not in DETAIL_LEVELS:
        raise ValueError(f"search_tools() detail_level must be 'names', 'descriptions' or 'full', got {detail_level!r}")
    if limit is not None and type(limit) is not int:
        raise TypeError(f"search_tools() limit must be a positive int or None, got {type(limit).__name__}")
    if limit is not None and limit < 1:
        raise ValueError(f"search_tools() limit must be a positive int or None, got {limit}")
    return {"query": query, "detail_level": detail_level, "limit": limit}


def make_search_tools(send: Send, *, tool_error: type[Exception] = ToolError) -> Stub:
    """The program's `search_tools(query="", detail_level="full", limit=None)`: searches every server's tools."""

    async def search_tools(query: str = "", detail_level: str = "full", limit: int | None = None) -> Any:
        """Search the connected servers' tools. `detail_level`: "names", "descriptions" or "full"."""
        arguments = search_arguments(query, detail_level, limit)
        return await _roundtrip(send, _protocol.ENGINE_NAMESPACE, "search_tools", arguments, tool_error)

    search_tools.__qualname__ = "search_tools"
    return search_tools


OPEN_RESULT = "open_result"
"""The engine function behind `results.open(...)`."""


def open_arguments(handle: object, path: object, start: object, stop: object) -> dict[str, Any]:
    """Check `results.open`'s arguments (in the program and again at the host); return them, or raise.

    Raises:
        TypeError: `handle` is not a str, `path` not a list, `start`/`stop` not ints or None.
    """
    if not isinstance(handle, str):
        raise TypeError(f"results.open() handle must be a str (an id from the envelope's handles), got "
                        f"{type(handle).__name__}")
    if path is None:
        path = []
    if not isinstance(path, list | tuple) or not all(isinstance(k, str) or type(k) is int for k in path):
        raise TypeError("results.open() path must be a list of keys (str) and indexes (int)")
    for name, bound in (("start", start), ("stop", stop)):
        if bound is not None and type(bound) is not int:
            raise TypeError(f"results.open() {name} must be an int or None, got {type(bound).__name__}")
    return {"handle": handle, "path": list(path), "start": start, "stop": stop}


class Results:
    """The program's `results`: `await results.open(handle, path=[...], start=0, stop=100)` reads a
    result kept on the host (an id from an earlier envelope's `handles`), or a part of it."""

    __slots__ = ("open",)

    def __init__(self, send: Send, tool_error: type[Exception]) -> None:
        async def open(handle: str, path: list[Any] | None = None, start: int | None = None,
                       stop: int | None = None) -> Any:
            """The value kept under `handle`; `path` picks a part (keys and indexes), `start`/`stop`
            slice a list, string or dict."""
            arguments = open_arguments(handle, path, start, stop)
            return await _roundtrip(send, _protocol.ENGINE_NAMESPACE, OPEN_RESULT, arguments, tool_error)

        open.__qualname__ = "results.open"
        self.open = open

    def __repr__(self) -> str:
        return "<results: open(handle, path=None, start=None, stop=None)>"
