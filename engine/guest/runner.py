"""The full-Python engine: runs one program on its own thread and event loop, under the run's limits.

Used where the sandbox boundary is the machine itself (an E2B container): the program gets real
Python, with the names the kernel's `ProgramNames` gives every program (tool namespaces,
`search_tools`, `ToolError`, `tool_namespaces`, `__tool_namespaces`).
Limits are enforced from a watchdog thread: wall clock, the worker thread's CPU clock, the process's
resident memory, output size; the result's encoded size is checked at the end. A program is stopped
by cancelling its tasks, then, if it keeps running (a CPU loop), by raising `StopRun` in its thread,
again and again until it ends.

Standard library + msgpack + the kernel: shipped to guests.
"""

from __future__ import annotations

import asyncio
import ctypes
import random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import msgpack

from ..kernel.hold import HoldClock
from ..kernel.names import ProgramNames
from ..kernel.program import MAIN_NAME, ProgramSyntaxError, compile_program
from ..kernel.protocol import Send
from ..kernel.report import error_info, plain_error, to_plain
from . import output as _output

__all__ = ["FullPythonEngine", "StopRun"]

_POLL = 0.02
_RECURSION_HEADROOM = 60


class StopRun(BaseException):
    """Raised inside a program's thread to stop it; a `BaseException` so `except Exception` misses it."""


def _rss() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * 4096
    except (OSError, ValueError, IndexError):
        return 0


class _Run:
    """One execution's state, shared by its worker thread and the watchdog."""

    def __init__(self, run_id: int, limits: Mapping[str, Any], output: _output.RunOutput) -> None:
        self.run_id = run_id
        # Every limit comes from the host's `Limits` (`engine.limits`, the one place defaults live).
        self.timeout = float(limits["timeout"])
        cpu = limits.get("cpu_time")
        self.cpu_budget = float(cpu) if cpu is not None else self.timeout
        self.max_memory = int(limits["max_memory_bytes"])
        self.max_result = int(limits["max_result_bytes"])
        self.recursion = int(limits["max_recursion_depth"])
        self.output = output
        self.stop_reason: str | None = None
        self.stop_type = "TimeoutError"
        self.thread_id: int | None = None
        self.cpu_clock: int | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[Any] | None = None
        self.started = time.monotonic()
        self.clock = HoldClock()  # time held for approval, which the wall-clock limit skips
        self.done = threading.Event()
        self.peak_memory = 0
        self.stop_attempts = 0
        self.finished = False

    def stop(self, reason: str, kind: str) -> None:
        if self.stop_reason is None:
            self.stop_reason, self.stop_type = reason, kind
        loop, task = self.loop, self.task
        if loop is not None and task is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(_cancel_all, loop)
            except RuntimeError:
                pass


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def _raise_in(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(StopRun))


