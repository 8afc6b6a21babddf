"""The restricted engine: programs in a local guest process run under engine's RestrictedPython policy.

Used by the `process` executor: the child process imports `engine` (it runs on this machine, with
the same installation) and runs each program through a `RestrictedExecutor` of its own, so the
program gets the same policy, guards, facades and limits as in-process, plus the OS limits the
child set on itself (`oslimits`). Its tool calls leave through the guest's link instead of a host
callback. Not shipped to remote guests.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ..envelope import Envelope, ErrorInfo, error_envelope, format_error
from ..errors import ToolError
from ..executors.base import ExecutionRequest, Send
from ..executors.restricted import RestrictedExecutor
from ..limits import Limits
from ..stubs.runtime import build_namespaces, make_search_tools
from . import oslimits

__all__ = ["RestrictedEngine"]

_CPU_MARGIN = 2.0
"""CPU seconds past a run's own budget before the OS kills the process (the watchdog stops it first)."""


class RestrictedEngine:
    """Runs programs through an in-child `RestrictedExecutor`."""

    mode = "restricted"

    def __init__(self, *, cpu_ceiling: bool = True) -> None:
        self._executor = RestrictedExecutor()
        self._tasks: dict[int, asyncio.Task[Any]] = {}
        self._budgets: dict[int, float] = {}
        self._cpu_ceiling = cpu_ceiling

    def cancel(self, run_id: int) -> None:
        task = self._tasks.get(run_id)
        if task is not None:
            task.cancel()

    async def run(
        self,
        run_id: int,
        frame: Mapping[str, Any],
        send: Callable[[bytes], Awaitable[bytes]],
        flush: Callable[[str, str], None],
    ) -> Any:
        try:
            limits = Limits(**frame["limits"])
        except Exception as exc:  # pydantic's ValidationError; the host sent limits it validated
            info = ErrorInfo(type="ValueError", message=f"bad limits: {exc}", line=None, traceback="")
            return error_envelope(info)
        specs: Mapping[str, Any] = frame["specs"]
        listing = {namespace: [str(spec["identifier"]) for spec in tools] for namespace, tools in specs.items()}

        def make_globals(program_send: Send) -> dict[str, object]:
            names: dict[str, object] = dict(build_namespaces(specs, program_send, tool_error=ToolError))
            names["search_tools"] = make_search_tools(program_send, tool_error=ToolError)
            names["ToolError"] = ToolError
            names["tool_namespaces"] = {namespace: list(tools) for namespace, tools in listing.items()}
            return names

        request = ExecutionRequest(
            code=frame["code"],
            limits=limits,
            host_channel=send,
            make_globals=make_globals,
            session_id=frame.get("session_id"),
            tool_specs=specs,
        )
        self._budgets[run_id] = limits.effective_cpu_time
        self._set_cpu_ceiling()
        task = asyncio.get_running_loop().create_task(self._executor.run(request))
        self._tasks[run_id] = task
        try:
            await asyncio.wait({task})
        finally:
            self._tasks.pop(run_id, None)
            self._budgets.pop(run_id, None)
        if task.cancelled():
            message = "the run was cancelled by the host"
            return error_envelope(ErrorInfo(type="TimeoutError", message=message, line=None, traceback=message))
        return _explain_memory_error(task.result())

    def _set_cpu_ceiling(self) -> None:
        if self._cpu_ceiling:
            oslimits.cpu_ceiling(sum(self._budgets.values()) + _CPU_MARGIN)


def _explain_memory_error(envelope: Envelope) -> Envelope:
    # An allocation refused by RLIMIT_AS raises a bare `MemoryError()`: say which limit it was.
    info = envelope["error_info"]
    if info is not None and info["type"] == "InternalError" and info["message"].startswith("MemoryError"):
        # The allocation that failed was the engine's, on the program's behalf: same cause.
        info = ErrorInfo(type="MemoryError", message="", line=None, traceback="")
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
