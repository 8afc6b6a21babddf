"""The `process` pool's worker: serves runs over its channel, each program on the worker's one thread.

A worker is forked from the template (`_template.py`) and runs one program at a time: the pool
never hands a busy worker another run. So one thread does everything, with no hand-off between
threads on a run's way or a tool call's: between runs it blocks on the channel; a `run` frame is
compiled (cached) and run by the sandbox (`engine.sandbox.runner.execute`, the same policy,
guards, facades and limits as the in-process `restricted` executor) on that thread, on an event
loop that also watches the channel (`ProgramLoop`), so a tool's reply or the host's `stop` wakes
the program directly; a tool call is written to the channel by the program's own `send`.

Limits: the sandbox's watchdog thread stops a program past its wall-clock, CPU or memory limit,
as in-process; `RLIMIT_CPU` (moved per run) and `RLIMIT_AS` (`guest.oslimits`) are the OS's
backstops, and the host kills the worker at the run's deadline whatever happens here. A program
the watchdog gives up on (stuck in native code) gets its `done` from the watchdog's thread, marked
`retire`: the host then replaces this worker, whose one thread is still stuck.

The thread has the sandbox's deep stack and serves at the depth that leaves the program exactly
its `max_recursion_depth` frames (`engine.sandbox.workers.serve_at_depth`). Not shipped to remote
guests (it needs the sandbox).
"""

from __future__ import annotations

import asyncio
import gc
import os
import select
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..guest import GUEST_VERSION, oslimits
from ..guest import main as _guest_main
from ..guest.output import RoutingStream
from ..kernel import protocol as _protocol
from ..kernel.hold import HoldClock
from ..kernel.names import ProgramNames
from ..kernel.program import CompiledProgram, ProgramSyntaxError
from ..kernel.protocol import Send
from ..kernel.report import ErrorInfo, plain_error, valid_text
from ..limits import Limits
from ..sandbox.builtins import program_globals
from ..sandbox.compiler import compile_program
from ..sandbox.context import RunState, install_unraisable_filter
from ..sandbox.runner import Outcome, execute, use_loop
from ..sandbox.workers import Watchdog, serve_at_depth, start_with_deep_stack
from . import _wire
from ._childlink import Channel, ProgramLoop, RunFrame, diagnose, pack, peek, unpack_map

__all__ = ["WorkerServer", "main"]

_CPU_MARGIN = 2.0
"""CPU seconds past a run's own budget before the OS kills the process (the watchdog stops it first)."""

_RUN_KIND = b"\xa1k\xa3run"
"""A map's first key `k` with the value `run`, as msgpack encodes them (after the map's header)."""

_FRAMES_TO_PROGRAM = 14
"""Frames between `WorkerServer._serve` and a program's first frame (run, execute, the loop, the task)."""


