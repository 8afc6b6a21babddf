"""`ApprovalGate`: one execution's gate (`bridge.Gate`): policy, parked calls, dry run, replay.

The dispatcher asks the gate about every tool call before it reaches the server. The gate applies
the `ToolPolicy`: `deny` answers with a `ToolError` at once; `allow` goes ahead; `ask` *parks* the
call — the program stays suspended on it, exactly where it is — until `decide` approves or rejects
it (or an `approver` callback decides, for `codemode serve`'s elicitation). In a dry run, calls
that are not allowed outright are answered with a placeholder and listed as planned.

The execution is *paused* when calls are parked and nothing else moves: no admitted call is still
at a server and no new call arrived for `SETTLE` seconds, so the three writes of a `gather` are one
pause with three pending calls. From then until the decision, the hold clock runs and the run's
wall-clock limit skips that time.

Every call that passes through the gate is logged (tool, arguments, outcome, result) so the
execution can be replayed when its program is gone (`approvals.log`); a replaying gate answers the
calls the log already has from the log, and never runs a write twice.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import mcp.types as types

from ..bridge.hooks import Verdict
from ..envelope import PendingCallInfo
from ..errors import ApprovalError
from ..kernel.hold import HoldClock
from ..kernel.protocol import FrameError, decode
from .log import CallRecord, Diverged, Replay
from .policy import Action, ToolPolicy

__all__ = ["SETTLE", "ApprovalGate", "Approver", "Decision", "PendingCall", "decide_ids"]

SETTLE = 0.005
"""Seconds without a new call or a running one before parked calls are a pause: long enough for
the calls of one `gather` to arrive (they leave the program in one scheduling pass)."""

Decision = tuple[bool, str | None]
"""`(approved, reason)`."""

Approver = Callable[["PendingCall"], Awaitable[Decision]]
"""Decides one parked call at once (e.g. by asking a person through MCP elicitation)."""


@dataclass(eq=False)
class PendingCall:
    """A call that waits for a person's decision."""

    id: str
    server: str
    tool: str
    arguments: dict[str, Any]
    decided: anyio.Event = field(default_factory=anyio.Event)
    approved: bool = False
    reason: str | None = None

    def describe(self) -> PendingCallInfo:
        """The envelope's `pending` entry."""
        return PendingCallInfo(id=self.id, tool=f"{self.server}.{self.tool}", arguments=self.arguments)


