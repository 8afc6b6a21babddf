"""An independent review's attacks on the in-process sandbox (the tables are in `review_attacks`).

Each attack must fail, and the host must be unharmed: the marker file does not exist, the host
event loop kept answering while the attack ran (no native call froze the process), the executor
still runs programs, and after it closes no sandbox thread or host task is left. The attacks run
against `RestrictedExecutor` directly and once more through `MCPClient(code_mode=True)`.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine import MCPClient
from engine.executors.base import ExecutionRequest
from engine.executors.restricted import RestrictedExecutor
from engine.limits import Limits
from tests.conftest import toy_entry

from .helpers import ToolHost, make_request, make_tools
from .review_attacks import REFUSED, STOPPED

pytestmark = pytest.mark.anyio

REFUSED_TYPES = {
    "SyntaxError", "AttributeError", "TypeError", "ImportError", "NameError", "ValueError", "MemoryError",
    "RecursionError", "error", "ModuleNotFoundError",
}
FREEZE_BOUND = 10.0
"""Seconds the host loop may go without running: a bound on a freeze, not a speed. Far below the
minutes the native-code attacks held the GIL before they were refused, and over 3x the longest
stall seen on a busy 2-core machine (2.7 s, while an attack's hundreds of thousands of objects were
built, collected and freed)."""
REFUSED_TIMEOUT = 20.0
"""The refused attacks' wall-clock limit: they must end in a refusal, not at this limit. Building
the deepest chains takes up to 7 s on a busy 2-core machine (`nested tee`), so it leaves 3x room."""


class LoopWatch:
    """Measures the longest stretch the host event loop could not run a 10 ms ticker."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.longest = max(self.longest, now - last)
            last = now

    async def __aenter__(self) -> LoopWatch:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "escaped"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


async def assert_host_unharmed(executor: RestrictedExecutor, marker: Path, watch: LoopWatch) -> None:
    assert not marker.exists()
    assert watch.longest < FREEZE_BOUND, f"the host loop was frozen for {watch.longest:.2f} s"
    with anyio.fail_after(5):
        sanity = await executor.run(make_request("import json\nreturn json.dumps([1, 2])"))
    assert sanity["result"] == "[1, 2]"


@pytest.mark.parametrize("code", list(REFUSED.values()), ids=list(REFUSED))
async def test_refused_attack(shared_executor: RestrictedExecutor, marker: Path, code: str) -> None:
    program = code.replace("{marker}", str(marker))
    async with LoopWatch() as watch:
        with anyio.fail_after(REFUSED_TIMEOUT + 30):  # a bound on a hang
            out = await shared_executor.run(make_request(program, ToolHost(), timeout=REFUSED_TIMEOUT))
    assert out["result"] is None, out["result"]
    assert out["error_info"] is not None
    assert out["error_info"]["type"] in REFUSED_TYPES, out["error"]
    await assert_host_unharmed(shared_executor, marker, watch)


@pytest.mark.parametrize("code", list(STOPPED.values()), ids=list(STOPPED))
async def test_stopped_attack(shared_executor: RestrictedExecutor, marker: Path, code: str) -> None:
    request = make_request(code, ToolHost(), timeout=1, max_memory_bytes=64 * 1024 * 1024)
    async with LoopWatch() as watch:
        with anyio.fail_after(10):
            out = await shared_executor.run(request)
    assert out["result"] is None
    assert out["error_info"] is not None
    assert out["error_info"]["type"] in {"TimeoutError", "MemoryError"}, out["error"]
    await assert_host_unharmed(shared_executor, marker, watch)


def sandbox_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("sandbox-") and t.is_alive()}


