"""A small JSON-schema checker for tool arguments, run inside the program before a call frame is sent.

It covers what tool schemas use in practice: `type` (one or a list), `enum`, `const`, `properties`,
`required`, `additionalProperties`, `items`, `minItems`/`maxItems`, `minLength`/`maxLength`,
`minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum`, `anyOf`/`oneOf` (as "any of"), `allOf`,
and local `$ref`s into `$defs`/`definitions`. Other keywords (`pattern`, `format`, ...) are left to
the server, which validates again; this layer exists to give the program a precise, early message
that names the parameter. Type mismatches, missing and unknown parameters raise `TypeError`; values
out of range or outside an enum raise `ValueError`.

Standard library only: shipped to remote guests with the stub runtime.
"""

from __future__ import annotations

import difflib
import keyword
import operator
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ArgumentChecker", "check_value", "parameter_identifiers"]

_MAX_DEPTH = 64

_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool], str], ...] = (
    ("minimum", operator.ge, ">="),
    ("maximum", operator.le, "<="),
    ("exclusiveMinimum", operator.gt, ">"),
    ("exclusiveMaximum", operator.lt, "<"),
)

_TYPE_NAMES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "None",
    "array": "list",
    "object": "dict",
}


def parameter_identifiers(schema: Mapping[str, Any]) -> dict[str, str]:
    """Map each top-level property to the Python keyword that passes it: `{python_name: original}`.

    A property that is already an identifier (and not a keyword) is its own name. Others get a
    sanitised alias (`user-name` -> `user_name`, `class` -> `class_`) unless that alias is taken;
    such a property stays reachable by its original name through `**{"user-name": ...}`.
    """
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    names: dict[str, str] = {}
    for original in properties:
        if isinstance(original, str) and original.isidentifier() and not keyword.iskeyword(original):
            names[original] = original
    for original in properties:
        if not isinstance(original, str) or original in names:
            continue
        alias = "".join(c if ("a" + c).isidentifier() else "_" for c in original) or "_"
        if not alias.isidentifier():
            alias = "p_" + alias
        if keyword.iskeyword(alias):
            alias += "_"
        if alias not in names and alias not in properties:
            names[alias] = original
    return names


def _type_matches(value: Any, name: str) -> bool:
    kind = type(value)
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        if kind is bool:
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return kind is not bool and isinstance(value, int | float)
    if name == "boolean":
        return kind is bool
    if name == "null":
        return value is None
    if name == "array":
        return isinstance(value, list | tuple)
    if name == "object":
        return isinstance(value, dict)
    return True  # an unknown type name: leave it to the server


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            table = root.get(prefix[2:-1])
            if isinstance(table, Mapping):
                target = table.get(ref[len(prefix) :])
                if isinstance(target, Mapping):
                    return target
    return None


def check_value(schema: Any, value: Any, where: str, root: Mapping[str, Any] | None = None, depth: int = 0) -> None:
    """Raise TypeError/ValueError naming `where` (e.g. `"owner"`, `"items[2].name"`) if `value` breaks `schema`."""
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return  # `true`, `{}` or an unresolvable depth: accept
    if root is None:
        root = schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _resolve(ref, root)
        if target is not None:
            check_value(target, value, where, root, depth + 1)
    declared = schema.get("type")
    if isinstance(declared, str) or isinstance(declared, list):
        names = [declared] if isinstance(declared, str) else [n for n in declared if isinstance(n, str)]
        if names and not any(_type_matches(value, n) for n in names):
            expected = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
            raise TypeError(f"{where} must be {expected}, got {type(value).__name__} {_describe(value)}")
    if "enum" in schema and isinstance(schema["enum"], list):
        choices = schema["enum"]
        if not any(_same(value, choice) for choice in choices):
            shown = ", ".join(_describe(c) for c in choices[:20])
            raise ValueError(f"{where} must be one of {shown}; got {_describe(value)}")
    if "const" in schema and not _same(value, schema["const"]):
        raise ValueError(f"{where} must be {_describe(schema['const'])}; got {_describe(value)}")
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            _check_any_of(options, value, where, root, depth)
    all_of = schema.get("allOf")
    if isinstance(all_of, list):
        for option in all_of:
            check_value(option, value, where, root, depth + 1)
    if isinstance(value, str):
        _check_length(schema, len(value), where, "characters")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_bounds(schema, value, where)
    elif isinstance(value, list | tuple):
        _check_length(schema, len(value), where, "items", prefix="Items")
        items = schema.get("items")
        if isinstance(items, Mapping):
            for index, item in enumerate(value):
                check_value(items, item, f"{where}[{index}]", root, depth + 1)
    elif isinstance(value, dict):
        _check_object(schema, value, where, root, depth)


def _same(value: Any, expected: Any) -> bool:
    # JSON has no bool/int confusion: `True` is not `1`.
    return type(value) is bool if type(expected) is bool else (type(value) is not bool and value == expected)


