"""The independent review of the implicit-hash defences (issue 13), findings 1 and 6.

1. The shortcut that skips a key's check for a name that surely holds a string or a number
   (`engine.sandbox.keys`) must judge each expression with the names of the scope it runs in: a
   function's decorators, defaults and annotations run in the enclosing scope, and a class body
   reads a name it binds through its own namespace and the globals, not the enclosing function's.
6. `f(**m)` merges `m` into the keyword arguments natively, probing every key, before CPython
   refuses keys that are not strings: the sandbox applies CPython's own rule first.

Each attack is refused with the host unharmed (`test_hardening.run_attack`), on `restricted` and
`process`; ordinary code keeps its meaning.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.executors.base import Executor
from engine.sandbox.kwargs import checked_kwargs

from .test_hardening import run_attack, run_ok

pytestmark = pytest.mark.anyio

T = "t = ()\nfor _ in range(60):\n    t = (t, t)\nk = t\nd = {}\n"
"""A global `k` holding a tuple of 2**60 paths, and a dict to hash it into."""

SCOPES = {
    "a default": "def g(x=d[k]):\n    k = 1\n    return x\n",
    "a method-call default": "def g(x=d.get(k)):\n    k = 1\n    return x\n",
    "a keyword-only default": "def g(*, y=d.get(k)):\n    k = 1\n    return y\n",
    "a decorator": "@d.get(k, print)\ndef g():\n    k = 'x'\n    return k\n",
    "a nested function's default": "def outer(k):\n    def g(x=d.get(k)):\n        k = 1\n        return x\n"
                                   "    return g\nouter(k)\n",
    "a class body": "def f():\n    k = 1\n    class C:\n        x = d[k]\n        k = 2\n    return k\nf()\n",
    "a class body in a method": "def f():\n    k = 'a'\n    class C:\n        y = d.get(k)\n        k = 3\n"
                                "    return 1\nf()\n",
    # A lambda or comprehension in a header reads the enclosing scope's names as well (a later read).
    "a lambda in a default": "def g(cb=lambda: d[k]):\n    k = 'x'\n    return cb()\ng()\n",
    "a lambda in a decorator": "@(lambda fn: d.get(k, fn))\ndef g():\n    k = 'x'\n    return k\n",
    "a comprehension in a default": "def g(x=[d.get(k) for _ in (1,)]):\n    k = 'x'\n    return x\n",
    "a comprehension in a decorator": "@[d.get(k) for _ in (1,)][0] or print\ndef g():\n    k = 'x'\n    return 1\n",
    "a lambda in an annotation": "def g(x: (lambda: d.get(k))() = 1):\n    k = 'x'\n    return x\n",
    # A name a nested function or class binds is not the enclosing function's local (a later read).
    "a name bound only in a nested function": "def f():\n    def g():\n        k = 'x'\n        return k\n"
                                              "    return d.get(k)\nf()\n",
    "a name bound only in a nested class": "def f():\n    class C:\n        k = 'x'\n    return d[k]\nf()\n",
}

FLOOD = "M = 2**61 - 1\nm = {}\nfor i in range(1, 3001):\n    m[i * M] = 1\n"
"""A dict of 3,000 int keys that all hash alike (built one key at a time: each step is short)."""

KWARGS = {
    "f(**m)": "def f(**kw):\n    return 1\nf(**m)\n",
    "dict(**m)": "x = dict(**m)\n",
    "update(**m)": "x = {}\nx.update(**m)\n",
    "a method": "class C:\n    def f(self, **kw):\n        return kw\nC().f(**m)\n",
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("code", list(SCOPES.values()), ids=list(SCOPES))
async def test_an_expression_is_judged_with_the_names_of_the_scope_it_runs_in(
    any_executor: Executor, tmp_path: Path, code: str
) -> None:
    out = await run_attack(any_executor, T + code, tmp_path)  # type: ignore[arg-type]
    assert out["error_info"]["type"] == "MemoryError", out["error"]
    assert "hashing this key" in out["error_info"]["message"]


@pytest.mark.parametrize("code", list(KWARGS.values()), ids=list(KWARGS))
async def test_keyword_arguments_unpacked_from_a_flood_are_refused_before_the_merge(
    any_executor: Executor, tmp_path: Path, code: str
) -> None:
    out = await run_attack(any_executor, FLOOD + code, tmp_path)  # type: ignore[arg-type]
    assert out["error_info"]["type"] == "TypeError", out["error"]
    assert "the mapping after ** has a key of type int" in out["error_info"]["message"]


async def test_ordinary_code_keeps_its_meaning(any_executor: Executor) -> None:
    program = (
        "import collections\n"
        "def g(x=1, *, y=2):\n    k = 'a'\n    return {k: x + y}\n"
        "def deco(f):\n    return f\n"
        "k = 'outer'\nd = {'outer': 5}\n"
        "@deco\ndef h(v=d[k]):\n    k = 'inner'\n    return [v, k]\n"
        "class C:\n    a = d[k]\n    k = 'in the class'\n    b = k\n"
        "def f(**kw):\n    return sorted(kw.items())\n"
        "class S(str):\n    pass\n"
        "return [g(), h(), C.a, C.b, f(**{'a': 1}, b=2), dict(**{'x': 1}), f(**collections.OrderedDict(z=3)),\n"
        "        f(**{S('s'): 4})]"
    )
    assert await run_ok(any_executor, program) == [  # type: ignore[arg-type]
        {"a": 3}, [5, "inner"], 5, "in the class", [["a", 1], ["b", 2]], {"x": 1}, [["z", 3]], [["s", 4]],
    ]


def test_checked_kwargs_is_cpythons_rule_applied_first() -> None:
    plain = {"a": 1}
    assert checked_kwargs(plain) is plain
    with pytest.raises(TypeError, match="key of type int"):
        checked_kwargs({"a": 1, 2: 3})
    with pytest.raises(TypeError, match="must be a mapping"):
        checked_kwargs([("a", 1)])
