"""The program's event loop (`WorkerLoop`): timers, cross-thread wake-ups, and no I/O."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import pytest

from engine.sandbox.loop import WorkerLoop

HANG_BOUND = 5.0
"""Seconds after which a stuck loop is given up on: a bound on a hang, not a speed."""


@pytest.fixture
def loop() -> WorkerLoop:
    worker_loop = WorkerLoop()
    yield worker_loop
    worker_loop.close()


class SelectRecord:
    """Records each timeout the loop's selector is asked to wait for, and tells another thread
    when the loop waits with none (`None`: only a wake-up can end that wait)."""

    def __init__(self, loop: WorkerLoop) -> None:
        self.timeouts: list[float | None] = []
        self.waiting_for_a_wake_up = threading.Event()
        selector = loop._waker  # the loop's own selector, watched
        select = selector.select

        def recorded(timeout: float | None = None) -> list[Any]:
            self.timeouts.append(timeout)
            if timeout is None:
                self.waiting_for_a_wake_up.set()
            return select(timeout)

        selector.select = recorded  # type: ignore[method-assign]


def guard(loop: WorkerLoop, future: asyncio.Future[Any]) -> threading.Timer:
    """Cancel `future` after a while: a bound on a hang, not a speed."""
    timer = threading.Timer(HANG_BOUND, lambda: loop.call_soon_threadsafe(future.cancel))
    timer.start()
    return timer


def test_a_call_from_another_thread_wakes_a_loop_that_has_nothing_else_to_do(loop: WorkerLoop) -> None:
    # The call is made once the loop waits with no timeout (no timer is pending): only the
    # wake-up can end that wait. Without it the loop would wait forever.
    record = SelectRecord(loop)
    future = loop.create_future()

    def later() -> None:
        if record.waiting_for_a_wake_up.wait(HANG_BOUND):
            loop.call_soon_threadsafe(future.set_result, "woken")

    thread = threading.Thread(target=later)
    thread.start()
    timer = guard(loop, future)
    try:
        assert loop.run_until_complete(future) == "woken"
        assert None in record.timeouts
    finally:
        timer.cancel()
        thread.join()


def test_many_wake_ups_are_served_and_none_is_left_over(loop: WorkerLoop) -> None:
    seen: list[int] = []
    done = loop.create_future()

    def flood() -> None:
        for i in range(200):
            loop.call_soon_threadsafe(seen.append, i)
        loop.call_soon_threadsafe(done.set_result, None)

    thread = threading.Thread(target=flood)
    thread.start()
    loop.run_until_complete(done)
    thread.join()
    assert seen == list(range(200))
    # Every wake-up is consumed by one pass: the next run makes zero-timeout selects only (it
    # never blocks), and none of the 201 wake-ups is still queued after it.
    record = SelectRecord(loop)
    loop.run_until_complete(asyncio.sleep(0))
    assert record.timeouts and set(record.timeouts) == {0}
    assert loop._waker._wakeups.empty()


def test_timers_fire_on_time(loop: WorkerLoop) -> None:
    # The loop sleeps in one select until the timer is due (no busy polling, no endless wait),
    # and the timer never fires early.
    record = SelectRecord(loop)
    fired: list[float] = []
    due = loop.time() + 0.05
    loop.call_at(due, lambda: fired.append(loop.time()))
    sleeper = loop.create_task(asyncio.sleep(0.06))
    timer = guard(loop, sleeper)
    try:
        loop.run_until_complete(sleeper)
    finally:
        timer.cancel()
    # asyncio runs a timer once its clock is within the clock's resolution of the due time.
    assert len(fired) == 1 and fired[0] >= due - time.get_clock_info("monotonic").resolution
    waits = [t for t in record.timeouts if t]
    assert None not in record.timeouts
    assert waits and all(0 < t <= 0.06 for t in waits)
    assert len(waits) <= 4, record.timeouts


def test_the_loop_refuses_file_descriptors(loop: WorkerLoop) -> None:
    left, right = socket.socketpair()
    try:
        with pytest.raises(NotImplementedError, match="no I/O"):
            loop.add_reader(left.fileno(), lambda: None)
        with pytest.raises(NotImplementedError, match="no I/O"):
            loop.add_writer(right.fileno(), lambda: None)
    finally:
        left.close()
        right.close()


def test_close_is_clean_and_later_calls_are_refused() -> None:
    loop = WorkerLoop()
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    assert loop.is_closed()
    with pytest.raises(RuntimeError):
        loop.call_soon_threadsafe(lambda: None)
