"""Issue 13's classes of attack on the in-process sandbox, each a table of programs.

Every attack must fail with a refusal (or be stopped at its limit), and the host must be unharmed:
its event loop kept running while the attack ran (no native call froze the process), and the
executor still runs programs afterwards. Next to each table, a test that the ordinary uses the
defence touches still work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.executors.restricted import RestrictedExecutor

from .helpers import ToolHost, make_request
from .test_security_review import LoopWatch, assert_host_unharmed

pytestmark = pytest.mark.anyio

HANG_BOUND = 60.0
"""Seconds an attack may take before the test calls it a hang: a bound, not a speed."""

FRACTION = "from fractions import Fraction\n"
GROW = FRACTION + "f = Fraction(3, 7)\nfor i in range(60):\n    "
"""A loop that applies its statement to a Fraction sixty times (each doubles its size, unguarded)."""
HUGE_HEX = "x = int('f' * 4000000, 16)\n"

NUMBER_ATTACKS: dict[str, str] = {
    "fraction to a negative power": FRACTION + "f = Fraction(3, 7)\nfor i in range(40):\n    f = f ** -3",
    "fraction to a negative power via pow": FRACTION + "f = Fraction(3, 7)\nfor i in range(40):\n    f = pow(f, -3)",
    "int to a fraction power (reflected)": FRACTION + "x = 3 ** Fraction(10 ** 8)",
    "int to a negative fraction power": FRACTION + "x = 3 ** Fraction(-10 ** 8)",
    "fraction to a fraction power": FRACTION + "x = Fraction(3, 2) ** Fraction(10 ** 8)",
    "fraction grown by division": FRACTION + "x = Fraction(3, 7) + 2\nfor i in range(60):\n    x = x / (1 / x) + 1",
    "fraction grown by addition": GROW + "f = f + 1 / f",
    "fraction grown by subtraction": GROW + "f = f - 1 / f",
    "fraction grown in place": GROW + "f += 1 / f",
    "fraction grown by modulo": GROW + "f = f % (1 / (f + 3)) + 1 / f",
    "fraction grown by divmod": GROW + "f = divmod(f, 1 / (f + 3))[1] + 1 / f",
    "fraction subclass grown": GROW.replace("f = Fraction", "class F(Fraction):\n    pass\nf = F") + "f = f + 1 / f",
    "fraction sum grown": GROW + "f = sum([f, 1 / f])",
    "negated fraction grown": FRACTION + "f = -Fraction(3, 7)\nfor i in range(60):\n    f = abs(-f) + 1 / f",
    "round of a huge int": HUGE_HEX + "y = round(x, -40000)",
    "round of a huge int via an alias": HUGE_HEX + "r = round\ny = r(x, -40000)",
    "round of a huge fraction": FRACTION + "f = Fraction(1, 3) + 2 ** 300000\ny = round(f, 40000)",
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


async def run_attack(executor: RestrictedExecutor, code: str, tmp_path: Path, **limits: Any) -> dict[str, Any]:
    """Run `code` as an attack: it must fail, and leave the host unharmed. Returns the envelope."""
    marker = tmp_path / "escaped"
    async with LoopWatch() as watch:
        with anyio.fail_after(HANG_BOUND):
            out: dict[str, Any] = await executor.run(make_request(code, **{"timeout": 5, **limits}))
    assert out["result"] is None, out["result"]
    assert out["error_info"] is not None
    await assert_host_unharmed(executor, marker, watch)
    return out


async def run_ok(executor: RestrictedExecutor, code: str) -> Any:
    with anyio.fail_after(HANG_BOUND):
        out = await executor.run(make_request(code, timeout=20))
    assert out["error"] is None, out["error"]
    return out["result"]


# -- class 3: number guards -------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(NUMBER_ATTACKS.values()), ids=list(NUMBER_ATTACKS))
async def test_numbers_cannot_grow_past_the_guards(
    shared_executor: RestrictedExecutor, tmp_path: Path, code: str
) -> None:
    out = await run_attack(shared_executor, code, tmp_path)
    assert out["error_info"]["type"] in {"MemoryError", "ValueError"}, out["error"]


async def test_fractions_keep_their_semantics(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, FRACTION + (
        "f = Fraction(3, 7)\n"
        "return [repr(f + 1), type(f / 2) is Fraction, isinstance(-f, Fraction), str(abs(-f)), str(round(f, 3)),\n"
        "        str(f ** 2), 2 ** Fraction(3), str(Fraction(1, 2) ** -2), str(2 ** Fraction(-2)),\n"
        "        [str(p) for p in divmod(Fraction(7, 2), 1)], f == Fraction(6, 14), hash(f) == hash(Fraction(3, 7)),\n"
        "        str(sum([Fraction(1, n) for n in range(1, 30)])), str(f.limit_denominator(2)), str(1 - f),\n"
        "        round(2 ** 4000 + 1, -3) % 1000, Fraction(1, 4) ** 0.5]"
    ))
    assert result == [
        "Fraction(10, 7)", True, True, "3/7", "429/1000", "9/49", 8, "4", "1/4", ["3", "1/2"], True, True,
        "9227046511387/2329089562800", "1/2", "4/7", 0, 0.5,
    ]


# -- class 8: materialising a sized iterable ----------------------------------------------------------

HUGE = "r = range(10 ** 9)\n"

MATERIALISE_ATTACKS: dict[str, str] = {
    name: HUGE + f"x = {call}"
    for name, call in {
        "set": "set(r)", "frozenset": "frozenset(r)", "list": "list(r)", "tuple": "tuple(r)", "sorted": "sorted(r)",
        "dict.fromkeys": "dict.fromkeys(r)", "bytes": "bytes(r)", "bytearray": "bytearray(r)",
        "set.update": "set().update(r)", "set.union": "set().union(r)", "bytes.join": "b''.join(r)",
    }.items()
}
MATERIALISE_ATTACKS["Counter"] = "import collections\n" + HUGE + "c = collections.Counter(r)"
MATERIALISE_ATTACKS["OrderedDict.fromkeys"] = "import collections\n" + HUGE + "c = collections.OrderedDict.fromkeys(r)"
MATERIALISE_ATTACKS.update({  # the deque's own loops never ask their source's size (a later read)
    name: "import collections\n" + HUGE + code
    for name, code in {
        "deque": "d = collections.deque(r)", "deque.extend": "collections.deque().extend(r)",
        "deque.extendleft": "collections.deque([1]).extendleft(r)", "deque +=": "d = collections.deque()\nd += r",
        "a deque subclass": "class D(collections.deque):\n    pass\nd = D(r)",
        "a deque with a maxlen over the limit": "d = collections.deque(r, 2 ** 62)",
        "a deque doubled with a maxlen over the limit": "d = collections.deque([0] * 10 ** 7, 2 ** 62)\n"
                                                        "d.extend(d)\nd.extend(d)",
    }.items()
})


@pytest.mark.parametrize("code", list(MATERIALISE_ATTACKS.values()), ids=list(MATERIALISE_ATTACKS))
async def test_huge_sized_iterables_are_refused_before_the_loop_starts(
    shared_executor: RestrictedExecutor, tmp_path: Path, code: str
) -> None:
    out = await run_attack(shared_executor, code, tmp_path, max_memory_bytes=256 * 1024 * 1024)
    # Refused up front: a MemoryError from the size check, never the watchdog's stop at a limit.
    assert out["error_info"]["type"] == "MemoryError", out["error"]
    assert "over the limit" in out["error"] and "materialising" in out["error"], out["error"]


async def test_a_deque_keeps_its_semantics(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, (
        "import collections\n"
        "d = collections.deque([1, 2])\nd += (3,)\nd.extendleft([0])\ne = d.copy()\ne.append(4)\n"
        "last = collections.deque(range(10), maxlen=2)\n"
        "last.extend(range(20))\n"
        "return [list(d), list(e), list(last), last.maxlen, repr(d), str(type(d)), type(d) is collections.deque,\n"
        "        isinstance(d, collections.deque), d == collections.deque([0, 1, 2, 3])]"
    ))
    assert result == [
        [0, 1, 2, 3], [0, 1, 2, 3, 4], [18, 19], 2, "deque([0, 1, 2, 3])", "<class 'collections.deque'>", True, True,
        True,
    ]


async def test_building_containers_keeps_its_semantics(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, (
        "import collections\n"
        "gen = (x for x in range(5))\n"
        "s = {1, 2}\ns.update([3], {4})\nd = {1: 2}\nd.update({3: 4}, a=5)\nd.update([(6, 7)])\n"
        "c = collections.Counter('abca')\nc.update('aa')\n"
        "return [len(set([5] * 100000)), len(set(range(100000))), sorted(set('hello')), dict([(1, 2)]),\n"
        "        dict(a=1), collections.Counter(a=2)['a'], dict.fromkeys('ab'), sorted(frozenset(gen)),\n"
        "        list(range(3)), tuple({1: 2}), sorted(s), sorted(d.items(), key=str), c['a'],\n"
        "        s.union([9]) == {1, 2, 3, 4, 9}, s.issubset(range(10)), len(set(range(10 ** 6)))]"
    ))
    assert result == [
        1, 100000, ["e", "h", "l", "o"], {"1": 2}, {"a": 1}, 2, {"a": None, "b": None}, [0, 1, 2, 3, 4],
        [0, 1, 2], [1], [1, 2, 3, 4], [["a", 5], [1, 2], [3, 4], [6, 7]], 4, True, True, 1000000,
    ]


# -- class 2: hash flooding ----------------------------------------------------------------------------

COLLIDING = "keys = [k * (2 ** 61 - 1) for k in range(1, 25001)]\n"

FLOOD_ATTACKS: dict[str, str] = {
    "set": COLLIDING + "s = set(keys)",
    "frozenset of a generator": COLLIDING + "s = frozenset(k for k in keys)",
    "Counter": "import collections\n" + COLLIDING + "c = collections.Counter(keys)",
    "OrderedDict": "import collections\n" + COLLIDING + "c = collections.OrderedDict(zip(keys, keys))",
    "defaultdict": "import collections\n" + COLLIDING + "c = collections.defaultdict(int, zip(keys, keys))",
    "defaultdict.update": (
        "import collections\n" + COLLIDING + "c = collections.defaultdict(int)\nc.update(zip(keys, keys))"
    ),
    "statistics.mode": "import statistics\n" + COLLIDING + "m = statistics.mode(keys)",
    "statistics.multimode": "import statistics\n" + COLLIDING + "m = statistics.multimode(keys)",
    "Counter.update": "import collections\n" + COLLIDING + "c = collections.Counter()\nc.update(keys)",
    "dict.fromkeys": COLLIDING + "d = dict.fromkeys(keys)",
    "dict of a zip": COLLIDING + "d = dict(zip(keys, keys))",
    "dict.update": COLLIDING + "d = {}\nd.update(zip(keys, keys))",
    "set.update": COLLIDING + "s = set()\ns.update(keys)",
    "set.union": COLLIDING + "s = set().union(keys)",
    "set display": COLLIDING + "s = {*keys}",
    "set display of two halves": COLLIDING + "s = {0, *keys[:12500], *keys[12500:]}",
    "tuples of colliding ints": COLLIDING + "s = set([(k,) for k in keys])",
    "a range of colliding ints": "s = frozenset(range(2 ** 61 - 1, 25001 * (2 ** 61 - 1), 2 ** 61 - 1))",
    "OrderedDict.fromkeys": "import collections\n" + COLLIDING + "d = collections.OrderedDict.fromkeys(keys)",
}


@pytest.mark.parametrize("code", list(FLOOD_ATTACKS.values()), ids=list(FLOOD_ATTACKS))
async def test_hash_flooding_is_refused(shared_executor: RestrictedExecutor, tmp_path: Path, code: str) -> None:
    out = await run_attack(shared_executor, code, tmp_path)
    assert out["error_info"]["type"] == "MemoryError", out["error"]
    assert "hashes collide" in out["error"], out["error"]


async def test_many_equal_or_ordinary_keys_are_not_flooding(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, (
        "big = 2 ** 64 + 1\n"
        "ids = [2 ** 62 + 7919 * k for k in range(50000)]\n"
        "return [len(set([big] * 50000)), len(set(ids)), len(dict.fromkeys(str(i) for i in range(50000)))]"
    ))
    assert result == [1, 50000, 50000]


# -- class 4: aliasing amplification, and class 1's text of shared structure ---------------------------

ALIASED = "big = 'x' * 5000000\nmany = [big] * 1000\n"
DAG = "x = []\nfor i in range(60):\n    x = [x, x]\n"
ZONE = "import datetime\nzone = datetime.timezone(datetime.timedelta(0), 'z' * 100000)\n"

TEXT_ATTACKS: dict[str, str] = {
    "print": ALIASED + "print(many)",
    "str": ALIASED + "s = str(many)",
    "repr": ALIASED + "s = repr(many)",
    "ascii": ALIASED + "s = ascii(many)",
    "f-string": ALIASED + "s = f'{many}'",
    "f-string with a spec": ALIASED + "s = f'{many!r:>10}'",
    "format()": ALIASED + "s = format(many, '')",
    "%-format": ALIASED + "s = '%s' % (many,)",
    "%-format with a dict": ALIASED + "s = '%(m)s' % {'m': many}",
    "str.format": ALIASED + "s = '{}'.format(many)",
    "json.dumps": "import json\n" + ALIASED + "s = json.dumps(many)",
    "json.dumps of a dict": "import json\n" + ALIASED + "s = json.dumps({str(i): big for i in range(1000)})",
    "re.sub callback": "import re\nbig = 'x' * 1000000\ns = re.sub('a', lambda m: big, 'a' * 100000)",
    "compiled re.subn callback": (
        "import re\nbig = 'x' * 10 ** 6\ns = re.compile('a').subn(lambda m: big, 'a' * 10 ** 5)"
    ),
    "strftime directives": "import datetime\ns = datetime.date(2020, 1, 2).strftime('%c' * 1000000)",
    "strftime in an f-string": "import datetime\nd = datetime.date(2020, 1, 2)\nf = '%c' * 1000000\ns = f'{d:{f}}'",
    "strftime zone names": ZONE + "s = datetime.datetime(2020, 1, 2, tzinfo=zone).strftime('%Z' * 1000)",
    "the result": ALIASED + "return many",
    "the result in a dict": ALIASED + "return {'a': many}",
    "repr of a DAG": DAG + "s = repr(x)",
    "print of a DAG": DAG + "print(x)",
    "json of a DAG": "import json\n" + DAG + "s = json.dumps(x)",
    "an error whose argument is a DAG": DAG + "raise ValueError(x)",
    "hash of a DAG tuple": "t = ()\nfor i in range(60):\n    t = (t, t)\nh = hash(t)",
    "an error whose argument is a DAG tuple": "t = ()\nfor i in range(60):\n    t = (t, t)\nraise KeyError(t)",
    "an error whose argument is aliased": ALIASED + "raise KeyError(many)",
}


@pytest.mark.parametrize("code", list(TEXT_ATTACKS.values()), ids=list(TEXT_ATTACKS))
async def test_text_is_sized_before_it_is_built(shared_executor: RestrictedExecutor, tmp_path: Path, code: str) -> None:
    out = await run_attack(shared_executor, code, tmp_path, max_result_bytes=1_000_000)
    error = out["error_info"]
    # Refused by a size check, or (an error's message) shown as too big: never a stop at a limit.
    assert error["type"] in {"MemoryError", "ValueError", "KeyError"}, out["error"]
    assert "over" in error["message"] or "too big to show" in error["message"], out["error"]


ALIASED = "import collections, itertools\nL = [0] * 10 ** 6\n"
"""A list of a million items, to be handed to one native iterator many times over."""

NATIVE_LOOP_ATTACKS = {  # a later read: each was one native call of 5-10 s, past a 3 s limit
    "all(zip(...))": "all(zip(*([L] * 1000)))",
    "sum(chain(...))": "sum(itertools.chain(*([L] * 1000)))",
    "sum(map(...))": "sum(map(max, *([L] * 100)))",
    "a deque with maxlen=0 consuming a zip": "collections.deque(zip(*([L] * 1000)), maxlen=0)",
    "all(enumerate(...)) of a chain": "all(enumerate(itertools.chain(*([L] * 1000))))",
}


@pytest.mark.parametrize("code", list(NATIVE_LOOP_ATTACKS.values()), ids=list(NATIVE_LOOP_ATTACKS))
async def test_a_native_iterator_over_many_items_can_be_stopped(
    shared_executor: RestrictedExecutor, tmp_path: Path, code: str
) -> None:
    # Over the native budget the iterator runs in Python: the run stops at its limit, and the host
    # loop kept turning meanwhile (`run_attack` watches it).
    out = await run_attack(shared_executor, ALIASED + code + "\nreturn 1", tmp_path, timeout=1)
    assert out["error_info"]["type"] == "TimeoutError", out["error"]
    assert "wall-clock limit of 1 s" in out["error_info"]["message"]


async def test_native_iterators_keep_their_meaning(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, (
        "import itertools\n"
        "big = [2] * 3 * 10 ** 6\n"  # four of them hold more items than one native iterator may
        "return [sum(itertools.chain(big, big, big, big)), sum(map(len, zip(big, big, big, big))),\n"
        "        sum(map(min, big, big, big, big)), list(enumerate('ab')), list(itertools.chain('ab', [1]))]"
    ))
    assert result == [24 * 10 ** 6, 12 * 10 ** 6, 6 * 10 ** 6, [[0, "a"], [1, "b"]], ["a", "b", 1]]


async def test_ordinary_text_is_unchanged(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, (
        "import datetime, json, re\n"
        "d = datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc)\n"
        "print([1, 'a'], {'k': (2,)}, sep='|')\n"
        "x = [[1]] * 3\n"
        "return [str(x), repr('q'), ascii('\u00e9'), f'{x}', f'{x!r:>12}', '%s-%d' % (x, 1), '{}'.format(x),\n"
        "        json.dumps(x), d.strftime('%Y-%m-%d %Z %%Z'), f'{d:%Y}', format(d, '%m'),\n"
        "        re.sub('a', lambda m: m.group().upper(), 'banana'), re.sub('(a)', r'<\\1>', 'ab')]"
    ))
    assert result == [
        "[[1], [1], [1]]", "'q'", "'\\xe9'", "[[1], [1], [1]]", "[[1], [1], [1]]", "[[1], [1], [1]]-1",
        "[[1], [1], [1]]", "[[1], [1], [1]]", "2020-01-02 UTC %Z", "2020", "01", "bAnAnA", "<a>b",
    ]


# -- class 9: neutral reprs ------------------------------------------------------------------------------

REPRS = (
    "import json\n"
    "def f():\n    pass\n"
    "class A:\n    pass\n"
    "print(toy.add, search_tools, [toy.add], A(), f, json.dumps, sep='|')\n"
    "shown = [str(toy.add), repr(search_tools), f'{toy.add}', f'{search_tools!r:>3}', format(toy.add, ''),\n"
    "         repr([toy.add, f, A]), str(toy), repr(type(toy)), str(type(toy.add)), repr(print),\n"
    "         '%s %r' % (toy.add, [f]), '%(t)s' % {'t': toy.add}, '{} {t}'.format(toy.add, t=[search_tools])]\n"
    "try:\n    raise KeyError(toy.add)\nexcept KeyError as e:\n    shown.append(str(e))\n"
    "return shown"
)


async def test_what_the_engine_hands_a_program_shows_no_address_or_host_name(tmp_path: Path) -> None:
    from engine import MCPClient
    from tests.conftest import toy_entry

    client = MCPClient({"mcpServers": {"toy": toy_entry()}}, code_mode=True)
    async with client:
        with anyio.fail_after(HANG_BOUND):
            out = await client.execute_code(REPRS)
            failed = await client.execute_code("raise ValueError(toy.add)")
    assert out["error"] is None, out["error"]
    texts = [*out["result"], *out["logs"], failed["error"]]
    for text in texts:
        assert "0x" not in text and "engine" not in text and "<locals>" not in text and "make_" not in text, text
    assert out["result"][0] == "<function toy.add>"
    assert out["result"][1] == "<function search_tools>"


# -- class 7: code sessions --------------------------------------------------------------------------------


async def test_a_tool_function_kept_in_a_session_fails_in_a_later_run(executor: RestrictedExecutor) -> None:
    first, later = ToolHost(), ToolHost()
    with anyio.fail_after(HANG_BOUND):
        kept = await executor.run(make_request("saved = tools.echo\nns = tools\nreturn 1", first, session_id="s"))
        assert kept["error"] is None, kept["error"]
        for call in ("await saved(x=1)", "await ns.echo(x=2)"):
            out = await executor.run(make_request(call, later, session_id="s", max_tool_calls=0))
            assert out["error_info"] is not None and out["error_info"]["type"] == "RuntimeError", out["error"]
            assert "earlier run of this code session" in out["error"]
        fresh = await executor.run(make_request("return await tools.echo(x=3)", later, session_id="s"))
    # Nothing reached either host: the stale calls failed in the program, before any frame was sent.
    assert (first.calls, later.calls) == (0, 1)
    assert fresh["result"] == {"x": 3}


STUCK = (
    "import hashlib\nkept = 'from the abandoned run'\ndata = b'x' * 10 ** 7\n"
    "while True:\n    hashlib.sha256(data)"  # native work with the GIL released: where a stop lands
)


async def test_a_session_whose_program_was_abandoned_is_discarded_and_the_next_run_says_so() -> None:
    executor = RestrictedExecutor()
    # Give up on a stopped program at the watchdog's first look, as it does with one stuck in native
    # code; the stop then lands in the hash (outside it the program stops first) within a few tries.
    executor._watchdog.GRACE = 0.0
    try:
        with anyio.fail_after(HANG_BOUND):
            for attempt in range(20):
                out = await executor.run(make_request(STUCK, session_id=f"s{attempt}", timeout=0.3))
                if "abandoned" in (out["error"] or ""):
                    break
            else:
                pytest.fail("no run was abandoned")
            after = await executor.run(make_request(
                "try:\n    return kept\nexcept NameError:\n    return 'discarded'", session_id=f"s{attempt}"
            ))
            again = await executor.run(make_request("return 'ok'", session_id=f"s{attempt}"))
    finally:
        await executor.aclose()
    assert after["result"] == "discarded", after
    assert any("was abandoned" in line and "discarded" in line for line in after["logs"]), after["logs"]
    assert again["result"] == "ok" and not any("abandoned" in line for line in again["logs"])


# -- class 5: the regular-expression cost model -------------------------------------------------------------

REGEX_ATTACKS: dict[str, str] = {
    "fixed-count ambiguous repeat": "import re\nm = re.search('(?:a|a){13}b', 'a' * 10 ** 6)",
    "fixed-count ambiguous repeat, compiled": "import re\np = re.compile('(?:a|a){12}b')\nm = p.findall('a' * 10 ** 6)",
    "fixed-count repeat after a prefix": "import re\nm = re.search('aaaa(?:a|a){10}b', 'a' * 10 ** 6)",
    "scoped ignore-case runs": "import re\nm = re.search('(?i:a+)(?i:a+)(?i:a+)b', 'aA' * 5000)",
    "scoped ignore-case alternation": "import re\nm = re.search('(?i:ab|Ab){14}c', 'ab' * 10 ** 5)",
    "overlapping literal prefix": "import re\nm = re.search('a' * 50 + '(?:a|a){8}b', 'a' * 10 ** 6)",
    "fixed-count repeat in sub": "import re\ns = re.sub('(?:a|a){13}b', '', 'a' * 10 ** 6)",
    "fixed-count repeat in split": "import re\ns = re.split('(?:a|a){13}b', 'a' * 10 ** 6)",
}


@pytest.mark.parametrize("code", list(REGEX_ATTACKS.values()), ids=list(REGEX_ATTACKS))
async def test_costly_regular_expressions_are_refused(
    shared_executor: RestrictedExecutor, tmp_path: Path, code: str
) -> None:
    out = await run_attack(shared_executor, code, tmp_path)
    assert out["error_info"]["type"] in {"ValueError", "error"}, out["error"]
    assert "backtrack" in out["error"], out["error"]


async def test_ordinary_patterns_with_alternations_still_work(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, (
        "import re\n"
        "text = 'id=42; name=Ann; ID=7 ' * 20000\n"
        "return [len(re.findall('(?i:id)=(\\\\d+)', text)), re.search('(foo|bar)+', 'xxfoobar').group(),\n"
        "        re.sub('a|b', 'x', 'abc'), re.search('(?:a|a){13}b', 'a' * 13 + 'b').group(),\n"
        "        re.findall('(?i:ab)c', 'ABc abc'), len(re.split('(?:,|;) ', text))]"
    ))
    assert result == [40000, "foobar", "xxc", "a" * 13 + "b", ["ABc", "abc"], 40001]


async def test_the_checked_collections_and_statistics_keep_their_semantics(shared_executor: RestrictedExecutor) -> None:
    result = await run_ok(shared_executor, (
        "import collections, statistics\n"
        "o = collections.OrderedDict([('b', 1), ('a', 2)], c=3)\n"
        "o.update({'d': 4})\n"
        "d = collections.defaultdict(list, [('x', [1])])\n"
        "d['y'].append(2)\n"
        "d.update(z=[3])\n"
        "return [list(o.items()), sorted(d.items()), type(o).__name__, type(d).__name__, d.default_factory is list,"
        " statistics.mode([1, 2, 2, 3]), statistics.multimode('aabbc')]"
    ))
    assert result == [
        [["b", 1], ["a", 2], ["c", 3], ["d", 4]],
        [["x", [1]], ["y", [2]], ["z", [3]]],
        "OrderedDict", "defaultdict", True, 2, ["a", "b"],
    ]
