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

__all__ = ["ArgumentChecker", "Check", "check_value", "compile_schema", "parameter_identifiers"]

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


def extra_arguments_name(identifiers: Mapping[str, str]) -> str:
    """The name of a stub's `**` parameter (extra properties): `arguments`, unless a property
    already has that name (then `more_arguments`, `more_arguments_3`, ...)."""
    name, n = "arguments", 1
    while name in identifiers:
        n += 1
        name = "more_arguments" if n == 2 else f"more_arguments_{n}"
    return name


Check = Callable[[Any, str], None]
"""A compiled schema: raises TypeError/ValueError naming `where` when the value breaks the schema."""


def _accept(value: Any, where: str) -> None:
    return None


def _type_predicate(name: str) -> Callable[[Any], bool]:
    if name == "string":
        return lambda v: isinstance(v, str)
    if name == "integer":
        return lambda v: type(v) is not bool and (isinstance(v, int) or (isinstance(v, float) and v.is_integer()))
    if name == "number":
        return lambda v: type(v) is not bool and isinstance(v, int | float)
    if name == "boolean":
        return lambda v: type(v) is bool
    if name == "null":
        return lambda v: v is None
    if name == "array":
        return lambda v: isinstance(v, list | tuple)
    if name == "object":
        return lambda v: isinstance(v, dict)
    return lambda v: True  # an unknown type name: leave it to the server


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


def _same(value: Any, expected: Any) -> bool:
    # JSON has no bool/int confusion: `True` is not `1`.
    if (type(value) is bool) != (type(expected) is bool):
        return False
    return bool(value == expected)


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _accept
    if len(checks) == 1:
        return checks[0]

    def check(value: Any, where: str) -> None:
        for one in checks:
            one(value, where)

    return check


