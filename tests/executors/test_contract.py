"""The executor contract, run unchanged on every executor in `conftest.FACTORIES`.

Programs, tool calls through a real `HostDispatcher`, `gather`, `ToolError`, limits (timeout, output
cap, result size), code sessions, error lines and the envelope's shape.
"""

from __future__ import annotations

import dataclasses
import json

import anyio
import pytest

from engine.codemode.request import build_request
from engine.envelope import OPTIONAL_KEYS, Envelope, Usage
from engine.executors.base import Executor
from engine.limits import Limits

from .conftest import NAMESPACE, TOOLSET, Backend, run_program

pytestmark = pytest.mark.anyio


async def test_a_program_returns_its_value_and_its_printed_lines(executor: Executor) -> None:
    envelope = await run_program(executor, "print('hello')\nprint('a', 'b', sep='-')\nreturn {'n': 1 + 1}")
    assert envelope["error"] is None, envelope["error"]
    assert envelope["result"] == {"n": 2}
    assert envelope["logs"] == ["hello", "a-b"]
    assert envelope["truncated"] is False


async def test_the_envelope_has_every_key_of_the_contract(executor: Executor) -> None:
    envelope = await run_program(executor, "return None")
    assert set(envelope) == set(Envelope.__annotations__) - OPTIONAL_KEYS
    assert set(envelope["usage"]) == set(Usage.__annotations__)
    assert envelope["usage"]["limits"]["timeout"] == 10
    assert envelope["execution_time"] >= 0


async def test_a_tool_call_goes_through_the_host_dispatcher(executor: Executor, backend: Backend) -> None:
    code = f"out = await {NAMESPACE}.echo(text='hi', n=3)\nreturn out"
    envelope = await run_program(executor, code, backend)
    assert envelope["error"] is None, envelope["error"]
    assert envelope["result"] == {"echo": {"text": "hi", "n": 3}}
    assert backend.calls == [("demo-server", "echo", {"text": "hi", "n": 3})]
    assert [record["tool"] for record in envelope["tool_calls"]] == ["demo-server.echo"]
    assert envelope["usage"]["tool_calls"] == 1


async def test_concurrent_tool_calls_with_gather_are_in_flight_together(executor: Executor, backend: Backend) -> None:
    code = (
        "import asyncio\n"
        f"results = await asyncio.gather(*[{NAMESPACE}.meet(n=3) for _ in range(3)])\n"
        "return results"
    )
    envelope = await run_program(executor, code, backend)
    assert envelope["error"] is None, envelope["error"]
    assert envelope["result"] == [{"met": True}] * 3
    assert backend.max_waiting == 3


async def test_a_failed_tool_raises_a_catchable_tool_error(executor: Executor) -> None:
    code = (
        "try:\n"
        f"    await {NAMESPACE}.fail()\n"
        "except ToolError as exc:\n"
        "    return ['caught', exc.server, exc.tool, exc.message]\n"
        "return 'not raised'\n"
    )
    envelope = await run_program(executor, code)
    assert envelope["error"] is None, envelope["error"]
    assert envelope["result"] == ["caught", "demo-server", "fail", "the repository does not exist"]


async def test_an_uncaught_tool_error_is_reported_at_the_agents_line(executor: Executor) -> None:
    envelope = await run_program(executor, f"x = 1\n\nawait {NAMESPACE}.fail()\n")
    assert envelope["error_info"] is not None
    assert envelope["error_info"]["type"] == "ToolError"
    assert envelope["error_info"]["line"] == 3
    assert "the repository does not exist" in envelope["error_info"]["message"]


async def test_bad_arguments_fail_in_the_program_before_any_call(executor: Executor, backend: Backend) -> None:
    envelope = await run_program(executor, f"await {NAMESPACE}.echo(text=5)", backend)
    assert envelope["error_info"] is not None and envelope["error_info"]["type"] == "TypeError"
    assert backend.calls == []


async def test_search_tools_reaches_the_backend(executor: Executor) -> None:
    envelope = await run_program(executor, "found = await search_tools('echo', limit=1)\nreturn found")
    assert envelope["error"] is None, envelope["error"]
    assert envelope["result"] == {"query": "echo", "results": [{"server": "demo-server", "tool": "echo"}]}


async def test_an_error_names_its_type_message_and_line(executor: Executor) -> None:
    envelope = await run_program(executor, "a = 1\nb = 2\nreturn a + missing_name\n")
    info = envelope["error_info"]
    assert info is not None
    assert (info["type"], info["line"]) == ("NameError", 3)
    assert "missing_name" in info["message"]
    assert envelope["error"] == f"NameError: {info['message']} (line 3)"
    assert envelope["result"] is None


