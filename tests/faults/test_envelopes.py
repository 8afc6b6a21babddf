"""Finding 5 of issue 14 and F5 of the security review, on the E2B executor (through the envd
stand-in, where a program has full Python): a guest that dies keeps the output it streamed; a
forged `done` payload is checked like untrusted data (finite usage, plain results, a dict)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from engine.executors import Executor
from engine.limits import Limits
from tests.executors.conftest import FACTORIES, Backend, run_program
from tests.executors.e2b_standin import EnvdStandIn

pytestmark = pytest.mark.anyio

# The guest's own objects, as a program with full Python can reach them.
FORGE = """
import gc
from engine.kernel import protocol as P
guest = [o for o in gc.get_objects() if type(o).__name__ == "Guest"][0]
me = max(guest._runs)
guest.send_frame(me, P.done_frame(me, PAYLOAD))
await asyncio.sleep(600)
"""


@pytest.fixture(scope="module")
def envd() -> Iterator[EnvdStandIn]:
    with EnvdStandIn() as server:
        yield server


@pytest.fixture
async def e2b(envd: EnvdStandIn) -> AsyncIterator[Executor]:
    executor = FACTORIES["e2b"](envd)
    try:
        yield executor
    finally:
        await executor.aclose()


async def test_a_guest_that_dies_keeps_the_output_it_streamed(e2b: Executor) -> None:
    # The tool call's round trip carries the printed line to the host before the guest dies.
    code = 'print("before the crash")\nawait demo_server.echo(text="x")\nimport os\nos._exit(3)\n'
    out = await run_program(e2b, code, limits=Limits(timeout=20))
    assert out["error_info"] is not None and out["error_info"]["type"] == "SandboxCrashed", out["error"]
    assert out["logs"] == ["before the crash"]
    assert [call["outcome"] for call in out["tool_calls"]] == ["ok"]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("[1, 2, 3]", "BridgeError: the guest's done payload is a list, not a dict"),
        ('{"result": {b"k": 1}}', "TypeError: result: dict key of type 'bytes' is not a string"),
        ('{"result": (lambda x: [[x := [x] for _ in range(300)], x][1])(0)}', "nested more than 100 levels deep"),
    ],
    ids=["not-a-dict", "bytes-key", "deep"],
)
async def test_a_forged_done_payload_is_refused_with_the_reason(e2b: Executor, payload: str, expected: str) -> None:
    out = await run_program(e2b, f"PAYLOAD = {payload}\n{FORGE}", limits=Limits(timeout=20))
    assert out["result"] is None
    assert out["error"] is not None and expected in out["error"]


@pytest.mark.parametrize("number", ['float("inf")', 'float("nan")', "-5"])
async def test_forged_usage_counts_only_finite_numbers(e2b: Executor, number: str) -> None:
    payload = f'{{"result": 1, "usage": {{"output_chars": {number}, "cpu_time": {number}}}}}'
    out = await run_program(e2b, f"PAYLOAD = {payload}\n{FORGE}", limits=Limits(timeout=20))
    assert out["error"] is None and out["result"] == 1
    assert out["usage"]["output_chars"] == 0 and out["usage"]["cpu_time"] == 0.0


async def test_a_call_in_flight_when_the_guest_dies_is_in_the_record(e2b: Executor) -> None:
    # `meet(n=2)` waits at the backend for a second caller that never comes; the echo after it
    # leaves later (the host reads frames in order), and once it is answered the guest dies.
    code = (
        "import asyncio, os\n"
        "waiting = asyncio.create_task(demo_server.meet(n=2))\n"
        "await asyncio.sleep(0)\n"
        'await demo_server.echo(text="x")\n'
        "os._exit(3)\n"
    )
    backend = Backend()
    out = await run_program(e2b, code, backend, limits=Limits(timeout=20))
    assert out["error_info"] is not None and out["error_info"]["type"] == "SandboxCrashed", out["error"]
    assert [tool for _, tool, _ in backend.calls] == ["meet", "echo"]
    calls = out["tool_calls"]
    assert [call["tool"] for call in calls] == ["demo-server.meet", "demo-server.echo"]
    assert calls[0]["outcome"] in ("unknown", "cancelled") and calls[1]["outcome"] == "ok"
