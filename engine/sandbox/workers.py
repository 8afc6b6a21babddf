"""Threads the programs run on, and the watchdog that enforces time and memory limits.

`WorkerPool` keeps idle daemon threads and reuses them, so a run costs a hand-off instead of a
thread start. A thread whose program could not be stopped (stuck in native code) is abandoned:
it is never returned to the pool. `Watchdog` is one thread per executor that polls every active
run a few hundred times a second: wall clock, the worker thread's own CPU clock (so time spent
waiting on tools is not charged), and the process's resident memory.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

from .context import RunState

__all__ = ["WORKER_STACK_BYTES", "Watchdog", "WorkerPool", "process_rss", "serve_at_depth", "start_with_deep_stack"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


_statm: int | None = None


def process_rss() -> int:
    """Resident memory of this process in bytes (0 where unknown).

    Reads `/proc/self/statm` through one descriptor kept open (`pread` at offset 0 returns fresh
    numbers): a few microseconds, cheap enough for every run and every watchdog tick."""
    global _statm
    try:
        if _statm is None:
            _statm = os.open("/proc/self/statm", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        return int(os.pread(_statm, 128, 0).split()[1]) * _PAGE
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


Job = tuple[Callable[[], Callable[[], None] | None], int]
"""A job for a worker: the function to run and the stack room it needs. The function may return
a follow-up (delivering its result), which runs after the worker is back in the pool, so the
caller's next program finds it idle instead of starting a thread."""

_FRAMES_TO_PROGRAM = 14
"""Frames between the padded serving loop and the program's first frame (runner, event loop, task)."""


def _stack_depth() -> int:
    frame: FrameType | None = sys._getframe(1)
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def serve_at_depth(serve: Callable[[int], int | None], room: int, frames_to_program: int) -> None:
    """Call `serve(room)` at the stack depth that leaves a program it runs exactly `room` frames of
    recursion (`frames_to_program` frames below `serve`), as `_Worker` does for its jobs; `serve`
    returns the room its next program needs (it is called again at that depth) or None (the end).

    For a thread that runs programs itself (a `process` worker's one thread) instead of a pool's."""
    next_room: int | None = room
    while next_room is not None:
        padding = sys.getrecursionlimit() - _stack_depth() - next_room - frames_to_program
        next_room = _padded(max(padding, 0), serve, next_room)


def _padded(frames: int, serve: Callable[[int], int | None], room: int) -> int | None:
    # Recursion, on purpose: each level is one frame of padding.
    if frames > 0:
        return _padded(frames - 1, serve, room)
    return serve(room)


class _Worker(threading.Thread):
    """One daemon thread running jobs one after another.

    Recursion depth is enforced without any per-call cost: jobs run at a stack depth chosen so
    that the interpreter's own recursion limit leaves the program exactly its
    `max_recursion_depth` frames. The thread pads its stack with that many idle frames once and
    keeps serving jobs that need the same room at that depth; a job needing different room
    unwinds and re-pads.
    """

    def __init__(self, pool: WorkerPool) -> None:
        super().__init__(name="sandbox-worker", daemon=True)
        self.pool = pool
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.abandoned = False

    def run(self) -> None:
        job = self.jobs.get()
        while job is not None:
            room = job[1]
            padding = sys.getrecursionlimit() - _stack_depth() - room - _FRAMES_TO_PROGRAM
            job = self._pad(max(padding, 0), job)

    def _pad(self, frames: int, job: Job) -> Job | None:
        # Recursion, on purpose: each level is one frame of padding.
        if frames > 0:
            return self._pad(frames - 1, job)
        return self._serve(job)

    def _serve(self, job: Job | None) -> Job | None:
        """Run jobs at this depth until one needs different room (returned) or the end (None)."""
        room = job[1] if job is not None else 0
        while job is not None and job[1] == room:
            follow_up = None
            try:
                follow_up = job[0]()
            except BaseException:  # noqa: S110 - jobs report their own failures; keep the thread alive
                pass
            released = self.pool._release(self)
            if follow_up is not None:
                try:
                    follow_up()
                except BaseException:  # noqa: S110 - as above
                    pass
            if not released:
                return None
            job = self.jobs.get()
        return job


WORKER_STACK_BYTES = 1 << 30
"""C stack reserved for each worker thread (virtual memory: pages are committed only when used).

CPython frees a chain of objects recursively, and for some types (unstarted generators, for one:
`it = (x for x in it)` repeated) without the "trashcan" that bounds the recursion. A chain the
memory limit still allows (about 360 bytes of heap per generator) takes about 250 bytes of C stack
per link to free, so a default 8 MiB stack overflows (a segmentation fault of the whole process)
from a few tens of thousands of links. A gibibyte covers the chains of a 1.4 GiB memory limit."""

_stack_lock = threading.Lock()


