"""What programs can do: async code, tools across threads, output, imports, errors, sessions, results."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
import msgpack
import pytest

from engine.executors.base import ExecutionRequest
from engine.executors.restricted import RestrictedExecutor
from engine.sandbox import ALLOWED_MODULES

from .helpers import ToolHost, channel_host, make_request, make_tools

pytestmark = pytest.mark.anyio


async def run(executor: RestrictedExecutor, code: str, host: ToolHost | None = None, **limits: object) -> dict:
    with anyio.fail_after(15):
        return dict(await executor.run(make_request(code, host, **limits)))  # type: ignore[arg-type]


async def test_top_level_await_and_return(executor: RestrictedExecutor, tool_host: ToolHost) -> None:
    out = await run(executor, "x = await tools.echo(n=1)\nreturn x['n'] + 1", tool_host)
    assert out["error"] is None
    assert out["result"] == 2
    assert tool_host.calls == 1


async def test_a_program_without_return_returns_none(executor: RestrictedExecutor) -> None:
    out = await run(executor, "x = 1")
    assert out["error"] is None
    assert out["result"] is None


async def test_async_def_for_with_and_comprehensions(executor: RestrictedExecutor) -> None:
    code = '''
import asyncio

async def double(x):
    await asyncio.sleep(0)
    return x * 2

async def numbers(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i

lock = asyncio.Lock()
async with lock:
    held = lock.locked()
seen = []
async for i in numbers(3):
    seen.append(i)
doubled = [await double(i) async for i in numbers(4)]
evens = {i async for i in numbers(6) if i % 2 == 0}
return {"held": held, "seen": seen, "doubled": doubled, "evens": sorted(evens)}
'''
    out = await run(executor, code)
    assert out["error"] is None, out["error"]
    assert out["result"] == {"held": True, "seen": [0, 1, 2], "doubled": [0, 2, 4, 6], "evens": [0, 2, 4]}


async def test_gathered_tool_calls_run_concurrently_across_threads(
    executor: RestrictedExecutor, tool_host: ToolHost
) -> None:
    # `meet(n=20)` returns once 20 calls are in flight at the same time: calls made one after
    # another would never meet.
    code = '''
import asyncio
results = await asyncio.gather(*[tools.meet(n=20, i=i) for i in range(20)])
return [[r["i"], r["met"]] for r in results]
'''
    out = await run(executor, code, tool_host)
    assert out["error"] is None, out["error"]
    assert out["result"] == [[i, True] for i in range(20)]
    assert tool_host.max_in_flight == 20


@pytest.mark.parametrize("waits_first", [False, True])
async def test_a_task_the_program_never_awaits_still_runs_until_the_program_ends(
    executor: RestrictedExecutor, waits_first: bool
) -> None:
    # As under `asyncio.run`: a task started just before `return` gets its first step, whether
    # the program ends in its first turn of the loop or after waiting.
    code = f"""
import asyncio
async def side():
    print("started")
    await asyncio.sleep(0)
    print("second step")
if {waits_first}:
    await asyncio.sleep(0)
asyncio.create_task(side())
return 1
"""
    out = await run(executor, code)
    assert out["error"] is None, out["error"]
    assert out["result"] == 1
    assert out["logs"][:1] == ["started"]


async def test_create_task_and_wait_for(executor: RestrictedExecutor, tool_host: ToolHost) -> None:
    code = '''
import asyncio
task = asyncio.create_task(tools.echo(v=1))
first = await task
slow = asyncio.create_task(tools.sleep(seconds=5))
await tools.meet(n=2)  # the slow call has reached the host before the wait starts
try:
    await asyncio.wait_for(slow, 0.05)
    timed_out = False
except asyncio.TimeoutError:
    timed_out = True
sem = asyncio.Semaphore(2)
async def limited(i):
    async with sem:
        return (await tools.echo(i=i))["i"]
done = [await c for c in asyncio.as_completed([limited(i) for i in range(4)])]
return [first["v"], task.done(), timed_out, sorted(done)]
'''
    out = await run(executor, code, tool_host)
    assert out["error"] is None, out["error"]
    assert out["result"] == [1, True, True, [0, 1, 2, 3]]
    # The timed-out call was cancelled on the host side too.
    assert tool_host.cancelled >= 1


async def test_a_failing_tool_raises_a_catchable_error(executor: RestrictedExecutor, tool_host: ToolHost) -> None:
    code = '''
try:
    await tools.fail()
except RuntimeError as exc:
    return str(exc)
'''
    out = await run(executor, code, tool_host)
    assert out["result"] == "tool failed"


CALLER = contextvars.ContextVar("CALLER", default="unset")


async def test_tool_calls_run_in_the_context_of_the_caller(executor: RestrictedExecutor) -> None:
    # A tracing span or request id set by the code that calls `run` is what the tool call sees.
    seen: list[str] = []

    async def channel(frame: bytes) -> bytes:
        seen.append(CALLER.get())
        return bytes(msgpack.packb({"result": 1}))

    token = CALLER.set("request-42")
    try:
        request = ExecutionRequest(code="a = await tools.echo()\nb = await tools.echo()\nreturn a + b",
                                   host=channel_host(channel), names=make_tools)
        with anyio.fail_after(15):
            out = await executor.run(request)
    finally:
        CALLER.reset(token)
    assert out["error"] is None, out["error"]
    assert out["result"] == 2
    assert seen == ["request-42", "request-42"]


async def test_arithmetic_the_policy_inlines_gives_python_results(executor: RestrictedExecutor) -> None:
    # `a * b` of names and `x % c` / `x * c` with constants skip the guard for ints and floats;
    # every other type (and inf, nan, big ints) takes it. All must give plain Python's answers.
    code = """
