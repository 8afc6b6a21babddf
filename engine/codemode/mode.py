"""`CodeMode`: runs agent programs with every server's tools as namespaces, and builds their envelope.

It composes the layers and owns none of their jobs: the `ToolHost` (which servers, their tools,
calling them), the bridge dispatcher of each execution (allow-list, limits, trace; made by
`build_request`) and an executor (where the program runs, looked up lazily by name). It never sees
a session or a transport, and never imports the client.

```python
mode = CodeMode(tool_host, executor="restricted", limits=Limits(timeout=10))
envelope = await mode.execute("return await inventory.list_products()")
```
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal

from mcp import types

from ..approvals import DEFAULT_APPROVAL_TIMEOUT, Approver, ToolPolicy
from ..bridge.hooks import Hooks
from ..envelope import CheckFinding, Envelope
from ..errors import CodeModeError
from ..executors import Executor, get_executor
from ..kernel.report import valid_text
from ..limits import Limits
from ..store import MemoryStore, Store
from ..tools import ServerState, ToolHost, ToolSet
from ..typecheck import CheckReport
from .approving import Approvals
from .request import build_request
from .safety import ResultSafety
from .typed import TypedResults, check_mode

__all__ = ["LOAD_SHARE", "CodeMode"]

LOAD_SHARE = 0.75
"""The share of its timeout a program may spend waiting for the servers it names to load; the
rest is left to run (and to say which server is unavailable, and why)."""

_LEAST = 0.001
# A positive timeout, whatever the wait took (limits refuse 0).


class CodeMode:
    """Runs programs over one `ToolHost` with one executor; see the module docstring.

    Args:
        tool_host: the servers and their tools.
        executor: `restricted`, `process` or `e2b` (see `engine.executors`).
        executor_options: keyword arguments for the executor.
        limits: the defaults of every execution; `execute(timeout=...)` overrides only the timeout.
        allowed_servers: the dispatcher's allow-list (None: every server the host offers).
    """

    def __init__(
        self,
        tool_host: ToolHost,
        *,
        executor: str = "restricted",
        executor_options: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
        allowed_servers: Collection[str] | None = None,
        tool_policy: ToolPolicy | None = None,
        store: Store | None = None,
        approval_timeout: float = DEFAULT_APPROVAL_TIMEOUT,
        learn_shapes: bool = True,
        check: str = "off",
        tokenize: Any = None,
    ) -> None:
        self.tool_host = tool_host
        self.limits = limits or Limits()
        self.allowed_servers = allowed_servers
        self.tool_policy = tool_policy
        store = store or MemoryStore()
        self.approvals = Approvals(self, tool_policy, store, approval_timeout)
        self.typed = TypedResults(store, learn=learn_shapes, check=check_mode(check))
        """Learned output shapes (in the same store as approvals) and the stubs that show them."""
        self.safety = ResultSafety(tokenize, store)
        """Truncation, result handles and tokens of what leaves the engine (docs/results.md)."""
        self._executor_name = executor
        self._executor_options = dict(executor_options or {})
        self._executor: Executor | None = None

    @property
    def executor(self) -> Executor:
        """The executor, created on first use."""
        if self._executor is None:
            self._executor = get_executor(self._executor_name, self._executor_options)
        return self._executor

    # -- the backend each execution's dispatcher calls ------------------------------------------

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call one tool (the dispatcher's `ToolBackend`)."""
        return await self.tool_host.call_tool(server, tool, arguments)

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        """A program's `search_tools(...)` (the dispatcher's `ToolBackend`): over what is loaded now."""
        found = await self.tool_host.search(query, detail_level=detail_level, limit=limit, wait=0)
        return self.typed.label(self.approvals.label(found))

    # -- entry points -------------------------------------------------------------------------

    async def search(self, query: str = "", *, detail_level: str = "full", limit: int | None = None) -> dict[str, Any]:
        """Ranked search over every usable server's tools (waits for servers still loading, up to
        the timeout limit).

        Raises:
            CodeModeError: a bad argument; the message is the same one a program gets.
        """
        found = await self.tool_host.search(query, detail_level=detail_level, limit=limit, wait=self.limits.timeout)
        await self.typed.sync(self.tool_host.current())
        return self.typed.label(self.approvals.label(found))

    async def execute(
        self,
        code: str,
        *,
        timeout: float | None = None,
        session_id: str | None = None,
        on_log: Callable[[str, str], None] | None = None,
        dry_run: bool = False,
        approver: Approver | None = None,
        check: str | None = None,
    ) -> Envelope:
        """Run one program and return its envelope.

        `check` ("types" or "off"; None: the default given to `CodeMode`) type-checks the program
        against the stubs and the learned shapes before it runs: a certain error refuses it before
        any tool is called, other findings are `check_warnings` (docs/typed-results.md).

        With a tool policy that asks, a call that needs approval pauses the program: the envelope
        has `status` "paused", an `execution_id` and the `pending` calls, and `resume` continues
        it (docs/approvals.md). `approver` decides such calls at once instead (`codemode serve`).
        `dry_run` runs only the calls known to be read-only and lists the others as
        `planned_calls`, sending none of them.

        `timeout` (seconds) overrides the limits' timeout for this program; None keeps it. Servers
        the program names that are still loading are waited for (up to `LOAD_SHARE` of the
        timeout), and the wait counts against the timeout (the program runs for what is left,
        reported in `usage.limits.timeout`), so `execute` is bounded by about its timeout whatever
        a server does. A server still starting then is unavailable to this program, with that
        reason; servers it does not name are never waited for.

        Raises:
            CodeModeError: `code` is not a string, or `timeout` is not a positive, finite number.
        """
        if not isinstance(code, str):
            raise CodeModeError(f"code must be a string, got {type(code).__name__}")
        limits = self._limits_for(timeout)
        checking = check_mode(self.typed.check if check is None else check) == "types"
        if on_log is not None:
            on_log = _valid_log(on_log)
        waited = await self.tool_host.wait_for(code, limits.timeout * LOAD_SHARE)
        if waited > 0:
            # The wait counts against the program's timeout: it runs for what is left.
            limits = limits.with_timeout(max(limits.timeout - waited, _LEAST))
        toolset = self.tool_host.current()
        cap, limits = limits, self.safety.run_limits(limits)  # an oversized result reaches us, to be cut
        on_log = self.safety.relay(on_log, session_id)
        warnings: list[CheckFinding] = []
        if checking:
            # The check has a deadline of its own (typecheck.DEFAULT_TIMEOUT); the program's starts after it.
            refused, warnings = await self.typed.precheck(toolset, code, cap)
            if refused is not None:
                return await self.safety.finish(refused, session_id, cap)
        if self.approvals.gates(dry_run):
            envelope = await self.approvals.execute(
                toolset, code, limits, session_id=session_id, on_log=on_log, dry_run=dry_run, approver=approver
            )
        else:
            request = build_request(
                toolset, code, limits=limits, backend=self, allowed_servers=self.allowed_servers,
                session_id=session_id, on_log=on_log, hooks=self.execution_hooks(toolset, session_id, cap),
            )
            envelope = await self.executor.run(request)
        if warnings:
            envelope["check_warnings"] = warnings
        return await self.safety.finish(envelope, session_id, cap)

    async def check(self, code: str) -> CheckReport:
        """Type-check `code` as `execute(check="types")` would, without running it: the certain
        `errors`, the `warnings`, or `skipped` and why (`codemode check FILE`)."""
        if not isinstance(code, str):
            raise CodeModeError(f"code must be a string, got {type(code).__name__}")
        await self.tool_host.wait_for(code, self.limits.timeout * LOAD_SHARE)
        return await self.typed.report(self.tool_host.current(), code)

    async def resume(
        self,
        execution_id: str,
        *,
        approve: Collection[str] | Literal["all"] = (),
        reject: Collection[str] | Literal["all"] = (),
        reason: str | None = None,
    ) -> Envelope:
        """Decide the pending calls of a paused execution and continue it; its next envelope
        (which may be paused again). See docs/approvals.md.

        Raises:
            ApprovalError: unknown, ended or already resumed execution; ids not pending.
        """
        envelope = await self.approvals.resume(execution_id, approve=approve, reject=reject, reason=reason)
        return await self.safety.finish(envelope, self.safety.scope_of(execution_id), self.limits)

    def execution_hooks(self, toolset: ToolSet, session_id: str | None, limits: Limits) -> Hooks:
        """The hooks of one execution: learned shapes, `results.open`, tokens put back."""
        return self.safety.hooks(session_id, self.allowed_servers, limits, self.typed.hooks(toolset))

    def _limits_for(self, timeout: float | None) -> Limits:
        if timeout is None:
            return self.limits
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < math.inf:
            raise CodeModeError(f"timeout must be a positive, finite number of seconds, got {timeout!r}")
        return self.limits.with_timeout(timeout)

    def states(self) -> list[ServerState]:
        """How each usable server stands (connected, connecting, failed, pending)."""
        return self.tool_host.states()

    def stubs(self) -> str:
        """The Python stubs of every tool loaded now ("" when none), with learned output shapes."""
        return self.typed.stubs(self.tool_host.current())

    @property
    def unavailable(self) -> dict[str, str]:
        """Servers that could not be reached for code mode, with the reason."""
        return self.tool_host.unavailable

    async def aclose(self) -> None:
        """Stop paused programs (their saved records stay in the store) and release the executor."""
        await self.approvals.aclose()
        await self.typed.aclose()
        executor, self._executor = self._executor, None
        if executor is not None:
            await executor.aclose()


def _valid_log(on_log: Callable[[str, str], None]) -> Callable[[str, str], None]:
    """`on_log` that is only ever handed valid UTF-8 (a program may print lone surrogates)."""

    def relay(text: str, stream: str) -> None:
        on_log(valid_text(text), stream)

    return relay