async def test_a_syntax_error_is_reported_with_its_line(executor: Executor) -> None:
    envelope = await run_program(executor, "x = 1\ny = (\n")
    assert envelope["error_info"] is not None
    assert envelope["error_info"]["type"] == "SyntaxError"
    assert envelope["error_info"]["line"] in (2, 3)


async def test_a_spinning_program_is_stopped_at_its_timeout(executor: Executor) -> None:
    envelope = await run_program(executor, "while True:\n    pass\n", limits=Limits(timeout=1))
    assert envelope["error_info"] is not None
    assert envelope["error_info"]["type"] == "TimeoutError"
    assert envelope["result"] is None


async def test_the_executor_still_works_after_a_timeout(executor: Executor) -> None:
    await run_program(executor, "while True:\n    pass\n", limits=Limits(timeout=1))
    envelope = await run_program(executor, "return 'alive'")
    assert envelope["result"] == "alive"


async def test_output_over_the_cap_is_cut_with_a_marker(executor: Executor) -> None:
    code = "for i in range(1000):\n    print('line', i)\nreturn 'done'"
    envelope = await run_program(executor, code, limits=Limits(timeout=10, max_output_chars=100))
    assert envelope["result"] == "done"
    assert envelope["truncated"] is True
    assert "truncated" in envelope["logs"][-1]
    assert sum(len(line) for line in envelope["logs"][:-1]) <= 100


async def test_a_result_over_the_size_limit_is_refused(executor: Executor) -> None:
    envelope = await run_program(executor, "return 'x' * 5000", limits=Limits(timeout=10, max_result_bytes=1000))
    assert envelope["error_info"] is not None
    assert envelope["error_info"]["type"] == "ValueError"
    assert envelope["result"] is None


async def test_a_value_that_is_not_plain_data_is_refused(executor: Executor) -> None:
    envelope = await run_program(executor, "class Thing:\n    pass\nreturn Thing()")
    assert envelope["error_info"] is not None and envelope["error_info"]["type"] == "TypeError"


async def test_a_code_session_keeps_its_globals_across_runs(executor: Executor) -> None:
    first = await run_program(executor, "counter = 41\ndef bump():\n    return counter + 1", session_id="s1")
    assert first["error"] is None, first["error"]
    second = await run_program(executor, "return bump()", session_id="s1")
    assert second["result"] == 42
    other = await run_program(executor, "return counter", session_id="s2")
    assert other["error_info"] is not None and other["error_info"]["type"] == "NameError"
    fresh = await run_program(executor, "return counter")
    assert fresh["error_info"] is not None and fresh["error_info"]["type"] == "NameError"


async def test_names_a_header_binds_at_top_level_are_session_globals(executor: Executor) -> None:
    # A walrus in a decorator, a default, an annotation or a return annotation runs at the top
    # level, so its name is a global of the run, kept by a code session like any other.
    code = (
        "def f(x: (a := 1) = (b := 2)) -> (c := 3):\n    return x\n"
        "@(d := (lambda fn: fn))\ndef g():\n    pass\n"
        "def h():\n    return [a, b, c, d is not None]\n"
        "return h()"
    )
    first = await run_program(executor, code, session_id="walrus")
    assert first["result"] == [1, 2, 3, True], first["error"]
    again = await run_program(executor, "return [a, b, c]", session_id="walrus")
    assert again["result"] == [1, 2, 3], again["error"]


async def test_top_level_await_works_inside_expressions_and_loops(executor: Executor) -> None:
    code = (
        "total = 0\n"
        "for i in range(3):\n"
        f"    total += len((await {NAMESPACE}.echo(text='ab' * i))['echo']['text'])\n"
        "return total"
    )
    envelope = await run_program(executor, code)
    assert envelope["result"] == 6, envelope["error"]


async def test_output_streamed_around_tool_calls_reaches_the_observer_in_order(
    executor: Executor, backend: Backend
) -> None:
    # A remote run's frames are answered by the executor until its first call, then by the host's
    # dispatcher: the output on either side of that switch arrives whole and in order.
    seen: list[str] = []
    code = (
        "print('before')\n"
        f"a = await {NAMESPACE}.echo(text='one')\n"
        "print('between')\n"
        f"b = await {NAMESPACE}.echo(text='two')\n"
        "print('after')\n"
        "return [a['echo']['text'], b['echo']['text']]"
    )
    request = build_request(TOOLSET, code, limits=Limits(timeout=10), backend=backend)
    request = dataclasses.replace(request, on_log=lambda text, stream: seen.append(text))
    with anyio.fail_after(30):
        envelope = await executor.run(request)
    assert envelope["result"] == ["one", "two"], envelope["error"]
    assert envelope["logs"] == ["before", "between", "after"]
    assert "".join(seen) == "before\nbetween\nafter\n"
    assert [record["outcome"] for record in envelope["tool_calls"]] == ["ok", "ok"]


