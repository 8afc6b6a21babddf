"""Issue 13, classes 1 and 2 where the hash is implicit: every native call that hashes a key.

- A tuple built as a DAG (`t = (t, t)` sixty times: 61 tuples, 2**60 paths) or wide and shallow
  (`(t2,) * 1000` of `(t1,) * 1000`...) hashes for as long as the program likes (3.11 does not
  cache tuple hashes), in one C call that holds the GIL. Every place native code hashes a key the
  program chose must bound that hash first: subscripts, the hashing methods (`add`, `get`,
  `pop`...) by any route, the `collections` mappings, `{**m}`, set operators with dict views,
  `super()` of a builtin base.
- A set or dict filled one colliding key at a time (each step short) and then copied or combined
  in one native call: in-place operators on attributes and items, `{**d}`, `d.update(d2)`,
  `str.maketrans`, `ChainMap`.

Each attack must be refused with a `MemoryError` saying why, with the host unharmed (its loop
kept ticking, the next program runs: `test_hardening.run_attack`), on `restricted` and on
`process` (whose worker runs the same policy). Below the tables, ordinary code keeps its meaning.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from engine.executors.base import Executor
from engine.executors.restricted import RestrictedExecutor

from .helpers import make_request
from .test_hardening import HANG_BOUND, run_attack, run_ok

pytestmark = pytest.mark.anyio

T = "t = ()\nfor _ in range(60):\n    t = (t, t)\n"
"""A tuple of 2**60 paths through 61 tuples."""
LISTS = "a = [[]]\nb = [[]]\nfor _ in range(60):\n    a = [a, a]\n    b = [b, b]\n"
"""Two equal lists of 2**60 paths each: comparing them walks every path."""
WIDE = "t1 = (0,) * 1000\nt2 = (t1,) * 1000\nt = (t2,) * 1000\n"
"""A shallow tuple of 10**9 items through 3 tuples."""
COLLECTIONS = "import collections\n"
LIAR_COUNTER = COLLECTIONS + T + "class C(collections.Counter):\n    def items(self):\n        return [(t, 1)]\n"
"""A `Counter` subclass whose `items()` answers with a key no insertion checked."""
INIT = "    def __init__(self, x):\n        super().__init__(x)\n"

KEY_ATTACKS: dict[str, str] = {
    "subscript load": T + "d = {}\nx = d[t]",
    "subscript store": T + "d = {}\nd[t] = 1",
    "subscript delete": T + "d = {1: 2}\ndel d[t]",
    "subscript of a pair": T + "d = {}\nx = d[t, 1]",
    "subscript of a star pair": T + "d = {}\nx = d[*[t], 1]",
    "subscript in place": T + "d = {}\nd[t] += 1",
    "subscript in a function": T + "def look(d, k):\n    return d[k]\nlook({}, t)",
    "subscript of a wide tuple": WIDE + "d = {}\nd[t] = 1",
    "subscript of a wide tuple in a function": WIDE + "def put(d, k):\n    d[k] = 1\nput({}, t)",
    "key made by zip": T + "k = next(iter(zip([t], [t])))\nd = {}\nd[k] = 1",
    "key made by itertools.product": "import itertools\n" + T + "k = next(itertools.product([t], [t]))\nx = {}.get(k)",
    "key made by *args": T + "def key(*a):\n    return {}.get(a)\nkey(t, t)",
    "key made by dict.items": T + "k = list({1: t}.items())[0]\ns = set()\ns.add(k)",
    "namedtuple key": COLLECTIONS + T + "P = collections.namedtuple('P', 'a b')\nd = {}\nd[P(t, t)] = 1",
    "tuple subclass key": T + "class K(tuple):\n    pass\nx = {}.get(K([t, t]))",
    "set.add": T + "s = set()\ns.add(t)",
    "set.discard": T + "s = set()\ns.discard(t)",
    "set.remove": T + "s = {1}\ns.remove(t)",
    "dict.get": T + "x = {}.get(t)",
    "dict.setdefault": T + "x = {}.setdefault(t, 1)",
    "dict.pop": T + "x = {1: 2}.pop(t, None)",
    "dict.get with a default": T + "x = {}.get(t, 0)",
    "OrderedDict.move_to_end": COLLECTIONS + T + "d = collections.OrderedDict(a=1)\nd.move_to_end(t)",
    "defaultdict subscript": COLLECTIONS + T + "d = collections.defaultdict(list)\nd[t].append(1)",
    "Counter subscript in place": COLLECTIONS + T + "c = collections.Counter()\nc[t] += 1",
    "Counter.subtract": COLLECTIONS + T + "c = collections.Counter()\nc.subtract([t])",
    "Counter arithmetic with a redefined items()": LIAR_COUNTER + "x = collections.Counter(a=1) + C()",
    "Counter in place with a redefined items()": LIAR_COUNTER + "x = collections.Counter(a=1)\nx -= C()",
    "Counter.most_common of a redefined items()": COLLECTIONS + LISTS
    + "class C(collections.Counter):\n    def items(self):\n        return [('a', a), ('b', b)]\n"
    + "x = C(a=1).most_common()",
    "Counter.update of a dict whose keys() and items() lie": COLLECTIONS + T
    + "class D(dict):\n    def keys(self):\n        return [t]\n    def items(self):\n        return [(t, 1)]\n"
    + "c = collections.Counter(a=1)\nc.update(D(b=1))",
    "OrderedDict.update of a dict whose keys() lie": COLLECTIONS + T
    + "class D(dict):\n    def keys(self):\n        return [t]\nd = collections.OrderedDict()\nd.update(D(b=1))",
    "bound method passed to map": T + "d = {}\nx = list(map(d.get, [t]))",
    "bound method by an alias": T + "s = set()\nf = s.add\nf(t)",
    "method through getattr": T + "d = {}\nx = getattr(d, 'get')(t)",
    "method from the class": T + "s = set()\nset.add(s, t)",
    "method from type()": T + "s = set()\ntype(s).add(s, t)",
    "dict.get from the class by an alias": T + "g = dict.get\nx = g({}, t)",
    "dict.fromkeys by an alias": T + "f = dict.fromkeys\nx = f([t])",
    "OrderedDict.fromkeys by an alias": COLLECTIONS + T + "f = collections.OrderedDict.fromkeys\nx = f([t])",
    "ChainMap.fromkeys by an alias": COLLECTIONS + T + "f = collections.ChainMap.fromkeys\nx = f([t])",
    "ChainMap.get": COLLECTIONS + T + "x = collections.ChainMap({}).get(t)",
    "** of a mapping whose keys() lie": COLLECTIONS + T
    + "class M(collections.ChainMap):\n    def keys(self):\n        return [t]\nx = {**M({})}",
    "dict() of a mapping whose keys() lie": COLLECTIONS + T
    + "class M(collections.ChainMap):\n    def keys(self):\n        return [t]\nx = dict(M({}))",
    "dict.update of a mapping whose keys() lie": COLLECTIONS + T
    + "class M(collections.ChainMap):\n    def keys(self):\n        return [t]\nd = {}\nd.update(M({}))",
    "dict |= pairs": T + "d = {}\nd |= [(t, 1)]",
    "dict view | a list": T + "x = {1: 2}.keys() | [t]",
    "a list | dict view": T + "x = [t] | {1: 2}.keys()",
    "dict view isdisjoint": T + "x = {1: 2}.keys().isdisjoint([t])",
    "super().__init__ of a set": T + "class S(set):\n" + INIT + "S([t])",
    "super().__init__ of a dict": T + "class D(dict):\n" + INIT + "D([(t, 1)])",
    "super().__init__ of an OrderedDict": COLLECTIONS + T
    + "class D(collections.OrderedDict):\n" + INIT + "D([(t, 1)])",
    "super().get read as a value": T
    + "class D(dict):\n    def look(self, k):\n        g = super().get\n        return g(k)\nD().look(t)",
    "super().add from an override": T + "class S(set):\n    def add(self, k):\n        super().add(k)\nS().add(t)",
    "super().__contains__ of a set": T
    + "class S(set):\n    def has(self, x):\n        return super().__contains__(x)\nS().has(t)",
}

COLLIDING = "keys = [k * (2 ** 61 - 1) for k in range(1, 8001)]\n"
FILLED = COLLIDING + "s = set()\nfor k in keys:\n    s.add(k)\n"
"""A set of colliding keys filled one at a time: each step is short, but one call over it is not."""
FILLED_DICT = COLLIDING + "fd = {}\nfor k in keys:\n    fd[k] = 1\ndel fd[keys[0]]\n"
"""A dict of colliding keys filled one at a time, with a deleted entry (so copies re-insert)."""
HOLDER = "class C:\n    pass\nc = C()\nc.s = {1}\n"
FILL_HELD = "c.s = set()\nfor k in keys:\n    c.s.add(k)\n"
"""The held set filled with the same colliding keys, one at a time."""

FLOOD_ATTACKS: dict[str, str] = {
    "|= into an attribute": FILLED + HOLDER + "c.s |= s",
    "^= into an attribute": FILLED + HOLDER + "c.s ^= s",
    "&= into an attribute": FILLED + HOLDER + FILL_HELD + "c.s &= s",
    "-= into an attribute": FILLED + HOLDER + FILL_HELD + "c.s -= s",
    "|= into an item": FILLED + "d = {'k': {1}}\nd['k'] |= s",
    "|= into a list item": FILLED + "xs = [{1}]\nxs[0] |= s",
    "{**d} of a filled dict": FILLED_DICT + "x = {0: 0, **fd}",
    "dict.update of a filled dict": FILLED_DICT + "d = {0: 0}\nd.update(fd)",
    "dict.copy of a thinned dict": FILLED_DICT + "for k in keys[1:2800]:\n    del fd[k]\nx = fd.copy()",
    "dict() of a filled dict": FILLED_DICT + "x = dict(fd)",
    "{*s} of a filled set": FILLED + "x = {*s}",
    "str.maketrans of a filled dict": FILLED_DICT + "x = str.maketrans(fd)",
    "len of a ChainMap": COLLECTIONS + FILLED_DICT + "x = len(collections.ChainMap(fd, {0: 1}))",
    "a dict view | a filled set's keys": FILLED + "x = {0: 1}.keys() | list(s)",
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("code", list(KEY_ATTACKS.values()), ids=list(KEY_ATTACKS))
async def test_implicit_hashes_of_shared_tuples_are_refused(any_executor: Executor, tmp_path: Path, code: str) -> None:
    out = await run_attack(any_executor, code, tmp_path)  # type: ignore[arg-type]
    assert out["error_info"]["type"] == "MemoryError", out["error"]
    assert "nested items" in out["error"], out["error"]


@pytest.mark.parametrize("code", list(FLOOD_ATTACKS.values()), ids=list(FLOOD_ATTACKS))
async def test_colliding_keys_copied_in_one_call_are_refused(any_executor: Executor, tmp_path: Path, code: str) -> None:
    # A set filled key by key pays for its collisions as it goes: give the fill time to finish.
    out = await run_attack(any_executor, code, tmp_path, timeout=30)  # type: ignore[arg-type]
    assert out["error_info"]["type"] == "MemoryError", out["error"]
    assert "hashes collide" in out["error"], out["error"]


async def test_new_of_a_builtin_subclass_cannot_be_defined(shared_executor: RestrictedExecutor) -> None:
    """`__new__` is not among the dunders a program may define or read from `super()`, so a
    subclass's `super().__new__(cls, big)` never reaches `tuple.__new__` with unchecked items."""
    out = await shared_executor.run(make_request(
        "class S(tuple):\n    def __new__(cls, x):\n        return super().__new__(cls, x)\nS([1])", timeout=5
    ))
    assert out["error_info"]["type"] == "SyntaxError", out["error"]
    assert "__new__" in out["error"]


