"""The compile step: policy errors with lines, caching, and rewrites that keep the program's meaning."""

from __future__ import annotations

import ast
import gc
import subprocess
import sys
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


def test_a_long_program_is_cached_too_and_distinct_programs_never_share_an_entry() -> None:
    long_source = "x = 0\n" + "x += 1\n" * 1200 + "return x"
    assert len(long_source) > 4096
    assert compile_program(long_source) is compile_program(long_source)
    other = long_source.replace("return x", "return x + 1")
    assert compile_program(other) is not compile_program(long_source)


def test_a_short_program_spelt_as_a_long_ones_digest_is_its_own_entry_even_under_bytes_warnings() -> None:
    # The digest as latin-1 text hashes like the digest itself: under `python -bb` a text key
    # compared with a bytes key would raise BytesWarning out of the compiler.
    script = """
import hashlib
from engine.sandbox import ProgramSyntaxError, compile_program
long_source = "x = 0\\n" + "x += 1\\n" * 1200 + "return x"
compile_program(long_source)
digest = hashlib.sha256(long_source.encode()).digest()
try:
    compile_program(digest.decode("latin-1"))
except ProgramSyntaxError:
    print("refused as its own program")
"""
    done = subprocess.run([sys.executable, "-bb", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused as its own program"


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
