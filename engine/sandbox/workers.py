"""Threads the programs run on, and the watchdog that enforces time and memory limits.

`WorkerPool` keeps idle daemon threads and reuses them, so a run costs a hand-off instead of a
thread start. A thread whose program could not be stopped (stuck in native code) is abandoned:
it is never returned to the pool. `Watchdog` is one thread per executor that polls every active
run a few hundred times a second: wall clock, the worker thread's own CPU clock (so time spent
waiting on tools is not charged), and the process's resident memory.
"""

from __future__ import annotations

import concurrent.futures
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from .context import RunState

__all__ = ["Watchdog", "WorkerPool", "process_rss"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_rss() -> int:
    """Resident memory of this process in bytes (0 where unknown)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class _Worker(threading.Thread):
    def __init__(self, pool: WorkerPool) -> None:
        super().__init__(name="sandbox-worker", daemon=True)
        self.pool = pool
        self.jobs: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self.abandoned = False

    def run(self) -> None:
        while True:
            item = self.jobs.get()
            if item is None:
                return
            fn, future = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:  # the job reports everything; this is a last resort
                    future.set_exception(exc)
            if not self.pool._release(self):
                return


class WorkerPool:
    """Reusable daemon threads, one program at a time each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False

    def submit(self, fn: Callable[[], Any]) -> tuple[concurrent.futures.Future[Any], _Worker]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the executor is closed")
            worker = self._idle.pop() if self._idle else None
            start = worker is None
            if worker is None:
                worker = _Worker(self)
            self._busy.add(worker)
        if start:
            worker.start()
        worker.jobs.put((fn, future))
        return future, worker

    def abandon(self, worker: _Worker) -> None:
        """Never reuse `worker` (its program is stuck); it exits if it ever finishes."""
        worker.abandoned = True

    def _release(self, worker: _Worker) -> bool:
        with self._lock:
            self._busy.discard(worker)
            if self._closed or worker.abandoned:
                return False
            self._idle.append(worker)
            return True

    def threads(self) -> list[threading.Thread]:
        with self._lock:
            return [*self._idle, *self._busy]

    def close(self) -> list[threading.Thread]:
        """Stop idle workers; busy ones exit when their job ends. Returns every thread."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = list(self._busy)
        for worker in idle:
            worker.jobs.put(None)
        return [*idle, *busy]


class _Watched:
    __slots__ = ("run", "deadline", "cpu_budget", "rss_base", "memory_limit")

    def __init__(self, run: RunState, deadline: float, cpu_budget: float, rss_base: int, memory_limit: int) -> None:
        self.run = run
        self.deadline = deadline
        self.cpu_budget = cpu_budget
        self.rss_base = rss_base
        self.memory_limit = memory_limit


class Watchdog:
    """Stops runs that go over their wall-clock, CPU-time or memory limit."""

    INTERVAL = 0.004

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[int, _Watched] = {}
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def watch(self, run: RunState) -> None:
        limits = run.limits
        item = _Watched(run, time.monotonic() + limits.timeout, limits.effective_cpu_time, process_rss(),
                        limits.max_memory_bytes)
        with self._lock:
            self._runs[id(run)] = item
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name="sandbox-watchdog", daemon=True)
                self._thread.start()

    def unwatch(self, run: RunState) -> None:
        with self._lock:
            self._runs.pop(id(run), None)

    def close(self) -> threading.Thread | None:
        self._closed = True
        self._wake.set()
        return self._thread

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self.INTERVAL)
            with self._lock:
                items = list(self._runs.values())
            if not items:
                continue
            now = time.monotonic()
            rss = process_rss()
            for item in items:
                self._check(item, now, rss)

    @staticmethod
    def _check(item: _Watched, now: float, rss: int) -> None:
        run = item.run
        grown = max(rss - item.rss_base, 0)
        if grown > run.peak_memory:
            run.peak_memory = grown
        if run.stopped:
            return
        if now >= item.deadline:
            run.stop(f"the program exceeded its wall-clock limit of {run.limits.timeout:g} s", "TimeoutError")
        elif run.cpu_clock is not None and _cpu(run.cpu_clock) - run.cpu_start > item.cpu_budget:
            run.stop(f"the program exceeded its CPU-time limit of {item.cpu_budget:g} s", "TimeoutError")
        elif grown > item.memory_limit:
            run.stop(
                f"the program grew the process by {grown} bytes, over its limit of {item.memory_limit}",
                "MemoryError",
            )


def _cpu(clock: int) -> float:
    try:
        return time.clock_gettime(clock)
    except OSError:  # the thread is gone
        return 0.0