async def test_a_session_global_named_range_is_not_the_loop_range(shared_executor: RestrictedExecutor) -> None:
    """The policy trusts `for i in range(n)` to make ints (it leaves `d[i]` unchecked): an earlier
    run's global `range` cannot feed such a loop a tuple. A loop whose counter is also bound
    elsewhere calls the builtin by a hidden name; one whose counter nothing else binds checks its
    items (`intloops`)."""
    first = await shared_executor.run(make_request(
        T + "def fake(n):\n    return [t]\nrange = fake\nreturn 1", session_id="hash-range", timeout=5
    ))
    assert first["error"] is None, first["error"]
    with anyio.fail_after(HANG_BOUND):
        rebound = await shared_executor.run(make_request(
            "def fill():\n    d = {}\n    for i in range(2):\n        d[i] = str(i)\n    i = 0\n    return d\n"
            "return fill()",
            session_id="hash-range", timeout=5,
        ))
        counted = await shared_executor.run(make_request(
            "def fill():\n    d = {}\n    for i in range(2):\n        d[i] = str(i)\n    return d\nreturn fill()",
            session_id="hash-range", timeout=5,
        ))
    assert rebound["error"] is None, rebound["error"]
    assert rebound["result"] == {"0": "0", "1": "1"}
    assert counted["error_info"]["type"] == "TypeError", counted["error"]
    assert "range" in counted["error"]


