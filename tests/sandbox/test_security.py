"""A first set of attacks on the in-process sandbox, one per class of escape.

Each attack tries to do real harm (create a marker file, read the host's environment, reach a
module, a frame or the event loop) and must fail; after it, the host must be unharmed: the
marker does not exist, the host event loop still answers, and the executor still runs programs.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import anyio
import msgpack
import pytest

from engine.executors.base import ExecutionRequest, Send
from engine.executors.restricted import RestrictedExecutor

from .helpers import Names, ToolHost, channel_host, make_request, make_tools

pytestmark = pytest.mark.anyio

# {marker} is replaced by a path that must never exist afterwards.
ESCAPE = "import os\nos.system('touch {marker}')"

ATTACKS: dict[str, str] = {
    # -- frame walks --------------------------------------------------------------------------
    "generator gi_frame": "def g():\n    yield 1\nf = g().gi_frame.f_back.f_globals",
    "generator gi_frame via getattr": "def g():\n    yield 1\nf = getattr(g(), 'gi_' + 'frame')",
    "coroutine cr_frame": "async def c():\n    pass\nco = c()\nf = co.cr_frame",
    "coroutine cr_frame via getattr": "async def c():\n    pass\nco = c()\nf = getattr(co, 'cr_frame')",
    "async generator ag_frame": "async def a():\n    yield 1\nf = getattr(a(), 'ag_frame')",
    "facade coroutine frame": "import asyncio\nc = asyncio.sleep(0)\nf = getattr(c, 'cr_frame').f_globals",
    "gathered coroutine cr_await": "import asyncio\nc = asyncio.gather()\nf = getattr(c, 'cr_await')",
    "traceback tb_frame": (
        "try:\n    1 / 0\nexcept Exception as e:\n    tb = getattr(e, '__traceback__')\n"
        "f = tb.tb_frame.f_back.f_globals"
    ),
    "exception __traceback__ literal": "try:\n    1 / 0\nexcept Exception as e:\n    tb = e.__traceback__",
    "frame f_back": "def g():\n    yield 1\nx = g()\nnext(x)\nf = getattr(getattr(x, 'gi_frame'), 'f_back')",
    "code object": "f = (lambda: 0).__code__",
    "gi_code via getattr": "def g():\n    yield 1\nc = getattr(g(), 'gi_code')",
    # -- class-hierarchy walks ------------------------------------------------------------------
    "subclasses walk": (
        "for c in ().__class__.__bases__[0].__subclasses__():\n"
        "    if c.__name__ == '_wrap_close':\n        c.__init__.__globals__['system']('touch {marker}')"
    ),
    "subclasses via getattr": (
        "t = getattr((), '__cl' + 'ass__')\nb = getattr(t, '__bases__')\nsubs = getattr(b[0], '__subclasses__')()"
    ),
    "function __globals__": "def f():\n    pass\ng = f.__globals__",
    "function globals via getattr": "def f():\n    pass\ng = getattr(f, '__glo' + 'bals__')",
    "facade function globals": "import json\ng = getattr(json.dumps, '__globals__')['json']",
    "builtin __self__": "m = getattr(len, '__self__')",
    "facade builtin __self__": "import math\nm = getattr(math.sqrt, '__self__')\nm.__loader__",
    "mro of type": "t = type(1)\nm = getattr(t, 'mro')()\nsubs = getattr(m[-1], '__subclasses__')()",
    # -- str.format and formatters -------------------------------------------------------------
    "format attribute walk": "s = '{0.__class__.__base__.__subclasses__}'.format(1)",
    "format attribute (public)": "s = '{0.gi_frame}'.format((x for x in []))",
    "unbound str.format": "s = str.format('{0.__class__}', 1)",
    "format via getattr": "s = getattr('{0.__class__}', 'format')(1)",
    "format_map": "s = '{x.__class__}'.format_map({'x': 1})",
    "format nested spec": "s = '{0:{1}}'.format('a', 10 ** 9)",
    "string Formatter": "import string\nf = string.Formatter()",
    # -- dynamic names ---------------------------------------------------------------------------
    "getattr underscore concat": "x = getattr(1, '_' + '_class__')",
    "getattr with default": "x = getattr(1, '__class__', None)",
    "hasattr probing then getattr": "x = hasattr(1, '__class__') or getattr(1, '__dict__')",
    "setattr dunder": "class A:\n    pass\nsetattr(A, '__init_subclass__', 1)",
    "setattr on a facade": "import json\nsetattr(json, 'dumps', 1)",
    "write to a facade": "import json\njson.dumps = None",
    "delete from a facade": "import json\ndel json.dumps",
    # -- unicode normalisation -----------------------------------------------------------------
    "fullwidth dunder identifier": "x = ().\uff3f\uff3fclass\uff3f\uff3f",
    "math letters dunder identifier": "x = ().__\U0001d4b8lass__",
    "fullwidth gi_frame identifier": "def g():\n    yield 1\nx = g().\uff47\uff49_frame",
    "unicode string to getattr": "x = getattr(1, '\uff3f\uff3fclass\uff3f\uff3f')",
    "unicode gi_frame to getattr": "def g():\n    yield 1\nx = getattr(g(), '\uff47\uff49_frame')",
    # -- match, classes, metaclasses -------------------------------------------------------------
    "match class pattern": "match 1:\n    case int(__class__=c):\n        pass",
    "match attribute pattern": "match (x for x in []):\n    case object(gi_frame=f):\n        pass",
    "metaclass keyword": "class M(type):\n    pass\nclass A(metaclass=M):\n    pass",
    "type subclass": "class M(type):\n    pass",
    "init_subclass": "class A:\n    def __init_subclass__(cls):\n        pass",
    "getattr dunder method": "class A:\n    def __getattr__(self, name):\n        return 1",
    "class body dunder assignment": "class A:\n    __eq__ = lambda a, b: True",
    "class keyword argument": "class A(flag=True):\n    pass",
    "type three args": "T = type('T', (), {'__getattr__': lambda s, n: 1})",
    "type of type three args": "T = type(type)('T', (), {})",
    "type of class three args": "class A:\n    pass\nT = type(A)('T', (A,), {'__del__': lambda s: 1})",
    "object __new__": "o = object.__new__(object)",
    "super dunder other than init": "class A:\n    def f(self):\n        return super().__getattribute__('x')",
    "fake super": "def super():\n    return 1\nx = super().__init__",
    # -- introspection of what the sandbox is handed ------------------------------------------
    "namespace private attribute": "s = getattr(tools, '_ToolNamespace__send')",
    "namespace dict": "d = tools.__dict__",
    "construct a host class": "T = type(tools)\nt = T(print)",
    "construct a facade": "import json\nF = type(json)\nf = F('os', {})",
    "stub closure": "c = getattr(tools.echo, '__closure__')",
    "print internals": "g = getattr(print, '__globals__')",
    "task loop": "import asyncio\nt = asyncio.create_task(asyncio.sleep(0))\nloop = t.get_loop()",
    "task loop via getattr": (
        "import asyncio\nt = asyncio.create_task(asyncio.sleep(0))\nloop = getattr(t, 'get_loop')()"
    ),
    "task internals": "import asyncio\nt = asyncio.create_task(asyncio.sleep(0))\nx = getattr(t, '_task')",
    "queue loop": "import asyncio\nq = asyncio.Queue()\nloop = getattr(q, '_loop')",
    "range internals": "r = range(10 ** 12)\nx = getattr(r, '_r')",
    "random instance": "import random\nr = getattr(random.random, '__self__')",
    # -- the host: modules, files, environment ---------------------------------------------------
    "import os": "import os\nx = os.environ",
    "from os import": "from os import environ",
    "import submodule": "import json.decoder",
    "from facade import submodule": "from json import decoder",
    "from asyncio import internals": "from asyncio import events",
    "dunder import": "os = __import__('os')",
    "builtins name": "b = __builtins__",
    "open a file": "open('{marker}', 'w').write('x')",
    "exec": "exec('import os')",
    "eval": "eval('1')",
    "compile": "c = compile('1', 'x', 'eval')",
    "globals": "g = globals()",
    "locals": "l = locals()",
    "vars": "v = vars()",
    "breakpoint": "breakpoint()",
    "input": "x = input()",
    "help": "help()",
    "memoryview": "m = memoryview(b'x')",
    "system exit": "raise SystemExit(1)",
    "keyboard interrupt": "raise KeyboardInterrupt",
    "relative import": "from . import x",
    "star import": "from json import *",
    "escape to os.system": ESCAPE,
    "try star": "try:\n    pass\nexcept* Exception:\n    pass",
    "nonlocal": "def f():\n    x = 1\n    def g():\n        nonlocal x\n    return g",
    "two-argument iter": "it = iter(int, 1)",
    "datetime internal import": "import datetime\nt = datetime.time\nx = getattr(t, 'time')",
}


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "escaped"


async def assert_host_unharmed(executor: RestrictedExecutor, marker: Path) -> None:
    assert not marker.exists()
    with anyio.fail_after(2):
        await anyio.sleep(0.01)  # the host loop still answers
        sanity = await executor.run(make_request("import json\nreturn json.dumps([1, 2])"))
    assert sanity["result"] == "[1, 2]"


@pytest.mark.parametrize("code", list(ATTACKS.values()), ids=list(ATTACKS))
async def test_attack_fails(executor: RestrictedExecutor, tool_host: ToolHost, marker: Path, code: str) -> None:
    program = code.replace("{marker}", str(marker))
    with anyio.fail_after(10):
        out = await executor.run(make_request(program, tool_host, timeout=5))
    assert out["error"] is not None, out["result"]
    assert out["result"] is None
    assert out["error_info"] is not None
    # The attack itself failed (not some later line): every attack is written to fail or escape.
    line = out["error_info"]["line"]
    assert line is None or 1 <= line <= len(program.splitlines())
    assert out["error_info"]["type"] in {
        "SyntaxError", "AttributeError", "TypeError", "ImportError", "NameError", "ValueError", "MemoryError",
        "NotImplementedError",
    }, out["error"]
    await assert_host_unharmed(executor, marker)


async def test_dir_hides_private_names(executor: RestrictedExecutor) -> None:
    out = await executor.run(make_request("return [n for n in dir(1) if n.startswith('_')] + dir(1)[:1]"))
    assert out["result"] == ["as_integer_ratio"]


async def test_the_environment_is_not_reachable(executor: RestrictedExecutor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGINE_SECRET_FOR_TEST", "hunter2")
    code = "import json\nreturn json.dumps(dir(json))"
    out = await executor.run(make_request(code))
    assert out["error"] is None
    assert "hunter2" not in str(out)
    assert "environ" not in out["result"]


async def test_facade_writes_do_not_leak_into_later_executions(executor: RestrictedExecutor) -> None:
    first = await executor.run(make_request("import json\njson.dumps = None"))
    assert first["error_info"] is not None and first["error_info"]["type"] == "TypeError"
    second = await executor.run(make_request("import json\nreturn json.dumps(1)"))
    assert second["result"] == "1"


async def test_subclassing_builtins_does_not_bypass_the_guards(executor: RestrictedExecutor) -> None:
    for code in (
        "class S(str):\n    pass\nreturn S('a').ljust(10 ** 10)",
        "class S(str):\n    pass\nreturn S('a') * 10 ** 10",
        "class L(list):\n    pass\nreturn L([1]) * 10 ** 10",
        "class I(int):\n    pass\nreturn I(2) ** 10 ** 10",
        "return str.ljust('a', 10 ** 10)",
        "return getattr(str, 'join')('x' * 10 ** 6, ['a'] * 10 ** 6)",
    ):
        out = await executor.run(make_request(code))
        assert out["error_info"] is not None, code
        assert out["error_info"]["type"] == "MemoryError", (code, out["error"])


async def test_a_host_exception_never_enters_the_sandbox(executor: RestrictedExecutor) -> None:
    class HostSecret(Exception):
        pass

    async def host(frame: bytes) -> bytes:
        raise HostSecret("host detail")

    code = '''
try:
    await tools.echo()
except Exception as exc:
    return [repr(type(exc)), str(exc), len(exc.args)]
'''
    request = ExecutionRequest(code, host=channel_host(host), names=make_tools)
    out = await executor.run(request)
    assert out["result"] == ["<class 'RuntimeError'>", "host channel failed: HostSecret: host detail", 1]


async def test_make_globals_runs_in_the_worker_thread_and_send_reaches_the_host_loop(
    executor: RestrictedExecutor,
) -> None:
    seen: dict[str, object] = {}
    host_thread = threading.get_ident()

    async def host(frame: bytes) -> bytes:
        seen["host_thread"] = threading.get_ident()
        return bytes(msgpack.packb({"result": msgpack.unpackb(frame)["arguments"]}))

    def make(send: Send) -> dict[str, object]:
        seen["make_thread"] = threading.get_ident()
        return dict(make_tools.bind(send))

    request = ExecutionRequest("return await tools.echo(a=1)", host=channel_host(host), names=Names(make))
    out = await executor.run(request)
    assert out["result"] == {"a": 1}
    assert seen["host_thread"] == host_thread
    assert seen["make_thread"] != host_thread


async def test_a_program_without_host_channel_gets_a_clear_error(executor: RestrictedExecutor) -> None:
    out = await executor.run(ExecutionRequest("return await tools.echo()", names=make_tools))
    assert out["error_info"] is not None
    assert "no host channel" in out["error_info"]["message"]


async def test_leftover_finalizers_cannot_run_on_the_host(executor: RestrictedExecutor) -> None:
    # A generator parked mid-`try` whose finally would spin: when the host collects it after the
    # run, the finally's stop check raises at once instead of spinning on the host thread.
    code = '''
def g():
    try:
        yield 1
    finally:
        while True:
            pass
it = g()
next(it)
holder = [it]
holder.append(holder)
'''
    out = await executor.run(make_request(code))
    assert out["error"] is None
    import gc

    with anyio.fail_after(5):
        await anyio.to_thread.run_sync(gc.collect)
        gc.collect()


async def test_no_sandbox_threads_after_aclose(marker: Path) -> None:
    ex = RestrictedExecutor()
    with anyio.fail_after(10):
        for code in list(ATTACKS.values())[:10]:
            await ex.run(make_request(code.replace("{marker}", str(marker)), timeout=2))
        await ex.aclose()
    assert [t for t in threading.enumerate() if t.name.startswith("sandbox-") and t.is_alive()] == []
    assert not marker.exists()
    assert os.environ.get("ENGINE_SECRET_FOR_TEST") is None


async def test_super_does_not_reach_unchecked_methods(executor: RestrictedExecutor) -> None:
    code = "class S(str):\n    def grow(self):\n        return super().ljust(10 ** 10)\nreturn S('a').grow()"
    out = await executor.run(make_request(code))
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == "MemoryError"


async def test_repeated_squaring_is_bounded(executor: RestrictedExecutor) -> None:
    code = "x = 3 ** 100000\nfor _ in range(40):\n    x = x ** 2\nreturn 1"
    with anyio.fail_after(10):
        out = await executor.run(make_request(code, timeout=5))
    assert out["error_info"] is not None
    assert out["error_info"]["type"] == "MemoryError"