class ApprovalGate:
    """The gate of one execution; see the module docstring.

    Args:
        policy: the tool policy.
        annotations: `(server, tool) -> ToolAnnotations | None`, for annotation defaults and dry runs.
        dry_run: answer every call that is not allowed outright with a placeholder.
        approver: decide `ask` calls at once instead of pausing (`codemode serve`).
        replay: the log of an earlier run of the same program, to answer from.
        approval_timeout: seconds an `approver` gets to answer before the call is rejected.
    """

    def __init__(
        self,
        policy: ToolPolicy,
        annotations: Callable[[str, str], types.ToolAnnotations | None] = lambda server, tool: None,
        *,
        dry_run: bool = False,
        approver: Approver | None = None,
        replay: Replay | None = None,
        approval_timeout: float = 900.0,
    ) -> None:
        self._policy = policy
        self._annotations = annotations
        self.dry_run = dry_run
        self._approver = approver
        self.replay = replay
        self.clock = HoldClock()
        self.log: list[CallRecord] = []
        self.planned: list[dict[str, Any]] = []
        self._pending: dict[str, PendingCall] = {}
        # Ids go on from the earlier run's, so a replay never gives an id a second meaning.
        self._ids = itertools.count(replay.next_id() if replay is not None else 1)
        self._running = 0
        self._arrivals = 0
        self._changed = anyio.Event()
        self._listeners: list[Callable[[float, bool], None]] = []
        self._frozen: anyio.Event | None = None
        self._approval_timeout = approval_timeout
        self.diverged: str | None = None
        """Set when a replay met a call its log does not have; every later call is refused."""

    # -- bridge.Gate ----------------------------------------------------------------------------

    async def admit(self, server: str, tool: str, arguments: dict[str, Any]) -> Verdict:
        self._arrivals += 1
        self._touch()
        # While paused (or while a person is being asked), the program is frozen: a call from any
        # of its tasks waits for the decision, so nothing runs that the person has not seen, and
        # nothing reaches a server while the wall-clock limit is held.
        while self._frozen is not None:
            await self._frozen.wait()
        action = self._action(server, tool)
        if action == "deny":
            return _refuse(f"{server}.{tool} is denied by the tool policy; nothing was sent to the server", "denied")
        if self.replay is not None:
            try:
                replayed = self.replay.answer(server, tool, arguments)
            except Diverged as exc:
                self.diverged = str(exc)
                return Verdict(answered=True, error=("ReplayError", str(exc)), outcome="denied")
            if replayed is not None:
                record = self._append(replayed.record)
                if replayed.verdict is not None:
                    return replayed.verdict
                if replayed.decision is not None:
                    # A parked call of the earlier run, decided on this resume: it goes ahead now.
                    return self._go(record, *replayed.decision)
                return await self._park(record, record.pending_id or f"c{next(self._ids)}")
        record = self._append(CallRecord(server, tool, arguments))
        if action == "allow":
            return self._go(record, True, None)
        if self.dry_run:
            record.state = "planned"
            plan = {"id": f"p{len(self.planned) + 1}", "tool": f"{server}.{tool}", "arguments": arguments}
            self.planned.append(plan)
            return Verdict(answered=True, value={"dry_run": True, "planned": plan["id"]}, outcome="planned")
        return await self._park(record, f"c{next(self._ids)}")

    async def _park(self, record: CallRecord, pending_id: str) -> Verdict:
        pending = PendingCall(pending_id, record.server, record.tool, record.arguments)
        record.pending_id = pending.id
        record.state = "pending"
        if self._approver is not None:
            # The person is asked now; the program waits (frozen), and its wall-clock limit with it.
            frozen = self._freeze()
            try:
                decision: Decision = (False, f"no answer within the approval timeout ({self._approval_timeout:g} s)")
                with anyio.move_on_after(self._approval_timeout):
                    decision = await self._approver(pending)
            finally:
                self._thaw(frozen)
            return self._go(record, *decision)
        self._pending[pending.id] = pending
        self._touch()
        try:
            await pending.decided.wait()
        finally:
            if self._pending.pop(pending.id, None) is None and pending.decided.is_set():
                self._running -= 1  # the count `decide` gave it
            self._touch()
        return self._go(record, pending.approved, pending.reason)

    def finished(self, ticket: int, reply: bytes) -> None:
        self._running -= 1
        self._touch()
        record = self.log[ticket]
        if not reply:
            record.state = "sent"  # cancelled at the server: its effect is not known
            return
        try:
            frame = decode(reply)
        except FrameError:
            record.state = "sent"
            return
        if frame["k"] == "result":
            record.state, record.value = "ok", frame["value"]
        else:
            error = frame["error"]
            record.state, record.error = "error", (str(error.get("type")), str(error.get("message")))

    def held(self) -> float:
        return self.clock.seconds()

    def listen(self, callback: Callable[[float, bool], None]) -> None:
        self._listeners.append(callback)

    # -- the execution's side -------------------------------------------------------------------

    @property
    def pending(self) -> list[PendingCall]:
        """The calls parked now, in the order they arrived."""
        return list(self._pending.values())

    async def paused(self) -> list[PendingCall]:
        """Wait until the execution is paused (see the module docstring); start the hold clock and
        return the parked calls."""
        while True:
            while not (self._pending and self._running == 0):
                changed = self._changed
                await changed.wait()
            arrivals = self._arrivals
            await anyio.sleep(SETTLE)
            if self._pending and self._running == 0 and self._arrivals == arrivals:
                self._freeze()
                return self.pending

    def decide(
        self,
        approve: Collection[str] | Literal["all"] = (),
        reject: Collection[str] | Literal["all"] = (),
        reason: str | None = None,
        among: Sequence[str] | None = None,
    ) -> None:
        """Approve and reject parked calls by id (or `"all"`); the others stay parked. `among`: the
        ids the person was shown (a pause's); `"all"` means all of those, never a call parked since.

        Raises:
            ApprovalError: an id is not pending, or one id is both approved and rejected; nothing
                is decided then.
        """
        shown = list(self._pending) if among is None else [call_id for call_id in among if call_id in self._pending]
        chosen = decide_ids(shown, approve, reject, reason)
        for call_id, (approved, why) in chosen.items():
            call = self._pending.pop(call_id)
            call.approved, call.reason = approved, why
            # Counted as moving until its program wakes up: no pause is seen in between.
            self._running += 1
            call.decided.set()
        if self._frozen is not None:
            self._thaw(self._frozen)
        self._touch()

    # -- inside -----------------------------------------------------------------------------------

    def _action(self, server: str, tool: str) -> Action:
        annotations = self._annotations(server, tool)
        return self._policy.action(server, tool, annotations, dry_run=self.dry_run)

    def _go(self, record: CallRecord, approved: bool, reason: str | None) -> Verdict:
        record.decision = approved
        if not approved:
            record.state = "rejected"
            because = f": {reason}" if reason else ""
            message = f"{record.server}.{record.tool} was rejected by a person{because}; nothing was sent to the server"
            return _refuse(message, "rejected")
        record.state = "sent"  # until the reply says how it went
        self._running += 1
        self._touch()
        return Verdict(ticket=record.seq)

    def _append(self, record: CallRecord) -> CallRecord:
        record.seq = len(self.log)
        self.log.append(record)
        return record

    def _freeze(self) -> anyio.Event:
        """Hold the program (calls wait) and the clock; the thaw event, made once per hold."""
        if self._frozen is None:
            self._frozen = anyio.Event()
            self.clock.hold()
            self._tell()
        return self._frozen

    def _thaw(self, frozen: anyio.Event) -> None:
        if self._frozen is frozen:
            self._frozen = None
            self.clock.release()
            self._tell()
        frozen.set()

    def _touch(self) -> None:
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    def _tell(self) -> None:
        held, on = self.clock.seconds(), self.clock.on
        for listener in self._listeners:
            listener(held, on)