async def test_keys_keep_their_semantics(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, (
        "import collections, itertools\n"
        "P = collections.namedtuple('P', 'x y')\n"
        "def grid(n):\n"
        "    d = {}\n"
        "    for i in range(n):\n"
        "        for j in range(n):\n"
        "            d[i, j] = i * j\n"
        "    return d[2, 3], d[(1, 1)], len(d)\n"
        "def tally(words):\n"
        "    counts = {}\n"
        "    for w in words:\n"
        "        counts[w] = counts.get(w, 0) + 1\n"
        "    by_len = collections.defaultdict(list)\n"
        "    for w in words:\n"
        "        by_len[len(w)].append(w)\n"
        "    return counts, dict(by_len)\n"
        "def pairs(rows):\n"
        "    seen = set()\n"
        "    for a, b in rows:\n"
        "        seen.add((a, b))\n"
        "        seen.discard((b, a))\n"
        "    return sorted(seen)\n"
        "d = {(1, 2): 'a', P(3, 4): 'b', 'k': 'c', 5: 'd', None: 'e', 2.5: 'f', frozenset({1}): 'g'}\n"
        "key = (1, 2)\n"
        "c = collections.Counter('abcab')\n"
        "c[('x', 1)] += 2\n"
        "c.subtract('a')\n"
        "od = collections.OrderedDict([('a', 1), ('b', 2)])\n"
        "od.move_to_end('a')\n"
        "cm = collections.ChainMap({'a': 1}, {'b': 2})\n"
        "get = d.get\n"
        "s = {1}\n"
        "s.add((2, 3))\n"
        "s.remove(1)\n"
        "class Box:\n    pass\n"
        "box = Box()\nbox.s = {1, 2}\nbox.s |= {3}\nbox.s -= {1}\nbox.n = 5\nbox.n -= 2\n"
        "items = {'k': {1}}\nitems['k'] |= {2}\nitems['k'] ^= {1}\n"
        "class Bag(set):\n    def __init__(self, xs):\n        super().__init__(xs)\n"
        "    def has(self, x):\n        return super().__contains__(x)\n"
        "class Rec(dict):\n    def __init__(self, **kw):\n        super().__init__(kw)\n"
        "    def update(self, other):\n        super().update(other)\n"
        "    def get(self, k, default=None):\n        look = super().get\n        return look(k, default)\n"
        "rec = Rec(a=1)\nrec.update({'b': 2})\n"
        "return [\n"
        "    d[key], d[1, 2], d[P(3, 4)], d[(3, 4)], d['k'], d[5], d[None], d[2.5], d[frozenset({1})],\n"
        "    get((1, 2)), d.get(P(3, 4)), list(map(d.get, [(1, 2), 'k'])), d.setdefault((7, 8), 'h'),\n"
        "    d.pop((7, 8)), grid(4), tally(['ab', 'c', 'ab']), pairs([(1, 2), (2, 1), (3, 4)]),\n"
        "    sorted(c.items(), key=str), c.most_common(1), (c + collections.Counter('z'))['z'], list(od), cm['b'],\n"
        "    cm.get('a'), len(cm), sorted(cm), dict.fromkeys([(1, 2)], 0) == {(1, 2): 0},\n"
        "    sorted(s), sorted(box.s), box.n, sorted(items['k']), {**{'a': 1}, **{'b': 2}}, dict(**{'a': 1}),\n"
        "    sorted({1: 2}.keys() | [3]), {1: 2}.keys().isdisjoint([(1, 2)]), sorted(Bag([1, (2, 3)]), key=str),\n"
        "    Bag([1]).has(1), Rec(a=1), str.maketrans({97: 'b'}) == {97: 'b'}, 'abc'[1:], [1, 2, 3][-1],\n"
        "    collections.OrderedDict.fromkeys('ab', 0) == {'a': 0, 'b': 0}, list(itertools.product('ab', [1]))[1],\n"
        "    rec, rec.get('b'), rec.get('z', 0),\n"
        "]\n"
    ))
    assert result == [
        "a", "a", "b", "b", "c", "d", "e", "f", "g",
        "a", "b", ["a", "c"], "h",
        "h", [6, 1, 16], [{"ab": 2, "c": 1}, {"2": ["ab", "ab"], "1": ["c"]}], [[2, 1], [3, 4]],
        [["a", 1], ["b", 2], ["c", 1], [["x", 1], 2]], [["b", 2]], 1, ["b", "a"], 2,
        1, 2, ["a", "b"], True,
        [[2, 3]], [2, 3], 3, [2], {"a": 1, "b": 2}, {"a": 1},
        [1, 3], True, [[2, 3], 1],
        True, {"a": 1}, True, "bc", 3,
        True, ["b", 1],
        {"a": 1, "b": 2}, 2, 0,
    ]
