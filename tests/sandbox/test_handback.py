"""The host's short blocked wait for a run (`engine.sandbox.handback`): nothing is lost or stuck.

`Handback` itself is driven from real threads with barriers. Through the executor, the wait is
made as long as a test could last (`QUICK_WAIT` raised), so a program that needs the host loop while
the host is blocked would hang (and fail on the test timeout) unless posting ends the wait."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import anyio
import pytest

from engine.executors import restricted
from engine.executors.base import ExecutionRequest
from engine.executors.restricted import RestrictedExecutor
from engine.limits import Limits
from engine.sandbox.handback import Handback

from .helpers import ToolHost, make_request

pytestmark = pytest.mark.anyio

LONG_WAIT = 3600.0
"""A blocked wait no test outlives: only the worker's hand-over or `release` can end it."""


def _in_thread(target: object) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_an_offer_reaches_the_waiting_host_once() -> None:
    handback: Handback[str] = Handback(waits=True)
    offered: list[bool] = []
    worker = _in_thread(lambda: offered.append(handback.offer("outcome")))
    assert handback.wait(LONG_WAIT) == "outcome"
    worker.join()
    assert offered == [True]
    assert handback.offer("again") is False  # handed over once: a second one goes through the loop


def test_release_ends_the_wait_without_an_outcome_and_the_outcome_goes_through_the_loop() -> None:
    handback: Handback[str] = Handback(waits=True)
    released = threading.Event()
    offered: list[bool] = []

    def worker() -> None:
        handback.release()
        released.set()

    thread = _in_thread(worker)
    assert handback.wait(LONG_WAIT) is None
    thread.join()
    assert released.is_set()
    offered.append(handback.offer("outcome"))
    assert offered == [False]


def test_a_wait_that_times_out_leaves_the_outcome_to_the_loop() -> None:
    handback: Handback[str] = Handback(waits=True)
    assert handback.wait(0.001) is None
    assert handback.offer("late") is False


def test_an_outcome_offered_before_the_wait_is_still_handed_over() -> None:
    handback: Handback[str] = Handback(waits=True)
    assert handback.offer("early") is True
    assert handback.wait(LONG_WAIT) == "early"


def test_a_handback_that_does_not_wait_refuses_every_offer() -> None:
    handback: Handback[str] = Handback(waits=False)
    assert handback.offer("outcome") is False


@pytest.fixture
def long_wait(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Handback[object]]]:
    """The executor's blocked wait made as long as `LONG_WAIT`; every `Handback` made is recorded."""
    made: list[Handback[object]] = []

    class Recorded(Handback[object]):
        __slots__ = ()

        def __init__(self, waits: bool) -> None:
            super().__init__(waits)
            made.append(self)

    monkeypatch.setattr(restricted, "QUICK_WAIT", LONG_WAIT)
    monkeypatch.setattr(restricted, "Handback", Recorded)
    yield made


async def test_a_quick_run_alone_is_handed_back_directly(long_wait: list[Handback[object]]) -> None:
    async with RestrictedExecutor() as executor:
        out = await executor.run(ExecutionRequest("return 41 + 1"))
    assert out["error"] is None and out["result"] == 42
    assert [handback.waits for handback in long_wait] == [True]


GATHERED = """
import asyncio
replies = await asyncio.gather(*[tools.echo(n=i) for i in range(5)])
return sum(reply["n"] for reply in replies)
"""


@pytest.mark.parametrize(
    ("code", "result", "calls"),
    [
        ("return (await tools.echo(n=1))['n']", 1, 1),  # a tool call needs the host loop
        (GATHERED, 10, 5),
    ],
)
async def test_a_program_that_calls_a_tool_ends_the_wait(
    long_wait: list[Handback[object]], code: str, result: int, calls: int
) -> None:
    host = ToolHost()
    async with RestrictedExecutor() as executor:
        out = await executor.run(make_request(code, host))
    assert out["error"] is None, out["error"]
    assert out["result"] == result
    assert host.calls == calls
    assert [handback.waits for handback in long_wait] == [True]  # it did start with the blocked wait


async def test_streamed_output_ends_the_wait(long_wait: list[Handback[object]]) -> None:
    streamed: list[str] = []
    code = "print('first')\nprint('second')\nreturn 1"
    request = ExecutionRequest(code, on_log=lambda text, _: streamed.append(text))
    async with RestrictedExecutor() as executor:
        out = await executor.run(request)
    assert out["error"] is None and out["result"] == 1
    assert "".join(streamed) == "first\nsecond\n"
    assert out["logs"] == ["first", "second"]


async def test_a_run_started_beside_another_never_blocks_the_host(long_wait: list[Handback[object]]) -> None:
    host = ToolHost()
    async with RestrictedExecutor() as executor:
        async with anyio.create_task_group() as group:
            results: dict[str, object] = {}

            async def first() -> None:
                # Held on the host until the second run has been started: both are in flight.
                out = await executor.run(make_request("return (await tools.meet(n=2))['met']", host))
                results["first"] = out["result"]

            async def second() -> None:
                out = await executor.run(make_request("return (await tools.meet(n=2))['met']", host))
                results["second"] = out["result"]

            group.start_soon(first)
            group.start_soon(second)
    assert results == {"first": True, "second": True}
    assert len(long_wait) == 2
    assert long_wait[0].waits is True and long_wait[1].waits is False


async def test_a_run_over_the_wait_is_delivered_through_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[object] = []

    class Recorded(Handback[object]):
        __slots__ = ()

        def wait(self, timeout: float) -> object:
            outcome = super().wait(timeout)
            waited.append(outcome)
            return outcome

    monkeypatch.setattr(restricted, "QUICK_WAIT", 0.0)
    monkeypatch.setattr(restricted, "Handback", Recorded)
    code = "import asyncio\nawait asyncio.sleep(0.05)\ntotal = 0\nfor i in range(1000):\n    total += i\nreturn total"
    async with RestrictedExecutor() as executor:
        out = await executor.run(ExecutionRequest(code))
    assert waited == [None]  # the wait ended with the program still asleep: the loop delivered it
    assert out["error"] is None and out["result"] == sum(range(1000))


async def test_a_run_stopped_at_its_limit_while_the_host_waits_still_ends(
    long_wait: list[Handback[object]],
) -> None:
    async with RestrictedExecutor() as executor:
        out = await executor.run(ExecutionRequest("while True:\n    pass", limits=Limits(timeout=0.3)))
    assert out["status"] == "error"
    assert out["error_info"] is not None and out["error_info"]["type"] == "TimeoutError"


async def test_quick_runs_back_to_back_still_give_the_host_loop_turns(long_wait: list[Handback[object]]) -> None:
    # Every run here is handed back directly (the wait outlasts it), so none suspends on its own:
    # without the executor's turns, the other task would not run once until all of them ended.
    turns = 0

    async def other_task() -> None:
        nonlocal turns
        while True:
            turns += 1
            await anyio.sleep(0)

    async with RestrictedExecutor() as executor, anyio.create_task_group() as group:
        group.start_soon(other_task)
        await anyio.sleep(0)
        before = turns
        for _ in range(50):
            out = await executor.run(ExecutionRequest("return 1"))
            assert out["result"] == 1
        during = turns - before
        group.cancel_scope.cancel()
    assert all(handback.waits for handback in long_wait)
    assert during >= 1