def decide_ids(
    pending: Sequence[str],
    approve: Collection[str] | Literal["all"],
    reject: Collection[str] | Literal["all"],
    reason: str | None,
) -> dict[str, Decision]:
    """The decision on each named pending call: `approve`/`reject` are lists of ids or `"all"`.

    Raises:
        ApprovalError: an id is not pending, one id is both approved and rejected, both are
            `"all"`, or an argument has the wrong type.
    """
    if approve == "all" and reject == "all":
        raise ApprovalError("approve and reject cannot both be 'all'")
    approved = set(pending) if approve == "all" else _ids(approve, "approve")
    rejected = set(pending) if reject == "all" else _ids(reject, "reject")
    if approve == "all":
        approved -= rejected
    if reject == "all":
        rejected -= approved
    both = approved & rejected
    if both:
        raise ApprovalError(f"call {sorted(both)[0]!r} is both approved and rejected")
    unknown = sorted((approved | rejected) - set(pending))
    if unknown:
        ids = ", ".join(pending) or "none"
        raise ApprovalError(f"call {unknown[0]!r} is not pending (pending: {ids})")
    if reason is not None and not isinstance(reason, str):
        raise ApprovalError(f"reason must be a string, got {type(reason).__name__}")
    if not approved and not rejected:
        raise ApprovalError("name the calls to approve or reject (ids, or 'all')")
    chosen: dict[str, Decision] = {call_id: (True, None) for call_id in approved}
    chosen.update({call_id: (False, reason) for call_id in rejected})
    return chosen


def _refuse(message: str, outcome: Literal["denied", "rejected"]) -> Verdict:
    return Verdict(answered=True, error=("ToolError", message), outcome=outcome)


def _ids(value: object, what: str) -> set[str]:
    if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset | Mapping):
        raise ApprovalError(f"{what} must be a list of call ids or 'all', got {value!r}")
    ids = set()
    for item in value:
        if not isinstance(item, str):
            raise ApprovalError(f"{what} must hold call ids (strings like 'c1'), got {item!r}")
        ids.add(item)
    return ids