class WorkerServer:
    """Serves the channel: one run at a time, each executed on the calling thread."""

    def __init__(self, fd_in: int, fd_out: int, *, cpu_ceiling: bool = True) -> None:
        self.channel = Channel(fd_in, fd_out)
        self._cpu_ceiling = cpu_ceiling
        self._watchdog = Watchdog()
        self._sessions: dict[str, dict[str, Any]] = {}
        self._limits_cache: dict[bytes, Limits] = {}
        self._prepared: tuple[bytes, ProgramNames] | None = None
        self._programs: dict[str, CompiledProgram] = {}
        self._pending: dict[Any, asyncio.Future[bytes]] = {}
        self._ahead: list[RunFrame] = []
        """Run frames read and not yet run (the next one is read while finding the run's room)."""
        self._current: tuple[int, RunState] | None = None
        self._clock = HoldClock()
        self._done_lock = threading.Lock()
        self._done: set[int] = set()
        self._closed = False
        self._suspect = False
        """The channel's reader was interrupted mid-read (a stop's `Interrupt`): retire after this run."""

    # -- the thread ---------------------------------------------------------------------------

    def start_watchdog(self) -> None:
        """Start the watchdog's thread now, before the program's deep stack takes most of the address
        space the process may still map (its thread could not start later)."""
        probe = RunState(Limits(), {})
        self._watchdog.watch(probe)
        self._watchdog.unwatch(probe)

    def serve(self, hello: dict[str, Any]) -> None:
        """Say hello, then serve runs until the host closes the channel (the thread's body)."""
        install_unraisable_filter()
        use_loop(lambda: ProgramLoop(self.channel.fd_in, self.readable))
        hello = {**hello, "version": GUEST_VERSION, "pid": os.getpid(), "mode": "restricted"}
        self.channel.record(_wire.HELLO, 0, pack(hello))
        os.set_blocking(self.channel.fd_in, False)
        first = self._next_run()
        if first is not None:
            self._ahead.append(first)
            serve_at_depth(self._serve, self._room(first, 0), _FRAMES_TO_PROGRAM)
        for frame in self._ahead:
            self._send_done(frame.id, _internal("the worker is closing"))

    def _serve(self, room: int) -> int | None:
        """Run programs at this depth until one needs other room (returned) or the channel closes."""
        while not self._closed:
            frame = self._ahead.pop(0) if self._ahead else self._next_run()
            if frame is None:
                return None
            wanted = self._room(frame, room)
            if wanted != room:
                self._ahead.insert(0, frame)
                return wanted
            self._run(frame)
            if self._suspect:
                self._closed = True  # the channel may have lost bytes: the host retires this worker
        return None

    def _next_run(self) -> RunFrame | None:
        """Block until the host sends a run (None: the channel closed)."""
        while not self._closed:
            if self._ahead:
                return self._ahead.pop(0)
            select.select([self.channel.fd_in], [], [])
            records = self.channel.read()
            if records is None:
                self._closed = True
                return None
            for record in records:
                self._on_record(record)
        return None

    # -- records ------------------------------------------------------------------------------

    def readable(self) -> None:
        """The channel has bytes while a program runs (called by the program's loop)."""
        try:
            records = self.channel.read()
            if records is None:
                self._closed = True
                self._stop_current("the host closed the channel")
                asyncio.get_running_loop().remove_reader(self.channel.fd_in)
                return
            for record in records:
                self._on_record(record)
        except BaseException:
            # A stop's `Interrupt` landed in here: bytes may have been read and not handled.
            self._suspect = True
            raise

    def _on_record(self, record: _wire.Record) -> None:
        kind, _, data = record
        if kind == _wire.QUIT:
            self._closed = True
            self._stop_current("the worker is closing")
        elif kind == _wire.FRAME:
            self._on_frame(data)

    def _on_frame(self, data: bytes) -> None:
        if data[1:7] == _RUN_KIND:  # the host's run frames start with their kind: parsed once, not peeked first
            self._on_run(data)
            return
        try:
            kind, ident = peek(data)
        except Exception as exc:  # msgpack raises several unrelated types for bad input
            diagnose(f"dropped a bad frame: {type(exc).__name__}")
            return
        if kind in ("result", "error"):
            future = self._pending.pop(ident, None)
            if future is not None and not future.done():
                future.set_result(data)
        elif kind == "stop":
            current = self._current
            if current is not None and current[0] == ident:
                current[1].stop("the run was stopped by the host", "TimeoutError")
        elif kind == "hold":
            # The host's approvals hold clock, mirrored: the watchdog moves the deadline by it.
            try:
                frame = _protocol.decode(data)
            except _protocol.FrameError as exc:
                diagnose(f"dropped a bad hold frame: {exc}")
                return
            self._clock.mirror(float(frame["held"]), frame["on"])
        elif kind == "run":
            self._on_run(data)

    def _on_run(self, data: bytes) -> None:
        try:
            self._ahead.append(RunFrame.parse(data))
        except Exception as exc:  # msgpack's several types, or a missing or mistyped field
            diagnose(f"dropped a bad run frame: {type(exc).__name__}: {exc}")

    def _stop_current(self, reason: str) -> None:
        if self._current is not None:
            self._current[1].stop(reason, "CancelledError")

    # -- runs ---------------------------------------------------------------------------------

    def _limits(self, raw: bytes) -> Limits:
        # The same limits arrive with every run (the same bytes): decode and validate each once.
        cached = self._limits_cache.get(raw)
        if cached is None:
            if len(self._limits_cache) > 64:
                self._limits_cache.clear()
            cached = self._limits_cache[raw] = Limits(**unpack_map(raw))
        return cached

    def _room(self, frame: RunFrame, default: int) -> int:
        try:
            return self._limits(frame.limits).max_recursion_depth
        except Exception:  # bad limits: the run is refused without running (any room does)
            return default

    def _names(self, raw: bytes) -> ProgramNames:
        # The host sends the same specs with every run until its tools change: prepare them once.
        if self._prepared is None or self._prepared[0] != raw:
            self._prepared = (raw, ProgramNames(unpack_map(raw)))
        return self._prepared[1]

    def _run(self, frame: RunFrame) -> None:
        run_id = frame.id
        try:
            limits = self._limits(frame.limits)
            names = self._names(frame.specs)
        except Exception as exc:  # pydantic's ValidationError, say; the host sent what it validated
            self._send_done(run_id, _payload(plain_error("ValueError", f"bad limits or specs: {exc}")))
            return
        program = self._programs.get(frame.code)
        if program is None:
            try:
                program = compile_program(frame.code)
            except ProgramSyntaxError as exc:
                self._send_done(run_id, _payload(plain_error("SyntaxError", exc.message, exc.line)))
                return
            if len(self._programs) >= 64:
                self._programs.clear()
            self._programs[frame.code] = program
        session_id = frame.session_id
        globals_ = self._sessions.setdefault(session_id, {}) if session_id is not None else {}
        program_globals(globals_)
        run = RunState(limits, globals_)
        run.keep_globals = session_id is not None
        run.seed = frame.seed
        self._clock = clock = HoldClock()  # one run at a time: a fresh clock per run
        run.held = clock.seconds
        # Streamed as printed (a run that never ends still shows its output); lone surrogates escaped.
        run.output.sink = self._streamer(run_id)
        run.on_abandon = lambda: self._abandon(run_id, run)
        if self._cpu_ceiling:
            oslimits.cpu_ceiling(limits.effective_cpu_time + _CPU_MARGIN)
        self._current = (run_id, run)
        self._watchdog.watch(run)
        try:
            outcome = execute(run, program, names, self._sender(run_id))
        except BaseException:  # an interrupt that fired between two engine statements
            outcome = Outcome(error=plain_error(run.stop_type, run.stop_reason or "the program was interrupted"))
        finally:
            self._watchdog.unwatch(run)
            self._current = None
            self._pending.clear()
        info = outcome.error
        if info is not None and _is_memory_error(info):
            # The program's objects hang off its exception's traceback cycle: free them now, or the
            # next run starts with the address space still full.
            gc.collect()
        self._send_done(run_id, _payload(info, outcome, run, retire=self._suspect))

    def _streamer(self, run_id: int) -> Callable[[str], None]:
        channel = self.channel

        def stream(text: str) -> None:
            channel.frame(run_id, _protocol.log_frame(valid_text(text), "stdout", run_id))

        return stream

    def _sender(self, run_id: int) -> Send:
        pending, channel = self._pending, self.channel

        async def send(data: bytes) -> bytes:
            _, call_id = peek(data)
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            pending[call_id] = future
            try:
                channel.record(_wire.FRAME, run_id, bytes(data))
                return await future
            except asyncio.CancelledError:
                if pending.pop(call_id, None) is not None:
                    channel.frame(run_id, _protocol.cancel_frame(call_id))
                raise
            finally:
                pending.pop(call_id, None)

        return send

    def _abandon(self, run_id: int, run: RunState) -> None:
        # On the watchdog's thread: the program did not stop (stuck in native code). This worker's
        # one thread is lost with it, so the run ends here and the host retires the worker.
        message = f"{run.stop_reason}; it did not stop (stuck in native code) and its worker was retired"
        self._send_done(run_id, _payload(plain_error(run.stop_type, message), retire=True))

    def _send_done(self, run_id: int, payload: dict[str, Any]) -> None:
        with self._done_lock:  # once per run: the watchdog (abandon) and this thread may both try
            if run_id in self._done:
                return
            self._done.add(run_id)
            if len(self._done) > 1024:
                self._done = {run_id}
        try:
            self.channel.frame(run_id, _protocol.done_frame(run_id, payload))
        except _protocol.FrameError as exc:
            self.channel.frame(run_id, _protocol.done_frame(run_id, _internal(f"unsendable envelope: {exc}")))


