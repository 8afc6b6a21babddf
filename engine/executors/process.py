"""The `process` executor: a warm pool of isolated worker processes, one run per worker at a time.

Each worker is forked from a template process that has the kernel, the sandbox and the guest
loaded (`_template.py`), so a new worker costs milliseconds and shares those pages with its
siblings. A worker runs each program with the sandbox (the same policy, guards, facades and limits
as the in-process `restricted` executor) on its one thread, which also reads and writes its channel,
so a run or a tool call crosses the process boundary and nothing else (`_child.py`). It confines
itself first (`_confine.py`, where the kernel allows: no network, no filesystem writes or reads
outside the interpreter's files, no new processes, no `execve`), besides OS limits (address
space, open files, CPU, no core dumps, no new privileges), a scrubbed environment and a process
group of its own.

- **One run per worker.** A crash, a kill, an out-of-memory or a native spin costs that run only;
  the worker is replaced in the background and the other runs never notice.
- **The host enforces the deadline.** A run that has not answered by its timeout plus
  `deadline_grace` has its worker killed: every run ends by then, whatever it does, and nothing
  arrives after it.
- **Warm.** `min_workers` are kept ready; more are forked on demand up to `max_workers`; idle ones
  beyond `min_workers` are retired after `idle_timeout`; a worker is recycled after
  `max_runs_per_worker` runs or when its resident memory passes `max_worker_rss_mb`.
- **Code sessions** are pinned to the worker that holds their globals; if that worker is lost, the
  next run of the session says so (`SessionLost`) instead of silently starting afresh.

```python
executor = ProcessExecutor(max_workers=8)
envelope = await executor.run(ExecutionRequest("return 1 + 1"))
await executor.aclose()
```
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import sys
import time
from collections import OrderedDict
from typing import Any

from ..envelope import Envelope
from ..errors import CodeModeError
from ._fork import Template, WorkerTransport
from ._payload import failed_envelope
from ._remote import RemoteGuest
from .base import ExecutionRequest

__all__ = ["ProcessExecutor"]

logger = logging.getLogger("engine.executors.process")

_STACK_HEADROOM = 320 * 1024 * 1024
"""Address space a worker gets beyond `memory_mb` for its threads' stacks (the program's deep-stack
thread and the engine's own), so the cap counts what the program can allocate, not the stacks."""


class _Worker:
    """One worker process and what the pool knows of it."""

    def __init__(self, guest: RemoteGuest, transport: WorkerTransport) -> None:
        self.guest = guest
        self.transport = transport
        self.busy = False
        self.runs = 0
        self.sessions: set[str] = set()
        self.idle_since = time.monotonic()

    @property
    def alive(self) -> bool:
        return self.guest.dead is None

    def rss(self) -> int:
        try:
            with open(f"/proc/{self.transport.pid}/statm", "rb") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0


