"""`Suspensions`: the executions paused for approval, their resumes, expiry and replay.

An execution with a gate runs as a task of its own, so `execute` can return while the program
stays suspended on its parked calls. `settle` waits for the first of: the program ends (its
envelope, `status` "ok" or "error"), or the gate pauses (an envelope with `status` "paused", the
`execution_id` and the `pending` calls). A paused execution is saved to the store, claimed back
by exactly one `resume` (the store's atomic delete: two hosts never resume it both), and ended
with a clear error after `approval_timeout` without a decision: its program is stopped and no
pending call is made.

A resume whose program is still here continues it where it stopped. When the program is gone —
another host, a restart — the saved execution is replayed (`approvals.log`) by `restart`, the
callback code mode gives to build a fresh run of the saved program.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from ..envelope import Envelope, build_envelope
from ..errors import ApprovalError
from ..executors.base import Host
from ..store import Store
from .gate import ApprovalGate, PendingCall, decide_ids
from .log import CallRecord, Replay, SavedExecution

__all__ = ["DEFAULT_APPROVAL_TIMEOUT", "MAX_HELD", "Printed", "Restart", "Started", "Suspensions"]

DEFAULT_APPROVAL_TIMEOUT = 900.0
"""Seconds a paused execution waits for a decision before it is ended (15 minutes)."""

_KEY = "engine:approval:"
MAX_HELD = 8
"""Paused programs a code mode keeps running at most (see `Suspensions`)."""
_ENDED_KEPT = 1000  # ids of ended executions remembered, to say why a late resume fails


@dataclass(eq=False)
class Started:
    """A running execution with a gate, as code mode starts it."""

    task: asyncio.Task[Envelope]
    gate: ApprovalGate
    host: Host
    saved: SavedExecution
    """What to save when it pauses (its `calls` and `pending` are filled in then)."""
    printed: Printed
    """What the program printed so far: the run's `on_log`."""


Restart = Callable[[SavedExecution, Replay], Awaitable[Started]]
"""Code mode's callback: start a fresh run of a saved program whose gate answers from `Replay`."""


@dataclass(eq=False)
class _Suspended:
    base: str
    """The execution's id without its pause number."""
    run: Started
    pause: int = 0
    """Pauses so far: the current one's id is `base.pause`."""
    shown: list[str] = field(default_factory=list)
    """The pending ids the last paused envelope showed: all a resume may decide."""
    returned_logs: int = 0
    started: float = field(default_factory=time.perf_counter)
    timer: asyncio.TimerHandle | None = None
    resuming: bool = False

    @property
    def id(self) -> str:
        return f"{self.base}.{self.pause}"


