"""`__name__`/`__qualname__` in programs, the hints for refused names and a forgotten `await`.

Reading the name of a class or function is a change to the policy (`guards.name_of`), so most of
this file attacks it: each attack tries to get something other than a plain string out of the new
paths (a frame, globals, code, a class, a host object, a `str` subclass with methods of its own)
and must fail; after it the host must be unharmed, as in `test_security.py`.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.executors.base import ExecutionRequest
from engine.executors.restricted import RestrictedExecutor
from engine.limits import Limits

from .helpers import Names, ToolHost, make_request
from .test_security import assert_host_unharmed

pytestmark = pytest.mark.anyio


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "escaped"


# -- what works -------------------------------------------------------------------------------------

NAMES = '''
class Shape:
    def area(self):
        return 0

def helper():
    pass

try:
    {}["missing"]
except Exception as e:
    caught = type(e).__name__

import decimal
return [
    caught, Shape.__name__, Shape.__qualname__, Shape.area.__qualname__, Shape().area.__name__,
    helper.__name__, helper.__qualname__, (lambda: 0).__name__, type(Shape).__name__,
    len.__name__, print.__name__, str.upper.__qualname__, [].append.__qualname__,
    type(decimal.Decimal(1)).__name__, getattr(Shape, "__name__"), getattr(1, "__name__", "none"),
    hasattr(helper, "__qualname__"), hasattr(1, "__name__"),
]
'''


async def test_names_of_classes_and_functions_are_plain_strings(executor: RestrictedExecutor) -> None:
    out = await executor.run(make_request(NAMES))
    assert out["error"] is None, out["error"]
    assert out["result"] == [
        "KeyError", "Shape", "Shape", "Shape.area", "area",
        "helper", "helper", "<lambda>", "type",
        "len", "print", "str.upper", "list.append",
        "Decimal", "Shape", "none",
        True, False,
    ]


async def test_the_name_of_a_tool_error_and_of_host_classes(executor: RestrictedExecutor, tool_host: ToolHost) -> None:
    code = (
        "try:\n    await tools.fail()\nexcept Exception as e:\n    failed = type(e).__name__\n"
        "return [failed, type(tools).__name__, tools.echo.__name__]"
    )
    out = await executor.run(make_request(code, tool_host))
    assert out["result"] == ["RuntimeError", "ToolNamespace", "call"]


async def test_the_name_of_an_object_is_an_attribute_error_that_says_what_to_write(
    executor: RestrictedExecutor,
) -> None:
    out = await executor.run(make_request("x = 1\nreturn x.__name__"))
    assert out["error_info"] is not None and out["error_info"]["type"] == "AttributeError"
    assert "type(x).__name__" in out["error_info"]["message"]


@pytest.mark.parametrize(
    ("code", "kind", "hint"),
    [
        ("try:\n    1 / 0\nexcept Exception as e:\n    name = e.__class__.__name__", "SyntaxError", "use type(x)"),
        ("d = {}.__dict__", "SyntaxError", "dir(x)"),
        ("n = [1].__len__()", "SyntaxError", "write len(x) instead"),
        ("if __name__ == '__main__':\n    pass", "SyntaxError", "a program is not a module"),
        ("_cache = {}", "SyntaxError", "rename it without the leading underscore ('cache')"),
        ("x = getattr(1, '__dict__')", "AttributeError", "dir(x)"),
        ("def f():\n    pass\ng = f.__globals__", "SyntaxError", "not available in the sandbox"),
        ("x = asyncio.sleep(0)", "NameError", "add `import asyncio`"),
    ],
    ids=["__class__", "__dict__", "__len__", "__name__ global", "_private variable", "getattr __dict__",
         "__globals__", "asyncio not imported"],
)
async def test_refused_names_say_what_to_write_instead(
    executor: RestrictedExecutor, code: str, kind: str, hint: str
) -> None:
    out = await executor.run(make_request(code))
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == kind
    assert hint in out["error_info"]["message"], out["error_info"]["message"]


# -- a forgotten await ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("return (tools.echo(x=1))['x']", "TypeError"),
        ("return tools.echo(x=1).get('x')", "AttributeError"),
        ("return tools.echo(x=1) + 1", "TypeError"),
        ("async def mine():\n    return {}\nreturn mine()['x']", "TypeError"),
    ],
    ids=["subscript", "method", "operator", "own coroutine"],
)
async def test_a_forgotten_await_says_so(
    executor: RestrictedExecutor, tool_host: ToolHost, capfd: pytest.CaptureFixture[str], code: str, kind: str
) -> None:
    out = await executor.run(make_request(code, tool_host))
    assert out["error_info"] is not None and out["error_info"]["type"] == kind
    assert "did you forget `await`?" in out["error_info"]["message"]
    gc.collect()
    assert capfd.readouterr().err == ""  # the dropped coroutine warned in the program, not here
    assert tool_host.calls == 0


async def test_an_unawaited_tool_call_warns_in_the_programs_output_not_on_the_hosts_stderr(
    executor: RestrictedExecutor, tool_host: ToolHost, capfd: pytest.CaptureFixture[str]
) -> None:
    out = await executor.run(make_request("tools.echo(x=1)\nprint('next')\nreturn 1", tool_host))
    assert out["result"] == 1
    assert len(out["logs"]) == 2 and out["logs"][1] == "next"
    assert "was never awaited" in out["logs"][0] and "did you forget `await`?" in out["logs"][0]
    assert tool_host.calls == 0
    gc.collect()
    assert capfd.readouterr().err == ""


async def test_many_unawaited_coroutines_stay_within_the_output_limit(
    executor: RestrictedExecutor, capfd: pytest.CaptureFixture[str]
) -> None:
    code = "async def c():\n    pass\nfor _ in range(5000):\n    c()\nreturn 1"
    out = await executor.run(ExecutionRequest(code, limits=Limits(max_output_chars=500)))
    assert out["result"] == 1 and out["truncated"]
    assert len("\n".join(out["logs"])) < 700
    gc.collect()
    assert capfd.readouterr().err == ""


async def test_a_host_coroutine_still_warns_as_usual(executor: RestrictedExecutor) -> None:
    # The hook only takes programs' coroutines; the host's own keep CPython's warning.
    await executor.run(make_request("return 1"))  # the hook is installed

    async def host_side() -> None:
        pass

    coroutine = host_side()
    with pytest.warns(RuntimeWarning, match="was never awaited"):
        del coroutine
        gc.collect()


# -- attacks on the new paths ---------------------------------------------------------------------

ATTACKS: dict[str, str] = {
    "globals of a name": "def f():\n    pass\ng = f.__name__.__globals__",
    "class of a name": "def f():\n    pass\nc = f.__qualname__.__class__",
    "getattr on a name": "def f():\n    pass\ng = getattr(f.__name__, '__globals__')",
    "code via getattr beside the name": "def f():\n    pass\nn = f.__name__\nc = getattr(f, '__code__')",
    "globals via a method's name": "class A:\n    def m(self):\n        pass\ng = getattr(A().m, '__func__')",
    "frame of a generator's name": "def g():\n    yield 1\nn = g().__name__",
    "frame of a coroutine's name": "async def c():\n    pass\nx = c()\nn = x.__qualname__\nf = x.cr_frame",
    "assign a name": "def f():\n    pass\nf.__name__ = 'os'",
    "delete a name": "def f():\n    pass\ndel f.__qualname__",
    "augmented assign a name": "def f():\n    pass\nf.__name__ += 'x'",
    "setattr a name": "def f():\n    pass\nsetattr(f, '__name__', 'x')",
    "class body name": "class A:\n    __name__ = 'B'",
    "class body qualname": "class A:\n    __qualname__ = 'B'",
    "format a name": "def f():\n    pass\ns = '{0.__name__}'.format(f)",
    "format a name's globals": "def f():\n    pass\ns = '{0.__name__.__class__}'.format(f)",
    "call the guard": "n = _name_of_(len, '__globals__')",
    "guard on another name": "n = getattr(len, '__self__')",
    "unicode name to getattr": "def f():\n    pass\nn = getattr(f, '\uff3f\uff3fname\uff3f\uff3f').__globals__",
    "match on a name": "def f():\n    pass\nmatch f:\n    case object(__name__=n):\n        pass",
    "name of super": "class A:\n    def m(self):\n        return super().__name__\nx = A().m()",
    "name of a module": "import json\nn = json.__name__",
    "import warnings": "import warnings",
    "from warnings import": "from warnings import catch_warnings",
    "escape through a name": (
        "def f():\n    pass\nf.__name__.__globals__['os'].system('touch {marker}')"
    ),
}


@pytest.mark.parametrize("code", list(ATTACKS.values()), ids=list(ATTACKS))
async def test_attack_on_names_fails(
    executor: RestrictedExecutor, tool_host: ToolHost, marker: Path, code: str
) -> None:
    program = code.replace("{marker}", str(marker))
    with anyio.fail_after(10):
        out = await executor.run(make_request(program, tool_host, timeout=5))
    assert out["error"] is not None, out["result"]
    assert out["result"] is None
    assert out["error_info"] is not None
    assert out["error_info"]["type"] in {"SyntaxError", "AttributeError", "TypeError", "ImportError", "ValueError"}
    await assert_host_unharmed(executor, marker)


# Host objects handed to a program whose names are not what they seem.


class _Meta(type):
    @property
    def __name__(cls) -> Any:  # type: ignore[override]
        return os  # plain Python's `Cls.__name__` would hand out the module


class _LyingClass(metaclass=_Meta):
    pass


_META_CALLS: list[str] = []


class _WatchedMeta(type):
    """Records any of its methods a name read would run (none may)."""

    def __hash__(cls) -> int:
        _META_CALLS.append("__hash__")
        return 0

    def __eq__(cls, other: object) -> bool:
        _META_CALLS.append("__eq__")
        return False

    def __getattribute__(cls, name: str) -> Any:
        _META_CALLS.append(name)
        return super().__getattribute__(name)


class _WatchedClass(metaclass=_WatchedMeta):
    pass


class _LyingInstance:
    __name__ = property(lambda self: os.system)  # type: ignore[assignment]


class _EvilStr(str):
    def upper(self) -> Any:  # type: ignore[override]
        return os


def _host_function() -> None:
    pass


_host_function.__name__ = _EvilStr("host_function")
_host_function.__qualname__ = _EvilStr("host_function")


class _CallableWithName:
    __name__ = "callable"

    def __call__(self) -> None:
        pass


def _host_names(send: Any) -> dict[str, object]:
    return {
        "lying_class": _LyingClass,
        "watched": _WatchedClass,
        "watched_instance": _WatchedClass(),
        "lying": _LyingInstance(),
        "host_function": _host_function,
        "bound": types.MethodType(_CallableWithName(), object()),
    }


HOST_NAMES = Names(_host_names)


async def test_names_of_host_objects_are_read_past_their_overrides(
    executor: RestrictedExecutor, marker: Path
) -> None:
    code = '''
n = host_function.__name__
return [
    lying_class.__name__, lying_class.__qualname__, type(lying).__name__,
    n, n.upper(), type(n).__name__, host_function.__qualname__.upper(),
    watched.__name__, getattr(watched, "__qualname__"),
    getattr(watched_instance, "__name__", "none"), type(watched_instance).__name__,
]
'''
    _META_CALLS.clear()
    out = await executor.run(ExecutionRequest(code, names=HOST_NAMES))
    assert out["error"] is None, out["error"]
    assert out["result"] == [
        "_LyingClass", "_LyingClass", "_LyingInstance",
        "host_function", "HOST_FUNCTION", "str", "HOST_FUNCTION",
        "_WatchedClass", "_WatchedClass",
        "none", "_WatchedClass",
    ]
    assert _META_CALLS == []  # no method of the metaclass ran
    await assert_host_unharmed(executor, marker)


@pytest.mark.parametrize(
    "code",
    [
        "return lying.__name__",
        "return getattr(lying, '__name__')",
        "return bound.__name__",
        "return getattr(lying_class, '__dict__')",
        "return lying_class.__name__.__class__",
    ],
    ids=["instance property", "instance property via getattr", "method of a callable object", "class dict",
         "class of the name"],
)
async def test_names_never_reach_host_overrides(executor: RestrictedExecutor, marker: Path, code: str) -> None:
    out = await executor.run(ExecutionRequest(code, names=HOST_NAMES))
    assert out["result"] is None
    assert out["error_info"] is not None
    assert out["error_info"]["type"] in {"AttributeError", "SyntaxError"}
    await assert_host_unharmed(executor, marker)


_LEFT_BEHIND = '''
async def WARNING_TEXT_CHOSEN_BY_AN_EARLIER_RUN():
    return 1
holder = []
for i in range(200):
    c = WARNING_TEXT_CHOSEN_BY_AN_EARLIER_RUN()
    t = tools.echo(secret=1)           # a tool stub's coroutine, never awaited either
    box = [c, t]
    box.append(box)                    # a cycle: only the garbage collector frees it
    holder.append(box)
    box = c = t = None
for i in range(200000):                # alive while collections run: the cycles reach the oldest generation
    [i]
holder.clear()                         # garbage that only a full collection frees, after this run
return "done"
'''

_LATER = '''
keep = []
for i in range(300000):                # ordinary allocation: collections run on this run's thread
    keep.append([i])
print("the later run's own line")
return len(keep)
'''


async def test_an_earlier_runs_unawaited_coroutines_never_warn_in_a_later_run(
    executor: RestrictedExecutor, tool_host: ToolHost
) -> None:
    # The collection that finalizes them may run on a later run's thread: their warnings (names an
    # earlier program chose, tools it called) must not land in that run's output.
    with anyio.fail_after(60):
        first = await executor.run(make_request(_LEFT_BEHIND, tool_host, timeout=10))
        assert first["result"] == "done", first["error"]
        later = await executor.run(make_request(_LATER, timeout=20))
    assert later["result"] == 300000, later["error"]
    assert later["logs"] == ["the later run's own line"]
    own = await executor.run(make_request("async def f():\n    return 1\nf()\nreturn 1"))
    assert len(own["logs"]) == 1 and "coroutine 'f' was never awaited" in own["logs"][0]  # its own still warn


_WARNING_PROGRAMS = r'''
import asyncio, sys
from engine.executors.restricted import RestrictedExecutor
from engine.executors.base import ExecutionRequest
PROGRAMS = [
    'x = 5\nreturn x is 5',                              # SyntaxWarning at compile time
    'assert (1, "PROGRAM TEXT")\nreturn 1',               # SyntaxWarning at compile time
    'import re\nreturn bool(re.compile("[[a]"))',       # re's FutureWarning, compiled by the sandbox
    'async def f():\n    return 1\nf()\nreturn 1',       # never awaited: in the program's own output
]
async def main():
    executor = RestrictedExecutor()
    for code in PROGRAMS:
        out = await executor.run(ExecutionRequest(code))
        print(out["error"], out["logs"])
    await executor.aclose()
asyncio.run(main())
'''


def test_nothing_a_program_does_prints_on_the_hosts_stderr() -> None:
    # A process of its own: the warning filters as a host has them, not as pytest sets them.
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", _WARNING_PROGRAMS], capture_output=True, text=True, timeout=120, cwd=root
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "never awaited" in done.stdout  # the program's own output still says it
