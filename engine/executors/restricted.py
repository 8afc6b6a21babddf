"""The `restricted` executor: runs programs in this process under RestrictedPython.

Wraps `engine.sandbox`: compile (cached), a pooled worker thread with a fresh event loop per
run, a watchdog for wall-clock, CPU and memory limits, and code sessions. See
`docs/security.md` for what this in-process sandbox does and does not defend against.

```python
executor = RestrictedExecutor()
envelope = await executor.run(ExecutionRequest("return 1 + 1"))
await executor.aclose()
```
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from typing import Any

from ..envelope import Envelope, build_envelope, error_envelope
from ..kernel.program import ProgramSyntaxError
from ..kernel.report import plain_error
from ..sandbox.builtins import program_globals
from ..sandbox.compiler import INLINE_SOURCE_CHARS, compile_program
from ..sandbox.context import RunState, install_unraisable_filter
from ..sandbox.handback import QUICK_WAIT, Handback
from ..sandbox.runner import Outcome, execute, make_send
from ..sandbox.state import CodeSessions
from ..sandbox.workers import Watchdog, WorkerPool
from .base import ExecutionRequest

__all__ = ["RestrictedExecutor"]

YIELD_EVERY = 0.001
"""Seconds without a turn of the host loop after which a run handed back directly (`handback`)
gives it one."""


class RestrictedExecutor:
    """Runs agent programs in-process, each on a pooled worker thread with its own event loop."""

    def __init__(self) -> None:
        self._pool = WorkerPool()
        self._watchdog = Watchdog()
        self._sessions = CodeSessions()
        self._active: set[RunState] = set()
        self._closed = False
        self._turned = 0.0
        """`time.monotonic()` when the host loop last ran a callback queued by `_turn`."""
        self._marker: asyncio.AbstractEventLoop | None = None
        """The loop a `_turn` callback is queued on (None: none is)."""
        install_unraisable_filter()

    async def run(self, request: ExecutionRequest) -> Envelope:
        """Run one program and return its envelope. Never raises for a fault of the program."""
        if self._closed:
            raise RuntimeError("the executor is closed")
        started = time.perf_counter()
        limits = request.limits
        try:
            if len(request.code) <= INLINE_SOURCE_CHARS:
                program = compile_program(request.code)
            else:  # a long program: compile it off the host loop (it is pure Python work mostly)
                program = await asyncio.to_thread(compile_program, request.code)
        except ProgramSyntaxError as exc:
            info = plain_error("SyntaxError", exc.message, exc.line)
            return error_envelope(info, execution_time=time.perf_counter() - started, limits=limits.as_dict())
        if request.session_id is None:
            return await self._run(request, program, {}, started)
        state, lock = self._sessions.get(request.session_id)
        # One program at a time per code session; the wait is bounded by the program's timeout
        # (the program before may be paused for approval for a long time).
        try:
            await asyncio.wait_for(lock.acquire(), limits.timeout)
        except TimeoutError:
            message = (
                f"code session {request.session_id!r} stayed busy for the whole timeout ({limits.timeout:g} s): "
                "another program in it has not finished (it may be paused for approval)"
            )
            info = plain_error("TimeoutError", message)
            return error_envelope(info, execution_time=time.perf_counter() - started, limits=limits.as_dict())
        try:
            return await self._run(request, program, state, started)
        finally:
            lock.release()

    async def _run(self, request: ExecutionRequest, program: Any, globals_: dict[str, Any], started: float) -> Envelope:
        limits = request.limits
        program_globals(globals_)
        run = RunState(limits, globals_)
        run.keep_globals = request.session_id is not None
        run.seed = request.seed
        if request.host is not None:
            run.held = request.host.held
        host_loop = asyncio.get_running_loop()
        # Alone in flight, the host waits for a quick run blocked, then on its loop (`handback`).
        handback: Handback[Outcome] = Handback(waits=not self._active)
        channel = request.host.handle if request.host is not None else None
        send = make_send(channel, host_loop, contextvars.copy_context(), handback.release)
        on_log = request.on_log
        if on_log is not None:

            def stream(text: str) -> None:
                handback.release()
                host_loop.call_soon_threadsafe(on_log, text, "stdout")

            run.output.sink = stream
        delivered: asyncio.Future[Outcome] = host_loop.create_future()

        def settle(outcome: Outcome) -> None:
            if not delivered.done():
                delivered.set_result(outcome)

        def deliver(outcome: Outcome) -> None:
            if handback.offer(outcome):
                return
            try:
                host_loop.call_soon_threadsafe(settle, outcome)
            except RuntimeError:  # the host loop is closed: nobody is waiting any more
                pass

        def job() -> Callable[[], None]:
            try:
                outcome = execute(run, program, request.names, send)
            except BaseException:  # an interrupt that fired between two engine statements
                message = run.stop_reason or "the program was interrupted"
                outcome = Outcome(error=plain_error(run.stop_type, message))
            finally:
                self._watchdog.unwatch(run)
            # Delivered once the worker is back in the pool (see WorkerPool.submit).
            return lambda: deliver(outcome)

        def abandon() -> None:
            # The program ignored its stop for the whole grace period: it is stuck in native code.
            # Its thread is never reused; the caller gets its envelope now.
            self._pool.abandon(worker)
            message = f"{run.stop_reason}; it did not stop (stuck in native code) and its thread was abandoned"
            deliver(Outcome(error=plain_error(run.stop_type, message)))

        run.on_abandon = abandon
        quick: Outcome | None = None
        self._active.add(run)
        self._watchdog.watch(run)
        try:
            try:
                worker = self._pool.submit(job, limits.max_recursion_depth)
            except RuntimeError as exc:  # no thread could be started: the process is at a limit
                self._watchdog.unwatch(run)
                message = f"no worker thread is available: {exc}"
                outcome = Outcome(error=plain_error("RuntimeError", message))
                return self._envelope(request, run, outcome, started)
            quick = handback.wait(QUICK_WAIT) if handback.waits else None
            outcome = quick if quick is not None else await delivered
        except BaseException:  # cancelled, or interrupted (KeyboardInterrupt) in the blocked wait
            run.stop("the execution was cancelled", "CancelledError")
            raise
        finally:
            self._active.discard(run)
        envelope = self._envelope(request, run, outcome, started)
        if quick is not None:
            await self._turn()
        return envelope

    async def _turn(self) -> None:
        """Give the host loop a turn if it has had none for `YIELD_EVERY` seconds.

        A run handed back directly never suspends: a caller running quick programs back to back
        would otherwise keep every other task on the loop (session readers, timers) waiting, and
        could not be cancelled between them. Whether the loop turned is seen by a callback
        queued on it, so a caller that awaits something else between runs pays nothing."""
        loop = asyncio.get_running_loop()
        if self._marker is not loop:
            self._marker = loop
            loop.call_soon(self._loop_turned, loop)
        if time.monotonic() - self._turned >= YIELD_EVERY:
            await asyncio.sleep(0)

    def _loop_turned(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._marker is loop:
            self._marker = None  # the next quick run queues another
        self._turned = time.monotonic()

    @staticmethod
    def _envelope(request: ExecutionRequest, run: RunState, outcome: Outcome, started: float) -> Envelope:
        host = request.host
        return build_envelope(
            result=outcome.result,
            logs=run.output.lines(),
            error=outcome.error,
            elapsed=time.perf_counter() - started,
            limits=run.limits.as_dict(),
            cpu_time=outcome.cpu_time,
            output_chars=run.output.chars,
            result_bytes=outcome.result_bytes,
            peak_memory_bytes=run.peak_memory,
            truncated=run.output.truncated,
            tool_calls=host.trace if host is not None else (),
            calls=host.calls if host is not None else 0,
        )

    def reset_session(self, session_id: str) -> bool:
        """Forget the globals of a code session. Returns whether it existed."""
        return self._sessions.reset(session_id)

    async def aclose(self) -> None:
        """Stop every running program, wait for the threads, forget all sessions."""
        if self._closed:
            return
        self._closed = True
        for run in list(self._active):
            run.stop("the executor was closed", "CancelledError")
        threads = self._pool.close()
        deadline = time.monotonic() + 2.0
        for thread in threads:
            remaining = deadline - time.monotonic()
            if remaining > 0:
                await asyncio.to_thread(thread.join, remaining)
        watchdog = self._watchdog.close()
        if watchdog is not None:
            await asyncio.to_thread(watchdog.join, 1.0)
        # Programs stuck in native code: their callers get an envelope now, not never.
        for run in list(self._active):
            run.abandon()
        self._sessions.clear()

    async def __aenter__(self) -> RestrictedExecutor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
