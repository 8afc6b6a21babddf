"""Floods that pass a per-argument check but not a per-call one (security review, issue 13 follow-up).

Every multiple of M = 2**61-1 hashes alike (0), and a tuple built as a DAG hashes every path. One
native call must not do unbounded work however its input is split or shaped:

- a set method taking several iterables puts all their keys into one container: they are counted
  together (`containers.hashed_all`), not each argument alone;
- equal incoming keys pass the collision check, but each probes the target's whole chain of keys
  with that hash: the lookups are costed too (`containers.check_probes`);
- `str.translate` looks every character up in the table: a table whose keys collide is narrowed
  to the text's characters (a plain dict) or refused (a subclass);
- a pair given to `dict()` may be any iterable of two items (a deque, a namedtuple, a range): its
  key is checked like a tuple's;
- and ordinary code stays linear: `acc |= {i}` in a loop costs what `acc.add(i)` does.

Each attack is refused with a `MemoryError` saying why, with the host unharmed (its loop kept
ticking, the next program runs: `test_hardening.run_attack`), on `restricted` and `process`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.executors.base import Executor

from .test_hardening import run_attack, run_ok

pytestmark = pytest.mark.anyio

M = "M = 2**61 - 1\n"
T = "t = ()\nfor _ in range(60):\n    t = (t, t)\n"
"""A tuple of 2**60 paths through 61 tuples."""
CHUNKS = M + "chunks = []\nfor c in range(60):\n    chunks.append([(c * 1000 + i + 1) * M for i in range(1000)])\n"
"""60 lists of 1000 keys hashing to 0: each alone is under the collision check's threshold."""
DAG_ITEMS = "t = ()\nfor _ in range(19):\n    t = (t, t)\nks = []\nfor i in range(1500):\n    ks.append([(i, t)])\n"
"""1500 one-key lists, each key's hash about 2**20 items: each alone is under the hash budget."""
FLOODED_SET = M + "s = set()\nfor j in range(1, 3001):\n    s.add(j * M)\n"
"""A set of 3000 keys hashing to 0, filled one key at a time (each step short)."""
FLOODED_DICT = M + "d = {}\nfor j in range(1, 1001):\n    d[j * M] = 0\n"
ZEROS = "zeros = [0] * 1000000\n"
"""A million equal keys hashing to 0: no collisions among themselves."""
SHARED = "import collections\n" + T

