"""The `process` executor's child: the guest's main loop serving an in-child `RestrictedExecutor`.

The child process imports `engine` (it runs on this machine, with the same installation) and runs
each program through a `RestrictedExecutor` of its own, so the program gets the same policy, guards,
facades and limits as in-process, plus the OS limits the child set on itself (`guest.oslimits`). Its
tool calls leave through the guest's link; the host's dispatcher answers, traces and counts them.
Not shipped to remote guests (it needs the sandbox).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgpack

from ..envelope import Envelope, ErrorInfo, ToolCallRecord, error_envelope, format_error
from ..guest import main as _guest_main
from ..guest import oslimits
from ..kernel.hold import HoldClock
from ..kernel.names import ProgramNames
from ..kernel.protocol import Send
from ..kernel.report import plain_error
from ..limits import Limits
from .base import ExecutionRequest
from .restricted import RestrictedExecutor

if TYPE_CHECKING:
    from anyio.abc import ObjectReceiveStream

__all__ = ["RestrictedEngine", "main"]

_CPU_MARGIN = 2.0
"""CPU seconds past a run's own budget before the OS kills the process (the watchdog stops it first)."""


class RestrictedEngine:
    """Runs programs through an in-child `RestrictedExecutor`."""

    mode = "restricted"

    def __init__(self, *, cpu_ceiling: bool = True) -> None:
        self._executor = RestrictedExecutor()
        self._tasks: dict[int, asyncio.Task[Any]] = {}
        self._links: dict[int, _Link] = {}
        self._budgets: dict[int, float] = {}
        self._cpu_ceiling = cpu_ceiling
        self._prepared: tuple[bytes, ProgramNames] | None = None
        self._limits_cache: dict[tuple[Any, ...], Limits] = {}

    def stop(self, run_id: int) -> None:
        task = self._tasks.get(run_id)
        if task is not None:
            task.cancel()

    def hold(self, run_id: int, held: float, on: bool) -> None:
        link = self._links.get(run_id)
        if link is not None:
            link.clock.mirror(held, on)

    async def run(
        self,
        run_id: int,
        frame: Mapping[str, Any],
        send: Send,
        flush: Callable[[str, str], None],
    ) -> Any:
        try:
            limits = self._limits(frame["limits"])
        except Exception as exc:  # pydantic's ValidationError; the host sent limits it validated
            return error_envelope(plain_error("ValueError", f"bad limits: {exc}"))
        link = self._links[run_id] = _Link(send)
        request = ExecutionRequest(
            code=frame["code"],
            limits=limits,
            host=link,
            names=self._names(frame["specs"]),
            session_id=frame.get("session_id"),
            seed=frame.get("seed"),
            on_log=flush,
        )
        self._budgets[run_id] = limits.effective_cpu_time
        self._set_cpu_ceiling()
        task = asyncio.get_running_loop().create_task(self._executor.run(request))
        self._tasks[run_id] = task
        try:
            await asyncio.wait({task})
        finally:
            self._tasks.pop(run_id, None)
            self._links.pop(run_id, None)
            self._budgets.pop(run_id, None)
        if task.cancelled():
            return error_envelope(plain_error("TimeoutError", "the run was stopped by the host"))
        return _explain_memory_error(task.result())

    def _limits(self, raw: Mapping[str, Any]) -> Limits:
        # The same limits arrive with every run: validate each distinct set once.
        key = tuple(sorted(raw.items()))
        cached = self._limits_cache.get(key)
        if cached is None:
            if len(self._limits_cache) > 64:
                self._limits_cache.clear()
            cached = self._limits_cache[key] = Limits(**raw)
        return cached

    def _names(self, specs: Mapping[str, Any]) -> ProgramNames:
        # The host sends the same specs with every run until its tools change: prepare them once.
        key = hashlib.sha256(msgpack.packb(specs, use_bin_type=True)).digest()
        if self._prepared is None or self._prepared[0] != key:
            self._prepared = (key, ProgramNames(specs))
        return self._prepared[1]

    def _set_cpu_ceiling(self) -> None:
        if self._cpu_ceiling:
            oslimits.cpu_ceiling(sum(self._budgets.values()) + _CPU_MARGIN)


def _explain_memory_error(envelope: Envelope) -> Envelope:
    # An allocation refused by RLIMIT_AS raises a bare `MemoryError()`: say which limit it was.
    info = envelope["error_info"]
    if info is not None and info["type"] == "InternalError" and info["message"].startswith("MemoryError"):
        # The allocation that failed was the engine's, on the program's behalf: same cause.
        info = plain_error("MemoryError", "")
    if info is not None and info["type"] == "MemoryError":
        # The program's objects hang off its exception's traceback cycle: free them now, or the
        # next run starts with the address space still full (and cannot even start a thread).
        gc.collect()
    if info is not None and info["type"] == "MemoryError" and not info["message"]:
        message = "killed: memory limit (the sandbox process reached its OS address-space cap)"
        info = ErrorInfo(type="MemoryError", message=message, line=info["line"],
                         traceback=(info["traceback"] + ": " + message) if info["traceback"] else message)
        envelope["error_info"] = info
        envelope["error"] = format_error(info)
    return envelope


class _Link:
    """The in-child executor's `Host`: frames go out through the guest's link. The host process's
    dispatcher traces and counts the calls, so this side reports none."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.trace: list[ToolCallRecord] = []
        self.calls = 0
        self.clock = HoldClock()  # mirrors the host's, from `hold` frames

    def held(self) -> float:
        return self.clock.seconds()

    async def handle(self, frame: bytes) -> bytes:
        return await self._send(frame)

    async def serve(
        self,
        receive: ObjectReceiveStream[bytes],
        send: Callable[[bytes], Awaitable[None]],
        on_log: Callable[[str, str], None],
    ) -> Any:
        raise NotImplementedError("a worker's link answers single frames only")


def main(argv: list[str] | None = None, *, confine: bool = False) -> None:
    """The worker's entry point: the guest's start-up, serving the restricted engine; with
    `confine`, the kernel confinement of `_confine` is applied once the channel is set up."""
    options = _guest_main.parse(sys.argv[1:] if argv is None else argv)
    hook = None
    if confine:
        from . import _confine

        hook = _confine.confine
    _guest_main.run(RestrictedEngine(cpu_ceiling=not options.no_cpu_ceiling), options, hook)
