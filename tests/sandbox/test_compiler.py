"""The compile step: policy errors with lines, caching, and rewrites that keep the program's meaning."""

from __future__ import annotations

import ast
import gc
from typing import Any

import anyio
import pytest

from engine.executors.restricted import RestrictedExecutor
from engine.kernel import program as kernel_program
from engine.sandbox import ProgramSyntaxError, compile_program

from .helpers import make_request

pytestmark = pytest.mark.anyio


def test_policy_errors_are_collected_with_their_lines() -> None:
    with pytest.raises(ProgramSyntaxError) as caught:
        compile_program("x = 1\ny = x._private\nz = eval('1')\n")
    assert caught.value.line == 2
    assert caught.value.errors[0].startswith("Line 2: ")
    assert any(e.startswith("Line 3: Eval calls are not allowed") for e in caught.value.errors)
    assert "and 1 more" in caught.value.message


def test_compiled_programs_are_cached_by_source() -> None:
    source = "return 40 + 2  # cache test"
    assert compile_program(source) is compile_program(source)
    assert compile_program(source + " ") is not compile_program(source)


def test_yield_at_top_level_is_refused() -> None:
    with pytest.raises(ProgramSyntaxError, match="yield"):
        compile_program("yield 1")


def test_return_outside_the_main_body_is_still_a_syntax_error() -> None:
    with pytest.raises(ProgramSyntaxError):
        compile_program("class A:\n    return 1")


async def test_guarded_arithmetic_keeps_python_semantics(executor: RestrictedExecutor) -> None:
    code = '''
class C:
    k = 3
    def m(self, d=(k + 1) * 2):
        return (d + 1) % 4, [(i + 1) * 2 for i in range(3)]
f = lambda q=(2 + 1) % 5: (q + 1) % 5
s = "%s-%d" % ("a", 7)
t = [1, 2] * 2
u = ("ab" + "c") * 2
v = 2 ** 10 + (1 << 3) + 7 % 4 + 2.5 * 2
n = 10
n *= 3
n %= 7
n **= 2
n <<= 1
return [C().m(), f(), s, t, u, v, n, 5 % 3, -7 % 3, 7.5 % 2]
'''
    with anyio.fail_after(10):
        out = await executor.run(make_request(code))
    assert out["error"] is None, out["error"]
    assert out["result"] == [[1, [2, 4, 6]], 4, "a-7", [1, 2, 1, 2], "abcabc", 1024 + 8 + 3 + 5.0, 8, 2, 2, 1.5]


async def test_walrus_and_unpacking_work(executor: RestrictedExecutor) -> None:
    code = '''
pairs = {"a": 1, "b": 2}
total = 0
for k, v in pairs.items():
    total += v
a, *rest = [1, 2, 3]
if (n := len(rest)) > 1:
    total += n
seen = [y for x in range(4) if (y := x * 2) > 2]
return [total, a, rest, seen, y]
'''
    with anyio.fail_after(10):
        out = await executor.run(make_request(code))
    assert out["error"] is None, out["error"]
    assert out["result"] == [5, 1, [2, 3], [4, 6], 6]


def test_the_collector_is_off_while_a_program_is_parsed_and_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    # A collection inside `ast.parse` runs the finalizers of due garbage (earlier programs'
    # generators, which stop themselves by raising); CPython 3.11 can then fail a valid parse with
    # "SystemError: AST constructor recursion depth mismatch". This suite hit it.
    seen: list[tuple[str, bool]] = []
    real_parse, real_compile = ast.parse, compile

    def parse(*args: Any, **kwargs: Any) -> Any:
        seen.append(("parse", gc.isenabled()))
        return real_parse(*args, **kwargs)

    def compile_(*args: Any, **kwargs: Any) -> Any:
        seen.append(("compile", gc.isenabled()))
        return real_compile(*args, **kwargs)

    monkeypatch.setattr(ast, "parse", parse)
    # The kernel compiles the wrapped program (`engine.kernel.program.compile_wrapped`).
    monkeypatch.setattr(kernel_program, "compile", compile_, raising=False)
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        program = compile_program("def f(x):\n    return [y * 2 for y in x if y]\nreturn f([1, 0, 2])")
        assert gc.isenabled()  # back on once compiling ends
    finally:
        if not was_enabled:
            gc.disable()
    assert program.code is not None
    assert seen == [("parse", False), ("compile", False)]


def test_compiling_leaves_a_disabled_collector_disabled() -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        compile_program("return 'collector stays off'")
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()