def _check_any_of(options: list[Any], value: Any, where: str, root: Mapping[str, Any], depth: int) -> None:
    errors: list[str] = []
    for option in options:
        try:
            check_value(option, value, where, root, depth + 1)
        except (TypeError, ValueError) as exc:
            errors.append(str(exc))
        else:
            return
    raise TypeError(f"{where} matches none of the allowed forms: " + "; ".join(errors[:4]))


def _check_length(schema: Mapping[str, Any], size: int, where: str, unit: str, prefix: str = "Length") -> None:
    low = schema.get("min" + prefix)
    high = schema.get("max" + prefix)
    if isinstance(low, int) and size < low:
        raise ValueError(f"{where} must have at least {low} {unit}, got {size}")
    if isinstance(high, int) and size > high:
        raise ValueError(f"{where} must have at most {high} {unit}, got {size}")


def _check_bounds(schema: Mapping[str, Any], value: float, where: str) -> None:
    for key, ok, sign in _BOUNDS:
        bound = schema.get(key)
        if isinstance(bound, int | float) and not isinstance(bound, bool) and not ok(value, bound):
            raise ValueError(f"{where} must be {sign} {bound}, got {value}")


def _check_object(
    schema: Mapping[str, Any], value: dict[Any, Any], where: str, root: Mapping[str, Any], depth: int
) -> None:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = schema.get("required")
    if isinstance(required, list):
        for name in required:
            if name not in value:
                raise TypeError(f"{where} is missing required key {name!r}")
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            check_value(properties[key], item, f"{where}[{key!r}]", root, depth + 1)
        elif extra is False:
            allowed = ", ".join(repr(k) for k in properties) or "none"
            raise TypeError(f"{where} has unknown key {key!r} (allowed: {allowed})")
        elif isinstance(extra, Mapping):
            check_value(extra, item, f"{where}[{key!r}]", root, depth + 1)


class ArgumentChecker:
    """Checks and normalises the keyword arguments of one tool call, against its input schema.

    Built once per tool; `check(kwargs)` returns the arguments keyed by original property names.
    Unknown keywords are refused unless the schema declares no properties or allows additional ones.
    An optional parameter passed as `None` is dropped (the server applies its default) unless the
    schema allows `null` for it.
    """

    __slots__ = ("_where", "_schema", "_properties", "_required", "_aliases", "_open")

    def __init__(self, schema: Mapping[str, Any], where: str) -> None:
        self._where = where
        self._schema = schema
        properties = schema.get("properties")
        self._properties: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
        required = schema.get("required")
        self._required = tuple(r for r in required if isinstance(r, str)) if isinstance(required, list) else ()
        self._aliases = {alias: original for alias, original in parameter_identifiers(schema).items()}
        extra = schema.get("additionalProperties")
        self._open = not self._properties or extra is True or isinstance(extra, Mapping)

    def check(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Validate `kwargs`; return them keyed by the schema's original property names."""
        arguments: dict[str, Any] = {}
        for name, value in kwargs.items():
            original = self._aliases.get(name, name)
            if original not in self._properties:
                if not self._open:
                    raise TypeError(self._unknown(name))
                arguments[original] = value
                continue
            if original in arguments:
                raise TypeError(f"{self._where}() got parameter {original!r} twice (by name and by alias)")
            schema = self._properties[original]
            if value is None and original not in self._required and not _allows_null(schema, self._schema):
                continue
            check_value(schema, value, f"{self._where}() parameter {name!r}", self._schema)
            arguments[original] = value
        missing = [name for name in self._required if name not in arguments]
        if missing:
            shown = ", ".join(repr(self._python_name(m)) for m in missing)
            raise TypeError(f"{self._where}() missing required parameter{'s' if len(missing) > 1 else ''}: {shown}")
        return arguments

    def _python_name(self, original: str) -> str:
        for alias, name in self._aliases.items():
            if name == original:
                return alias
        return original

    def _unknown(self, name: str) -> str:
        known = sorted(self._python_name(p) for p in self._properties)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{self._where}() got an unexpected parameter {name!r}{hint} (parameters: {', '.join(known)})"


def _allows_null(schema: Any, root: Mapping[str, Any], depth: int = 0) -> bool:
    if not isinstance(schema, Mapping) or depth > 8:
        return True
    declared = schema.get("type")
    if declared is None and "$ref" not in schema and not any(k in schema for k in ("anyOf", "oneOf", "enum", "const")):
        return True
    if declared == "null" or (isinstance(declared, list) and "null" in declared):
        return True
    if isinstance(schema.get("enum"), list) and None in schema["enum"]:
        return True
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and any(_allows_null(o, root, depth + 1) for o in options):
            return True
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _resolve(ref, root)
        return target is not None and _allows_null(target, root, depth + 1)
    return False