import math
big = 1 << 3000
inf = math.inf
nan = math.nan
t = True
s = "ab"
xs = [1, 2]
f = 1.5
i = -7
out = [i * i, i * f, f * f, t * i, t * t, s * 3, 3 * s, xs * 2, (big * i) // big, (big * big).bit_length(),
       inf * i, math.isnan(nan * f), i % 3, f % 2, i * 3, 3 * i, i // 2, "%d-%s" % (1, "x"), s * t]
return out
"""
    expected = [49, -10.5, 2.25, -7, 1, "ababab", "ababab", [1, 2, 1, 2], -7, 6001,
                float("-inf"), True, 2, 1.5, -21, -21, -4, "1-x", "ab"]
    out = await run(executor, code)
    assert out["error"] is None, out["error"]
    assert out["result"] == expected


async def test_print_is_captured_per_execution_even_when_concurrent(executor: RestrictedExecutor) -> None:
    code = '''
import asyncio
for i in range(20):
    print("{tag}", i)
    await asyncio.sleep(0.001)
return None
'''
    results: dict[str, dict] = {}

    async def one(tag: str) -> None:
        results[tag] = await run(executor, code.replace("{tag}", tag))

    async with anyio.create_task_group() as tg:
        for tag in ("alpha", "beta", "gamma"):
            tg.start_soon(one, tag)
    for tag, out in results.items():
        assert out["logs"] == [f"{tag} {i}" for i in range(20)]
        assert out["truncated"] is False


async def test_print_arguments(executor: RestrictedExecutor) -> None:
    out = await run(executor, 'print("a", 1, sep="-", end="!")\nprint()\nprint("x\\ny")')
    assert out["logs"] == ["a-1!", "x", "y"]


@pytest.mark.parametrize("module", ALLOWED_MODULES)
async def test_every_allowed_module_imports(executor: RestrictedExecutor, module: str) -> None:
    out = await run(executor, f"import {module}\nreturn repr({module})")
    assert out["error"] is None, out["error"]
    assert module in out["result"]


async def test_facades_work(executor: RestrictedExecutor) -> None:
    code = '''
import json, math, re, datetime, itertools, collections, statistics, random, base64, hashlib, uuid
import decimal, fractions, textwrap, string
from collections import Counter
random.seed(7)
return {
    "json": json.loads(json.dumps({"a": [1, 2]})),
    "math": math.sqrt(16),
    "re": re.findall(r"\\d+", "a1b22"),
    "date": datetime.date(2024, 1, 2).isoformat(),
    "chain": list(itertools.islice(itertools.count(), 3)),
    "counter": Counter("aab").most_common(1),
    "mean": statistics.mean([1, 2, 3]),
    "random": 0 <= random.random() < 1,
    "b64": base64.b64encode(b"hi"),
    "sha": hashlib.sha256(b"x").hexdigest()[:8],
    "uuid": len(str(uuid.uuid4())),
    "decimal": decimal.Decimal("1.10") + decimal.Decimal("2.20"),
    "fraction": fractions.Fraction(1, 3) * 3,
    "wrap": textwrap.wrap("aaa bbb", 3),
    "digits": string.digits,
    "format": "{:>4}|{}".format("x", 1),
    "fstring": f"{3.14159:.2f}",
}
'''
    out = await run(executor, code)
    assert out["error"] is None, out["error"]
    assert out["result"] == {
        "json": {"a": [1, 2]}, "math": 4.0, "re": ["1", "22"], "date": "2024-01-02", "chain": [0, 1, 2],
        "counter": [["a", 2]], "mean": 2, "random": True, "b64": b"aGk=", "sha": "2d711642", "uuid": 36,
        "decimal": "3.30", "fraction": "1", "wrap": ["aaa", "bbb"], "digits": "0123456789",
        "format": "   x|1", "fstring": "3.14",
    }


async def test_random_is_private_to_each_execution(executor: RestrictedExecutor) -> None:
    seeded = "import random\nrandom.seed(42)\nreturn random.random()"
    first = await run(executor, seeded)
    unseeded = await run(executor, "import random\nreturn random.random()")
    second = await run(executor, seeded)
    assert first["result"] == second["result"]
    assert unseeded["result"] != first["result"]


async def test_forbidden_import_names_the_allowed_modules(executor: RestrictedExecutor) -> None:
    out = await run(executor, "import os\nreturn os.environ")
    assert out["error_info"]["type"] == "ImportError"
    assert out["error_info"]["line"] == 1
    assert "'os' is not allowed" in out["error"]
    for module in ALLOWED_MODULES:
        assert module in out["error_info"]["message"]


async def test_compile_error_reports_the_line(executor: RestrictedExecutor) -> None:
    out = await run(executor, "x = 1\ny = (\n")
    assert out["error_info"]["type"] == "SyntaxError"
    assert out["error_info"]["line"] == 2
    assert out["error"].startswith("SyntaxError: ")
    policy = await run(executor, "x = 1\n\ny = x.__class__")
    assert policy["error_info"]["type"] == "SyntaxError"
    assert policy["error_info"]["line"] == 3
    assert "__class__" in policy["error_info"]["message"]


async def test_runtime_error_has_the_agent_line_and_an_engine_free_traceback(executor: RestrictedExecutor) -> None:
    code = '''
def inner(x):
    return 10 / x

def outer():
    return inner(0)

value = 1
outer()
'''
    out = await run(executor, code)
    info = out["error_info"]
    assert info["type"] == "ZeroDivisionError"
    assert info["line"] == 3
    assert out["error"] == "ZeroDivisionError: division by zero (line 3)"
    assert info["traceback"].splitlines() == [
        "Traceback (most recent call last):",
        "  line 9, in <module>",
        "    outer()",
        "  line 6, in outer",
        "    return inner(0)",
        "  line 3, in inner",
        "    return 10 / x",
        "ZeroDivisionError: division by zero",
    ]
    assert "engine" not in info["traceback"] and ".py" not in info["traceback"]


async def test_triple_quoted_strings_are_preserved_exactly(executor: RestrictedExecutor) -> None:
    code = 'text = """first\n    indented\n\ttab\n  """\nreturn text'
    out = await run(executor, code)
    assert out["result"] == "first\n    indented\n\ttab\n  "


async def test_line_numbers_survive_the_rewrite(executor: RestrictedExecutor) -> None:
    code = 'x = """\na\nb\n"""\nif x:\n    y = [1, 2]\n    z = y[5]\n'
    out = await run(executor, code)
    assert out["error_info"]["type"] == "IndexError"
    assert out["error_info"]["line"] == 7


async def test_each_execution_starts_fresh(executor: RestrictedExecutor) -> None:
    await run(executor, "counter = 41")
    out = await run(executor, "return counter")
    assert out["error_info"]["type"] == "NameError"


async def test_code_sessions_keep_state_and_reset(executor: RestrictedExecutor) -> None:
    async def in_session(code: str, session: str) -> dict:
        with anyio.fail_after(10):
            return dict(await executor.run(make_request(code, session_id=session)))

    assert (await in_session("counter = 41\ndef bump():\n    global counter\n    counter += 1", "a"))["error"] is None
    assert (await in_session("bump()\nreturn counter", "a"))["result"] == 42
    # Another session has its own state.
    assert (await in_session("return counter", "b"))["error_info"]["type"] == "NameError"
    assert (await in_session("counter = 'b'\nreturn counter", "b"))["result"] == "b"
    assert (await in_session("return counter", "a"))["result"] == 42
    assert executor.reset_session("a") is True
    assert (await in_session("return counter", "a"))["error_info"]["type"] == "NameError"
    assert executor.reset_session("never") is False


async def test_result_conversion(executor: RestrictedExecutor) -> None:
    code = '''
import datetime, decimal
return {
    "tuple": (1, (2, 3)),
    "set": {3, 1, 2},
    "when": datetime.datetime(2024, 5, 6, 7, 8, 9),
    "bytes": bytearray(b"ab"),
    "amount": decimal.Decimal("1.5"),
    1: "int key",
    None: True,
}
'''
    out = await run(executor, code)
    assert out["error"] is None, out["error"]
    assert out["result"] == {
        "tuple": [1, [2, 3]], "set": [1, 2, 3], "when": "2024-05-06T07:08:09",
        "bytes": b"ab", "amount": "1.5", "1": "int key", "None": True,
    }
    assert out["usage"]["result_bytes"] > 0


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("return object()", "'object' is not plain data"),
        ("def f():\n    pass\nreturn [f]", "result[0]: a value of type 'function'"),
        ("x = []\nx.append(x)\nreturn x", "reference cycle"),
        ("return {(1, 2): 3}", "dict key of type 'tuple'"),
        ("class A:\n    pass\nreturn A()", "'A' is not plain data"),
    ],
)
async def test_results_that_are_not_plain_data_are_rejected(
    executor: RestrictedExecutor, code: str, fragment: str
) -> None:
    out = await run(executor, code)
    assert out["result"] is None
    assert out["error_info"]["type"] == "TypeError"
    assert fragment in out["error"]


async def test_usage_reports_every_field(executor: RestrictedExecutor) -> None:
    out = await run(executor, "print('hello')\nreturn 'abc'", timeout=7)
    usage = out["usage"]
    assert set(usage) == {"wall_time", "cpu_time", "tool_calls", "output_chars", "result_bytes",
                          "peak_memory_bytes", "limits"}
    assert usage["output_chars"] == len("hello\n")
    assert usage["result_bytes"] == 4
    assert usage["limits"]["timeout"] == 7
    assert usage["tool_calls"] == 0
    assert out["tool_calls"] == []
    assert 0 <= usage["cpu_time"] <= usage["wall_time"] + 0.05


async def test_classes_and_user_objects_work(executor: RestrictedExecutor) -> None:
    code = '''
class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y
    def norm(self):
        return abs(self.x) + abs(self.y)
class Point3(Point):
    def __init__(self, x, y, z):
        super().__init__(x, y)
        self.z = z
p = Point3(1, -2, 3)
p.x += 10
d = {"n": 1}
d["n"] += 1
d["n"] *= 5
args = [1, 2]
kwargs = {"sep": "-"}
print(*args, **kwargs)
return [p.norm(), p.z, d["n"]]
'''
    out = await run(executor, code)
    assert out["error"] is None, out["error"]
    assert out["result"] == [13, 3, 10]
    assert out["logs"] == ["1-2"]


async def test_a_program_may_not_run_after_the_executor_closed() -> None:
    ex = RestrictedExecutor()
    await ex.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await ex.run(make_request("return 1"))


async def test_printed_output_streams_to_an_on_log_hook_when_the_request_has_one(
    executor: RestrictedExecutor,
) -> None:
    seen: list[tuple[str, str]] = []

    @dataclass(frozen=True)
    class StreamingRequest(ExecutionRequest):
        on_log: Callable[[str, str], None] = field(default=lambda text, stream: None)

    code = "import asyncio\nprint('first')\nawait asyncio.sleep(0.05)\nprint('second')\nreturn 1"
    request = StreamingRequest(code, on_log=lambda text, stream: seen.append((text, stream)))
    with anyio.fail_after(10):
        out = await executor.run(request)
    assert out["result"] == 1
    assert "".join(text for text, _ in seen) == "first\nsecond\n"
    assert {stream for _, stream in seen} == {"stdout"}
    assert out["logs"] == ["first", "second"]


async def test_a_call_cancelled_on_the_host_fails_in_the_program_instead_of_hanging(
    executor: RestrictedExecutor,
) -> None:
    async def channel(frame: bytes) -> bytes:
        raise asyncio.CancelledError  # what a host-side cancellation looks like to the call

    code = "try:\n    await tools.echo()\nexcept RuntimeError as exc:\n    return str(exc)\nreturn 'no error'"
    request = ExecutionRequest(code=code, host=channel_host(channel), names=make_tools)
    with anyio.fail_after(15):  # a bound on a hang, below the program's 30 s timeout
        out = await executor.run(request)
    assert out["error"] is None, out["error"]
    # The program caught the failed call: it did not wait for its timeout (that is a TimeoutError).
    assert out["result"] == "the host cancelled the call"


async def test_a_program_generator_closed_after_the_run_leaves_nothing_in_the_host_log(
    executor: RestrictedExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    # The run ends while a task is inside `async for` over the program's generator: closing the
    # generator then stops (the run is over), in a task nobody awaits. asyncio would log that
    # task's exception on the host, with the program's traceback and the engine's paths.
    code = """
import asyncio
async def numbers():
    try:
        yield 1
        yield 2
    finally:
        print("closed")
async def use():
    async for n in numbers():
        print("got", n)
        await asyncio.sleep(0)
asyncio.create_task(use())
return 3
"""
    with caplog.at_level("DEBUG"):
        out = await run(executor, code)
        after = await run(executor, "import asyncio\nawait asyncio.sleep(0.01)\nreturn 'next'")
    assert out["result"] == 3 and out["error"] is None
    assert after["result"] == "next" and after["logs"] == []
    reported = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in reported if r.name == "asyncio"] == []
    assert not any("Traceback" in r.getMessage() or r.exc_info for r in reported)