async def test_two_programs_run_at_once_without_mixing_their_output(executor: Executor, backend: Backend) -> None:
    results: dict[str, object] = {}

    async def one(name: str) -> None:
        code = (
            "import asyncio\n"
            f"for i in range(3):\n    print('{name}', i)\n    await {NAMESPACE}.meet(n=2)\n"
            f"return '{name}'"
        )
        results[name] = await run_program(executor, code, backend)

    async with anyio.create_task_group() as group:
        group.start_soon(one, "first")
        group.start_soon(one, "second")
    for name in ("first", "second"):
        envelope = results[name]
        assert isinstance(envelope, dict)
        assert envelope["result"] == name, envelope["error"]
        assert envelope["logs"] == [f"{name} {i}" for i in range(3)]
    assert backend.max_waiting == 2


async def test_the_program_sees_the_same_names_on_every_executor(executor: Executor) -> None:
    # Built by the production request builder: the names cannot drift between executors.
    code = (
        "return [sorted(__tool_namespaces), sorted(tool_namespaces), __tool_namespaces[" + repr(NAMESPACE) + "],"
        " ToolError.__name__, callable(search_tools), " + NAMESPACE + ".echo.__name__]"
    )
    envelope = await run_program(executor, code)
    assert envelope["error"] is None, envelope["error"]
    assert envelope["result"] == [[NAMESPACE], [NAMESPACE], ["echo", "fail", "meet"], "ToolError", True, "echo"]


async def test_the_envelope_carries_the_dispatchers_record_of_calls(executor: Executor) -> None:
    code = f"await {NAMESPACE}.echo(text='a')\ntry:\n    await {NAMESPACE}.fail()\n"
    code += "except ToolError:\n    pass\nreturn 1"
    envelope = await run_program(executor, code)
    assert envelope["error"] is None, envelope["error"]
    assert [(r["tool"], r["outcome"]) for r in envelope["tool_calls"]] == [
        ("demo-server.echo", "ok"), ("demo-server.fail", "error")
    ]
    assert envelope["usage"]["tool_calls"] == 2


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        ("search_tools('x', limit=0)", "ValueError", "search_tools() limit must be a positive int or None, got 0"),
        ("search_tools(3)", "TypeError", "search_tools() query must be a str, got int"),
        (
            "search_tools('x', detail_level='all')",
            "ValueError",
            "search_tools() detail_level must be 'names', 'descriptions' or 'full', got 'all'",
        ),
    ],
)
async def test_search_tools_argument_errors_are_identical_with_one_clean_prefix(
    executor: Executor, backend: Backend, call: str, kind: str, message: str
) -> None:
    envelope = await run_program(executor, f"x = 1\nawait {call}\n", backend)
    assert envelope["error_info"] is not None
    assert (envelope["error_info"]["type"], envelope["error_info"]["message"]) == (kind, message)
    assert envelope["error_info"]["line"] == 2
    assert "__engine__" not in (envelope["error"] or "")
    assert backend.calls == []


async def test_text_that_is_not_valid_unicode_leaves_as_escapes(executor: Executor) -> None:
    # A lone surrogate printed or raised must not break an encoder or a client downstream.
    envelope = await run_program(executor, "print('a\\ud800b')\nraise ValueError('x\\udcff')")
    assert envelope["error_info"] is not None and envelope["error_info"]["type"] == "ValueError"
    assert envelope["logs"] == ["a\\ud800b"]
    assert "\\udcff" in envelope["error_info"]["message"]
    json.dumps(envelope).encode("utf-8")  # raises if anything invalid is left


async def test_large_results_arguments_and_output_cross_whole(executor: Executor, backend: Backend) -> None:
    # Messages far larger than a socket or pipe buffer: nothing is cut, nothing hangs.
    code = (
        f"echoed = await {NAMESPACE}.echo(text='y' * 500_000)\n"
        "print('z' * 40_000)\n"
        "return ['x' * 900_000, len(echoed['echo']['text'])]"
    )
    envelope = await run_program(executor, code, backend, limits=Limits(timeout=20, max_result_bytes=2_000_000))
    assert envelope["error"] is None, envelope["error"]
    assert envelope["result"] == ["x" * 900_000, 500_000]
    assert envelope["logs"] == ["z" * 40_000]
