"""Findings of an independent review of the issue-13 hardening (builtin stand-ins, bounded
comparisons and texts), each an attack that got through; now fixed and kept as regression tests,
with ordinary uses of the same features at the end (the fixes must not break them).

The DAGs here are small enough (22 levels) that the native call ends within seconds, so a test
cannot hang the suite; at 40-60 levels the same programs hold the GIL for as long as they like.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.executors.restricted import RestrictedExecutor

from .test_hardening import anyio_backend, run_attack, run_ok  # noqa: F401  (a fixture)

pytestmark = pytest.mark.anyio

DAG = "x = []\nfor i in range(22):\n    x = [x, x]\n"
"""A list of 23 objects whose text is 2**22 copies of `[]`: about 25 million characters."""

UNSIZED_TEXT: dict[str, str] = {
    # `ChainMap.__repr__` is library Python that calls the real `repr` on its maps; the text guard
    # does not walk a ChainMap (it is not a dict), so the inner dict's repr runs unchecked in C.
    "repr of a ChainMap": DAG + "from collections import ChainMap\nreturn len(repr(ChainMap({'a': x})))",
    "str of a ChainMap": DAG + "from collections import ChainMap\nreturn len(str(ChainMap({'a': x})))",
    "f-string of a ChainMap": DAG + "from collections import ChainMap\nreturn len(f'{ChainMap({0: x})}')",
    # json.dumps sizes its argument, but not what its `default=` hook returns mid-encoding: the C
    # encoder then writes every path of the DAG (25 million characters here, unbounded at 40 levels).
    # `asyncio.Queue.__repr__` is library Python that shows `list(self._queue)` with the real `repr`.
    "repr of an asyncio.Queue": DAG + "import asyncio\nq = asyncio.Queue()\nq.put_nowait(x)\nreturn len(repr(q))",
    "json default hook returns a DAG": DAG + "import json\nclass A:\n    pass\n"
    "return len(json.dumps([A()], default=lambda o: x))",
}


@pytest.mark.parametrize("code", list(UNSIZED_TEXT.values()), ids=list(UNSIZED_TEXT))
async def test_text_of_shared_structure_is_bounded_everywhere(
    shared_executor: RestrictedExecutor, tmp_path: Path, code: str  # noqa: F811
) -> None:
    out = await run_attack(shared_executor, code, tmp_path)
    assert out["error_info"]["type"] == "MemoryError", out["error"]


CHAINMAP = DAG + "y = []\nfor i in range(22):\n    y = [y, y]\nfrom collections import ChainMap\n"

UNBOUNDED_COMPARE: dict[str, str] = {
    # `ChainMap.__eq__` is library Python: `dict(self.items()) == dict(other.items())`, a native
    # comparison the program's `==` guard never sees (it does not walk a ChainMap).
    "ChainMap == ChainMap": CHAINMAP + "return ChainMap({1: x}) == ChainMap({1: y})",
    "ChainMap == dict": CHAINMAP + "return ChainMap({1: x}) == {1: y}",
}


@pytest.mark.parametrize("code", list(UNBOUNDED_COMPARE.values()), ids=list(UNBOUNDED_COMPARE))
async def test_chainmap_comparison_is_bounded(
    shared_executor: RestrictedExecutor, tmp_path: Path, code: str  # noqa: F811
) -> None:
    out = await run_attack(shared_executor, code, tmp_path)
    assert out["error_info"]["type"] == "MemoryError", out["error"]


async def test_error_message_of_a_chainmap_is_bounded(
    shared_executor: RestrictedExecutor, tmp_path: Path  # noqa: F811
) -> None:
    # The engine's own error formatting makes the whole text (25 million characters here, holding
    # the GIL for seconds; unbounded at 60 levels) before it cuts the message short.
    out = await run_attack(shared_executor, CHAINMAP + "raise ValueError(ChainMap({1: x}))", tmp_path)
    assert "too big to show" in out["error"], out["error"][:200]


async def test_print_of_a_chainmap_is_bounded(
    shared_executor: RestrictedExecutor, tmp_path: Path  # noqa: F811
) -> None:
    out = await run_attack(shared_executor, CHAINMAP + "print(ChainMap({1: x}))\nreturn 1", tmp_path)
    assert out["error_info"]["type"] == "MemoryError", out["error"]


OWN_INIT = "class F({base}):\n    def __init__(self, v):\n        pass\n"
"""A subclass whose `__init__` ignores its argument: the stand-in's metaclass then skips its guard,
but the real class's `__new__` (str, frozenset) still consumes the argument in one native call."""

SUBCLASS_NEW: dict[str, str] = {
    "frozenset subclass, colliding keys": OWN_INIT.format(base="frozenset")
    + "return len(F([(2**61 - 1) * i for i in range(15000)]))",
    "frozenset subclass, DAG tuple key": "x = ()\nfor i in range(22):\n    x = (x, x)\n"
    + OWN_INIT.format(base="frozenset") + "return len(F([x]))",
    "str subclass, DAG text": DAG + OWN_INIT.format(base="str") + "return len(F(x))",
}


@pytest.mark.parametrize("code", list(SUBCLASS_NEW.values()), ids=list(SUBCLASS_NEW))
async def test_subclass_with_own_init_is_checked_in_new(
    shared_executor: RestrictedExecutor, tmp_path: Path, code: str  # noqa: F811
) -> None:
    out = await run_attack(shared_executor, code, tmp_path)
    assert out["error_info"]["type"] == "MemoryError", out["error"]


ORDINARY: dict[str, tuple[str, object]] = {
    "str subclass with its own __init__": (
        "class A(str):\n    def __init__(self, v):\n        self.v = v\na = A(12)\nreturn [a, a.v, a.upper()]",
        ["12", 12, "12"],
    ),
    "frozenset subclass with its own __init__ gets the iterator as written": (
        "class B(frozenset):\n    def __init__(self, it):\n        self.rest = list(it)\n"
        "b = B(i for i in range(3))\nreturn [sorted(b), b.rest]",
        [[0, 1, 2], []],
    ),
    "tuple subclass with its own __init__": (
        "class C(tuple):\n    def __init__(self, it):\n        self.k = 1\nc = C([1, 2])\nreturn [list(c), c.k]",
        [[1, 2], 1],
    ),
    "ChainMap text and comparison": (
        "from collections import ChainMap\nc = ChainMap({'a': 1}, {'b': [2]})\n"
        "return [repr(c), c == {'a': 1, 'b': [2]}, c == ChainMap({'a': 2})]",
        ["ChainMap({'a': 1}, {'b': [2]})", True, False],
    ),
    "asyncio.Queue text": (
        "import asyncio\nq = asyncio.Queue()\nq.put_nowait([1, 2])\nreturn '_queue=[[1, 2]]' in repr(q)",
        True,
    ),
    "json default hook": (
        "import json\nclass A:\n    pass\n"
        "return json.dumps([A(), {1}], default=lambda o: [1, 2] if isinstance(o, A) else sorted(o))",
        "[[1, 2], [1]]",
    ),
}


@pytest.mark.parametrize("case", list(ORDINARY.values()), ids=list(ORDINARY))
async def test_ordinary_code_still_works_after_the_fixes(
    shared_executor: RestrictedExecutor, case: tuple[str, object]  # noqa: F811
) -> None:
    code, expected = case
    assert await run_ok(shared_executor, code) == expected
