"""Approvals: a person approves the tool calls a program makes, while the program waits.

`ToolPolicy` says per tool whether a call runs (`allow`), waits for a person (`ask`) or is refused
(`deny`). `ApprovalGate` applies it to one execution's calls inside the bridge; `Suspensions`
keeps the paused executions, resumes them, saves them to a store and replays them when their
program is gone. See docs/approvals.md.
"""

from .gate import SETTLE, ApprovalGate, Approver, Decision, PendingCall, decide_ids
from .log import CallRecord, Replay, SavedExecution
from .policy import ACTIONS, Action, ToolPolicy
from .runs import DEFAULT_APPROVAL_TIMEOUT, Printed, Restart, Started, Suspensions

__all__ = [
    "ACTIONS",
    "DEFAULT_APPROVAL_TIMEOUT",
    "SETTLE",
    "Action",
    "ApprovalGate",
    "Approver",
    "CallRecord",
    "Decision",
    "PendingCall",
    "Printed",
    "Replay",
    "Restart",
    "SavedExecution",
    "Started",
    "Suspensions",
    "ToolPolicy",
    "decide_ids",
]
