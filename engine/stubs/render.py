"""Writes tool stubs as Python source: what an agent reads to learn the tools' signatures.

```python
class github:
    '''MCP server 'github'. Call as `await github.<tool>(...)`.'''

    async def create_issue(*, owner: str, repo: str, title: str, labels: list[str] | None = None) -> GithubIssue:
        '''Create an issue.'''
        ...
```

Object schemas become `TypedDict`s (`$ref`s to `$defs`/`definitions` become named ones), `enum`
becomes `Literal[...]`, `anyOf`/`oneOf` unions, arrays `list[...]`, `additionalProperties` maps
`dict[str, ...]`; the return type comes from `outputSchema`, else from the shape learned from the
tool's results (`observed`: its TypedDicts are named `...Observed` and say how many results they
were learned from), else `Any`. A declared `outputSchema` always wins.

Server-provided text never becomes code: every identifier is sanitised, descriptions are written only
inside docstrings with `\\` and `"` escaped (so no docstring can be closed early) and control
characters escaped, literal values go through `repr`, and odd keys use the functional `TypedDict`
form with `repr`'d keys.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..kernel.schema import extra_arguments_name, parameter_identifiers
from .spec import ToolSpec, sanitize_identifier

__all__ = ["Observed", "render_all", "render_namespace"]


class Observed(Protocol):
    """A learned output shape (`engine.shapes.Learned`): a JSON Schema and how many results it is from."""

    @property
    def schema(self) -> Mapping[str, Any]: ...

    @property
    def results(self) -> int: ...


DOC_LIMIT = 2000
"""Characters of a tool's description kept in its docstring."""
PARAM_DOC_LIMIT = 300
"""Characters of each parameter's description kept in the docstring's `Args:` section."""
HEADER = "from __future__ import annotations\n\nfrom typing import Any, Literal, NotRequired, TypedDict\n"
_RESERVED_NAMES = {"Any", "Literal", "NotRequired", "TypedDict", "annotations"}
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
_MAX_DEPTH = 24


def _docstring(text: str, indent: str) -> str:
    """A triple-quoted docstring literal that cannot be closed or escaped by `text`."""
    if len(text) > DOC_LIMIT:
        text = text[: DOC_LIMIT - 3] + "..."
    out: list[str] = []
    for char in text.replace("\r\n", "\n"):
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n" or char == "\t" or char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    body = "".join(out).strip()
    lines = body.split("\n")
    joined = "\n".join((indent + line.rstrip()) if line.strip() else "" for line in lines).lstrip()
    if len(lines) > 1:
        joined += "\n" + indent
    return f'{indent}"""{joined}"""'


