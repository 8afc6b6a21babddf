"""Item writes to a local that surely holds a plain dict or list skip the `_write_` test (`keys.sure_containers`).

The test is left out only where every binding of the name anywhere in its function is a dict or
list display or comprehension; any other binding (or none in the function) keeps it. The shortcut
is judged on the source, so these tests read the policy's output, then check that programs keep
their meaning and that a name which is not surely a container still cannot be written through.
"""

from __future__ import annotations

import ast

import pytest

from engine.executors.base import Executor
from engine.sandbox.compiler import parse
from engine.sandbox.policy import SandboxPolicy

from .test_hardening import run_ok

pytestmark = pytest.mark.anyio


def _guarded(code: str) -> bool:
    """Whether the policy's output for `code` still writes to `counts` through `_write_`."""
    errors: list[str] = []
    tree = SandboxPolicy(errors, [], {}).visit(parse(code))
    assert errors == []
    text = ast.unparse(tree)
    assert "counts" in text
    return "_write_(counts)" in text


SURE = {
    "a dict display": "def f(k):\n    counts = {}\n    counts[k] = 1\n    return counts\n",
    "a list display": "def f(k):\n    counts = [0]\n    counts[0] = k\n    return counts\n",
    "a dict comprehension": "def f(xs):\n    counts = {x: 0 for x in xs}\n    counts['a'] = 1\n",
    "a list comprehension": "def f(xs):\n    counts = [x for x in xs]\n    counts[0] = 1\n",
    "two displays": "def f(k):\n    counts = {}\n    if k:\n        counts = [1]\n    counts[0] = 2\n",
    "an annotated display": "def f(k):\n    counts: dict = {}\n    counts[k] = 1\n",
    "an item deleted": "def f(k):\n    counts = {k: 1}\n    del counts[k]\n",
    "an item added to": "def f(k):\n    counts = {k: 1}\n    counts[k] += 1\n",
    "in a nested function": "def f(k):\n    counts = {}\n    def g():\n        counts[k] = 1\n    g()\n",
}

NOT_SURE = {
    "the program's top level (a global)": "counts = {}\ncounts['a'] = 1\n",
    "another binding": "def f(other):\n    counts = {}\n    counts = other\n    counts[0] = 1\n",
    "a parameter": "def f(counts):\n    counts['a'] = 1\n",
    "a walrus": "def f(x):\n    counts = {}\n    if (counts := x):\n        counts[0] = 1\n",
    "a for target": "def f(xs):\n    counts = {}\n    for counts in xs:\n        counts[0] = 1\n",
    "a global declaration": "def f():\n    global counts\n    counts = {}\n    counts[0] = 1\n",
    "a del of the name": "def f(x):\n    counts = {}\n    del counts\n    counts[0] = 1\n",
    "an except target": "def f():\n    counts = {}\n    try:\n        pass\n    except Exception as counts:\n"
                        "        pass\n    counts[0] = 1\n",
    "an import": "def f():\n    counts = {}\n    import math as counts\n    counts[0] = 1\n",
    "a with target": "def f(cm):\n    counts = {}\n    with cm as counts:\n        counts[0] = 1\n",
    "tuple unpacking": "def f(pair):\n    counts = {}\n    counts, other = pair\n    counts[0] = 1\n",
    "a chained assignment": "def f(x):\n    counts = other = x\n    counts[0] = 1\n",
    "an augmented assignment": "def f(x):\n    counts = {}\n    counts |= x\n    counts[0] = 1\n",
    "a nested function's own binding": "def f(x):\n    counts = {}\n    def g():\n        counts = x\n"
                                        "        counts[0] = 1\n    g()\n",
    "a comprehension variable": "def g(xs):\n    counts = {}\n    [counts for counts in xs]\n    counts[0] = 1\n",
    "a lambda parameter": "def f(x):\n    counts = {}\n    g = lambda counts: counts\n    counts[0] = 1\n",
    "a class body binding": "def f(x):\n    counts = {}\n    class C:\n        counts = x\n        counts[0] = 1\n",
    "a name bound only in a nested function": "def f(x):\n    def g():\n        counts = {}\n    counts[0] = 1\n",
    "a name bound only in a nested class": "def f(x):\n    class C:\n        counts = {}\n    counts[0] = 1\n",
}


@pytest.mark.parametrize("code", list(SURE.values()), ids=list(SURE))
def test_a_sure_container_is_written_without_the_test(code: str) -> None:
    assert not _guarded(code)


@pytest.mark.parametrize("code", list(NOT_SURE.values()), ids=list(NOT_SURE))
def test_any_other_binding_keeps_the_test(code: str) -> None:
    assert _guarded(code)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


async def test_programs_keep_their_meaning(any_executor: Executor) -> None:
    program = (
        "def tally(words):\n"
        "    counts = {}\n"
        "    order = []\n"
        "    for w in words:\n"
        "        counts[w] = counts.get(w, 0) + 1\n"
        "        order.append(w)\n"
        "    order[0] = order[0].upper()\n"
        "    order[1:3] = ['x']\n"
        "    counts['b'] += 10\n"
        "    del counts['c']\n"
        "    return [sorted(counts.items()), order]\n"
        "return tally(['a', 'b', 'c', 'b', 'a', 'd'])"
    )
    assert await run_ok(any_executor, program) == [  # type: ignore[arg-type]
        [["a", 2], ["b", 12], ["d", 1]], ["A", "x", "b", "a", "d"],
    ]


async def test_a_name_that_may_not_be_a_container_is_still_written_through_the_guard(
    any_executor: Executor,
) -> None:
    # `counts` is a dict display in one branch and a facade module in the other: the write keeps
    # `_write_`, which refuses to write into anything but the program's containers and objects.
    program = (
        "import math\n"
        "def f(flag):\n"
        "    counts = {}\n"
        "    if flag:\n"
        "        counts = math\n"
        "    counts['pi'] = 3\n"
        "    return 'wrote'\n"
        "try:\n"
        "    f(True)\n"
        "except Exception as exc:\n"
        "    return [type(exc).__name__, math.pi > 3.14, f(False)]\n"
        "return 'no error'"
    )
    assert await run_ok(any_executor, program) == ["TypeError", True, "wrote"]  # type: ignore[arg-type]