ATTACKS: dict[str, str] = {
    # Several arguments, one container.
    "union of chunks": CHUNKS + "s = set().union(*chunks)",
    "update with chunks": CHUNKS + "s = set()\ns.update(*chunks)",
    "union method read as a value": CHUNKS + "u = set().union\ns = u(*chunks)",
    "set.union from the class": CHUNKS + "s = set.union(set(), *chunks)",
    "super().union of chunks": CHUNKS + "class S(set):\n    def all(self, cs):\n        return super().union(*cs)\n"
    "S().all(chunks)",
    "union of shared tuples": DAG_ITEMS + "s = set().union(*ks)",
    "intersection_update of shared tuples": DAG_ITEMS + "s = {1}\ns.intersection_update(*ks)",
    # Equal keys against a flooded target.
    "set.update with equal keys": FLOODED_SET + ZEROS + "s.update(zeros)",
    "set.isdisjoint": FLOODED_SET + "x = s.isdisjoint([0] * 200000)",
    "set.issuperset": FLOODED_SET + ZEROS + "x = s.issuperset(zeros)",
    "set.intersection": FLOODED_SET + ZEROS + "x = s.intersection(zeros)",
    "set.difference_update": FLOODED_SET + ZEROS + "s.difference_update(zeros)",
    "super().update with equal keys": M + "class S(set):\n    def more(self, xs):\n        super().update(xs)\n"
    "s = S()\nfor j in range(1, 3001):\n    s.add(j * M)\ns.more([0] * 1000000)",
    "keys view and a list": FLOODED_DICT + ZEROS + "x = d.keys() & zeros",
    "items view and a list": FLOODED_DICT + "x = d.items() & [(0, 1)] * 1000000",
    "dict.update with pairs": FLOODED_DICT + "d.update([(0, 1)] * 1000000)",
    "dict |= pairs": FLOODED_DICT + "d |= [(0, 1)] * 1000000",
    "super().update of a dict": M + "class D(dict):\n    def more(self, xs):\n        super().update(xs)\n"
    "d = D()\nfor j in range(1, 1001):\n    d[j * M] = 0\nd.more([(0, 1)] * 1000000)",
    "Counter.update with a list": "import collections\n" + M + "c = collections.Counter()\n"
    "for j in range(1, 1001):\n    c[j * M] = 1\nc.update([0] * 1000000)",
    "OrderedDict.update with pairs": "import collections\n" + M + "d = collections.OrderedDict()\n"
    "for j in range(1, 1001):\n    d[j * M] = 0\nd.update([(0, 1)] * 1000000)",
    # A translate table whose keys collide, read by the program's own lookup.
    "translate through a dict subclass": M + "class T(dict):\n    pass\ntable = T()\n"
    "for j in range(1, 3001):\n    table[0x4e00 + j * M] = None\nr = (chr(0x4e00) * 1000000).translate(table)",
    # Pairs that are not tuples.
    "deque pair": SHARED + "d = dict([collections.deque([t, 0])])",
    "namedtuple pair": SHARED + "P = collections.namedtuple('P', 'a b')\nd = dict([P(t, 0)])",
    "list pair": T + "d = dict([[t, 0]])",
    "generator pair": T + "d = dict([(x for x in (t, 0))])",
    "deque pair to OrderedDict": SHARED + "d = collections.OrderedDict([collections.deque([t, 0])])",
    "deque pair to defaultdict": SHARED + "d = collections.defaultdict(int, [collections.deque([t, 0])])",
    "deque pair to update": SHARED + "d = {}\nd.update([collections.deque([t, 0])])",
    "deque pair to |=": SHARED + "d = {}\nd |= [collections.deque([t, 0])]",
    "range pairs": M + "pairs = [range(i * M, i * M + 2) for i in range(1, 60001)]\nd = dict(pairs)",
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("code", list(ATTACKS.values()), ids=list(ATTACKS))
async def test_one_call_floods_are_refused(any_executor: Executor, tmp_path: Path, code: str) -> None:
    # A set filled key by key pays for its collisions as it goes: give the fill time to finish.
    out = await run_attack(any_executor, code, tmp_path, timeout=30)  # type: ignore[arg-type]
    assert out["error_info"]["type"] == "MemoryError", out["error"]
    assert any(why in out["error"] for why in ("hashes collide", "share hashes", "nested items")), out["error"]


async def test_a_flooded_translate_table_is_narrowed(any_executor: Executor) -> None:
    """A plain dict table with colliding keys translates through the text's own characters."""
    result = await run_ok(any_executor, M + (  # type: ignore[arg-type]
        "table = {0x4e01: 'b'}\nfor j in range(1, 3001):\n    table[0x4e00 + j * M] = None\n"
        "r = (chr(0x4e00) * 1000000 + chr(0x4e01) + 'a').translate(table)\n"
        "return [len(r), r[0], r[-2:]]"
    ))
    assert result == [1000002, chr(0x4E00), "ba"]


async def test_set_operators_in_a_loop_stay_linear(any_executor: Executor) -> None:
    """`acc |= {i}` checks only the small side while the sizes bound the lookups (20,000 rounds
    would not finish in the time limit if each checked the whole accumulator)."""
    result = await run_ok(any_executor, (  # type: ignore[arg-type]
        "acc = set()\nseen = 0\n"
        "for i in range(20000):\n"
        "    acc |= {i}\n"
        "    if not acc.isdisjoint({i}) and acc.issuperset({i}) and acc.intersection({i}):\n"
        "        seen += 1\n"
        "    acc -= {-1}\n"
        "    acc ^= {-2}\n"
        "    acc ^= {-2}\n"
        "return [len(acc), seen]"
    ))
    assert result == [20000, 20000]


async def test_set_and_dict_methods_keep_their_semantics(any_executor: Executor) -> None:
    result = await run_ok(any_executor, (  # type: ignore[arg-type]
        "import collections\n"
        "P = collections.namedtuple('P', 'a b')\n"
        "s = {1, 2}\n"
        "s.update([3], (4,), {5: 0}, 'a')\n"
        "u = set().union([1], [2, 2], range(3, 5))\n"
        "big = set(range(5000))\n"
        "big.update(range(1000))\n"
        "d = dict([collections.deque(['x', 1]), P('y', 2), range(3, 5), 'ab', ['z', 3]])\n"
        "d.update([collections.deque(['w', 0])])\n"
        "d |= [P('v', 9)]\n"
        "od = collections.OrderedDict([range(1, 3)])\n"
        "c = collections.Counter(range(3000))\n"
        "c.update([0] * 1000)\n"
        "errors = []\n"
        "for bad in ([(1, 2, 3)], [5], [collections.deque([1])]):\n"
        "    try:\n"
        "        dict(bad)\n"
        "    except (TypeError, ValueError) as e:\n"
        "        errors.append(str(e))\n"
        "return [sorted(s, key=str), sorted(u), len(big), big.isdisjoint(range(5000, 6000)),\n"
        "        sorted(big.intersection(range(4998, 6000))), d, list(od.items()), c[0], c[2999],\n"
        "        sorted({1: 0, 2: 0}.keys() & [2, 3]), sorted({1: 0}.items() | [(2, 0)]), 'abc'.translate({97: 'x'}),\n"
        "        errors]"
    ))
    assert result == [
        [1, 2, 3, 4, 5, "a"], [1, 2, 3, 4], 5000, True,
        [4998, 4999], {"x": 1, "y": 2, "3": 4, "a": "b", "z": 3, "w": 0, "v": 9}, [[1, 2]], 1001, 1,
        [2], [[1, 0], [2, 0]], "xbc",
        [
            "dictionary update sequence element #0 has length 3; 2 is required",
            "cannot convert dictionary update sequence element #0 to a sequence",
            "dictionary update sequence element #0 has length 1; 2 is required",
        ],
    ]
