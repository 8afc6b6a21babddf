"""Every limit is enforced: time (wall and CPU), stops that cannot be swallowed, memory, output, result."""

from __future__ import annotations

import threading

import anyio
import pytest

from engine.executors.restricted import RestrictedExecutor

from .helpers import ToolHost, make_request

pytestmark = pytest.mark.anyio


class Ticker:
    """Counts ticks of a host-side task: proof that the host event loop stays responsive."""

    def __init__(self) -> None:
        self.ticks = 0

    async def __call__(self, until: int) -> None:
        while self.ticks < until:
            await anyio.sleep(0.01)
            self.ticks += 1


async def test_a_cpu_bound_loop_is_stopped_at_its_wall_clock_limit(executor: RestrictedExecutor) -> None:
    # A CPU budget above the wall clock, so that the wall-clock stop is the one tested. How soon
    # after its limit a program stops is a figure of `benchmarks/` (`bench_timeout`), not a test.
    spin = make_request("x = 0\nwhile True:\n    x += 1", timeout=0.5, cpu_time=5)
    with anyio.fail_after(10):  # a bound on a hang
        out = await executor.run(spin)
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == "TimeoutError"
    assert "wall-clock limit of 0.5 s" in out["error_info"]["message"]
    assert "abandoned" not in out["error_info"]["message"]  # it stopped, its thread was not given up on
    assert out["error_info"]["line"] in (2, 3)


async def test_the_host_and_other_programs_progress_while_a_program_spins(
    executor: RestrictedExecutor, tool_host: ToolHost
) -> None:
    # The spinner has no stop in sight (60 s): ten host ticks and a whole other program complete
    # while it runs, and only then is it cancelled. What is asserted is the order, not a speed.
    ticker = Ticker()
    results: dict[str, dict] = {}

    async def spin(scope: anyio.CancelScope) -> None:
        with scope:
            spinner = make_request("await tools.echo()\nwhile True:\n    pass", tool_host, timeout=60, cpu_time=120)
            results["spin"] = dict(await executor.run(spinner))

    async def progress() -> None:
        code = "import asyncio\nn = 0\nfor i in range(20):\n    await asyncio.sleep(0.01)\n    n += i\nreturn n"
        results["progress"] = dict(await executor.run(make_request(code, timeout=30)))

    with anyio.fail_after(20):  # a bound on a hang
        async with anyio.create_task_group() as tg:
            spinning = anyio.CancelScope()
            tg.start_soon(spin, spinning)
            while tool_host.calls == 0:  # the spinner has started
                await anyio.sleep(0.01)
            async with anyio.create_task_group() as others:
                others.start_soon(ticker, 10)
                others.start_soon(progress)
            assert "spin" not in results, results["spin"]  # still spinning
            spinning.cancel()
    assert results["progress"]["error"] is None
    assert results["progress"]["result"] == sum(range(20))
    assert ticker.ticks == 10


async def test_a_loop_after_an_await_is_stopped(executor: RestrictedExecutor) -> None:
    code = "import asyncio\nawait asyncio.sleep(0.01)\nwhile True:\n    pass"
    with anyio.fail_after(5):
        out = await executor.run(make_request(code, timeout=0.3))
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == "TimeoutError"
    assert out["error_info"]["line"] in (3, 4)


SWALLOWERS = {
    "except BaseException": "try:\n    while True: pass\nexcept BaseException:\n    while True: pass",
    "bare except in a loop": "while True:\n    try:\n        while True: pass\n    except:\n        pass",
    "except Exception re-loop": (
        "while True:\n    try:\n        while True: pass\n    except Exception:\n        continue"
    ),
    "finally loops": "try:\n    while True: pass\nfinally:\n    while True: pass",
    "nested finally": (
        "try:\n    try:\n        while True: pass\n    finally:\n        x = 1\nfinally:\n    while True: pass"
    ),
    "cancellation suppressed": (
        "import asyncio\nwhile True:\n    try:\n        await asyncio.sleep(10)\n"
        "    except asyncio.CancelledError:\n        pass"
    ),
    "generator finalizer": (
        "def g():\n    try:\n        yield 1\n    finally:\n        while True: pass\n"
        "it = g()\nnext(it)\nwhile True:\n    it = None\n    it = g()\n    next(it)"
    ),
    "async generator finalizer": (
        "async def g():\n    try:\n        yield 1\n    finally:\n        while True: pass\n"
        "it = g()\nawait it.asend(None)\nwhile True: pass"
    ),
    "recursion inside except": (
        "def f():\n    try:\n        while True: pass\n    except BaseException:\n        f()\nf()"
    ),
    "task that swallows": (
        "import asyncio\nasync def bg():\n    while True:\n        try:\n            await asyncio.sleep(1)\n"
        "        except BaseException:\n            pass\nt = asyncio.create_task(bg())\nawait asyncio.sleep(100)"
    ),
}


