"""The `e2b` executor against real E2B: runs only with `E2B_API_KEY` set."""

from __future__ import annotations

import os

import pytest

from engine.executors.e2b import E2BExecutor

from .conftest import NAMESPACE, Backend, run_program

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("E2B_API_KEY"), reason="needs E2B_API_KEY"),
]


async def test_a_program_with_a_tool_call_runs_in_a_real_sandbox() -> None:
    executor = E2BExecutor(template=os.environ.get("ENGINE_E2B_TEMPLATE"))
    try:
        backend = Backend()
        code = f"import platform\nout = await {NAMESPACE}.echo(text='live')\nreturn [out, platform.system()]"
        envelope = await run_program(executor, code, backend, deadline=180)
        assert envelope["error"] is None, envelope["error"]
        assert envelope["result"] == [{"echo": {"text": "live"}}, "Linux"]
        assert len(backend.calls) == 1
        again = await run_program(executor, "return 2", deadline=60)
        assert again["result"] == 2
    finally:
        await executor.aclose()
