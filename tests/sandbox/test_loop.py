"""The program's event loop (`WorkerLoop`): timers, cross-thread wake-ups, and no I/O."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from engine.sandbox.loop import WorkerLoop


@pytest.fixture
def loop() -> WorkerLoop:
    worker_loop = WorkerLoop()
    yield worker_loop
    worker_loop.close()


def test_a_call_from_another_thread_wakes_a_loop_that_has_nothing_else_to_do(loop: WorkerLoop) -> None:
    # No timer is pending: only the wake-up can end `select`. Without it the loop would wait forever.
    future = loop.create_future()

    def later() -> None:
        time.sleep(0.05)
        loop.call_soon_threadsafe(future.set_result, "woken")

    thread = threading.Thread(target=later)
    thread.start()
    guard = threading.Timer(5.0, lambda: loop.call_soon_threadsafe(future.cancel))
    guard.start()
    try:
        started = time.monotonic()
        assert loop.run_until_complete(future) == "woken"
        assert time.monotonic() - started < 1.0
    finally:
        guard.cancel()
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
    # Every wake-up was consumed: a zero-timeout select has nothing to report and returns at once.
    started = time.monotonic()
    loop.run_until_complete(asyncio.sleep(0))
    assert time.monotonic() - started < 0.5


def test_timers_fire_on_time(loop: WorkerLoop) -> None:
    started = time.monotonic()
    loop.run_until_complete(asyncio.sleep(0.05))
    elapsed = time.monotonic() - started
    assert 0.045 <= elapsed < 0.5


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
