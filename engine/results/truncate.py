"""Structural truncation: any value cut down to valid plain data of the same shape within a byte budget.

```python
cut = truncate({"orders": [...20_000 dicts...]}, 50_000)
cut.value        # {"orders": [...first 180..., "... 19820 more items"]}: still a dict of a list
cut.cuts         # [{"path": "['orders']", "kind": "list", "kept": 180, "dropped": 19820}]
cut.size         # its msgpack size: at most the budget
```

The largest parts are clipped first: one threshold is searched for (binary search) such that
every string longer than it is cut to it, and every list or mapping longer than an eighth of it
keeps that many items; the highest threshold whose result fits is used. So a 2 MB string is cut
before a 40-character one is touched, and a list of 20,000 items before a list of 3. Cut strings
end with a marker (`… [+N chars]`), cut lists end with one more item saying how many were dropped,
cut mappings gain a key `…` saying how many keys were dropped, and anything nested deeper than
`MAX_DEPTH` becomes a one-line summary (`<dict of 3 keys>`).

Sizes are the exact msgpack sizes the executors measure results in, counted while a candidate is
built; a candidate is abandoned as soon as it is over the budget, so each attempt costs at most
about the budget in work, whatever the input's size. Any input is accepted: cycles become
`<cycle>`, objects that are not plain data become `<TypeName>`, and nesting is bounded, so
hostile values (a cycle, 100,000 levels, a 100 MB string) cost bounded work and never raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgpack

__all__ = ["MAX_CUTS", "MAX_DEPTH", "Truncated", "msgpack_size", "result_ceiling", "truncate"]

MAX_DEPTH = 24
"""Levels of nesting kept; anything deeper is summarised."""

MAX_CUTS = 20
"""Cuts listed by path; the rest are only counted."""

CEILING_FACTOR = 16
"""How far over `max_result_bytes` a result may be and still reach the host, to be truncated there
(and kept whole as a handle); beyond it the executor refuses it as before."""
MIN_CEILING = 16 * 1024 * 1024
"""The ceiling's floor: a small cap still lets a result of this size reach the host to be cut."""
MAX_CEILING = 48 * 1024 * 1024
"""The ceiling's own bound: under the 64 MiB frame that carries a result from a guest."""


def result_ceiling(cap: int) -> int:
    """The executors' result limit for a cap of `cap` bytes: `cap * CEILING_FACTOR`, at least
    `MIN_CEILING`, at most `MAX_CEILING`, and never below `cap`."""
    return max(cap, min(max(cap * CEILING_FACTOR, MIN_CEILING), MAX_CEILING))


_FIRST, _LAST = 64, 1 << 40
# The first threshold tried, and one past any length a value can have.

_LIST_SHARE = 8
# A list keeps threshold // _LIST_SHARE items: a 20-byte item costs about as much as 20 characters
# of text, so a list is cut at about the point where its strings would be cut too.


@dataclass
class Truncated:
    """The outcome of `truncate`."""

    value: Any
    """The value, cut to fit (the input itself when it fit)."""
    size: int
    """Its msgpack size in bytes."""
    original_size: int | None
    """The input's msgpack size, when it could be measured (None: not plain data)."""
    cuts: list[dict[str, Any]] = field(default_factory=list)
    """What was cut, by path (at most `MAX_CUTS`): `{"path", "keys", "kind", "kept", "dropped"}`
    (`path` spelt out, `keys` as a list for `results.open(handle, path=keys)`; `kind` is `string`,
    `list`, `mapping`, `nesting` or `value`)."""
    more_cuts: int = 0
    """Cuts beyond those listed."""

    @property
    def cut(self) -> bool:
        return bool(self.cuts) or self.more_cuts > 0


class _Over(Exception):
    """The candidate went over the budget: abandon it."""


def _head(n: int, small: int) -> int:
    # msgpack's header for a str/bin/array/map of n: fixed (1) below `small`, then 2/3/5 bytes.
    if n < small:
        return 1
    if n < 256 and small == 32:  # str8 (arrays and maps have no 8-bit form)
        return 2
    return 3 if n < 65536 else 5


def _int_size(value: int) -> int:
    if -32 <= value < 128:
        return 1
    if -128 <= value < 256:
        return 2
    if -32768 <= value < 65536:
        return 3
    if -(2**31) <= value < 2**32:
        return 5
    return 9


def msgpack_size(value: Any) -> int | None:
    """The msgpack size of `value`, or None when it is not plain data msgpack can encode (an
    unknown type, a cycle, nesting past msgpack's 512 levels, an integer outside 64 bits)."""
    try:
        return len(msgpack.packb(value, use_bin_type=True))
    except (TypeError, ValueError, OverflowError):
        return None


def _marker_str(text: str, keep: int) -> str:
    return f"{text[:keep]}… [+{len(text) - keep} chars]"


def _key(key: Any) -> str:
    # Only keys whose text is cheap and made by no code of the value's: anything else by its type.
    if key is None or type(key) in (bool, int, float):
        return str(key)
    return f"<{type(key).__name__}>"


def _summary(value: Any) -> str:
    if isinstance(value, dict):
        return f"<dict of {len(value)} keys>"
    if isinstance(value, list | tuple):
        return f"<list of {len(value)} items>"
    return f"<{type(value).__name__}>"


Path = tuple[Any, ...] | None
"""A path as a chain `(parent, key)`, spelt out (`['orders'][3]`) only for a cut."""


