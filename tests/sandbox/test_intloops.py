"""Loop counters the policy treats as ints (`engine.sandbox.intloops`): where the program text
proves `for i in range(...)` is the only binding of `i`, arithmetic on `i` keeps no type test; every
way of making `i` something else keeps the guards, and a `range` an earlier program of a code
session rebound is caught when the loop starts."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from engine.executors.restricted import RestrictedExecutor
from engine.sandbox.compiler import parse
from engine.sandbox.intloops import int_loops
from engine.sandbox.policy import SandboxPolicy

from .helpers import make_request
from .test_hardening import run_attack, run_ok

pytestmark = pytest.mark.anyio

FORMAT = '"%0999999999d"'
"""A format that the `%` guard refuses (a billion-character field) and native `%` would build."""


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


def counted(source: str) -> list[str]:
    """The counters of the loops `int_loops` accepts in `source`."""
    tree = parse(source)
    found = int_loops(tree)
    return [node.target.id for node in ast.walk(tree) if isinstance(node, ast.For) and id(node) in found]  # type: ignore[attr-defined]


def transformed(source: str) -> str:
    tree = SandboxPolicy([], [], {}).visit(parse(source))
    compile(ast.fix_missing_locations(tree), "<program>", "exec")  # what the policy made must compile
    return ast.unparse(tree)


def test_a_counter_bound_only_by_range_loops_is_known() -> None:
    assert counted("def f(n):\n    for i in range(n):\n        x = i % 7\n    for i in range(3):\n        pass\n") == [
        "i", "i",
    ]
    code = transformed("def f(n):\n    t = 0\n    for i in range(n):\n        t += i % 7 + i * i\n    return t\n")
    assert "i % 7" in code and "_type_(i)" not in code and "-_big_ < i < _big_" in code and "_ints_(range(n))" in code


SPOILED = {
    "assigned": "    i = 'x'\n",
    "augmented": "    i += 1\n",
    "deleted": "    del i\n",
    "walrus in a comprehension": "    ys = [(i := y) for y in 'ab']\n",
    "another kind of loop": "    for i in 'ab':\n        pass\n",
    "a comprehension target": "    ys = [i for i in 'ab']\n",
    "with target": "    with open('x') as i:\n        pass\n",
    "except target": "    try:\n        pass\n    except Exception as i:\n        pass\n",
    "a parameter": None,
    "nonlocal in a nested function": "    def g():\n        nonlocal i\n        i = 'x'\n",
    "global anywhere": "    pass\ndef h():\n    global i\n",
    "a nested definition": "    def i():\n        pass\n",
    "an import": "    import math as i\n",
    "a class body": "    class C:\n        i = 'x'\n",
}


@pytest.mark.parametrize("extra", list(SPOILED.values()), ids=list(SPOILED))
def test_any_other_binding_of_the_counter_keeps_the_guards(extra: str | None) -> None:
    head = "def f(n, i=0):\n" if extra is None else "def f(n):\n"
    source = head + "    for i in range(n):\n        x = i % 7\n" + (extra or "")
    assert counted(source) == []
    assert "_type_(i)" in transformed(source)


@pytest.mark.parametrize(
    "source",
    [
        "range = list\ndef f(n):\n    for i in range(n):\n        x = i % 7\n",
        "def f(n):\n    g = globals()\n    for i in range(n):\n        x = i % 7\n",
        "for i in range(3):\n    x = i % 7\n",  # the module body: its names are a session's globals
        "def f(xs):\n    for i in range(*xs):\n        x = i % 7\n",
        "async def f(xs):\n    async for i in xs:\n        x = i % 7\n",
    ],
    ids=["range rebound", "globals()", "module body", "starred", "async for"],
)
def test_loops_the_text_cannot_vouch_for_keep_the_guards(source: str) -> None:
    assert counted(source) == []


def test_the_knowledge_stays_in_the_loop_body() -> None:
    source = (
        "def f(n):\n    for i in range(n):\n        g = lambda: i % 7\n        ys = [i % 5 for _ in 'ab']\n"
        "    else:\n        z = i % 3\n"
    )
    code = transformed(source)
    assert "_type_(i) is _int_" in code  # in the lambda, the comprehension and the `else`
    assert code.count("_type_(i) is _int_") == 3


async def test_loops_on_counters_compute_what_python_does(shared_executor: RestrictedExecutor) -> None:
    program = (
        "def work(n):\n    total, seen = 0, {}\n    for i in range(n):\n        total += i * i + i % 7 - i // 3\n"
        "        square = i * i\n        total += square\n"
        "        seen[i % 5] = str(i) + f'{i}'\n        if i < 3 or i >= n - 1:\n            total += i * 2\n"
        "    for j in reversed(range(3)):\n        total += j\n    return [total, seen]\n"
        "return work(100)"
    )
    expected_env: dict[str, Any] = {}
    exec(program.replace("return work(100)", "total, seen = work(100)"), expected_env)
    # (the envelope's keys are strings: plain data)
    expected = [expected_env["total"], {str(key): value for key, value in expected_env["seen"].items()}]
    assert counted(program) == ["i"]  # the loop this test is about is the one the policy vouches for
    assert await run_ok(shared_executor, program) == expected


async def test_a_range_rebound_by_an_earlier_program_of_the_session_is_caught(
    shared_executor: RestrictedExecutor,
) -> None:
    first = await shared_executor.run(
        make_request(f"range = lambda n: [{FORMAT}] * n\nreturn 1", session_id="rebound-range", timeout=5)
    )
    assert first["error"] is None, first["error"]
    session_run = await shared_executor.run(
        make_request("def f():\n    for i in range(1):\n        return i % 1\nreturn f()", session_id="rebound-range",
                     timeout=5)
    )
    assert session_run["result"] is None
    assert session_run["error_info"]["type"] == "TypeError"
    assert "`range` means something else here" in session_run["error_info"]["message"]
    fresh = await shared_executor.run(
        make_request("def f():\n    for i in range(3):\n        x = i % 2\n    return x\nreturn f()")
    )
    assert fresh["result"] == 0  # outside that session, `range` is the builtin


async def test_a_counter_the_body_rebinds_meets_the_guard(shared_executor: RestrictedExecutor, tmp_path: Path) -> None:
    program = "def f():\n    for i in range(1):\n        i = " + FORMAT + "\n        return i % 1\nreturn f()"
    out = await run_attack(shared_executor, program, tmp_path)
    assert out["error_info"]["type"] == "MemoryError"
    assert "over the limit" in out["error_info"]["message"]