@pytest.mark.parametrize("code", list(SWALLOWERS.values()), ids=list(SWALLOWERS))
async def test_the_stop_cannot_be_swallowed(executor: RestrictedExecutor, code: str) -> None:
    with anyio.fail_after(5):  # a bound on a hang
        out = await executor.run(make_request(code, timeout=0.3))
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == "TimeoutError", out["error"]
    # The program unwound: it was not left running on a thread given up on after the grace period.
    assert "abandoned" not in out["error_info"]["message"]


async def test_the_cpu_budget_excludes_time_spent_waiting_on_tools(
    executor: RestrictedExecutor, tool_host: ToolHost
) -> None:
    # The program waits on a tool twice as long as its CPU budget: it is not stopped, and the CPU
    # time it reports leaves the wait out (with the wait it would be at least `wait`).
    wait = 0.6
    code = f"await tools.sleep(seconds={wait})\nreturn 1"
    with anyio.fail_after(10):  # a bound on a hang
        waiting = await executor.run(make_request(code, tool_host, cpu_time=wait / 2))
    assert waiting["error"] is None
    assert waiting["result"] == 1
    assert waiting["usage"]["cpu_time"] < wait <= waiting["usage"]["wall_time"]
    with anyio.fail_after(5):
        spinning = await executor.run(make_request("while True:\n    pass", cpu_time=0.3, timeout=10))
    assert spinning["error_info"] is not None
    assert "CPU-time limit of 0.3 s" in spinning["error_info"]["message"]
    assert spinning["usage"]["cpu_time"] >= 0.25


ALLOCATION_BOMBS = {
    "huge int power": "return 2 ** 10 ** 10",
    "pow builtin": "return pow(10, 10 ** 9)",
    "left shift": "return 1 << 10 ** 10",
    "int product": "x = 7 ** 1000000\nfor _ in range(20):\n    x = x * x\nreturn 1",
    "int product of two names": "a = 7 ** 1000000\nb = a\nfor _ in range(20):\n    a = a * b\n    b = a\nreturn 1",
    "product just past the fast path": "a = 1 << 2100\nfor _ in range(30):\n    a = a * a\nreturn 1",
    "constant % huge fraction": (
        "import fractions\nF = fractions.Fraction\nf = F((1 << 300000) + 1, (1 << 300001) + 3)\n"
        "g = F((1 << 300000) + 5, (1 << 300001) + 7)\nh = f + g\nreturn 7 % h"
    ),
    "constant // huge fraction": (
        "import fractions\nF = fractions.Fraction\nf = F((1 << 300000) + 1, (1 << 300001) + 3)\n"
        "g = F((1 << 300000) + 5, (1 << 300001) + 7)\nh = f + g\nreturn 7 // h"
    ),
    "int times a constant, repeated": "x = 1 << 300000\nfor i in range(2000):\n    x = x * 65536\nreturn 1",
    "repetition by names": "s = 'ab'\nn = 10 ** 10\nreturn s * n",
    "repetition by names, count first": "s = [0]\nn = 10 ** 10\nreturn n * s",
    "string repetition": "return 'a' * 10 ** 10",
    "list repetition": "return [0] * 10 ** 10",
    "tuple repetition": "return (0,) * 10 ** 9",
    "augmented repetition": "s = 'ab'\ns *= 10 ** 9\nreturn 1",
    "range materialised": "return list(range(10 ** 12))",
    "range sorted": "return sorted(range(10 ** 12))",
    "ljust": "return 'a'.ljust(10 ** 10)",
    "rjust": "return 'a'.rjust(10 ** 10)",
    "center": "return 'a'.center(10 ** 10)",
    "zfill": "return '1'.zfill(10 ** 10)",
    "expandtabs": "return ('\\t' * 1000).expandtabs(10 ** 8)",
    "join": "return ('x' * 10 ** 6).join(['a'] * 10 ** 6)",
    "replace": "return ('a' * 10 ** 6).replace('a', 'b' * 10 ** 6)",
    "translate": "return ('a' * 10 ** 6).translate({97: 'b' * 10 ** 6})",
    "f-string width": "x = 1\nreturn f'{x:>1000000000}'",
    "format builtin": "return format(1, '>1000000000')",
    "str.format width": "return '{:>1000000000}'.format(1)",
    "percent width": "return '%1000000000d' % 1",
    "percent star": "return '%*d' % (10 ** 9, 1)",
    "float precision": "return f'{1.5:.1000000000f}'",
    "factorial": "import math\nreturn math.factorial(10 ** 8)",
    "comb": "import math\nreturn math.comb(10 ** 9, 10 ** 8)",
    "perm": "import math\nreturn math.perm(10 ** 9)",
    "prod": "import math\nreturn math.prod([10 ** 1000] * 100000)",
    "bytes size": "return bytes(10 ** 10)",
    "bytearray size": "return bytearray(10 ** 10)",
    "to_bytes": "return (1).to_bytes(10 ** 10, 'big')",
    "random bits": "import random\nreturn random.getrandbits(10 ** 10)",
    "textwrap indent": "import textwrap\nreturn textwrap.indent('a\\n' * 10 ** 6, 'x' * 1000)",
    "re sub": "import re\nreturn re.sub('', 'x' * 10 ** 6, 'a' * 10 ** 6)",
    "itertools product": "import itertools\nreturn list(itertools.product(range(10), repeat=10 ** 7))",
    "modular pow": "return pow(3, 2 ** 200000, 2 ** 200000 + 1)",
    "strftime width": "import datetime\nreturn datetime.date.today().strftime('%1000000000Y')",
}