def _pascal(text: str) -> str:
    parts = [p for p in sanitize_identifier(text, fallback="T").replace("-", "_").split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "T"


def _literal(value: Any) -> bool:
    return value is None or type(value) in (str, int, bool)


def _safe_default(value: Any) -> str | None:
    """`repr(value)` when it is a literal Python parses back to the same value, else None."""
    text = repr(value)
    try:
        return text if ast.literal_eval(text) == value and len(text) <= 200 else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


class _Renderer:
    """Renders the TypedDicts and namespace classes of one source file; keeps generated names unique."""

    def __init__(self, observed: Mapping[tuple[str, str], Observed] | None = None) -> None:
        self.observed = observed or {}
        self.used: set[str] = set(_RESERVED_NAMES)
        self.typed_dicts: list[str] = []
        self._refs: dict[tuple[int, str], str] = {}

    def unique(self, name: str) -> str:
        candidate, n = name, 2
        while candidate in self.used or keyword.iskeyword(candidate):
            candidate, n = f"{name}{n}", n + 1
        self.used.add(candidate)
        return candidate

    def type_of(self, schema: Any, root: Mapping[str, Any], hint: str, depth: int = 0) -> str:
        """The type expression for `schema`; object schemas are emitted as TypedDicts named after `hint`."""
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return "Any"
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._ref(ref, root, hint, depth)
        if "const" in schema and _literal(schema["const"]):
            return f"Literal[{schema['const']!r}]"
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and all(_literal(v) for v in enum):
            return "Literal[" + ", ".join(repr(v) for v in enum) + "]"
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                return _union(
                    self.type_of(o, root, f"{hint}{i + 1}" if i else hint, depth + 1) for i, o in enumerate(options)
                )
        declared = schema.get("type")
        if isinstance(declared, list):
            return _union(
                self.type_of({**schema, "type": t}, root, hint, depth + 1) for t in declared if isinstance(t, str)
            )
        if declared in _SCALARS:
            return _SCALARS[declared]
        if declared == "array":
            items = schema.get("items")
            return (
                f"list[{self.type_of(items, root, hint + 'Item', depth + 1)}]"
                if isinstance(items, Mapping)
                else "list[Any]"
            )
        if declared == "object" or (declared is None and "properties" in schema):
            return self._object(schema, root, hint, depth)
        return "Any"

    def _ref(self, ref: str, root: Mapping[str, Any], hint: str, depth: int) -> str:
        for prefix in ("#/$defs/", "#/definitions/"):
            table = root.get(prefix[2:-1])
            if (
                ref.startswith(prefix)
                and isinstance(table, Mapping)
                and isinstance(table.get(ref[len(prefix) :]), Mapping)
            ):
                key = (id(root), ref)
                if key not in self._refs:
                    name = self.unique(self._prefix + _pascal(ref[len(prefix) :]))
                    self._refs[key] = name  # registered first: recursive refs resolve to the name
                    target = table[ref[len(prefix) :]]
                    if _is_record(target):
                        self._object(target, root, name, depth + 1, name=name)
                    else:
                        expression = self.type_of(target, root, name, depth + 1)
                        # Not an object: emit an alias so the name still means something.
                        self.typed_dicts.append(f"{name} = {expression}\n")
                return self._refs[key]
        return "Any"

    def _object(
        self, schema: Mapping[str, Any], root: Mapping[str, Any], hint: str, depth: int, name: str | None = None
    ) -> str:
        if not _is_record(schema):
            extra = schema.get("additionalProperties")
            if isinstance(extra, Mapping):
                return f"dict[str, {self.type_of(extra, root, hint + 'Value', depth + 1)}]"
            return "dict[str, Any]"
        properties: Mapping[Any, Any] = schema["properties"]
        name = name or self.unique(hint)
        required = _required(schema)
        fields: list[tuple[str, str]] = []
        for key, prop in properties.items():
            if not isinstance(key, str):
                continue
            expression = self.type_of(prop, root, name + _pascal(key), depth + 1)
            fields.append((key, expression if key in required else f"NotRequired[{expression}]"))
        description = schema.get("description")
        doc = _docstring(description, "    ") + "\n" if isinstance(description, str) and description.strip() else ""
        if all(k.isidentifier() and not keyword.iskeyword(k) and k not in _RESERVED_NAMES for k, _ in fields):
            body = "".join(f"    {k}: {t}\n" for k, t in fields) or "    pass\n"
            self.typed_dicts.append(f"class {name}(TypedDict):\n{doc}{body}")
        else:
            # Keys that are not identifiers only fit the functional form; keys and types are repr'd strings.
            items = ", ".join(f"{k!r}: {t!r}" for k, t in fields)
            self.typed_dicts.append(f"{name} = TypedDict({name!r}, {{{items}}})\n")
        return name

    _prefix = ""

    def namespace(self, identifier: str, specs: Sequence[ToolSpec]) -> str:
        _check_identifier(identifier)
        named = [spec for spec in specs if spec.identifier]
        for spec in named:
            _check_identifier(spec.identifier)
        self._prefix = _pascal(identifier)
        self.used.add(identifier)
        server = specs[0].server if specs else identifier
        doc = f"MCP server {server!r}. Call as `await {identifier}.<tool>(...)`."
        clashing = [spec.name for spec in specs if not spec.identifier]
        if clashing:
            # Names whose identifiers clash are reachable only by their original name; repr() keeps
            # any quote or newline in them inside the docstring's escaping.
            doc += " Also, by original name only: " + ", ".join(f"{identifier}[{n!r}]" for n in clashing) + "."
        lines = [f"class {identifier}:", _docstring(doc, "    ")]
        for spec in named:
            lines.append("")
            lines.append(self._tool(identifier, spec))
        return "\n".join(lines) + "\n"

    def _tool(self, namespace: str, spec: ToolSpec) -> str:
        schema: Mapping[str, Any] = spec.input_schema or {}
        properties = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
        assert isinstance(properties, Mapping)
        required = _required(schema)
        tool_hint = self._prefix + _pascal(spec.identifier)
        params: list[str] = []
        identifiers = parameter_identifiers(schema)
        for python_name, original in identifiers.items():
            prop = properties.get(original)
            expression = self.type_of(prop, schema, tool_hint + _pascal(original))
            if original in required:
                params.append(f"{python_name}: {expression}")
                continue
            default = _safe_default(prop.get("default")) if isinstance(prop, Mapping) and "default" in prop else None
            if default is None or default == "None":
                expression = (
                    expression if expression == "Any" or "None" in expression.split(" | ") else f"{expression} | None"
                )
                default = "None"
            params.append(f"{python_name}: {expression} = {default}")
        extra = schema.get("additionalProperties")
        if not properties or extra is True or isinstance(extra, Mapping):
            params.append(f"**{extra_arguments_name(identifiers)}: Any")
        params = (["*"] if params and not params[0].startswith("**") else []) + params
        signature = ", ".join(params)
        if len(signature) > 80:
            signature = "\n" + "".join(f"        {p},\n" for p in params) + "    "
        observed = None if spec.output_schema else self.observed.get((spec.server, spec.name))
        if spec.output_schema:
            returns = self.type_of(spec.output_schema, spec.output_schema, tool_hint + "Result")
        elif observed is not None:
            returns = self.type_of(observed.schema, observed.schema, tool_hint + "Observed")
        else:
            returns = "Any"
        doc = spec.description.strip() or f"Tool {spec.name!r} of server {spec.server!r}."
        if observed is not None:
            plural = "result" if observed.results == 1 else "results"
            seen = f"observed in {observed.results} {plural}" if observed.results > 0 else "observed"
            doc += (f"\n\nReturns: the shape {seen} (the server declares no "
                    "outputSchema; keys not seen yet may exist).")
        described = [
            f"    {python_name}: {' '.join(prop['description'].split())[:PARAM_DOC_LIMIT]}"
            for python_name, original in parameter_identifiers(schema).items()
            if isinstance(prop := properties.get(original), Mapping) and isinstance(prop.get("description"), str)
        ]
        if described:
            doc += "\n\nArgs:\n" + "\n".join(described)
        if spec.name != spec.identifier:
            doc += f"\n\nOriginal name: {spec.name!r} (also `{namespace}[{spec.name!r}]`)."
        return f"    async def {spec.identifier}({signature}) -> {returns}:\n{_docstring(doc, '        ')}\n        ..."


def _check_identifier(name: str) -> None:
    # Specs may arrive as plain data (`ToolSpec.from_dict`): never trust an identifier into source.
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(f"{name!r} is not a usable identifier; build specs with specs_for_server()")


def _required(schema: Mapping[str, Any]) -> list[Any]:
    required = schema.get("required")
    return required if isinstance(required, list) else []


def _is_record(schema: Any) -> bool:
    """An object schema with declared properties: rendered as a TypedDict."""
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    return isinstance(properties, Mapping) and bool(properties)


def _union(parts: Any) -> str:
    seen: list[str] = []
    for part in parts:
        for piece in part.split(" | ") if "[" not in part else [part]:
            if piece not in seen:
                seen.append(piece)
    if "Any" in seen:
        return "Any"
    return " | ".join(seen) or "Any"


def render_all(
    specs_by_ns: Mapping[str, Sequence[ToolSpec]], observed: Mapping[tuple[str, str], Observed] | None = None
) -> str:
    """Source for every namespace: one import header, the TypedDicts, then one class per namespace.

    `observed`: learned output shapes by `(server, tool name)`, for tools without an `outputSchema`."""
    renderer = _Renderer(observed)
    classes = [renderer.namespace(ns, specs) for ns, specs in specs_by_ns.items()]
    parts = [HEADER, *renderer.typed_dicts, *classes]
    return "\n\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def render_namespace(namespace_identifier: str, specs: Sequence[ToolSpec]) -> str:
    """Source for one namespace (with its own header and TypedDicts)."""
    return render_all({namespace_identifier: specs})