class _Compiler:
    """Turns a schema into nested closures once, so each call only runs the checks that apply."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: Any, depth: int = 0) -> Check:
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return _accept  # `true`, `{}` or too deep to bother: the server validates again
        checks: list[Check] = []
        ref = schema.get("$ref")
        if isinstance(ref, str):
            checks.append(self._ref(ref, depth))
        declared = schema.get("type")
        names = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
        names = [n for n in names if isinstance(n, str)]
        if names:
            checks.append(self._type(names))
        if isinstance(schema.get("enum"), list):
            checks.append(self._enum(schema["enum"]))
        if "const" in schema:
            checks.append(self._enum([schema["const"]], single=True))
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                checks.append(self._any_of([self.compile(o, depth + 1) for o in options]))
        all_of = schema.get("allOf")
        if isinstance(all_of, list):
            checks.extend(self.compile(o, depth + 1) for o in all_of)
        checks.extend(self._by_kind(schema, depth))
        return _all(checks)

    def _ref(self, ref: str, depth: int) -> Check:
        if ref not in self.refs:
            target = _resolve(ref, self.root)
            if target is None:
                return _accept
            compiled: list[Check] = []
            # Registered before compiling the target, so recursive schemas compile to a loop.
            self.refs[ref] = lambda value, where: compiled[0](value, where)
            compiled.append(self.compile(target, depth + 1))
        return self.refs[ref]

    def _type(self, names: list[str]) -> Check:
        predicates = [_type_predicate(n) for n in names]
        expected = " or ".join(_TYPE_NAMES.get(n, n) for n in names)

        def check(value: Any, where: str) -> None:
            for predicate in predicates:
                if predicate(value):
                    return
            raise TypeError(f"{where} must be {expected}, got {type(value).__name__} {_describe(value)}")

        return check

    def _enum(self, choices: list[Any], single: bool = False) -> Check:
        shown = ", ".join(_describe(c) for c in choices[:20])
        text = shown if single else f"one of {shown}"

        def check(value: Any, where: str) -> None:
            for choice in choices:
                if _same(value, choice):
                    return
            raise ValueError(f"{where} must be {text}; got {_describe(value)}")

        return check

    def _any_of(self, options: list[Check]) -> Check:
        def check(value: Any, where: str) -> None:
            errors: list[str] = []
            for option in options:
                try:
                    option(value, where)
                except (TypeError, ValueError) as exc:
                    errors.append(str(exc))
                else:
                    return
            raise TypeError(f"{where} matches none of the allowed forms: " + "; ".join(errors[:4]))

        return check

    def _by_kind(self, schema: Mapping[str, Any], depth: int) -> list[Check]:
        checks: list[Check] = []
        length = _length_check(schema, "Length", "characters", str)
        if length is not None:
            checks.append(length)
        bounds = [(key, op, sign, schema[key]) for key, op, sign in _BOUNDS if _is_number(schema.get(key))]
        if bounds:
            checks.append(_bounds_check(bounds))
        size = _length_check(schema, "Items", "items", list | tuple)
        if size is not None:
            checks.append(size)
        if isinstance(schema.get("items"), Mapping):
            checks.append(_items_check(self.compile(schema["items"], depth + 1)))
        if any(k in schema for k in ("properties", "required", "additionalProperties")):
            checks.append(self._object(schema, depth))
        return checks

    def _object(self, schema: Mapping[str, Any], depth: int) -> Check:
        declared = schema.get("properties")
        properties = (
            {k: self.compile(v, depth + 1) for k, v in declared.items()} if isinstance(declared, Mapping) else {}
        )
        required = schema.get("required")
        required_keys = [r for r in required if isinstance(r, str)] if isinstance(required, list) else []
        extra = schema.get("additionalProperties", True)
        closed = extra is False
        extra_check = self.compile(extra, depth + 1) if isinstance(extra, Mapping) else None
        allowed = ", ".join(repr(k) for k in properties) or "none"

        def check(value: Any, where: str) -> None:
            if not isinstance(value, dict):
                return
            for name in required_keys:
                if name not in value:
                    raise TypeError(f"{where} is missing required key {name!r}")
            for key, item in value.items():
                prop = properties.get(key)
                if prop is not None:
                    prop(item, f"{where}[{key!r}]")
                elif closed:
                    raise TypeError(f"{where} has unknown key {key!r} (allowed: {allowed})")
                elif extra_check is not None:
                    extra_check(item, f"{where}[{key!r}]")

        return check


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _length_check(schema: Mapping[str, Any], suffix: str, unit: str, kind: Any) -> Check | None:
    low, high = schema.get("min" + suffix), schema.get("max" + suffix)
    low = low if isinstance(low, int) else None
    high = high if isinstance(high, int) else None
    if low is None and high is None:
        return None

    def check(value: Any, where: str) -> None:
        if not isinstance(value, kind):
            return
        size = len(value)
        if low is not None and size < low:
            raise ValueError(f"{where} must have at least {low} {unit}, got {size}")
        if high is not None and size > high:
            raise ValueError(f"{where} must have at most {high} {unit}, got {size}")

    return check


def _bounds_check(bounds: list[tuple[str, Callable[[Any, Any], bool], str, Any]]) -> Check:
    def check(value: Any, where: str) -> None:
        if not _is_number(value):
            return
        for _key, ok, sign, bound in bounds:
            if not ok(value, bound):
                raise ValueError(f"{where} must be {sign} {bound}, got {value}")

    return check


def _items_check(item_check: Check) -> Check:
    def check(value: Any, where: str) -> None:
        if isinstance(value, list | tuple):
            for index, item in enumerate(value):
                item_check(item, f"{where}[{index}]")

    return check


def compile_schema(schema: Any, root: Mapping[str, Any] | None = None) -> Check:
    """Compile `schema` (refs resolved against `root`, default the schema itself) into a `Check`."""
    base = root if root is not None else (schema if isinstance(schema, Mapping) else {})
    return _Compiler(base).compile(schema)


def check_value(schema: Any, value: Any, where: str, root: Mapping[str, Any] | None = None) -> None:
    """Raise TypeError/ValueError naming `where` (e.g. `"owner"`, `"items[2]"`) if `value` breaks `schema`."""
    check = compile_schema(schema, root)
    try:
        check(value, where)
    except RecursionError:
        raise ValueError(f"{where} is nested too deeply") from None


class ArgumentChecker:
    """Checks and normalises the keyword arguments of one tool call, against its input schema.

    Built once per tool; `check(kwargs)` returns the arguments keyed by original property names.
    Unknown keywords are refused unless the schema declares no properties or allows additional ones.
    An optional parameter passed as `None` is dropped (the server applies its default) unless the
    schema allows `null` for it.
    """

    __slots__ = ("_where", "_schema", "_properties", "_checks", "_required", "_aliases", "_open")

    def __init__(self, schema: Mapping[str, Any], where: str) -> None:
        self._where = where
        self._schema = schema
        properties = schema.get("properties")
        self._properties: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
        compiler = _Compiler(schema)
        self._checks = {name: compiler.compile(prop) for name, prop in self._properties.items()}
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
            try:
                self._checks[original](value, f"{self._where}() parameter {name!r}")
            except RecursionError:
                raise ValueError(f"{self._where}() parameter {name!r} is nested too deeply") from None
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