def keys_of(path: Path) -> list[Any]:
    """The keys and indexes from the top down to `path`."""
    keys: list[Any] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


def spell(keys: list[Any]) -> str:
    """`['orders'][3]['name']`, or `(top)`."""
    return "".join(f"[{key}]" if type(key) is int else f"[{str(key)[:40]!r}]" for key in keys) or "(top)"


class _Builder:
    """One candidate at one threshold; raises `_Over` once past the budget."""

    def __init__(self, threshold: int, budget: int) -> None:
        self.threshold = threshold
        self.items = max(threshold // _LIST_SHARE, 0)
        self.budget = budget
        self.size = 0
        self.cuts: list[dict[str, Any]] = []
        self.more_cuts = 0
        self.on_path: set[int] = set()

    def cut(self, path: Path, kind: str, kept: int, dropped: int) -> None:
        if len(self.cuts) < MAX_CUTS:
            keys = keys_of(path)
            self.cuts.append({"path": spell(keys), "keys": keys, "kind": kind, "kept": kept, "dropped": dropped})
        else:
            self.more_cuts += 1

    def text(self, value: str, path: Path) -> str:
        if len(value) > self.threshold:
            self.cut(path, "string", self.threshold, len(value) - self.threshold)
            value = _marker_str(value, self.threshold)
        n = len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
        self.size += (1 if n < 32 else 2 if n < 256 else 3 if n < 65536 else 5) + n
        if self.size > self.budget:
            raise _Over
        return value

    def build(self, value: Any, path: Path, depth: int) -> Any:
        kind = type(value)
        if kind is str:
            return self.text(value, path)
        if value is None or kind is bool or kind is float:
            self.size += 9 if kind is float else 1
        elif kind is int:
            if not -(2**63) <= value < 2**64:
                return self.text(str(value), path)
            self.size += _int_size(value)
        elif kind is bytes or kind is bytearray:
            return self.text(f"<{len(value)} bytes>", path)
        elif kind is dict or kind is list or kind is tuple:
            if id(value) in self.on_path:
                return self.text("<cycle>", path)
            if depth >= MAX_DEPTH:
                self.cut(path, "nesting", 0, len(value))
                return self.text(_summary(value), path)
            self.on_path.add(id(value))
            try:
                return self._container(value, path, depth)
            finally:
                self.on_path.discard(id(value))
        else:
            return self.text(f"<{kind.__name__}>", path)
        if self.size > self.budget:
            raise _Over
        return value

    def _container(self, value: dict[Any, Any] | list[Any] | tuple[Any, ...], path: Path, depth: int) -> Any:
        total = len(value)
        keep = min(total, self.items)
        dropped = total - keep
        shown = keep + (1 if dropped else 0)
        self.size += 1 if shown < 16 else 3 if shown < 65536 else 5
        build = self.build
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for index, (key, child) in enumerate(value.items()):
                if index >= keep:
                    break
                name = self.text(key if type(key) is str else _key(key), path)
                out[name] = build(child, (path, name), depth + 1)
            if dropped:
                self.cut(path, "mapping", keep, dropped)
                self.text("…", path)
                out["…"] = self.text(f"{dropped} more keys", path)
            return out
        items: list[Any] = []
        for index, child in enumerate(value):
            if index >= keep:
                break
            items.append(build(child, (path, index), depth + 1))
        if dropped:
            self.cut(path, "list", keep, dropped)
            items.append(self.text(f"… {dropped} more items", path))
        return items


def truncate(value: Any, budget: int) -> Truncated:
    """`value` cut to at most `budget` msgpack bytes; see the module docstring.

    A value that is plain data and fits is returned as it is. Otherwise the result is plain data
    whose msgpack size is at most `budget`, provided the budget holds a short summary (about 40
    bytes); below that the value is None.
    """
    original = msgpack_size(value)
    if original is not None and original <= budget:
        return Truncated(value=value, size=original, original_size=original)
    best: _Builder | None = None
    best_value: Any = None

    def attempt(threshold: int) -> bool:
        nonlocal best, best_value
        builder = _Builder(threshold, budget)
        try:
            candidate = builder.build(value, None, 0)
        except _Over:
            return False
        best, best_value = builder, candidate
        return True

    # Doubling, then halving the gap to within 1/32: about a dozen attempts, each stopped at the
    # budget, instead of a pass over an input that may be a thousand times the budget.
    low, high = 0, _FIRST
    while attempt(high):
        low, high = high, high * 2
        if high > _LAST:
            break
    while high - low > max(1, low // 32):
        middle = (low + high) // 2
        if attempt(middle):
            low = middle
        else:
            high = middle
    if best is None:
        builder = _Builder(0, budget)
        try:
            best_value = builder.build(value, None, 0)
            best = builder
        except _Over:
            summary = f"{_summary(value)}, cut entirely"
            size = msgpack_size(summary) or 0
            if size <= budget:
                cut = [{"path": "(top)", "keys": [], "kind": "value", "kept": 0, "dropped": 1}]
                return Truncated(value=summary, size=size, original_size=original, cuts=cut)
            return Truncated(value=None, size=1, original_size=original,
                             cuts=[{"path": "(top)", "keys": [], "kind": "value", "kept": 0, "dropped": 1}])
    return Truncated(value=best_value, size=best.size, original_size=original, cuts=best.cuts,
                     more_cuts=best.more_cuts)
