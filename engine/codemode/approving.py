"""Code mode's side of approvals: which executions get a gate, and how a saved one is restarted.

`Approvals` gives an execution an `ApprovalGate` when its calls can need a decision (a tool policy
that asks or denies, a dry run, an approver), runs it as a task that `Suspensions` owns, and builds
the fresh run a replay needs. The policy is checked against the loaded tools first, so a rule
with a typo is an error, not a silent allow.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, Literal

import mcp.types as types

from ..approvals import ApprovalGate, Approver, Printed, Replay, SavedExecution, Started, Suspensions, ToolPolicy
from ..envelope import Envelope
from ..errors import StoreError
from ..limits import Limits
from ..store import Store
from ..tools import ToolSet
from .request import build_request

if TYPE_CHECKING:
    from .mode import CodeMode

__all__ = ["Approvals"]


class Approvals:
    """The approvals of one `CodeMode`; see the module docstring."""

    def __init__(self, mode: CodeMode, policy: ToolPolicy | None, store: Store, approval_timeout: float) -> None:
        self._mode = mode
        self.policy = policy
        self.suspensions = Suspensions(store, approval_timeout=approval_timeout)

    def gates(self, dry_run: bool) -> bool:
        """Whether an execution needs a gate (an approver alone needs none: without a policy, no
        call asks)."""
        return dry_run or self.policy is not None

    async def execute(
        self,
        toolset: ToolSet,
        code: str,
        limits: Limits,
        *,
        session_id: str | None,
        on_log: Callable[[str, str], None] | None,
        dry_run: bool,
        approver: Approver | None,
    ) -> Envelope:
        policy = self.policy or ToolPolicy()
        policy.check_against({server: [tool.name for tool in toolset.catalog.tools(server)]
                              for server in toolset.catalog.servers()})
        gate = ApprovalGate(
            policy, _annotations(toolset), dry_run=dry_run, approver=approver,
            approval_timeout=self.suspensions.approval_timeout,
        )
        saved = SavedExecution(
            code=code, limits=limits.as_dict(), session_id=session_id, calls=[], pending=[],
            allowed_servers=sorted(self._mode.allowed_servers) if self._mode.allowed_servers is not None else None,
            seed=secrets.randbits(63),
        )
        run = self._start(toolset, saved, limits, gate, Printed(on_log))
        return await self.suspensions.settle(Suspensions.new_id(), run)

    async def resume(
        self,
        execution_id: str,
        *,
        approve: Collection[str] | Literal["all"],
        reject: Collection[str] | Literal["all"],
        reason: str | None,
    ) -> Envelope:
        return await self.suspensions.resume(execution_id, approve, reject, reason, self._restart)

    async def aclose(self) -> None:
        await self.suspensions.aclose()

    def label(self, found: dict[str, Any]) -> dict[str, Any]:
        """`search_tools` results with each tool's `policy` (`allow`, `ask`, `deny`), when a policy is set."""
        policy = self.policy
        if policy is None:
            return found
        annotations = _annotations(self._mode.tool_host.current())
        for entry in found.get("results", []):
            server, tool = entry.get("server"), entry.get("name")
            if isinstance(server, str) and isinstance(tool, str):
                entry["policy"] = policy.action(server, tool, annotations(server, tool))
        return found

    async def _restart(self, saved: SavedExecution, replay: Replay) -> Started:
        try:
            limits = Limits(**saved.limits)
        except ValueError as exc:  # pydantic's ValidationError: the record was not written by us
            raise StoreError(f"the saved execution {saved.execution!r} has invalid limits: {exc}") from None
        await self._mode.tool_host.wait_for(saved.code, limits.timeout)
        toolset = self._mode.tool_host.current()
        gate = ApprovalGate(
            self.policy or ToolPolicy(), _annotations(toolset), replay=replay,
            approval_timeout=self.suspensions.approval_timeout,
        )
        return self._start(toolset, saved, limits, gate, Printed())

    def _start(self, toolset: ToolSet, saved: SavedExecution, limits: Limits, gate: ApprovalGate,
               printed: Printed) -> Started:
        allowed = saved.allowed_servers
        request = build_request(
            toolset, saved.code, limits=limits, backend=self._mode, allowed_servers=allowed,
            session_id=saved.session_id, on_log=printed, gate=gate, seed=saved.seed,
            hooks=self._mode.execution_hooks(toolset, saved.session_id, limits),
        )
        assert request.host is not None
        task = asyncio.ensure_future(self._mode.executor.run(request))
        return Started(task=task, gate=gate, host=request.host, saved=saved, printed=printed)


def _annotations(toolset: ToolSet) -> Callable[[str, str], types.ToolAnnotations | None]:
    """`(server, tool) -> annotations` over the tool set, built on first use per server."""
    found: dict[str, dict[str, types.ToolAnnotations | None]] = {}

    def lookup(server: str, tool: str) -> types.ToolAnnotations | None:
        tools = found.get(server)
        if tools is None:
            tools = found[server] = {item.name: item.annotations for item in toolset.catalog.tools(server)}
        return tools.get(tool)

    return lookup
