"""Checks on the arguments of the calls that build a container in one C call.

`set(x)`, `list(x)`, `sorted(x)`, `dict.fromkeys(x)` and the like run their whole loop in C,
holding the GIL, where neither the stop flag nor the watchdog reaches. The policy wraps the first
argument of such calls (by the builtin's name, `policy.MATERIALISERS`) in one of these checks:

- `sized`: an iterable whose size is known (`len` or a length hint: a long `range`) is refused
  over `max_sequence_length` before the loop starts;
- `hashed` (builders of hashed containers: `set`, `frozenset`, `dict.fromkeys`, `Counter`) and
  `hashed_pairs` (`dict`): the keys' hashes are counted first, and keys whose hashes collide beyond
  a budget are refused. Every multiple of 2**61-1 hashes alike, so `set(keys)` over 25,000 such
  ints is 300 million probes in one C call; counting the hashes is one linear pass.

A call through another name (`f = set; f(x)`) skips the check, but the iteration itself stays
stoppable where it runs in Python (`SafeRange`, `checked_iter`); the hash check is what that path
lacks (docs/security.md lists it with what the in-process tier cannot stop).
"""

from __future__ import annotations

import collections
import collections.abc
import operator
from typing import Any

from .sizes import require_size

__all__ = ["MATERIALISED", "PROBE_BUDGET", "check_collisions", "hashed", "hashed_pairs", "sized"]

MATERIALISED = frozenset({
    list, tuple, set, frozenset, dict, str, bytes, bytearray,
    type({}.keys()), type({}.values()), type({}.items()),
})
"""Iterables that already hold their items: copying them costs no more than building them did."""

_TEXT = frozenset({str, bytes, bytearray})
_HASH_CACHED = frozenset({list, tuple, set, frozenset, dict, range})

PROBE_BUDGET = 2_000_000
"""Probes (comparisons of keys with equal hashes) one build may need: a few tens of milliseconds."""

_FEW = 1024
"""Fewer keys than this cannot cost much however their hashes collide (1024**2 / 2 probes)."""

_GROUP = 16
"""Keys per hash that count towards the probe estimate; smaller groups are ordinary chance."""


def sized(iterable: Any) -> Any:
    """`iterable`, unless its known size is over the sequence limit (then `MemoryError`)."""
    if type(iterable) in MATERIALISED:
        return iterable
    require_size(operator.length_hint(iterable, 0), "materialising an iterable")
    return iterable


def check_collisions(keys: Any) -> None:
    """Refuse `keys` (a sized collection) if inserting them into one hashed container would cost
    more than `PROBE_BUDGET` probes. Equal keys share a hash but cost one probe each."""
    if len(keys) < _FEW:
        return
    counts = collections.Counter(map(hash, keys))
    if max(counts.values()) <= _GROUP:
        return
    heavy = {h for h, count in counts.items() if count > _GROUP}
    groups: dict[int, list[Any]] = {h: [] for h in heavy}
    for key in keys:
        h = hash(key)
        if h in heavy:
            groups[h].append(key)
    cost = 0
    for group in groups.values():
        first = group[0]
        if not all(key == first for key in group):
            cost += len(group) * len(group) // 2
    if cost > PROBE_BUDGET:
        raise MemoryError(
            f"these keys' hashes collide: building a set or dict of them would take about {cost} probes in "
            f"one native call, over the sandbox's budget of {PROBE_BUDGET}"
        )


def _collection(iterable: Any) -> Any:
    """`iterable` itself if it holds its items, else its items in a list (size-checked first)."""
    kind = type(iterable)
    if kind in _HASH_CACHED or isinstance(iterable, collections.abc.Set | collections.abc.Mapping):
        return iterable
    return list(sized(iterable))


def hashed(iterable: Any) -> Any:
    """The argument of `set()`, `frozenset()`, `dict.fromkeys()`, `Counter()`: size and hash
    collisions checked. A one-shot iterator comes back as a list of its items."""
    if type(iterable) in _TEXT:
        return iterable
    items = _collection(iterable)
    require_size(len(items), "building a hashed container")
    check_collisions(items)
    return items


def hashed_pairs(source: Any) -> Any:
    """The argument of `dict()`: a mapping's keys, or the first items of an iterable's pairs,
    checked like `hashed`. Malformed pairs are left for `dict()` to report."""
    if type(source) in _TEXT:
        return source
    items = _collection(source)
    require_size(len(items), "building a dict")
    if isinstance(items, collections.abc.Mapping):
        if type(items) is not dict:  # `dict(d)` of a plain dict copies its table without probing
            check_collisions(list(items))
        return items
    keys = [pair[0] for pair in items if type(pair) in (tuple, list) and len(pair) == 2]
    check_collisions(keys)
    return items