def start_with_deep_stack(thread: threading.Thread) -> None:
    """Start `thread` with `WORKER_STACK_BYTES` of stack, or the largest size the system grants."""
    with _stack_lock:
        previous = threading.stack_size()
        try:
            for size in (WORKER_STACK_BYTES, WORKER_STACK_BYTES // 4, 0):
                try:
                    threading.stack_size(size)
                    thread.start()
                    return
                except (RuntimeError, ValueError, MemoryError):
                    if size == 0:
                        raise
        finally:
            threading.stack_size(previous)


class WorkerPool:
    """Reusable daemon threads, one program at a time each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False

    def submit(self, fn: Callable[[], Callable[[], None] | None], stack_room: int) -> _Worker:
        """Run `fn` on an idle worker (or a new one) with `stack_room` frames of recursion left.

        Raises `RuntimeError` when no thread can be started (the process is at its thread or
        memory limit)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the executor is closed")
            worker = self._idle.pop() if self._idle else None
            start = worker is None
            if worker is None:
                worker = _Worker(self)
            self._busy.add(worker)
        if start:
            try:
                start_with_deep_stack(worker)
            except RuntimeError:
                with self._lock:
                    self._busy.discard(worker)
                raise
        worker.jobs.put((fn, stack_room))
        return worker

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

    def due(self) -> float:
        """The wall-clock deadline, moved by the time the run was held for approval."""
        held = self.run.held
        return self.deadline + held() if held is not None else self.deadline


SWITCH_INTERVAL = 0.001
"""The interpreter's thread switch interval while sandboxes run (CPython's default is 5 ms)."""


def _lower_switch_interval() -> None:
    """Lower (never raise) the process's thread switch interval to `SWITCH_INTERVAL`.

    A spinning program holds the GIL; every other thread (the watchdog that must stop it, the
    host's event loop, other programs) gets it only when the interpreter forces a switch. At the
    default 5 ms, with several threads competing on two cores, the watchdog was measured losing
    the GIL for 100-250 ms in a row, so a program overran its wall-clock limit by that much; at
    1 ms it is stopped within a few milliseconds and the host loop stays responsive. The cost is
    more frequent switches between threads that compete for the GIL, a process-wide setting.
    """
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)


class Watchdog:
    """Stops runs that go over their wall-clock, CPU-time or memory limit."""

    INTERVAL = 0.004
    IDLE_AFTER = 1.0
    """Seconds without runs after which the watchdog stops polling and sleeps until the next run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[int, _Watched] = {}
        self._wake = threading.Event()
        self._closed = False
        self._sleeping = False
        self._thread: threading.Thread | None = None

    INTERRUPT_AFTER = 0.05
    """Seconds after a stop before the program's thread gets an `Interrupt` exception."""

    GRACE = 0.5
    """Seconds a stopped program gets to unwind before it is given up on (`RunState.abandon`)."""

    def watch(self, run: RunState) -> None:
        limits = run.limits
        item = _Watched(run, time.monotonic() + limits.timeout, limits.effective_cpu_time, process_rss(),
                        limits.max_memory_bytes)
        with self._lock:
            self._runs[id(run)] = item
            if self._thread is None and not self._closed:
                _lower_switch_interval()
                self._thread = threading.Thread(target=self._loop, name="sandbox-watchdog", daemon=True)
                self._thread.start()
            sleeping = self._sleeping
        if sleeping:
            self._wake.set()

    def unwatch(self, run: RunState) -> None:
        with self._lock:
            self._runs.pop(id(run), None)

    def close(self) -> threading.Thread | None:
        with self._lock:
            self._runs.clear()
        self._closed = True
        self._wake.set()
        return self._thread

    def _loop(self) -> None:
        idle_since = time.monotonic()
        while not self._closed:
            with self._lock:
                items = list(self._runs.values())
                if not items and time.monotonic() - idle_since > self.IDLE_AFTER:
                    self._sleeping = True
                    self._wake.clear()
            if not items:
                if self._sleeping:
                    # Idle for a while: sleep until a run is watched (no polling while nothing runs).
                    self._wake.wait()
                    with self._lock:
                        self._sleeping = False
                    idle_since = time.monotonic()
                else:
                    time.sleep(self.INTERVAL)
                continue
            idle_since = time.monotonic()
            # Poll every INTERVAL, but wake right at the nearest deadline.
            nearest = min(item.due() for item in items if not item.run.stopped) if any(
                not item.run.stopped for item in items) else time.monotonic() + self.INTERVAL
            time.sleep(min(self.INTERVAL, max(nearest - time.monotonic(), 0.0)))
            now = time.monotonic()
            rss = process_rss()
            for item in items:
                try:
                    self._check(item, now, rss)
                except Exception:  # noqa: S112 - the watchdog must outlive any one run's trouble
                    continue

    def _check(self, item: _Watched, now: float, rss: int) -> None:
        run = item.run
        grown = max(rss - item.rss_base, 0)
        if grown > run.peak_memory:
            run.peak_memory = grown
        if run.stopped:
            if run.stopped_at and now - run.stopped_at > self.GRACE:
                self.unwatch(run)
                run.abandon()
            elif run.stopped_at and now - run.stopped_at > self.INTERRUPT_AFTER:
                # Still running after the cooperative stop: it is in library Python code without
                # stop checks (or in native code, where nothing helps). Interrupt it.
                run.interrupt()
            return
        if now >= item.due():
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
