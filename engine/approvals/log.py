"""The durable record of a paused execution, and the replay that continues it from that record.

A paused execution is saved to the store as plain data (msgpack): its program, limits, code
session and every tool call so far — server, tool, arguments, how it ended, its result or error,
and the decision on it. When the suspended program is gone (its worker restarted, the host
restarted, the resume reached another host), `Replay` runs the program again and answers each
call from the record instead of the server, up to the calls that were waiting for a decision;
from there the run is live.

Calls are matched by server, tool and arguments, each record used once, so the concurrent calls of
a `gather` may come back in any order. A call the record does not have, while records remain
unused, is a divergence: the replay stops there and says which call differed. A call that was sent
but whose outcome was never recorded is answered with an error, never sent again: a write is
never executed twice.

The record holds the seed of the program's `random`, so a replay draws the same numbers. It does
not hold the time: a program whose calls depend on the clock may diverge on replay; it is
stopped, never continued on a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

import msgpack

from ..bridge.hooks import Verdict
from ..errors import StoreError

__all__ = ["CallRecord", "Diverged", "Replay", "Replayed", "SavedExecution"]

CallState = Literal["sent", "ok", "error", "pending", "rejected", "planned"]
_VERSION = 1


@dataclass(eq=False)
class CallRecord:
    """One call as the gate saw it."""

    server: str
    tool: str
    arguments: dict[str, Any]
    state: CallState = "sent"
    """`sent` (at the server, outcome not known yet), `ok`, `error`, `pending` (waits for a
    decision), `rejected`, `planned` (a dry run's)."""
    value: Any = None
    error: tuple[str, str] | None = None
    pending_id: str | None = None
    decision: bool | None = None
    seq: int = 0

    def to_plain(self) -> dict[str, Any]:
        return {
            "server": self.server, "tool": self.tool, "arguments": self.arguments, "state": self.state,
            "value": self.value, "error": list(self.error) if self.error else None,
            "pending_id": self.pending_id, "decision": self.decision,
        }

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> CallRecord:
        error = data.get("error")
        return cls(
            server=str(data["server"]), tool=str(data["tool"]), arguments=dict(data["arguments"]),
            state=cast(CallState, data["state"]), value=data.get("value"),
            error=(str(error[0]), str(error[1])) if error else None,
            pending_id=data.get("pending_id"), decision=data.get("decision"),
        )


@dataclass
class SavedExecution:
    """What the store keeps of a paused execution."""

    code: str
    limits: dict[str, Any]
    session_id: str | None
    calls: list[CallRecord]
    pending: list[str]
    allowed_servers: list[str] | None = None
    execution: str = ""
    """The execution's base id; its pauses are `execution.1`, `execution.2`, ..."""
    pause: int = 0
    """Which pause this record is."""
    seed: int | None = None
    """The seed of the program's `random`: the replay draws the same numbers."""
    extra: dict[str, Any] = field(default_factory=dict)

    def dumps(self) -> bytes:
        data = {
            "v": _VERSION, "code": self.code, "limits": self.limits, "session_id": self.session_id,
            "calls": [call.to_plain() for call in self.calls], "pending": self.pending,
            "allowed_servers": self.allowed_servers, "execution": self.execution, "pause": self.pause,
            "seed": self.seed, "extra": self.extra,
        }
        return bytes(msgpack.packb(data, use_bin_type=True))

    @classmethod
    def loads(cls, blob: bytes, key: str) -> SavedExecution:
        """Raises `StoreError` when the blob is not a saved execution of this version."""
        try:
            data = msgpack.unpackb(blob, raw=False, strict_map_key=True)
            if not isinstance(data, dict) or data.get("v") != _VERSION:
                raise ValueError("not a saved execution of this engine version")
            return cls(
                code=str(data["code"]), limits=dict(data["limits"]), session_id=data.get("session_id"),
                calls=[CallRecord.from_plain(call) for call in data["calls"]],
                pending=[str(item) for item in data["pending"]],
                allowed_servers=_servers(data.get("allowed_servers")), execution=str(data["execution"]),
                pause=int(data["pause"]), seed=_seed(data.get("seed")),
                extra=dict(data.get("extra") or {}),
            )
        except Exception as exc:
            raise StoreError(f"the saved execution {key!r} is corrupt: {type(exc).__name__}: {exc}") from None


class Diverged(Exception):
    """The replayed program made a call the record does not have."""


@dataclass
class Replayed:
    """The answer to one replayed call."""

    record: CallRecord
    verdict: Verdict | None
    """The call's answer; None when it goes ahead now (a parked call approved on this resume)."""
    decision: tuple[bool, str | None] | None = None
    """The decision for a parked call; None while it is still undecided (it parks again)."""


class Replay:
    """Answers a re-run program's calls from a saved execution; see the module docstring.

    Args:
        calls: the saved calls.
        decisions: pending id -> `(approved, reason)`, the decisions of this resume.
    """

    def __init__(self, calls: list[CallRecord], decisions: dict[str, tuple[bool, str | None]]) -> None:
        self._unused = list(calls)
        self._all = tuple(calls)
        self._decisions = decisions
        self.diverged: str | None = None

    def next_id(self) -> int:
        """The first pending-call number above every one the saved calls used."""
        numbers = [int(call.pending_id[1:]) for call in self._all if call.pending_id and call.pending_id[1:].isdigit()]
        return max(numbers, default=0) + 1

    @property
    def live(self) -> bool:
        """True once every saved call was used: the run goes on as a fresh one."""
        return not self._unused

    def answer(self, server: str, tool: str, arguments: dict[str, Any]) -> Replayed | None:
        """The saved answer of this call; None once the replay is live.

        Raises:
            Diverged: the record has no such call (and the replay stays diverged).
        """
        if self.diverged is not None:
            raise Diverged(self.diverged)
        if not self._unused:
            return None
        for index, record in enumerate(self._unused):
            if record.server == server and record.tool == tool and record.arguments == arguments:
                del self._unused[index]
                return self._replayed(record)
        expected = self._unused[0]
        self.diverged = (
            f"the replayed program called {server}.{tool}({_brief(arguments)}) where the log has "
            f"{expected.server}.{expected.tool}({_brief(expected.arguments)}); "
            "it was stopped, and nothing more was sent"
        )
        raise Diverged(self.diverged)

    def _replayed(self, record: CallRecord) -> Replayed:
        copy = CallRecord.from_plain(record.to_plain())
        if record.state == "ok":
            return Replayed(copy, Verdict(answered=True, value=record.value, outcome="ok"))
        if record.state == "error" and record.error is not None:
            return Replayed(copy, Verdict(answered=True, error=record.error, outcome="error"))
        if record.state == "rejected":
            message = f"{record.server}.{record.tool} was rejected by a person; nothing was sent to the server"
            return Replayed(copy, Verdict(answered=True, error=("ToolError", message), outcome="rejected"))
        if record.state == "pending" and record.pending_id is not None:
            return Replayed(copy, None, self._decisions.get(record.pending_id))
        # `sent`: it reached the server, but its outcome was lost with the program.
        message = (
            f"the outcome of {record.server}.{record.tool} is unknown: it was sent before the paused "
            "program was lost, and it is not sent again"
        )
        return Replayed(copy, Verdict(answered=True, error=("ToolError", message), outcome="unknown"))


def _servers(value: Any) -> list[str] | None:
    if value is None or (type(value) is list and all(type(item) is str for item in value)):
        return value
    raise ValueError(f"allowed_servers must be a list of names, got {type(value).__name__}")


def _seed(value: Any) -> int | None:
    if value is None or (type(value) is int and 0 <= value < 2**64):
        return value
    raise ValueError(f"a seed must be an integer in [0, 2**64), got {value!r}")


def _brief(arguments: dict[str, Any]) -> str:
    text = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
    return text if len(text) <= 120 else text[:117] + "..."