class FullPythonEngine:
    """Runs programs with full Python; one worker thread per run, code sessions by id."""

    mode = "python"

    def __init__(self) -> None:
        self._sessions: dict[str, dict[str, Any]] = {}
        self._session_locks: dict[str, threading.Lock] = {}
        self._runs: dict[int, _Run] = {}
        self._lock = threading.Lock()
        self._baseline = _rss()
        self._watchdog = threading.Thread(target=self._watch, name="guest-watchdog", daemon=True)
        self._watchdog.start()

    # -- the watchdog ---------------------------------------------------------------------------

    def _watch(self) -> None:
        while True:
            time.sleep(_POLL)
            with self._lock:
                runs = list(self._runs.values())
            if not runs:
                continue
            rss = _rss()
            for run in runs:
                try:
                    self._check(run, rss)
                except Exception as exc:  # noqa: BLE001 - the watchdog outlives any one run's trouble
                    run.stop(f"the run's output could not be sent: {type(exc).__name__}", "InternalError")

    def _check(self, run: _Run, rss: int) -> None:
        run.output.flush()
        if run.done.is_set():
            return
        used = max(rss - self._baseline, 0)
        run.peak_memory = max(run.peak_memory, used)
        if run.stop_reason is None:
            if time.monotonic() - run.started > run.timeout + run.clock.seconds():
                run.stop(f"the program exceeded its wall-clock limit of {run.timeout:g} s", "TimeoutError")
            elif run.cpu_clock is not None and _cpu(run.cpu_clock) > run.cpu_budget:
                run.stop(f"the program exceeded its CPU limit of {run.cpu_budget:g} s", "TimeoutError")
            elif used > run.max_memory:
                run.stop(f"the program exceeded its memory limit of {run.max_memory} bytes", "MemoryError")
            return
        # Stopped but still running: a CPU loop that never yields to its event loop.
        run.stop_attempts += 1
        if run.stop_attempts % 5 == 1 and run.thread_id is not None and not run.finished:
            _raise_in(run.thread_id)

    # -- runs -----------------------------------------------------------------------------------

    def stop(self, run_id: int) -> None:
        """Stop a run (the host gave up on it)."""
        with self._lock:
            run = self._runs.get(run_id)
        if run is not None:
            run.stop("the run was cancelled by the host", "TimeoutError")

    def hold(self, run_id: int, held: float, on: bool) -> None:
        """Mirror the host's hold clock of a run (a `hold` frame)."""
        with self._lock:
            run = self._runs.get(run_id)
        if run is not None:
            run.clock.mirror(held, on)

    async def run(self, run_id: int, frame: Mapping[str, Any], send: Send, flush: Callable[[str, str], None]) -> Any:
        """Run the program of one `run` frame; return the envelope as plain data."""
        limits = frame["limits"]
        output = _output.RunOutput(int(limits["max_output_chars"]), flush)
        run = _Run(run_id, limits, output)
        result: dict[str, Any] = {}
        thread = threading.Thread(
            target=self._thread, args=(run, frame, send, result), name=f"guest-run-{run_id}", daemon=True
        )
        with self._lock:
            self._runs[run_id] = run
        _output.register(output)
        try:
            thread.start()
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, run.done.wait)
        finally:
            with self._lock:
                self._runs.pop(run_id, None)
            _output.unregister(output)
        output.flush()
        elapsed = time.monotonic() - run.started
        return {
            "result": result.get("result"),
            "logs": output.lines(),
            "error_info": result.get("error"),
            "truncated": output.truncated,
            "execution_time": elapsed,
            "usage": {
                "wall_time": elapsed,
                "cpu_time": result.get("cpu_time", 0.0),
                "output_chars": output.chars,
                "result_bytes": result.get("result_bytes", 0),
                "peak_memory_bytes": run.peak_memory,
            },
        }

    def _session(self, session_id: str | None) -> tuple[dict[str, Any], threading.Lock | None]:
        if session_id is None:
            return {}, None
        with self._lock:
            state = self._sessions.setdefault(session_id, {})
            lock = self._session_locks.setdefault(session_id, threading.Lock())
        return state, lock

    def _thread(self, run: _Run, frame: Mapping[str, Any], send: Send, result: dict[str, Any]) -> None:
        cpu0 = time.thread_time()
        _output.bind(run.output)
        state, lock = self._session(frame.get("session_id"))
        try:
            if lock is not None:
                lock.acquire()
            try:
                outcome = self._execute(run, frame, send, state)
            finally:
                if lock is not None:
                    lock.release()
        except StopRun:
            outcome = {"error": plain_error(run.stop_type, run.stop_reason or "the program was stopped")}
        except BaseException as exc:  # an engine fault must still produce an envelope
            outcome = {"error": plain_error("InternalError", f"{type(exc).__name__}: {exc}")}
        # A StopRun the watchdog raised just before it saw the run finish may still land here.
        for _ in range(5):
            try:
                run.finished = True
                _output.bind(None)
                outcome["cpu_time"] = time.thread_time() - cpu0
                result.update(outcome)
                break
            except StopRun:
                continue
        run.done.set()

    def _execute(self, run: _Run, frame: Mapping[str, Any], send: Send, state: dict[str, Any]) -> dict[str, Any]:
        try:
            program = compile_program(frame["code"])
        except ProgramSyntaxError as exc:
            return {"error": plain_error("SyntaxError", exc.message, exc.line)}
        lines = program.source_lines
        run.thread_id = threading.get_ident()
        try:
            run.cpu_clock = time.pthread_getcpuclockid(run.thread_id)
        except (AttributeError, OSError):
            run.cpu_clock = None
        output = run.output

        async def send_after_output(data: bytes) -> bytes:
            # What the program printed reaches the host before each call: kept if the guest dies.
            output.flush()
            return await send(data)

        state.update(ProgramNames(frame.get("specs") or {}).bind(send_after_output))
        state.setdefault("__name__", "__agent__")
        seed = frame.get("seed")
        if seed is not None:
            # Full Python has one `random` per process: a recorded run (approvals) reseeds it, so
            # its replay draws the same numbers.
            random.seed(seed)
        sys.setrecursionlimit(max(run.recursion + _RECURSION_HEADROOM, sys.getrecursionlimit()))
        loop = asyncio.new_event_loop()
        run.loop = loop
        try:
            try:
                exec(program.code, state)
                main = state.pop(MAIN_NAME)
                run.task = loop.create_task(main())
                if run.stop_reason is not None:
                    run.stop(run.stop_reason, run.stop_type)
                value = loop.run_until_complete(run.task)
            except StopRun:
                return {"error": plain_error(run.stop_type, run.stop_reason or "the program was stopped")}
            except asyncio.CancelledError as exc:
                if run.stop_reason is not None:
                    return {"error": error_info(exc, lines, type_name=run.stop_type, message=run.stop_reason)}
                return {"error": plain_error("CancelledError", "the program was cancelled")}
            except BaseException as exc:
                if run.stop_reason is not None:
                    return {"error": error_info(exc, lines, type_name=run.stop_type, message=run.stop_reason)}
                return {"error": error_info(exc, lines)}
            if run.stop_reason is not None:
                return {"error": plain_error(run.stop_type, run.stop_reason)}
            return _plain_result(value, run.max_result)
        finally:
            run.finished = True
            _close(loop)
            run.loop = None


def _plain_result(value: Any, limit: int) -> dict[str, Any]:
    try:
        plain = to_plain(value, limit)
    except ValueError as exc:
        return {"error": plain_error("ValueError", f"{exc} ({limit} bytes)")}
    except (TypeError, RecursionError) as exc:
        message = str(exc) if isinstance(exc, TypeError) else "the result nests too deeply"
        return {"error": plain_error("TypeError", message)}
    try:
        size = len(msgpack.packb(plain, use_bin_type=True))
    except (OverflowError, ValueError) as exc:  # an integer outside 64 bits, for one
        return {"error": plain_error("TypeError", f"the result cannot be encoded: {exc}")}
    if size > limit:
        message = f"the result is {size} bytes encoded, over the limit of {limit}"
        return {"error": plain_error("ValueError", message), "result_bytes": size}
    return {"result": plain, "result_bytes": size}


def _close(loop: asyncio.AbstractEventLoop) -> None:
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=0.5))
        loop.run_until_complete(loop.shutdown_asyncgens())
    except BaseException:  # noqa: S110 - a program that fights its own cleanup must not keep the run alive
        pass
    finally:
        try:
            loop.close()
        except BaseException:  # noqa: S110
            pass


def _cpu(clock: int) -> float:
    try:
        return time.clock_gettime(clock)
    except OSError:
        return 0.0
