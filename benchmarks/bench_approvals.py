"""Approvals: how long a pause and a resume take, against the same program run without a policy.

One in-process MCP server (`shop`, the mcp SDK) with a write tool; the program makes one write.
- `no policy`: `execute_code` of the program, nothing asked (the baseline);
- `pause`: `execute_code` until the paused envelope (includes the `SETTLE` wait that gathers the
  calls of one `gather` into one pause, and saving the execution to the store);
- `resume`: `resume_execution(approve="all")` until the final envelope: the decision, the write,
  the rest of the program and its envelope. Target (issue 15): p50 ≤ 5 ms in-process, ≤ 20 ms
  on `process`.

Both executors, the memory store, interleaved round by round in one run.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import MCPServer

from engine import MCPClient

from .core import Section, Table, interleave, ms, summarize

__all__ = ["bench_approvals"]

PROGRAM = 'done = await shop.refund(order=1)\nreturn done'


def _shop() -> MCPServer:
    server = MCPServer("shop")

    @server.tool()
    def refund(order: int) -> str:
        """Refund an order."""
        return f"refunded {order}"

    return server


def _variants(
    plain: MCPClient, asked: MCPClient, pauses: list[float], resumes: list[float]
) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[list[float]]]]:
    """The two interleaved variants: the program without a policy, and paused then resumed
    (timing its two halves itself into `pauses` and `resumes`)."""

    async def baseline() -> None:
        out = await plain.execute_code(PROGRAM)
        assert out["result"] == "refunded 1", out

    async def pause_and_resume() -> list[float]:
        started = time.perf_counter()
        out = await asked.execute_code(PROGRAM)
        paused = time.perf_counter()
        assert out["status"] == "paused", out
        done = await asked.resume_execution(out["execution_id"], approve="all")
        finished = time.perf_counter()
        assert done["result"] == "refunded 1", done
        pauses.append(paused - started)
        resumes.append(finished - paused)
        return []

    return baseline, pause_and_resume


async def bench_approvals(quick: bool) -> Section:
    section = Section("approvals", "Approvals: pause and resume latency")
    rounds = 5 if quick else 60
    table = Table("One write in a program, per executor (medians, p90)",
                  ["executor", "no policy", "execute → paused", "resume → done", "resume p90"])
    data: dict[str, Any] = {}
    for executor in ("restricted", "process"):
        config = {"mcpServers": {"shop": _shop()}}
        async with MCPClient(config, code_mode=True, executor=executor) as plain, \
                MCPClient(config, code_mode=True, executor=executor, tool_policy={"shop.refund": "ask"}) as asked:
            pauses: list[float] = []
            resumes: list[float] = []
            baseline, pause_and_resume = _variants(plain, asked, pauses, resumes)
            samples = await interleave({"baseline": baseline, "approval": pause_and_resume}, rounds=rounds)
            base, pause, resume = summarize(samples["baseline"]), summarize(pauses), summarize(resumes)
            table.rows.append([executor, ms(base["median"]), ms(pause["median"]), ms(resume["median"]),
                               ms(resume["p90"])])
            data[executor] = {"no_policy": base, "pause": pause, "resume": resume}
    section.tables.append(table)
    section.data = data
    section.notes.append(
        "Targets (issue 15): resume p50 ≤ 5 ms in-process (restricted), ≤ 20 ms on the process pool. "
        "The pause includes the 5 ms settle window (engine.approvals.SETTLE) that gathers concurrent calls."
    )
    return section