def _is_memory_error(info: ErrorInfo) -> bool:
    kind = info["type"]
    return kind == "MemoryError" or (kind == "InternalError" and info["message"].startswith("MemoryError"))


def _payload(
    info: ErrorInfo | None, outcome: Outcome | None = None, run: RunState | None = None, *, retire: bool = False
) -> dict[str, Any]:
    """The `done` payload: the envelope's fields the host reads (`_payload.envelope_from_payload`)."""
    if info is not None:
        info = _explain_memory_error(info)
        info = ErrorInfo(type=valid_text(info["type"]), message=valid_text(info["message"]), line=info["line"],
                         traceback=valid_text(info["traceback"]), column=info.get("column"))
    payload: dict[str, Any] = {"error_info": info}
    if outcome is not None and run is not None:
        payload.update(
            result=outcome.result if info is None else None,
            logs=[valid_text(line) for line in run.output.lines()],
            truncated=run.output.truncated,
            usage={"cpu_time": outcome.cpu_time, "output_chars": run.output.chars,
                   "result_bytes": outcome.result_bytes, "peak_memory_bytes": run.peak_memory},
        )
    if retire:
        payload["retire"] = True
    return payload


def _explain_memory_error(info: ErrorInfo) -> ErrorInfo:
    # An allocation refused by RLIMIT_AS raises a bare `MemoryError()`: say which limit it was.
    if info["type"] == "InternalError" and info["message"].startswith("MemoryError"):
        # The allocation that failed was the engine's, on the program's behalf: same cause.
        info = plain_error("MemoryError", "")
    if info["type"] == "MemoryError" and not info["message"]:
        message = "killed: memory limit (the sandbox process reached its OS address-space cap)"
        traceback = (info["traceback"] + ": " + message) if info["traceback"] else message
        info = ErrorInfo(type="MemoryError", message=message, line=info["line"], traceback=traceback,
                         column=info.get("column"))
    return info


