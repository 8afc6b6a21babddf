"""The `asyncio` facade: concurrency for the program without the event loop or its tasks.

Every task the program starts (directly, or through `gather`, `wait_for`, `as_completed`) is
registered with the current run, so the runner can cancel and await it when the program ends:
no task outlives its execution. The program receives `TaskHandle`s, never `asyncio.Task`s,
because a task leads to its loop (`get_loop`), its coroutine and its stack.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Generator, Iterable, Iterator
from typing import Any

from .context import current

__all__ = ["TaskHandle", "build_asyncio_facade"]


class TaskHandle:
    """What `asyncio.create_task` returns inside the sandbox: await it, cancel it, ask about it."""

    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._task = task

    def __await__(self) -> Generator[Any, None, Any]:
        return self._task.__await__()

    def done(self) -> bool:
        return self._task.done()

    def cancelled(self) -> bool:
        return self._task.cancelled()

    def cancel(self, msg: Any = None) -> bool:
        return self._task.cancel(msg)

    def result(self) -> Any:
        return self._task.result()

    def exception(self) -> BaseException | None:
        return self._task.exception()

    def __repr__(self) -> str:
        state = "done" if self._task.done() else "pending"
        return f"<Task {state}>"


def _own(aw: Any) -> asyncio.Future[Any]:
    """Turn an awaitable into a task (or future) owned by the current run."""
    if isinstance(aw, TaskHandle):
        return aw._task
    if isinstance(aw, asyncio.Future):
        return aw
    run = current()
    loop = asyncio.get_running_loop()
    if asyncio.iscoroutine(aw):
        task = loop.create_task(aw)
    elif isinstance(aw, Awaitable):
        task = loop.create_task(_await(aw))
    else:
        raise TypeError(f"an awaitable is required, not {type(aw).__name__}")
    run.tasks.add(task)
    task.add_done_callback(run.tasks.discard)
    task.add_done_callback(_retrieve)
    return task


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark the task's exception as seen: a program's failed or stopped tasks must not reach the
    host's log as "Task exception was never retrieved" (with engine tracebacks) when collected."""
    if not task.cancelled():
        task.exception()


async def _await(aw: Awaitable[Any]) -> Any:
    return await aw


def create_task(coro: Any, *, name: str | None = None) -> TaskHandle:
    """Start `coro` concurrently; it is cancelled if still running when the program ends."""
    if not asyncio.iscoroutine(coro):
        raise TypeError("create_task() needs a coroutine")
    task = _own(coro)
    assert isinstance(task, asyncio.Task)
    return TaskHandle(task)


async def gather(*aws: Any, return_exceptions: bool = False) -> list[Any]:
    """Run the awaitables concurrently; return their results in order."""
    futures = [_own(aw) for aw in aws]
    return list(await asyncio.gather(*futures, return_exceptions=return_exceptions))


async def wait_for(aw: Any, timeout: float | None) -> Any:
    """Await `aw`, cancelling it after `timeout` seconds (raises `TimeoutError`)."""
    return await asyncio.wait_for(_own(aw), timeout)


def as_completed(aws: Iterable[Any], *, timeout: float | None = None) -> Iterator[Any]:
    """Iterate over awaitables in completion order."""
    return iter(asyncio.as_completed([_own(aw) for aw in aws], timeout=timeout))


async def sleep(delay: float, result: Any = None) -> Any:
    """Sleep `delay` seconds (the wall-clock limit still applies)."""
    return await asyncio.sleep(delay, result)


def build_asyncio_facade() -> dict[str, Any]:
    """The names of the `asyncio` facade."""
    return {
        "gather": gather,
        "sleep": sleep,
        "wait_for": wait_for,
        "as_completed": as_completed,
        "create_task": create_task,
        "Semaphore": asyncio.Semaphore,
        "BoundedSemaphore": asyncio.BoundedSemaphore,
        "Lock": asyncio.Lock,
        "Event": asyncio.Event,
        "Queue": asyncio.Queue,
        "QueueEmpty": asyncio.QueueEmpty,
        "QueueFull": asyncio.QueueFull,
        "TimeoutError": asyncio.TimeoutError,
        "CancelledError": asyncio.CancelledError,
    }
