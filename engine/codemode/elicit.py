"""`codemode serve`'s approvals: a call that needs approval is put to the person through MCP elicitation.

Within the same `execute_code` call, the person is asked with `elicitation/create`: the tool, its
server, its arguments and a yes/no form. Up to protocol 2025-11-25 the server sends the request in
the middle of the call (`elicitation_approver`); from 2026-07-28 on, the call returns an
`InputRequiredResult` carrying one request per pending call and the paused execution's id as its
`request_state`, and the client's retry with the answers resumes that same program
(`codemode.server`). The client shows it to its user; the
program waits (its wall-clock limit does not run meanwhile) and continues with the answer. A
client that did not declare elicitation cannot ask anyone, so such a call is rejected, saying
so. The agent never sees the form and has no tool to approve with: it cannot approve its own calls.
"""

from __future__ import annotations

import json
import unicodedata
from typing import TYPE_CHECKING

import mcp.types as types
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from ..approvals import Approver, Decision, PendingCall
from ..envelope import Envelope
from ..errors import ApprovalError

if TYPE_CHECKING:
    from .mode import CodeMode

__all__ = [
    "CANNOT_ASK",
    "MAX_SHOWN_ARGUMENTS",
    "ApprovalForm",
    "approval_request",
    "can_ask_now",
    "can_elicit",
    "decision_of",
    "elicitation_approver",
    "input_required",
    "resume_answered",
    "retry_state",
]

CANNOT_ASK = "approval was needed, and this MCP client cannot ask a person (no elicitation support)"

MAX_SHOWN_ARGUMENTS = 4000
"""Characters of a call's argument values shown in the form, shared among them; each longer
value is cut on its own, with a marker."""
MAX_SHOWN_NAMES = 50
"""Arguments shown by name; past them, how many more there are."""


class ApprovalForm(BaseModel):
    """The form the person answers."""

    approve: bool = Field(description="Run this tool call?")
    reason: str = Field(default="", description="Why (optional; the program is told when you reject)")


def can_ask_now(ctx: Context) -> bool:
    """Whether a request can be sent to the client in the middle of this call (the protocol
    versions up to 2025-11-25; later ones ask through `InputRequiredResult` instead)."""
    try:
        return bool(ctx.request_context.session.can_send_request)
    except ValueError:  # called outside a request (the server object driven directly)
        return False


def retry_state(ctx: Context) -> str | None:
    """The `request_state` of a retry (2026-07-28 on): the paused execution it answers for."""
    try:
        return ctx.request_state
    except ValueError:  # outside a request
        return None


def can_elicit(ctx: Context) -> bool:
    """Whether the client declared elicitation."""
    try:
        capabilities = ctx.request_context.session.client_capabilities
    except ValueError:  # outside a request: nobody to ask
        return False
    return capabilities is not None and capabilities.elicitation is not None


def approval_message(call: PendingCall) -> str:
    """The text a person reads: the tool, its server, and every argument by name, each value cut
    on its own when long (so no long value can push another argument out of sight), sorted by
    name (the program does not choose the order), control and format characters escaped (no
    newline or direction mark can forge a line of this text)."""
    names = sorted(call.arguments, key=str)
    share = max(MAX_SHOWN_ARGUMENTS // max(len(names), 1), 80)
    lines = []
    for name in names[:MAX_SHOWN_NAMES]:
        value = json.dumps(call.arguments[name], ensure_ascii=False, default=str)
        if len(value) > share:
            value = value[:share] + f"... ({len(value) - share} more characters)"
        lines.append(f"  {_visible(str(name))[:80]} = {_visible(value)}")
    if len(names) > MAX_SHOWN_NAMES:
        lines.append(f"  ... and {len(names) - MAX_SHOWN_NAMES} more arguments")
    shown = "\n".join(lines) or "  (no arguments)"
    return (
        f"A program wants to call the tool {_visible(call.tool)!r} of the MCP server {_visible(call.server)!r} "
        f"with these arguments:\n{shown}\nApprove this call?"
    )


def _visible(text: str) -> str:
    """`text` with control and format characters (newlines, direction marks, zero-width) escaped."""
    return "".join(
        f"\\u{ord(char):04x}" if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text
    )


def decision_of(answer: types.ElicitResult | object) -> Decision:
    """A person's answer to the approval form, as a decision (anything but a clear yes rejects)."""
    if not isinstance(answer, types.ElicitResult):
        return False, "the client answered the approval request with something else than a form"
    if answer.action != "accept":
        return False, f"the person did not approve (they chose {answer.action!r})"
    content = answer.content or {}
    reason = content.get("reason")
    reason = reason if isinstance(reason, str) and reason else None
    if content.get("approve") is True:
        return True, None
    return False, reason or "rejected by the person"


def approval_request(call: PendingCall) -> types.ElicitRequest:
    """The `elicitation/create` request for one pending call."""
    return types.ElicitRequest(params=types.ElicitRequestFormParams(
        message=approval_message(call), requested_schema=ApprovalForm.model_json_schema(),
    ))


def elicitation_approver(ctx: Context) -> Approver:
    """An `Approver` that asks `ctx`'s client, or rejects when the client cannot ask."""

    async def approve(call: PendingCall) -> Decision:
        if not can_elicit(ctx):
            return False, CANNOT_ASK
        try:
            answer = await ctx.elicit(approval_message(call), ApprovalForm)
        except Exception as exc:  # noqa: BLE001 - a client that fails to answer has not approved
            return False, f"the approval request failed: {type(exc).__name__}: {exc}"
        if answer.action == "accept" and answer.data is not None:
            if answer.data.approve:
                return True, None
            return False, answer.data.reason or "rejected by the person"
        return False, f"the person did not approve (they chose {answer.action!r})"

    return approve


def input_required(envelope: Envelope) -> types.InputRequiredResult:
    """The `InputRequiredResult` that asks about a paused envelope's pending calls; its
    `request_state` is the execution id the retry resumes."""
    requests: dict[str, types.InputRequest] = {}
    for call in envelope.get("pending", []):
        server, _, tool = call["tool"].partition(".")
        requests[call["id"]] = approval_request(PendingCall(call["id"], server, tool, call["arguments"]))
    return types.InputRequiredResult(input_requests=requests, request_state=envelope.get("execution_id"))


async def resume_answered(mode: CodeMode, ctx: Context) -> Envelope:
    """Resume the execution a retry names (`request_state`) with the person's answers.

    Raises:
        ApprovalError: the state names no paused execution, or the answers name calls that are
            not pending.
    """
    execution_id = retry_state(ctx)
    if not isinstance(execution_id, str):
        raise ApprovalError("the retry carries no paused execution's id")
    approve: list[str] = []
    reject: list[str] = []
    reasons: list[str] = []
    for call_id, answer in (ctx.input_responses or {}).items():
        approved, reason = decision_of(answer)
        (approve if approved else reject).append(call_id)
        if reason and reason not in reasons:
            reasons.append(reason)
    return await mode.resume(execution_id, approve=approve, reject=reject, reason="; ".join(reasons) or None)