def _internal(message: str) -> dict[str, Any]:
    return {"error_info": plain_error("InternalError", message)}


def _take_stdio() -> tuple[int, int]:
    """Take fd 0 and fd 1 for the channel and point both at `/dev/null`; returns the channel's
    (input, output) descriptors.

    Unlike the full-Python guest's `take_stdio`, no thread reads fd 1 back: a restricted program
    cannot write to a descriptor, and a thread started before the confinement (`_confine` applies
    to the calling thread and the threads it starts later) would run without it."""
    channel_in, channel_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    sys.stdout = RoutingStream("stdout")  # engine code's writes: dropped (no run is bound to them)
    sys.stderr = RoutingStream("stderr")
    return channel_in, channel_out


def main(argv: list[str] | None = None, *, confine: bool = False) -> None:
    """The worker's entry point: take stdio for the channel, cap and confine the process, then serve
    on one deep-stack thread (the main thread only waits for it)."""
    options = _guest_main.parse(sys.argv[1:] if argv is None else argv)
    channel_in, channel_out = _take_stdio()
    if options.memory_bytes is not None or options.nofile is not None:
        oslimits.apply(memory_bytes=options.memory_bytes, nofile=options.nofile)
    report: dict[str, Any] = {}
    if confine:
        from . import _confine

        report = _confine.confine()
    server = WorkerServer(channel_in, channel_out, cpu_ceiling=not options.no_cpu_ceiling)
    server.start_watchdog()
    failed: list[BaseException] = []

    def body() -> None:
        try:
            server.serve({"confinement": report})
        except BaseException as exc:  # noqa: BLE001 - said on stderr, where the host reads a worker's last words
            # (`sys.stderr` is the programs' by now: the template's report of it would be lost)
            diagnose(f"{type(exc).__name__}: {exc}")
            failed.append(exc)

    thread = threading.Thread(target=body, name="sandbox-worker", daemon=True)
    start_with_deep_stack(thread)
    while thread.is_alive():
        thread.join(3600)
    if failed:
        raise failed[0]
