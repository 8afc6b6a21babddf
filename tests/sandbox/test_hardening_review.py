"""Findings of an independent review of the issue-13 hardening (builtin stand-ins, bounded
comparisons and texts), each an attack that still gets through, kept as a strict xfail until fixed.

The DAGs here are small enough (22 levels) that the native call ends within seconds, so a test
cannot hang the suite; at 40-60 levels the same programs hold the GIL for as long as they like.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.executors.restricted import RestrictedExecutor

from .test_hardening import anyio_backend, run_attack, shared_executor  # noqa: F401  (fixtures)

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
    "json default hook returns a DAG": DAG + "import json\nclass A:\n    pass\n"
    "return len(json.dumps([A()], default=lambda o: x))",
}


@pytest.mark.xfail(strict=True, reason="review finding: text of a DAG made in native code past the guard")
@pytest.mark.parametrize("code", list(UNSIZED_TEXT.values()), ids=list(UNSIZED_TEXT))
async def test_text_of_shared_structure_is_bounded_everywhere(
    shared_executor: RestrictedExecutor, tmp_path: Path, code: str  # noqa: F811
) -> None:
    out = await run_attack(shared_executor, code, tmp_path)
    assert out["error_info"]["type"] == "MemoryError", out["error"]