class Suspensions:
    """The paused executions of one code mode; see the module docstring.

    Args:
        store: where paused executions are saved.
        approval_timeout: seconds a pause waits for a decision.
        max_held: paused programs kept running here at most; past it, the oldest is stopped and
            its execution stays in the store (a resume replays it), so pauses never starve the
            executor of threads or workers.
    """

    def __init__(
        self, store: Store, *, approval_timeout: float = DEFAULT_APPROVAL_TIMEOUT, max_held: int = MAX_HELD
    ) -> None:
        self.store = store
        self.approval_timeout = approval_timeout
        self.max_held = max_held
        self._live: dict[str, _Suspended] = {}
        self._ended: OrderedDict[str, str] = OrderedDict()
        self._reaping: set[asyncio.Task[Any]] = set()

    @staticmethod
    def new_id() -> str:
        """An execution's base id: unguessable (an execution id is all a resume needs)."""
        return "ex_" + secrets.token_urlsafe(18)

    async def settle(self, base: str, run: Started, *, pause: int = 0) -> Envelope:
        """Wait for the run to end or pause; return its envelope. Cancelling this stops the run."""
        suspended = _Suspended(base, run, pause)
        try:
            return await self._settle(suspended)
        except BaseException:
            self._abandon(suspended)
            raise

    def holds(self, execution_id: str) -> bool:
        """Whether this host still holds the paused program of `execution_id` (False once its
        program is gone: a resume then replays it from the store)."""
        suspended = self._live.get(execution_id)
        return suspended is not None and not suspended.run.task.done()

    async def resume(
        self,
        execution_id: object,
        approve: Collection[str] | Literal["all"],
        reject: Collection[str] | Literal["all"],
        reason: str | None,
        restart: Restart,
    ) -> Envelope:
        """Decide pending calls of a paused execution and continue it; its next envelope.

        Raises:
            ApprovalError: unknown, ended or already resumed id; ids that are not pending, or both
                approved and rejected (the execution stays paused and resumable then).
            StoreError: the store failed or holds a corrupt record.
        """
        if not isinstance(execution_id, str) or not execution_id:
            raise ApprovalError(f"execution_id must be the id of a paused execution, got {execution_id!r}")
        key = _KEY + execution_id
        suspended = self._live.get(execution_id)
        if suspended is not None and suspended.run.task.done():
            # The paused program is gone (its worker died, its sandbox ended): replay it below.
            self._live.pop(execution_id, None)
            self._cancel_timer(suspended)
            self._reap(suspended.run.task)
            suspended = None
        if suspended is not None:
            return await self._resume_held(suspended, key, approve, reject, reason)
        if execution_id in self._ended:
            raise ApprovalError(self._ended[execution_id])
        blob = await self.store.get(key)
        if blob is None:
            raise ApprovalError(f"no paused execution has the id {execution_id!r} (unknown, finished or expired)")
        saved = SavedExecution.loads(blob, key)
        decisions = decide_ids(saved.pending, approve, reject, reason)  # raises on bad ids
        # Claimed in the store: of the hosts that share it, exactly one resumes this pause.
        if not await self.store.delete(key):
            raise ApprovalError(f"execution {execution_id!r} is already being resumed")
        try:
            run = await restart(saved, Replay(saved.calls, decisions))
        except BaseException:
            await self.store.put(key, blob, ttl=self.approval_timeout)  # nothing ran: still resumable
            raise
        return await self.settle(saved.execution, run, pause=saved.pause)

    async def aclose(self) -> None:
        """Stop every suspended program (their saved records stay for a later replay)."""
        for suspended in list(self._live.values()):
            self._abandon(suspended)
        self._live.clear()
        reaping = list(self._reaping)
        if reaping:
            await asyncio.wait(reaping, timeout=5.0)

    # -- inside -----------------------------------------------------------------------------------

    async def _resume_held(
        self,
        suspended: _Suspended,
        key: str,
        approve: Collection[str] | Literal["all"],
        reject: Collection[str] | Literal["all"],
        reason: str | None,
    ) -> Envelope:
        if suspended.resuming:
            raise ApprovalError(f"execution {suspended.id!r} is already being resumed")
        decide_ids(suspended.shown, approve, reject, reason)  # raises before anything changes
        suspended.resuming = True
        try:
            claimed = await self.store.delete(key)
        except BaseException:
            suspended.resuming = False
            raise
        if not claimed:
            # Another host sharing the store resumed this pause (and replayed it): this program
            # is stale, and must never run on.
            self._live.pop(suspended.id, None)
            self._abandon(suspended)
            raise ApprovalError(f"execution {suspended.id!r} was already resumed by another host sharing the store")
        self._live.pop(suspended.id, None)
        self._cancel_timer(suspended)
        try:
            suspended.run.gate.decide(approve, reject, reason, among=suspended.shown)
            return await self._settle(suspended)
        except BaseException:
            self._abandon(suspended)  # a resume given up on (cancelled) stops the program
            raise

    async def _settle(self, suspended: _Suspended) -> Envelope:
        run = suspended.run
        paused = asyncio.ensure_future(run.gate.paused())
        try:
            await asyncio.wait({run.task, paused}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not paused.done():
                paused.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await paused
        if run.task.done():
            return self._finished(suspended, run.task.result())
        pending = paused.result()
        suspended.pause += 1
        suspended.shown = [call.id for call in pending]
        await self._save(suspended)  # a pause that cannot be saved raises: the caller stops the run
        suspended.resuming = False
        self._hold(suspended)
        return self._paused(suspended, pending)

    def _hold(self, suspended: _Suspended) -> None:
        """Keep a paused program here, stopping the oldest held one past `max_held` (it stays in
        the store: a resume replays it)."""
        while len(self._live) >= self.max_held:
            oldest = next(iter(self._live.values()))
            self._live.pop(oldest.id)
            self._abandon(oldest)
        self._live[suspended.id] = suspended
        suspended.timer = asyncio.get_running_loop().call_later(self.approval_timeout, self._expire, suspended.id)

    async def _save(self, suspended: _Suspended) -> None:
        saved = suspended.run.saved
        saved.calls = [CallRecord.from_plain(record.to_plain()) for record in suspended.run.gate.log]
        saved.pending = list(suspended.shown)
        saved.execution, saved.pause = suspended.base, suspended.pause
        await self.store.put(_KEY + suspended.id, saved.dumps(), ttl=self.approval_timeout)

    def _paused(self, suspended: _Suspended, pending: list[PendingCall]) -> Envelope:
        run = suspended.run
        lines = run.printed.lines()
        logs = lines[suspended.returned_logs :]
        suspended.returned_logs = len(lines)
        envelope = build_envelope(
            result=None, logs=logs, error=None, elapsed=time.perf_counter() - suspended.started,
            limits=run.saved.limits, tool_calls=run.host.trace, calls=run.host.calls,
        )
        envelope["status"] = "paused"
        envelope["execution_id"] = suspended.id
        envelope["pending"] = [call.describe() for call in pending]
        return envelope

    def _finished(self, suspended: _Suspended, envelope: Envelope) -> Envelope:
        gate = suspended.run.gate
        if suspended.returned_logs:
            envelope["logs"] = envelope["logs"][suspended.returned_logs :]
        if gate.diverged is not None:
            diverged = {"type": "ReplayError", "message": gate.diverged, "line": None, "traceback": ""}
            envelope = build_envelope(
                result=None, logs=envelope["logs"], error=diverged,  # type: ignore[arg-type]
                elapsed=envelope["execution_time"], limits=envelope["usage"]["limits"],
                tool_calls=envelope["tool_calls"], calls=envelope["usage"]["tool_calls"],
            )
        if gate.dry_run:
            envelope["planned_calls"] = list(gate.planned)
        return envelope

    def _expire(self, execution_id: str) -> None:
        suspended = self._live.pop(execution_id, None)
        if suspended is None or suspended.resuming:
            return
        minutes = self.approval_timeout / 60
        self._remember(
            execution_id,
            f"execution {execution_id!r} ended: nobody decided on its pending calls within the approval "
            f"timeout ({minutes:g} min); its program was stopped and no pending call was made",
        )
        self._abandon(suspended)
        self._reap(asyncio.ensure_future(self.store.delete(_KEY + execution_id)))

    def _abandon(self, suspended: _Suspended) -> None:
        """Stop a program nobody waits for any more (its saved record, if any, stays)."""
        self._cancel_timer(suspended)
        if not suspended.run.task.done():
            suspended.run.task.cancel()
        self._reap(suspended.run.task)

    def _remember(self, execution_id: str, why: str) -> None:
        self._ended[execution_id] = why
        while len(self._ended) > _ENDED_KEPT:
            self._ended.popitem(last=False)

    def _reap(self, task: asyncio.Future[Any]) -> None:
        """Own a task that is being stopped until it is done (its outcome is no longer wanted)."""
        if isinstance(task, asyncio.Task):
            self._reaping.add(task)
        task.add_done_callback(_forget(self._reaping))

    def _cancel_timer(self, suspended: _Suspended) -> None:
        if suspended.timer is not None:
            suspended.timer.cancel()
            suspended.timer = None


class Printed:
    """What a run printed so far (its `on_log`), as the complete lines an envelope shows."""

    def __init__(self, relay: Callable[[str, str], None] | None = None) -> None:
        self._texts: list[str] = []
        self._relay = relay

    def __call__(self, text: str, stream: str) -> None:
        self._texts.append(text)
        if self._relay is not None:
            self._relay(text, stream)

    def lines(self) -> list[str]:
        """The complete lines (a line still being printed waits for its end)."""
        text = "".join(self._texts)
        return text[: text.rfind("\n") + 1].splitlines()


def _forget(tasks: set[asyncio.Task[Any]]) -> Callable[[asyncio.Future[Any]], None]:
    def done(task: asyncio.Future[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a stopped run's failure is not worth a warning

    return done