async def test_nothing_is_left_after_the_attacks(marker: Path) -> None:
    before = sandbox_threads()  # the module's shared executor keeps its own
    ex = RestrictedExecutor()
    with anyio.fail_after(60):
        for code in [*list(STOPPED.values())[:5], *list(REFUSED.values())[::10]]:
            await ex.run(make_request(code, ToolHost(), timeout=1, max_memory_bytes=64 * 1024 * 1024))
        await ex.aclose()
    assert sandbox_threads() - before == set()
    bridge_calls = [t for t in asyncio.all_tasks() if "call_host" in repr(t.get_coro())]
    assert bridge_calls == []
    await anyio.to_thread.run_sync(gc.collect)
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.timeout(360)  # about 40 s, most of it attacks running into their 2 s limit: 3x room and more
async def test_every_attack_fails_through_code_mode(tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    client = MCPClient({"mcpServers": {"toy": toy_entry()}}, code_mode=True)
    async with client:
        for name, code in [*REFUSED.items(), *STOPPED.items()]:
            program = code.replace("{marker}", str(marker)).replace("tools.", "toy.").replace("(tools)", "(toy)")
            async with LoopWatch() as watch:
                with anyio.fail_after(30):
                    out = await client.execute_code(program, timeout=2)
            assert out["error"] is not None, (name, out["result"])
            assert watch.longest < FREEZE_BOUND, (name, watch.longest)
            assert not marker.exists(), name
        sanity = await client.execute_code("return await toy.add(a=1, b=2)")
    assert sanity["error"] is None and sanity["result"] is not None


# -- the fixes keep ordinary programs working --------------------------------------------------------


async def test_ordinary_regular_expressions_still_work(shared_executor: RestrictedExecutor) -> None:
    code = r'''
import re
text = ("key=12 other=345 " * 5000) + "\n"
pairs = re.findall(r"(\w+)=(\d+)", text)
words = re.compile(r"\w+").findall(text)
parts = re.split(r"\s*=\s*", "a = b = c")
ip = re.fullmatch(r"(?:\d{1,3}\.){3}\d{1,3}", "10.0.0.1")
bold = re.search(r"<b>(.*?)</b>", "x" * 20000 + "<b>hi</b>")
m = re.match(r"(\d+)-(\d+)", "12-34")
return [len(pairs), len(words), parts, ip.group(0), bold.group(1), m.re.pattern, m.groups(),
        re.sub(r"\s+", " ", "a   b"), bool(re.search("A", "a", re.I)), isinstance(re.compile("a"), re.Pattern)]
'''
    out = await shared_executor.run(make_request(code))
    assert out["error"] is None, out["error"]
    assert out["result"] == [10000, 20000, ["a", "b", "c"], "10.0.0.1", "hi", r"(\d+)-(\d+)", ["12", "34"],
                             "a b", True, True]


async def test_a_risky_pattern_works_on_a_short_subject(shared_executor: RestrictedExecutor) -> None:
    out = await shared_executor.run(make_request("import re\nreturn re.match('(a+)+$', 'aaaa').group(0)"))
    assert out["result"] == "aaaa", out["error"]


async def test_numbers_keep_their_types_and_semantics(shared_executor: RestrictedExecutor) -> None:
    code = '''
import decimal, fractions, math, statistics
d = decimal.Decimal("1.5") * 2
f = fractions.Fraction(1, 3) * 3
class D(decimal.Decimal):
    pass
return [str(d), isinstance(d, decimal.Decimal), type(d) is decimal.Decimal, isinstance(D("2"), D),
        str(f), isinstance(f, fractions.Fraction), 17 // 5, divmod(17, 5), round(1234, -2), round(2.675, 2),
        math.gcd(12, 18), math.isqrt(17), int.from_bytes(b"\\x01\\x00", "big"), statistics.median([1, 2, 4]),
        (10 ** 100) // 7 % 1000, pow(3, -1, 7)]
'''
    out = await shared_executor.run(make_request(code))
    assert out["error"] is None, out["error"]
    assert out["result"] == ["3.0", True, True, True, "1", True, 3, [3, 2], 1200, 2.67, 6, 4, 256, 2,
                             (10 ** 100) // 7 % 1000, 5]


async def test_iterator_wrappers_keep_python_semantics(shared_executor: RestrictedExecutor) -> None:
    code = '''
import itertools
a, b = itertools.tee(iter([1, 2, 3]))
return [list(map(abs, iter([-1, -2]))), list(filter(None, iter([0, 1]))), list(zip(iter("ab"), [1, 2])),
        list(enumerate(iter("xy"), 1)), list(itertools.chain(iter([1]), [2])),
        list(itertools.chain.from_iterable([[1], iter([2])])), list(a), list(b),
        list(itertools.islice(itertools.count(), 3))]
'''
    out = await shared_executor.run(make_request(code))
    assert out["error"] is None, out["error"]
    assert out["result"] == [[1, 2], [1], [["a", 1], ["b", 2]], [[1, "x"], [2, "y"]], [1, 2], [1, 2], [1, 2, 3],
                             [1, 2, 3], [0, 1, 2]]


async def test_empty_prints_do_not_flood_the_host() -> None:
    pieces: list[str] = []

    def on_log(text: str, stream: str) -> None:
        pieces.append(text)

    ex = RestrictedExecutor()
    try:
        code = "for _ in range(200000):\n    print('', end='')\nprint('done')"
        request = ExecutionRequest(code, limits=Limits(), on_log=on_log)
        with anyio.fail_after(20):
            out = await ex.run(request)
            await asyncio.sleep(0.05)
    finally:
        await ex.aclose()
    assert out["logs"] == ["done"]
    assert "".join(pieces) == "done\n" and len(pieces) <= 2


async def test_random_seed_and_sessions_do_not_leak_between_executions(
    shared_executor: RestrictedExecutor,
) -> None:
    seeded = await shared_executor.run(make_request("import random\nrandom.seed(1)\nreturn random.random()"))
    other = await shared_executor.run(make_request("import random\nrandom.seed(1)\nreturn random.random()"))
    unseeded = [await shared_executor.run(make_request("import random\nreturn random.random()")) for _ in range(2)]
    assert seeded["result"] == other["result"]
    assert seeded["result"] not in {u["result"] for u in unseeded}
    await shared_executor.run(make_request("secret = 'hunter2'", session_id="a"))
    out = await shared_executor.run(make_request("return secret", session_id="b"))
    assert out["error_info"] is not None and out["error_info"]["type"] == "NameError"


async def test_concurrent_executions_keep_their_own_output(shared_executor: RestrictedExecutor) -> None:
    code = "import asyncio\nfor i in range(50):\n    print('{name}', i)\n    await asyncio.sleep(0)\nreturn '{name}'"
    outs: dict[str, Any] = {}

    async def one(name: str) -> None:
        outs[name] = await shared_executor.run(make_request(code.replace("{name}", name)))

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            for name in ("left", "right", "middle"):
                tg.start_soon(one, name)
    for name, out in outs.items():
        assert out["result"] == name
        assert all(line.startswith(name) for line in out["logs"]) and len(out["logs"]) == 50


async def test_a_long_program_compiles_on_a_thread_and_runs(shared_executor: RestrictedExecutor) -> None:
    # Over INLINE_SOURCE_CHARS: compiled through `asyncio.to_thread`, the result is the same.
    code = "\n".join(f"x{i} = {i} + 1" for i in range(3000)) + "\nreturn x2999"
    with anyio.fail_after(30):
        out = await shared_executor.run(make_request(code))
    assert out["result"] == 3000, out["error"]


async def test_the_tool_bridge_still_works_after_the_review(shared_executor: RestrictedExecutor) -> None:
    host = ToolHost()
    request = ExecutionRequest("return await tools.echo(a=1)", host=host, names=make_tools)
    out = await shared_executor.run(request)
    assert out["result"] == {"a": 1} and host.calls == 1


DEEP_CHAINS = {
    # C code that recurses once per link without a recursion check: freeing (slices, generators)
    # or hashing (tuples) a chain deeper than an ordinary thread stack allows.
    "slice chain freed": "s = slice(None)\nfor _ in range(1000000):\n    s = slice(s)\nreturn 1",
    "generator chain freed after a recursion error": (
        "it = iter([1])\nfor _ in range(200000):\n    it = (x for x in it)\ntry:\n    next(it)\n"
        "except RecursionError:\n    pass\nreturn 1"
    ),
    "tuple chain hashed": "t = ()\nfor _ in range(1000000):\n    t = (t,)\nreturn hash(t) != 0",
}


@pytest.mark.parametrize("code", list(DEEP_CHAINS.values()), ids=list(DEEP_CHAINS))
async def test_deep_chains_do_not_crash_the_host(shared_executor: RestrictedExecutor, code: str) -> None:
    with anyio.fail_after(60):
        out = await shared_executor.run(make_request(code, timeout=30))
    assert out["error"] is None, out["error"]
    assert out["result"] in (1, True)


async def test_a_deep_chain_kept_in_a_code_session_is_freed_safely() -> None:
    ex = RestrictedExecutor()
    try:
        with anyio.fail_after(60):
            code = "s = slice(None)\nfor _ in range(1000000):\n    s = slice(s)\nreturn 1"
            assert (await ex.run(make_request(code, session_id="deep", timeout=30)))["result"] == 1
            assert ex.reset_session("deep")
            await ex.run(make_request(code, session_id="deep2", timeout=30))
    finally:
        await ex.aclose()
    with anyio.fail_after(10):
        while any(t.name == "sandbox-free" for t in threading.enumerate()):
            await asyncio.sleep(0.01)
