"""The shape of a plain value, merged across results: what a tool without an `outputSchema` returns.

A shape records kinds, keys and element shapes, never values:

```python
shape_of({"name": "a.txt", "size": 3, "tags": ["x"]})
# {"object": {"n": 1, "keys": {"name": [1, {"str": 1}], "size": [1, {"int": 1}],
#                              "tags": [1, {"list": {"str": 1}}]}}}
```

A shape is a dict from kind to detail: `null`, `bool`, `int`, `float`, `str` and `any` map to 1;
`list` maps to the shape of its elements (`{}` when none was seen); `object` maps to `{"n": objects
seen here, "keys": {key: [times seen, shape]}}` (a key seen fewer than `n` times is optional);
`map` (an object with more keys than `MAX_KEYS`, whose keys are data, not fields) maps to the
shape of its values. Several kinds are a union.

`merge` is commutative and associative, so the merged shape does not depend on the order the
results came in. Bounds keep a hostile or huge result cheap: `MAX_DEPTH` levels (deeper is `any`),
`MAX_KEYS` keys per object (more turns it into a `map`), keys longer than `MAX_KEY_CHARS` are left
out, and only the first `LIST_SAMPLE` elements of a list are looked at. A shape that changes is
merged into the one it replaces; its size stays within those bounds.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "LIST_SAMPLE",
    "MAX_DEPTH",
    "MAX_KEYS",
    "MAX_KEY_CHARS",
    "MAX_NODES",
    "Shape",
    "merge",
    "settle",
    "shape_of",
    "to_json_schema",
    "valid_shape",
]

Shape = dict[str, Any]

MAX_DEPTH = 6
MAX_KEYS = 48
MAX_KEY_CHARS = 80
LIST_SAMPLE = 16
MAX_NODES = 256

_SCALARS = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str"}
_SCALAR_KINDS = frozenset({"null", "bool", "int", "float", "str", "any"})
_SCHEMA_TYPES = {"null": "null", "bool": "boolean", "int": "integer", "float": "number", "str": "string"}
_ORDER = ("object", "map", "list", "str", "int", "float", "bool", "null", "any")
_ANY: Shape = {"any": 1}


def shape_of(value: Any) -> Shape:
    """The shape of one plain value (dict, list, str, int, float, bool, None; anything else is `any`).

    At most `MAX_NODES` containers are looked at; past that, what is left is `any`."""
    return _shape(value, 0, [MAX_NODES])


def _shape(value: Any, depth: int, budget: list[int]) -> Shape:
    kind = _SCALARS.get(type(value))
    if kind is not None:
        return {kind: 1}
    budget[0] -= 1
    if depth >= MAX_DEPTH or budget[0] < 0:
        return {"any": 1}
    if type(value) is dict:
        if len(value) > MAX_KEYS:
            inner: Shape = {}
            for count, item in enumerate(value.values()):
                if count >= LIST_SAMPLE:
                    break
                inner = merge(inner, _shape(item, depth + 1, budget))
            return {"map": inner}
        keys: dict[str, list[Any]] = {}
        for key, item in value.items():
            if type(key) is str and len(key) <= MAX_KEY_CHARS:
                keys[key] = [1, _shape(item, depth + 1, budget)]
        return {"object": {"n": 1, "keys": keys}}
    if type(value) is list:
        items: Shape = {}
        for item in value[:LIST_SAMPLE]:
            items = merge(items, _shape(item, depth + 1, budget))
        return {"list": items}
    return {"any": 1}


def merge(a: Shape, b: Shape) -> Shape:
    """The union of two shapes (neither is changed)."""
    if not a:
        return b
    if not b:
        return a
    out: Shape = dict(a)
    for kind, detail in b.items():
        if kind not in out:
            out[kind] = detail
        elif kind == "list" or kind == "map":
            out[kind] = merge(out[kind], detail)
        elif kind == "object":
            out[kind] = _merge_objects(out[kind], detail)
    if "object" in out and "map" in out:
        # An object seen both small and large: its keys are data; one value shape for all.
        out["map"] = merge(out["map"], _values(out.pop("object")))
    return out


def _merge_objects(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    keys: dict[str, list[Any]] = dict(a["keys"])
    for key, (seen, shape) in b["keys"].items():
        if key in keys:
            keys[key] = [keys[key][0] + seen, merge(keys[key][1], shape)]
        else:
            keys[key] = [seen, shape]
    return {"n": a["n"] + b["n"], "keys": keys}


def _values(obj: dict[str, Any]) -> Shape:
    """One shape for all the values of an object (when it becomes a map)."""
    out: Shape = {}
    for _, shape in obj["keys"].values():
        out = merge(out, shape)
    return out


def settle(shape: Shape) -> Shape:
    """`shape` with objects over `MAX_KEYS` keys (after merging) turned into maps, at every level."""
    out: Shape = {}
    for kind, detail in shape.items():
        if kind == "list" or kind == "map":
            out = merge(out, {kind: settle(detail)})
        elif kind == "object" and len(detail["keys"]) > MAX_KEYS:
            out = merge(out, {"map": settle(_values(detail))})
        elif kind == "object":
            keys = {k: [seen, settle(s)] for k, (seen, s) in detail["keys"].items()}
            out = merge(out, {"object": {"n": detail["n"], "keys": keys}})
        else:
            out = merge(out, {kind: detail})
    return out


def valid_shape(data: Any, depth: int = 0) -> bool:
    """Whether `data` (read back from a store another host writes to) is a well-formed, bounded shape."""
    if type(data) is not dict or depth > MAX_DEPTH + 1 or len(data) > len(_ORDER):
        return False
    for kind, detail in data.items():
        if kind in _SCALAR_KINDS:
            if detail != 1:
                return False
        elif kind == "list" or kind == "map":
            if not valid_shape(detail, depth + 1):
                return False
        elif kind == "object":
            if type(detail) is not dict or type(detail.get("n")) is not int or type(detail.get("keys")) is not dict:
                return False
            keys = detail["keys"]
            if len(keys) > MAX_KEYS or detail["n"] < 1:
                return False
            for key, entry in keys.items():
                if type(key) is not str or len(key) > MAX_KEY_CHARS or type(entry) is not list or len(entry) != 2:
                    return False
                seen = entry[0]
                if type(seen) is not int or not 1 <= seen <= detail["n"] or not valid_shape(entry[1], depth + 1):
                    return False
        else:
            return False
    return True


def to_json_schema(shape: Shape) -> dict[str, Any]:
    """A JSON Schema for `shape` (what the stub renderer reads): kinds in a fixed order, keys sorted."""
    options: list[dict[str, Any]] = []
    for kind in _ORDER:
        if kind not in shape:
            continue
        detail = shape[kind]
        if kind == "any":
            return {}
        if kind in _SCHEMA_TYPES:
            options.append({"type": _SCHEMA_TYPES[kind]})
        elif kind == "list":
            options.append({"type": "array", "items": to_json_schema(detail)} if detail else {"type": "array"})
        elif kind == "map":
            options.append({"type": "object", "additionalProperties": to_json_schema(detail) if detail else True})
        else:
            keys = detail["keys"]
            if not keys:
                options.append({"type": "object"})
                continue
            options.append({
                "type": "object",
                "properties": {key: to_json_schema(keys[key][1]) for key in sorted(keys)},
                "required": [key for key in sorted(keys) if keys[key][0] >= detail["n"]],
            })
    if not options:
        return {}
    return options[0] if len(options) == 1 else {"anyOf": options}
