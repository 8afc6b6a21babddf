"""Issue 13, class 1 and the bypasses of the existing guards, each a table of programs.

- Exponential native work on containers built as DAGs (each level holding the previous one twice):
  comparisons, orders, membership, hashing and text, through every entry point we know of.
- Aliasing: a guarded builtin reached under another name (`f = str`, fetched from a container,
  passed as an argument, `type(x)`), or called by a higher-order builtin (`map`, `key=`).
- Hash flooding piece by piece: a set filled one key at a time, then copied or compared in one call.

Every attack must be refused (a `MemoryError` saying why) or stopped at its limit, and the host
must be unharmed: its event loop kept running during the attack, and the executor runs a program
right after (`test_hardening.run_attack`). Next to each table, the ordinary uses of what the
defence touches.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.executors.base import Executor
from engine.executors.restricted import RestrictedExecutor

from .test_hardening import run_attack, run_ok

pytestmark = pytest.mark.anyio

DAG = "a = [[]]\nb = [[]]\nfor _ in range(60):\n    a = [a, a]\n    b = [b, b]\n"
"""Two equal lists of 2**60 paths each, 61 objects each: no size or memory limit sees them."""
TUPLES = "t = ()\nfor _ in range(60):\n    t = (t, t)\n"
"""A tuple of 2**60 paths: 3.11 does not cache tuple hashes, so every hash walks them all."""

DAG_ATTACKS: dict[str, str] = {
    "==": DAG + "x = a == b",
    "!=": DAG + "x = a != b",
    "<": DAG + "x = a < b",
    "chained": DAG + "x = 0 < len(a) <= b",
    "== of dicts": DAG + "x = {'k': a} == {'k': b}",
    "== in a comprehension": DAG + "x = [y == b for y in [a]]",
    "== of attributes": DAG + "class C:\n    pass\nc = C()\nc.v = a\nx = c.v == b",
    "in a list": DAG + "x = b in [a] * 10",
    "not in a list": DAG + "x = b not in [a]",
    "list.index": DAG + "x = [a].index(b)",
    "list.count": DAG + "x = [a, a].count(b)",
    "list.remove": DAG + "xs = [a]\nxs.remove(b)",
    "tuple.count via the class": DAG + "x = tuple.count((a,), b)",
    "deque.count": "import collections\n" + DAG + "x = collections.deque([a]).count(b)",
    "sorted": DAG + "x = sorted([a, b])",
    "sorted by an alias": DAG + "g = sorted\nx = g([a, b])",
    "sorted with a key": DAG + "x = sorted([1, 2], key=lambda i: a if i == 1 else b)",
    "list.sort": DAG + "xs = [a, b]\nxs.sort()",
    "min": DAG + "x = min(a, b)",
    "max with a key": DAG + "x = max([1, 2], key=lambda i: [a, b][i - 1])",
    "min passed as an argument": DAG + "def pick(f, xs):\n    return f(xs)\nx = pick(min, [a, b])",
    "statistics.median": "import statistics\n" + DAG + "x = statistics.median([a, b])",
    "itertools.groupby": "import itertools\n" + DAG + "x = list(itertools.groupby([a, b]))",
    "hash": TUPLES + "x = hash(t)",
    "hash by an alias": TUPLES + "h = hash\nx = h(t)",
    "hash through map": TUPLES + "x = list(map(hash, [t]))",
    "in a dict": TUPLES + "x = t in {1: 2}",
    "set display": TUPLES + "x = {t}",
    "dict display": TUPLES + "x = {t: 1}",
    "set comprehension": TUPLES + "x = {k for k in [t]}",
    "dict comprehension": TUPLES + "x = {k: 1 for k in [t]}",
    "set by an alias": TUPLES + "s = set\nx = s([t])",
    "frozenset fetched from a container": TUPLES + "x = {'f': frozenset}['f']([t])",
    "set through map": TUPLES + "x = list(map(set, [[t]]))",
    "type() of a set": TUPLES + "x = type(set())([t])",
    "dict.fromkeys by an alias": TUPLES + "fk = dict.fromkeys\nx = fk([t])",
    "Counter": "import collections\n" + TUPLES + "x = collections.Counter([t])",
    "str by an alias": DAG + "f = str\nx = f(a)",
    "str through map": DAG + "x = list(map(str, [a]))",
    "str as a sort key": DAG + "x = sorted([a], key=str)",
    "repr through map": DAG + "x = list(map(repr, [a]))",
    "repr by an alias": DAG + "r = repr\nx = r(a)",
    "ascii passed as an argument": DAG + "def show(f):\n    return f(a)\nx = show(ascii)",
    "type() of a str": DAG + "x = type('')(a)",
    "str with a keyword": DAG + "x = str(object=a)",
    "str by an alias with a keyword": DAG + "f = str\nx = f(object=a)",
    "str of an exception": DAG + "f = str\nx = f(ValueError(a))",
    "str.join of a map": DAG + "x = ''.join(map(str, [a]))",
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("code", list(DAG_ATTACKS.values()), ids=list(DAG_ATTACKS))
async def test_native_walks_of_shared_structure_are_refused(any_executor: Executor, tmp_path: Path, code: str) -> None:
    out = await run_attack(any_executor, code, tmp_path)  # type: ignore[arg-type]
    assert out["error_info"]["type"] == "MemoryError", out["error"]
    assert "nested items" in out["error"] or "the text of this value" in out["error"], out["error"]


async def test_comparisons_orders_and_text_keep_their_semantics(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, (
        "import collections, statistics\n"
        "rows = [{'name': 'b', 'n': 2}, {'name': 'a', 'n': 1}, {'name': 'c', 'n': 2}]\n"
        "doc = {'items': [{'id': 1, 'tags': ['x', 'y']}, {'id': 2, 'tags': []}], 'next': None}\n"
        "same = {'items': [{'id': 1, 'tags': ['x', 'y']}, {'id': 2, 'tags': []}], 'next': None}\n"
        "xs = [3, 1, 2]\nxs.sort(reverse=True)\n"
        "ys = ['bb', 'a', 'ccc']\nys.sort(key=len)\n"
        "seen = {(1, 2), (3, 4)}\n"
        "shared = [1, 2]\npair = [shared, shared]\n"
        "d = collections.deque([1, 2, 3])\nd.remove(2)\n"
        "return [\n"
        "    [r['name'] for r in sorted(rows, key=lambda r: r['n'])],\n"
        "    [r['name'] for r in sorted(rows, key=lambda r: r['n'], reverse=True)],\n"
        "    doc == same, doc != same, [1, [2]] < [1, [3]], (1, 2) in seen, (5, 6) not in seen,\n"
        "    sorted({'pear', 'apple', 'fig'}), list(map(str, range(10))), xs, ys,\n"
        "    min(3, 1, 2), max('abc', key=lambda c: -ord(c)), min([], default='none'), max([[1], [2]]),\n"
        "    sorted([(2, 'b'), (1, 'z'), (1, 'a')]), [4, 5, 6].index(5), (1, 2, 1).count(1), list(d),\n"
        "    statistics.median([3, 1, 2]), pair == [[1, 2], [1, 2]], 1 < 2 < 3, 'b' in ('a', 'b'),\n"
        "    hash((1, 'a')) == hash((1, 'a')), repr([1, 'a']), ascii('\u00e9'), str(ValueError('bad')),\n"
        "]"
    ))
    assert result == [
        ["a", "b", "c"], ["b", "c", "a"],
        True, False, True, True, True,
        ["apple", "fig", "pear"], ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], [3, 2, 1], ["a", "bb", "ccc"],
        1, "a", "none", [2],
        [[1, "a"], [1, "z"], [2, "b"]], 1, 2, [1, 3],
        2, True, True, True,
        True, "[1, 'a']", "'\\xe9'", "bad",
    ]


async def test_builtin_classes_behave_as_the_builtins(shared_executor: RestrictedExecutor) -> None:
    """The names `str`, `list`, `tuple`, `set`, `frozenset`, `dict` are facade classes (`kinds`):
    the program cannot tell them from the builtins."""
    result = await run_ok(shared_executor, (
        "import collections\n"
        "class Name(str):\n    def shout(self):\n        return self.upper() + '!'\n"
        "class Record(dict):\n    def __init__(self, n):\n        super().__init__(n=n)\n"
        "class Bag(list):\n    pass\n"
        "f = str\ng = set\nby_kind = collections.defaultdict(list)\nby_kind['a'].append(1)\n"
        "return [\n"
        "    isinstance('x', str), isinstance([], (list, tuple)), isinstance({}, dict), issubclass(bool, int),\n"
        "    type('x') is str, type({}) == dict, type(set()) is set, type(frozenset()) is frozenset,\n"
        "    repr(str), str.__name__, dict.__name__, repr(type([])),\n"
        "    f(12), sorted(g('abca')), str.join('-', ['a', 'b']), str.upper('q'), dict.fromkeys('ab', 0),\n"
        "    Name('hi').shout(), isinstance(Name('x'), str), Record(3), isinstance(Record(1), dict),\n"
        "    Bag([1, 2]) + [3], list(range(3)), tuple('ab'), str(), list(), dict(a=1), by_kind,\n"
        "    [type(x).__name__ for x in (1, 'a', [], (), {}, set())], str(b'x', 'ascii'),\n"
        "]"
    ))
    assert result == [
        True, True, True, True,
        True, True, True, True,
        "<class 'str'>", "str", "dict", "<class 'list'>",
        "12", ["a", "b", "c"], "a-b", "Q", {"a": 0, "b": 0},
        "HI!", True, {"n": 3}, True,
        [1, 2, 3], [0, 1, 2], ["a", "b"], "", [], {"a": 1}, {"a": [1]},
        ["int", "str", "list", "tuple", "dict", "set"], "x",
    ]


async def test_a_program_may_rebind_the_builtin_names(shared_executor: RestrictedExecutor) -> None:
    """Where the program binds `str`, `list`... itself, the policy leaves its calls alone."""
    result = await run_ok(shared_executor, (
        "def apply(list, str):\n    return list(str)\n"
        "def tuple(*items):\n    return len(items)\n"
        "return [apply(sorted, 'cab'), tuple(1, 2), isinstance([], list)]"
    ))
    assert result == [["a", "b", "c"], 2, True]


COLLIDING = "keys = [k * (2 ** 61 - 1) for k in range(1, 8001)]\n"
FILLED = COLLIDING + "s = set()\nfor k in keys:\n    s.add(k)\n"
"""A set of colliding keys filled one at a time: each step is short, but one call over it is not."""

FLOOD_ATTACKS: dict[str, str] = {
    "set by an alias": COLLIDING + "f = set\nx = f(keys)",
    "frozenset through map": COLLIDING + "x = list(map(frozenset, [keys]))",
    "dict fetched from a container": COLLIDING + "x = [dict][0](zip(keys, keys))",
    "type() of a dict, fromkeys": COLLIDING + "x = type({}).fromkeys(keys)",
    "frozenset as a sort key": COLLIDING + "x = sorted([keys], key=frozenset)",
    "a filled set, united": FILLED + "x = s.union([1])",
    "a filled set, copied": FILLED + "x = s.copy()",
    "a filled set, compared": FILLED + "t = set()\nfor k in keys:\n    t.add(k)\nx = s == t",
    "a filled set, | a display": FILLED + "x = s | {1}",
    "a filled set, - another": FILLED + "t = {1}\nx = t - s",
    "a filled set, |= into another": FILLED + "t = {1}\nt |= s",
}


@pytest.mark.parametrize("code", list(FLOOD_ATTACKS.values()), ids=list(FLOOD_ATTACKS))
async def test_hash_flooding_through_other_names_or_piece_by_piece_is_refused(
    shared_executor: RestrictedExecutor, tmp_path: Path, code: str
) -> None:
    # A set filled key by key pays for its collisions as it goes: give the fill time to finish.
    out = await run_attack(shared_executor, code, tmp_path, timeout=30)
    assert out["error_info"]["type"] == "MemoryError", out["error"]
    assert "hashes collide" in out["error"], out["error"]


async def test_sets_and_dicts_of_ordinary_keys_are_not_flooding(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, (
        "import itertools\n"
        "def same_after_in_place():\n"
        "    u = {1, 2}\n    alias = u\n    u |= {3}\n    u -= {1}\n    n = 10\n    n -= 3\n"
        "    return [sorted(alias), u is alias, n]\n"
        "words = [f'w{i}' for i in range(20000)]\n"
        "s = set()\nfor w in words:\n    s.add(w)\n"
        "f = set\n"
        "return [len(s.union(['x'])), len(s.copy()), s == f(words), len(frozenset(map(str, range(5000)))),\n"
        "        len({w: 1 for w in words}), sorted({'b', 'a'}), sorted(s | {'x'})[-1], len(s - {'w1'}), 6 | 1,\n"
        "        7 - 2, sorted({(1, 2), (1, 2), (3, 4)}), {(1, 'a'): 2}[(1, 'a')], sorted({1: 2}.keys() & {1, 3}),\n"
        "        same_after_in_place(), [k for k, _ in itertools.groupby('aabbc')]]\n"
    ))
    assert result == [
        20001, 20000, True, 5000, 20000, ["a", "b"], "x", 19999, 7, 5, [[1, 2], [3, 4]], 2, [1],
        [[2, 3], True, 7], ["a", "b", "c"],
    ]