@pytest.mark.parametrize("code", list(ALLOCATION_BOMBS.values()), ids=list(ALLOCATION_BOMBS))
async def test_allocation_bombs_are_refused(executor: RestrictedExecutor, code: str) -> None:
    with anyio.fail_after(10):
        out = await executor.run(make_request(code, timeout=5))
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == "MemoryError", out["error"]
    assert out["usage"]["peak_memory_bytes"] < 256 * 1024 * 1024


async def test_unbounded_iterators_can_be_stopped(executor: RestrictedExecutor) -> None:
    for code in ("import itertools\nreturn sum(itertools.count())", "return sum(range(10 ** 15))",
                 "import itertools\nreturn max(itertools.cycle([1, 2]))",
                 "return len(sum([[0]] * 10 ** 6, []))",
                 "import collections\nreturn max(collections.Counter(a=10 ** 12).elements())"):
        with anyio.fail_after(5):
            out = await executor.run(make_request(code, timeout=0.3))
        assert out["error_info"] is not None
        assert out["error_info"]["type"] == "TimeoutError", out["error"]


async def test_recursion_depth_is_limited_per_program(executor: RestrictedExecutor) -> None:
    deep = "def f(n):\n    return n if n == 0 else 1 + f(n - 1)\nreturn f({n})"
    ok = await executor.run(make_request(deep.format(n=40), max_recursion_depth=50))
    assert ok["result"] == 40
    over = await executor.run(make_request(deep.format(n=60), max_recursion_depth=50))
    assert over["error_info"] is not None
    assert over["error_info"]["type"] == "RecursionError"
    assert "50" in over["error_info"]["message"]
    # The next program, with a bigger limit, gets it (and the host's own limit is untouched).
    bigger = await executor.run(make_request(deep.format(n=400), max_recursion_depth=500))
    assert bigger["result"] == 400
    import sys

    assert sys.getrecursionlimit() >= 1000


async def test_the_memory_watchdog_stops_a_growing_program(executor: RestrictedExecutor) -> None:
    code = "chunks = []\nwhile True:\n    chunks.append('x' * 1000000 + str(len(chunks)))"
    with anyio.fail_after(20):
        out = await executor.run(make_request(code, max_memory_bytes=64 * 1024 * 1024, timeout=15))
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == "MemoryError", out["error"]
    assert out["usage"]["peak_memory_bytes"] > 64 * 1024 * 1024