class ProcessExecutor:
    """Runs programs under the restricted policy in a warm pool of confined worker processes.

    Args:
        min_workers: workers kept ready (default: the machine's CPU count).
        max_workers: the most workers at once (default: 4 per CPU, at least `min_workers`); more
            runs wait for a free worker, within their own timeout.
        max_runs_per_worker: a worker is replaced after this many runs.
        max_worker_rss_mb: a worker whose resident memory passes this after a run is replaced.
        idle_timeout: seconds an idle worker beyond `min_workers` is kept.
        memory_mb: address space a worker may add for the program (`RLIMIT_AS` past its start-up
            size, plus room for thread stacks); past it allocation fails with `MemoryError`.
            None: no OS memory cap (the worker's watchdog still applies `Limits.max_memory_bytes`).
        deadline_grace: seconds past a run's timeout before the host kills its worker.
        confine: apply the kernel confinement (network, filesystem, syscalls) where available.
        cpu_ceiling: move `RLIMIT_CPU` per run to the run's CPU budget plus a margin.
        nofile: a worker's open-file limit.
        python: the interpreter for the workers (default: this one).
        env: extra environment variables for the workers (the rest of the host's is not passed).
    """

    def __init__(
        self,
        *,
        min_workers: int | None = None,
        max_workers: int | None = None,
        max_runs_per_worker: int = 1000,
        max_worker_rss_mb: int | None = 256,
        idle_timeout: float = 60.0,
        memory_mb: int | None = 1024,
        deadline_grace: float = 0.1,
        confine: bool = True,
        cpu_ceiling: bool = True,
        nofile: int | None = 64,
        python: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        if not sys.platform.startswith("linux"):
            raise CodeModeError("the process executor needs Linux (fork, rlimits, process groups, prctl)")
        if memory_mb is not None and memory_mb < 16:
            raise CodeModeError("memory_mb must be at least 16")
        cpus = os.cpu_count() or 1
        self.min_workers = cpus if min_workers is None else min_workers
        self.max_workers = max(self.min_workers, 4 * cpus if max_workers is None else max_workers, 1)
        if self.min_workers < 0 or max_runs_per_worker < 1 or deadline_grace < 0 or idle_timeout < 0:
            raise CodeModeError("min_workers, max_runs_per_worker, deadline_grace and idle_timeout must be positive")
        self.max_runs_per_worker = max_runs_per_worker
        self.max_worker_rss = max_worker_rss_mb * 1024 * 1024 if max_worker_rss_mb is not None else None
        self.idle_timeout = idle_timeout
        self.deadline_grace = deadline_grace
        self._confine = confine
        self._argv = ["--mode", "restricted"]
        if memory_mb is not None:
            self._argv += ["--memory-bytes", str(memory_mb * 1024 * 1024 + _STACK_HEADROOM)]
        if nofile is not None:
            self._argv += ["--nofile", str(nofile)]
        if not cpu_ceiling:
            self._argv.append("--no-cpu-ceiling")
        self._template = Template(python=python, env=env)
        self._started: asyncio.Task[None] | None = None
        self._workers: list[_Worker] = []
        self._starting = 0
        self._waiters: list[asyncio.Future[None]] = []
        """Runs waiting for a worker (woken by `_changed` when one may be free)."""
        self._sessions: OrderedDict[str, _Worker] = OrderedDict()
        self._lost: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._janitor: asyncio.Task[None] | None = None
        self._closed = False
        self._failure: str | None = None
        self.confinement: dict[str, Any] = {}
        """What the kernel confinement achieved in the workers (from a worker's hello), e.g.
        `{"network": "namespace", "filesystem": "landlock (ABI 7)", "syscalls": "seccomp"}`."""
        self.startup_seconds: float | None = None
        """How long the template took to start, for benchmarks."""

    # -- workers ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the template and the first `min_workers` workers now instead of on the first run."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_task(self._start())
        await asyncio.shield(self._started)

    async def _start(self) -> None:
        started = time.perf_counter()
        await self._template.ensure_running()
        self.startup_seconds = time.perf_counter() - started
        self._janitor = asyncio.get_running_loop().create_task(self._tidy())
        self._top_up()

    def _top_up(self) -> None:
        """Fork workers in the background until `min_workers` are alive or starting."""
        while not self._closed and len(self._workers) + self._starting < self.min_workers:
            self._spawn()

    def _spawn(self) -> None:
        self._starting += 1
        task = asyncio.get_running_loop().create_task(self._new_worker())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _new_worker(self) -> None:
        guest: RemoteGuest | None = None
        try:
            await self._template.ensure_running()
            transport = WorkerTransport(self._template, self._argv, confine=self._confine)
            guest = RemoteGuest(transport, local=True)
            try:
                hello = await guest.start(30.0)
            except BaseException:
                # Cancelled (the executor closing) or failed: the forked process must not live on.
                await asyncio.shield(guest.kill("it did not start"))
                raise
            self.confinement = dict(hello.get("confinement") or {})
            worker = _Worker(guest, transport)
            self._failure = None
            if self._closed:
                await guest.kill("the executor was closed")
                return
            self._workers.append(worker)
        except Exception as exc:  # noqa: BLE001 - a run waiting for a worker gets the reason
            logger.warning("a process worker could not start: %s", exc)
            self._failure = f"{type(exc).__name__}: {exc}"
        finally:
            self._starting -= 1
            self._changed()

    def _retire_soon(self, worker: _Worker, reason: str) -> None:
        """Take `worker` out of the pool now (its sessions are lost, with `reason`) and kill it."""
        if worker in self._workers:
            self._workers.remove(worker)
        for session in worker.sessions:
            if self._sessions.get(session) is worker:
                del self._sessions[session]
                self._lost[session] = reason
        worker.sessions.clear()
        task = asyncio.get_running_loop().create_task(worker.guest.kill(reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._top_up()

    async def _tidy(self) -> None:
        """Retire idle workers beyond `min_workers`, and workers that died while idle."""
        while not self._closed:
            await asyncio.sleep(min(1.0, self.idle_timeout or 1.0))
            now = time.monotonic()
            for worker in list(self._workers):
                if worker.busy:
                    continue
                if not worker.alive:
                    self._retire_soon(worker, f"its worker process died: {worker.guest.dead}")
                elif (
                    len(self._workers) > self.min_workers
                    and not worker.sessions
                    and now - worker.idle_since > self.idle_timeout
                ):
                    self._retire_soon(worker, "idle")

    async def _acquire(self, session_id: str | None, deadline: float) -> _Worker | str:
        """A free worker for one run (the session's own, if it has one), or why there is none."""
        started = self._started
        if started is None or not started.done() or started.cancelled() or started.exception() is not None:
            await self.start()  # (raises if the template could not start)
        while True:
            worker = self._pick(session_id)
            if session_id is not None and session_id in self._lost:
                return f"code session {session_id!r} was lost: {self._lost.pop(session_id)}"
            if worker is not None:
                worker.busy = True
                return worker
            if not self._workers and not self._starting and self._failure is not None:
                failure, self._failure = self._failure, None  # the next run tries again
                return f"no worker process could start: {failure}"
            if session_id is None or session_id not in self._sessions:
                if len(self._workers) + self._starting < self.max_workers:
                    self._spawn()
                else:
                    self._evict_idle_session()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "no worker became free within the run's timeout"
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter, remaining)
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _pick(self, session_id: str | None) -> _Worker | None:
        dead = [w for w in self._workers if not w.busy and not w.alive]
        for worker in dead:
            self._retire_soon(worker, f"its worker process died: {worker.guest.dead}")
        if session_id is not None and session_id in self._sessions:
            worker = self._sessions[session_id]
            return worker if not worker.busy else None
        # A worker that holds a session serves that session only: another run there could see
        # its globals, or take them down with it (a kill at a deadline). Of the others, the one
        # released last: its memory is still in the CPU's caches (measured: a third less of the
        # worker's CPU per run than taking turns), and the others stay idle long enough to be
        # retired when the load drops.
        best: _Worker | None = None
        for worker in self._workers:
            if not worker.busy and not worker.sessions and (best is None or worker.idle_since > best.idle_since):
                best = worker
        return best

    def _evict_idle_session(self) -> None:
        """At `max_workers`, free the worker of the least recently used idle session (said on its next use)."""
        idle = [w for w in self._workers if w.sessions and not w.busy]
        if idle:
            oldest = min(idle, key=lambda w: w.idle_since)
            self._retire_soon(oldest, "evicted: the pool needed its worker (max_workers sessions at once)")

    def _changed(self) -> None:
        """Wake every run waiting for a worker (each checks again)."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _release(self, worker: _Worker, session_id: str | None, *, cancelled: bool = False) -> None:
        worker.busy = False
        worker.runs += 1
        worker.idle_since = time.monotonic()
        if not worker.alive:
            self._retire_soon(worker, f"its worker process died: {worker.guest.dead}")
        elif cancelled:
            # Its program may still be running (a stop is only a request): never hand it a new run.
            self._retire_soon(worker, "its run was cancelled")
        elif worker.guest.retiring:
            self._retire_soon(worker, "its program did not stop (stuck in native code)")
        elif session_id is not None and worker in self._workers:
            worker.sessions.add(session_id)
            self._sessions[session_id] = worker
        if worker.alive and not worker.sessions:
            if worker.runs >= self.max_runs_per_worker:
                self._retire_soon(worker, "recycled after its run limit")
            elif self.max_worker_rss is not None and worker.runs % 16 == 0 and worker.rss() > self.max_worker_rss:
                self._retire_soon(worker, "recycled: its memory grew past max_worker_rss_mb")
        self._changed()

    # -- runs ---------------------------------------------------------------------------------

    async def run(self, request: ExecutionRequest) -> Envelope:
        """Run one program on a free worker and return its envelope. Never raises for a fault of the program."""
        if self._closed:
            raise RuntimeError("the executor is closed")
        started = time.perf_counter()
        limits = request.limits
        try:
            acquired = await self._acquire(request.session_id, time.monotonic() + limits.timeout)
        except Exception as exc:  # the template could not start: the run cannot either
            message = f"the worker pool could not start: {type(exc).__name__}: {exc}"
            return failed_envelope("SandboxError", message, started, limits, [], request.host)
        if isinstance(acquired, str):
            kind = "SessionLost" if acquired.startswith("code session") else (
                "SandboxError" if acquired.startswith("no worker process") else "TimeoutError"
            )
            return failed_envelope(kind, acquired, started, limits, [], request.host)
        worker = acquired
        cancelled = True
        try:
            envelope = await worker.guest.execute(next(self._ids), request, grace=self.deadline_grace, stop_grace=0.0)
            cancelled = False
            return envelope
        finally:
            self._release(worker, request.session_id, cancelled=cancelled)

    def reset_session(self, session_id: str) -> bool:
        """Forget a code session: its worker (which served it alone) is retired with its globals."""
        worker = self._sessions.get(session_id)
        self._lost.pop(session_id, None)
        if worker is None:
            return False
        self._retire_soon(worker, "the session was reset")
        self._lost.pop(session_id, None)  # a reset is not a loss: the next run starts afresh
        return True

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (for tests and benchmarks)."""
        return [w.transport.pid for w in self._workers if w.transport.pid is not None]

    @property
    def template_pid(self) -> int | None:
        return self._template.pid

    async def aclose(self) -> None:
        """Kill every worker and the template."""
        if self._closed:
            return
        self._closed = True
        if self._janitor is not None:
            self._janitor.cancel()
        workers, self._workers = list(self._workers), []
        await asyncio.gather(*(w.guest.kill("the executor was closed") for w in workers), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, self._janitor or asyncio.sleep(0), return_exceptions=True)
        await self._template.aclose()

    async def __aenter__(self) -> ProcessExecutor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
