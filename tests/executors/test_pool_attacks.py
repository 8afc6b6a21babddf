"""Attacks on the `process` worker's one-thread channel (review of the one-thread worker).

Each test is an attack found in review, fixed since:
it then passes, and the marker must go. Every test also checks the host is unharmed afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from engine.executors.process import ProcessExecutor
from engine.executors.restricted import RestrictedExecutor
from engine.limits import Limits

from .conftest import run_program

pytestmark = pytest.mark.anyio


@pytest.fixture
async def process() -> AsyncIterator[ProcessExecutor]:
    executor = ProcessExecutor(memory_mb=256, min_workers=1, max_workers=2)
    try:
        yield executor
    finally:
        with anyio.fail_after(15):
            await executor.aclose()


# A RecursionError raised in the worker's own channel code (the program is at its recursion limit
# when it prints or calls a tool) can land after `Channel.record` numbered the record and before it
# was written: the host then drops every later record of the worker (a sequence gap), `done`
# included, and the run ends as a host-deadline kill instead of its own result.
PRINT_AT_THE_LIMIT = """
def f(n):
    try:
        print(n)
    except RecursionError:
        pass
    return f(n + 1)
try:
    f(0)
except RecursionError:
    pass
return 'finished'
"""

CALL_AT_THE_LIMIT = """
async def f(n):
    try:
        await demo_server.echo(text=str(n))
    except Exception:  # RecursionError; in-process, the call's own hop may fail first
        pass
    return await f(n + 1)
try:
    await f(0)
except RecursionError:
    pass
return 'finished'
"""

AT_THE_LIMIT = Limits(timeout=3, max_tool_calls=1000, max_output_chars=1_000_000)


@pytest.mark.parametrize("code", [PRINT_AT_THE_LIMIT, CALL_AT_THE_LIMIT], ids=["print", "tool-call"])
async def test_in_process_a_program_at_its_recursion_limit_finishes(code: str) -> None:
    # The reference: the same program on the in-process sandbox returns its own result.
    async with RestrictedExecutor() as restricted:  # closed: its threads must not outlive the test
        out = await run_program(restricted, code, limits=AT_THE_LIMIT)
    assert out["result"] == "finished", out["error"]


@pytest.mark.parametrize("code", [PRINT_AT_THE_LIMIT, CALL_AT_THE_LIMIT], ids=["print", "tool-call"])
async def test_a_program_at_its_recursion_limit_still_reaches_the_host(process: ProcessExecutor, code: str) -> None:
    try:
        out = await run_program(process, code, limits=AT_THE_LIMIT)
        assert out["result"] == "finished", out["error"]
    finally:
        after = await run_program(process, "print('still here')\nreturn 'after'")
        assert (after["result"], after["logs"]) == ("after", ["still here"]), after["error"]