async def test_output_is_capped_with_a_marker(executor: RestrictedExecutor) -> None:
    code = "for i in range(1000):\n    print('x' * 99)\nreturn 'done'"
    out = await executor.run(make_request(code, max_output_chars=5000))
    assert out["result"] == "done"
    assert out["truncated"] is True
    assert out["usage"]["output_chars"] == 5000
    assert "truncated" in out["logs"][-1]
    assert sum(len(line) + 1 for line in out["logs"][:-1]) <= 5001


async def test_the_result_size_is_capped(executor: RestrictedExecutor) -> None:
    out = await executor.run(make_request("return 'x' * 2000", max_result_bytes=1000))
    assert out["result"] is None
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == "ValueError"
    assert "over the limit of 1000" in out["error_info"]["message"]
    assert out["usage"]["result_bytes"] > 1000


async def test_no_task_outlives_its_execution(executor: RestrictedExecutor, tool_host: ToolHost) -> None:
    code = (
        "import asyncio\nasync def forever():\n    await tools.sleep(seconds=30)\n"
        "asyncio.create_task(forever())\nawait tools.meet(n=2)\nreturn 'left'"
    )
    with anyio.fail_after(5):
        out = await executor.run(make_request(code, tool_host))
    assert out["result"] == "left"  # returned while `forever` was still in flight on the host
    with anyio.fail_after(2):
        while tool_host.in_flight:
            await anyio.sleep(0.01)
    assert tool_host.cancelled == 1


async def test_no_worker_thread_outlives_aclose() -> None:
    ex = RestrictedExecutor()
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(ex.run, make_request("import asyncio\nawait asyncio.sleep(0.05)"))
        await ex.aclose()
    alive = [t for t in threading.enumerate() if t.name.startswith("sandbox-") and t.is_alive()]
    assert alive == []


async def test_cancelling_the_caller_stops_the_program() -> None:
    ex = RestrictedExecutor()
    with anyio.move_on_after(0.2):
        await ex.run(make_request("while True:\n    pass", timeout=30))
    with anyio.fail_after(5):
        out = await ex.run(make_request("return 1"))
        assert out["result"] == 1
        # aclose waits at most 2 s for busy threads: the 30 s spin must already be stopped.
        await ex.aclose()
    alive = [t for t in threading.enumerate() if t.name.startswith("sandbox-") and t.is_alive()]
    assert alive == []


async def test_a_program_waiting_on_a_tool_is_stopped_and_the_host_call_cancelled(
    executor: RestrictedExecutor, tool_host: ToolHost
) -> None:
    with anyio.fail_after(5):  # a bound on a hang, far below the tool's 30 s
        out = await executor.run(make_request("return await tools.sleep(seconds=30)", tool_host, timeout=0.3))
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == "TimeoutError"
    assert "wall-clock limit of 0.3 s" in out["error_info"]["message"]
    assert "abandoned" not in out["error_info"]["message"]
    with anyio.fail_after(2):
        while tool_host.in_flight:
            await anyio.sleep(0.01)
    assert tool_host.cancelled == 1


async def test_long_ranges_still_work_lazily(executor: RestrictedExecutor) -> None:
    code = (
        "r = range(10 ** 12)\nfirst = None\nfor i in r:\n    if i == 3:\n        first = i\n        break\n"
        "return [first, r[5], 10 ** 11 in r, list(range(2_000_000))[-1], len(list(r[:10])), len(range(3_000_000))]"
    )
    out = await executor.run(make_request(code))
    assert out["error"] is None, out["error"]
    assert out["result"] == [3, 5, True, 1_999_999, 10, 3_000_000]


async def test_library_code_without_stop_checks_is_interrupted(executor: RestrictedExecutor) -> None:
    # statistics.mean over Fractions runs for seconds in the facade's own Python code, which has
    # no stop checks: the watchdog interrupts the thread instead.
    code = (
        "import statistics, fractions\ndata = [fractions.Fraction(1, 7)] * 3000000\n"
        "return str(statistics.mean(data))"
    )
    with anyio.fail_after(10):  # a bound on a hang
        out = await executor.run(make_request(code, timeout=0.3))
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == "TimeoutError"
    # Interrupted: not left to run for seconds on a thread given up on after the grace period.
    assert "abandoned" not in out["error_info"]["message"]
    assert out["error_info"]["line"] == 3
    after = await executor.run(make_request("return 1"))
    assert after["result"] == 1
