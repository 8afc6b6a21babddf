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

The builtin classes the program can name carry the same checks (`kinds`), so a call through
another name (`f = set; f(x)`, `map(set, xs)`) is checked too; the policy's rewrite only saves
that call a Python frame. `nested_cost` bounds the other native walk a key can cost: its hash.
"""

from __future__ import annotations

import collections
import collections.abc
import itertools
import operator
from typing import Any

from .context import check_stop
from .sizes import require_size

__all__ = ["COMPARE_BUDGET", "FLAT", "MATERIALISED", "PROBE_BUDGET", "check_collisions", "check_probes", "hash_cost",
           "hashed", "hashed_all", "hashed_pairs", "largest_group", "mapping_source", "nested_cost", "pair_keys",
           "sized"]

MATERIALISED = frozenset({
    list, tuple, set, frozenset, dict, str, bytes, bytearray,
    type({}.keys()), type({}.values()), type({}.items()),
})
"""Iterables that already hold their items: copying them costs no more than building them did."""

_TEXT = frozenset({str, bytes, bytearray})
_ITEMS: type = type({}.items())
_HASH_CACHED = frozenset({list, tuple, set, frozenset, dict, range})

PROBE_BUDGET = 2_000_000
"""Probes (comparisons of keys with equal hashes) one build may need: a few tens of milliseconds."""

_FEW = 1024
"""Fewer keys than this cannot cost much however their hashes collide (1024**2 / 2 probes)."""

_GROUP = 16
"""Keys per hash that count towards the probe estimate; smaller groups are ordinary chance."""


FLAT = frozenset({int, float, str, bytes, bool, type(None), complex})
"""Types whose comparison with anything, and whose hash, is bounded by their own size (a program
class's `__eq__` or `__hash__` is the program's code, which the stop flag reaches)."""

COMPARE_BUDGET = 4_000_000
"""Items one comparison, hash or order may visit: about 0.15 s of native work."""

_WALKED: tuple[type, ...] = (
    list, tuple, set, frozenset, dict, collections.deque, type({}.keys()), type({}.values()), type({}.items()),
    BaseException, collections.ChainMap,
)


def _children(node: Any) -> tuple[int, list[Any]]:
    """`node`'s own size (the items a native walk of it steps over) and its children that are
    walked in turn (containers and exceptions; flat items are not)."""
    items: Any
    if isinstance(node, dict):
        items = (*dict.keys(node), *dict.values(node))
    elif isinstance(node, BaseException):
        items = node.args
    elif isinstance(node, collections.ChainMap):
        # Library Python whose `==` compares `dict(self.items())` natively: walked through its maps.
        items = node.maps
    else:
        items = node
    own = 1 + len(items)
    if FLAT.issuperset(map(type, items)):  # one native pass over the common case
        return own, []
    kids = []
    for item in items:
        kind = type(item)
        if kind in FLAT:
            continue
        if (kind is tuple or kind is list) and FLAT.issuperset(map(type, item)):
            own += 1 + len(item)  # a flat row (`(score, name)`): counted here, no frame of its own
        elif isinstance(item, _WALKED):
            kids.append(item)
    return own, kids


def nested_cost(value: Any, budget: int = COMPARE_BUDGET) -> int:
    """Items a native walk of `value` (a comparison, a hash) may visit, counted along every path
    (an alias counts again: `a = [a, a]` sixty times is 2**60 items), or `budget + 1` as soon as
    that is over `budget`. Each distinct container is looked at once (the count of a shared one is
    remembered), in Python, so the walk is linear in what the program built and can be stopped."""
    if not isinstance(value, _WALKED):
        return 1
    costs: dict[int, int] = {}
    open_ids = {id(value)}  # on the current path: a cycle ends a native walk with RecursionError
    frames: list[list[Any]] = [[value, *_children(value), 0]]
    while frames:
        frame = frames[-1]
        node, own, kids, done = frame
        if done < len(kids):
            frame[3] = done + 1
            child = kids[done]
            key = id(child)
            if key not in costs and key not in open_ids:
                open_ids.add(key)
                frames.append([child, *_children(child), 0])
                if not len(costs) & 0x3FF:
                    check_stop()
            continue
        frames.pop()
        open_ids.discard(id(node))
        total = own + sum(costs.get(id(kid), 1) for kid in kids)
        if total > budget:
            return budget + 1
        costs[id(node)] = total
    return costs[id(value)]


def hash_cost(key: Any, budget: int = COMPARE_BUDGET) -> int:
    """Items a native hash of `key` visits, or `budget + 1` as soon as that is over `budget`.

    Only tuples (and their subclasses: namedtuples) hash recursively without caching: a tuple
    hashes each of its items, every time. Any other value costs one: a frozenset hashes the item
    hashes it stored when it was built (and caches its own), a string or number its own bytes, a
    program object runs the program's code (which the stop flag reaches). So a tuple's cost is its
    path count through nested tuples, remembered per distinct tuple (`(t, t)` sixty times is 2**60
    paths, 61 tuples): linear in what the program built, in Python, and stoppable."""
    if not isinstance(key, tuple):
        return 1
    if FLAT.issuperset(map(type, key)):  # the common `(x, y)` key: one native pass
        return 1 + len(key)
    costs: dict[int, int] = {}
    stack = [key]
    while stack:
        node = stack[-1]
        # Each distinct child once (`(t,) * 1000` pushes `t` once), so the walk is linear in
        # the distinct tuples and their sizes.
        pending = {id(item): item for item in node if isinstance(item, tuple) and id(item) not in costs}
        if pending:
            stack.extend(pending.values())
            continue
        stack.pop()
        if id(node) in costs:  # pushed again by another parent before it was counted
            continue
        total = 1 + sum(costs[id(item)] if isinstance(item, tuple) else 1 for item in node)
        if total > budget:
            return budget + 1
        costs[id(node)] = total
        if not len(costs) & 0x3FF:
            check_stop()
    return costs[id(key)]


def _check_hash_cost(keys: Any) -> None:
    """Refuse keys whose hashes would visit too many items: a tuple's hash is not cached (3.11),
    so hashing one built as a DAG visits every path in one native call."""
    if FLAT.issuperset(map(type, keys)):
        return
    room = COMPARE_BUDGET
    for key in keys:
        if type(key) not in FLAT:
            room -= nested_cost(key, room)
            if room < 0:
                raise MemoryError(
                    f"hashing these keys would visit over {COMPARE_BUDGET} nested items in one native call (a tuple "
                    "that holds the same tuple many times counts it every time)"
                )


def sized(iterable: Any) -> Any:
    """`iterable`, unless its known size is over the sequence limit (then `MemoryError`)."""
    if type(iterable) in MATERIALISED:
        return iterable
    require_size(operator.length_hint(iterable, 0), "materialising an iterable")
    return iterable


def check_collisions(keys: Any) -> None:
    """Refuse `keys` (a sized collection) if inserting them into one hashed container would cost
    more than `PROBE_BUDGET` probes, or whose hashes would visit too many nested items. Equal keys
    share a hash but cost one probe each."""
    _check_hash_cost(keys)
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


def check_probes(target: Any, keys: Any) -> None:
    """Refuse looking `keys` (a sized collection, its own collisions checked) up in `target` (a set,
    dict or dict keys) when that would cost more than `PROBE_BUDGET` probes. A lookup compares the
    key with every key of the target sharing its hash, equal or not: 3000 colliding keys in a set
    and `s.update([0] * 10**6)` is 3 billion probes, though the argument collides with nothing but
    itself. The cost is the sum over the keys of the target's count of keys with that hash (counted
    where that group is over `_GROUP`, or the keys' own group is: both sides distinct keys); it is
    counted (one pass over each side) only when the sizes alone do not bound it."""
    if len(keys) * len(target) <= PROBE_BUDGET:
        return
    if isinstance(target, _ITEMS):  # `(k, v) in d.items()` looks `k` up in the dict
        target = target.mapping  # type: ignore[attr-defined]
        keys = [key[0] for key in keys if isinstance(key, tuple) and len(key) == 2]
    _check_hash_cost(target)
    incoming = collections.Counter(map(hash, keys))
    found = collections.Counter(filter(incoming.__contains__, map(hash, target)))
    distinct = isinstance(keys, collections.abc.Set | collections.abc.Mapping)
    cost = sum(count * incoming[h] for h, count in found.items()
               if count > _GROUP or distinct and incoming[h] > _GROUP)
    if cost > PROBE_BUDGET:
        raise MemoryError(
            f"these keys' hashes collide with the container's: looking them up in it would take about {cost} "
            f"probes in one native call, over the sandbox's budget of {PROBE_BUDGET}"
        )


def largest_group(keys: Any) -> int:
    """The most keys of `keys` (a sized collection) that share one hash (0 if there are none)."""
    _check_hash_cost(keys)
    return max(collections.Counter(map(hash, keys)).values(), default=0)


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


def hashed_all(iterables: Any) -> tuple[list[Any], list[Any]]:
    """The arguments of a method that takes several iterables (`s.union(*chunks)`), checked as one:
    their keys all go into one container in one native call, so one collision count and one hash
    budget cover them all (sixty chunks of 1000 colliding keys each pass alone). Returns the
    checked arguments (one-shot iterators as lists) and all their keys."""
    checked = [iterable if type(iterable) in _TEXT else _collection(iterable) for iterable in iterables]
    keys = [key for items in checked if type(items) not in _TEXT for key in items]
    require_size(len(keys), "building a hashed container")
    check_collisions(keys)
    return checked, keys


_DICT_READERS = (("__iter__", dict.__iter__), ("keys", dict.keys), ("items", dict.items))


def mapping_source(source: Any) -> Any:
    """`source` as the argument of `{**source}`, `dict(source)` or `d.update(source)`, which copy a
    mapping's entries in one native call: checked like `hashed`'s keys.

    A dict (whose iteration, `keys()` and `items()` are dict's own) is copied with the hashes it
    stores, so only its keys' collisions cost anything (one filled key by key may hold colliding
    keys no call checked). Any other mapping is copied through its `keys()` and `[]` (natively, or
    by the library's Python code, which may read `items()`), hashing every key again: its keys are
    read once here, checked, and copied into a plain dict (the entries the copy would make,
    without giving `keys()` a second chance to answer differently)."""
    kind = type(source)
    if kind is dict or isinstance(source, dict) and all(getattr(kind, name) is own for name, own in _DICT_READERS):
        if len(source) >= _FEW:
            check_collisions(source)
        return source
    keys_method = getattr(source, "keys", None)
    if keys_method is None:
        return source  # not a mapping: the native call reports it
    keys = list(sized(keys_method()))
    require_size(len(keys), "copying a mapping")
    check_collisions(keys)
    return {key: source[key] for key in keys}


def hashed_pairs(source: Any) -> Any:
    """The argument of `dict()`: a mapping's keys, or the first items of an iterable's pairs,
    checked like `hashed`. Malformed pairs are left for `dict()` to report."""
    if type(source) in _TEXT:
        return source
    if isinstance(source, collections.abc.Mapping) or hasattr(source, "keys"):
        return mapping_source(source)
    items = _collection(source)
    require_size(len(items), "building a dict")
    pairs = [_pair(item) for item in items]
    check_collisions(pair_keys(pairs))
    return pairs


def _pair(item: Any) -> Any:
    """`item` as the pair `dict()` would read from it: a plain tuple (a deque, a namedtuple, a range
    are pairs too; their first item is the key to check). What is not a pair comes back as it is,
    or as a tuple of its items, for `dict()` to report as it would have."""
    if type(item) is tuple:
        return item
    try:
        iterator = iter(item)
    except TypeError:
        return item  # dict() says it cannot convert the element to a sequence
    if isinstance(item, collections.abc.Sized):
        require_size(len(item), "reading a pair")
        return tuple(iterator)
    # A one-shot iterator (maybe endless): three items are enough for dict() to refuse it.
    return tuple(itertools.islice(iterator, 3))


def pair_keys(checked: Any) -> Any:
    """The keys a checked `hashed_pairs` result inserts: a mapping's own keys, or the first item of
    each pair."""
    if isinstance(checked, collections.abc.Mapping):
        return checked
    return [pair[0] for pair in checked if type(pair) is tuple and len(pair) == 2]
