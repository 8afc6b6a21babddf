"""The rest of the pool-against-Monty comparison: concurrent host calls, stopping a CPU loop, and
the memory of a whole idle pool.

- 20 host calls of 50 ms at once through `asyncio.gather` in one program: wall time and the most
  calls the host saw in flight at once;
- a `while True: pass` program under a 0.5 s limit: the time from the limit to the error;
- every process of an idle pool (engine: the template and each worker; Monty: each worker), PSS
  summed (PSS splits shared pages between the processes that share them, so the sum is the pool's).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import mcp.types as types

from engine.codemode.request import build_request
from engine.executors.base import ExecutionRequest, Executor
from engine.limits import Limits

from .bench_fastmcp import load_note
from .bench_pool import POOL, RESTRICTED
from .contenders import TOOLSET, engine_executors, monty
from .core import BenchmarkError, Section, Table, ms, summarize
from .procinfo import memory

__all__ = ["bench_pool_monty_runtime"]

COUNT = 20
SECONDS = 0.05
LIMIT = 0.5
LOOP = "while True:\n    pass"
GATHER = f"import asyncio\nr = await asyncio.gather(*[bench.noop() for i in range({COUNT})])\nreturn len(r)"
_MIB = 1024 * 1024


class SleepBackend:
    """A tool that sleeps `seconds`; counts how many calls are in flight at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.in_flight = 0
        self.most = 0

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.in_flight -= 1
        return types.CallToolResult(content=[], structured_content={"ok": True})

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        return {}


async def _engine_gather(executor: Executor) -> tuple[float, int]:
    backend = SleepBackend(SECONDS)
    limits = Limits(timeout=60, max_tool_calls=COUNT + 5, max_concurrent_tool_calls=COUNT)
    started = time.perf_counter()
    envelope = await executor.run(build_request(TOOLSET, GATHER, limits=limits, backend=backend))
    elapsed = time.perf_counter() - started
    if envelope["error"] is not None or envelope["result"] != COUNT:
        raise BenchmarkError(f"the gather program failed: {envelope['error']}")
    return elapsed, backend.most


async def _engine_stop(executor: Executor) -> tuple[float, str]:
    started = time.perf_counter()
    envelope = await executor.run(ExecutionRequest(LOOP, limits=Limits(timeout=LIMIT)))
    elapsed = time.perf_counter() - started
    if envelope["error"] is None:
        raise BenchmarkError("the CPU loop was not stopped at its timeout")
    info: dict[str, Any] = dict(envelope.get("error_info") or {})
    return elapsed - LIMIT, str(info.get("type"))


async def bench_pool_monty_runtime(quick: bool) -> Section:
    """Concurrent host calls, stop latency and idle-pool memory: pool, restricted, Monty."""
    section = Section("pool_monty_runtime", "The process pool against Monty: gather, stopping a loop, an idle pool")
    section.notes.append(load_note())
    rounds = 2 if quick else 10
    gather: dict[str, list[float]] = {}
    most: dict[str, int] = {}
    stops: dict[str, list[float]] = {}
    errors: dict[str, str] = {}
    pool_memory: dict[str, dict[str, int]] = {}
    async with engine_executors() as (pool, restricted), monty(quick, section) as worker:
        for index in range(rounds):
            order: list[tuple[str, Any]] = [(POOL, pool), (RESTRICTED, restricted), ("Monty", worker)]
            for name, contender in order if index % 2 == 0 else list(reversed(order)):
                if contender is None:
                    continue
                if name == "Monty":
                    reply = await contender.request({"op": "gather", "count": COUNT, "seconds": SECONDS})
                    elapsed, seen = float(reply["elapsed"]), int(reply["most_in_flight"])
                    stop = await contender.request({"op": "stop", "code": LOOP, "limit": LIMIT})
                    overshoot, kind = float(stop["elapsed"]) - LIMIT, str(stop["error_type"])
                else:
                    elapsed, seen = await _engine_gather(contender)
                    overshoot, kind = await _engine_stop(contender)
                gather.setdefault(name, []).append(elapsed)
                most[name] = max(most.get(name, 0), seen)
                stops.setdefault(name, []).append(overshoot)
                errors[name] = kind
        pool_memory[POOL] = _summed([p for p in [pool.template_pid, *pool.pids] if p is not None])
        if worker is not None:
            pool_memory["Monty"] = _summed([int(p) for p in (await worker.request({"op": "pool_pids"}))["pids"]])
    names = list(gather)
    section.data["gather"] = {n: {**summarize(gather[n]), "most_in_flight": most[n]} for n in names}
    section.data["stop_overshoot"] = {
        n: {**summarize(stops[n]), "max": max(stops[n]), "error": errors[n]} for n in names
    }
    section.data["idle_pool_bytes"] = pool_memory
    table = Table(
        f"{COUNT} host calls of {SECONDS * 1000:.0f} ms through `asyncio.gather` in one program (ideal "
        f"{ms(SECONDS)}; median of {rounds})",
        ["contender", "wall time", "most calls in flight at once"],
    )
    for name in names:
        table.rows.append([name, ms(section.data["gather"][name]["median"]), str(most[name])])
    section.tables.append(table)
    table = Table(
        f"`while True: pass` under a {LIMIT * 1000:.0f} ms limit: time from the limit to the error "
        f"(median of {rounds})",
        ["contender", "median overshoot", "max overshoot", "error"],
    )
    for name in names:
        stats = section.data["stop_overshoot"][name]
        table.rows.append([name, ms(stats["median"]), ms(stats["max"]), stats["error"]])
    section.tables.append(table)
    table = Table(
        "Every process of an idle pool (PSS summed; after the runs above)", ["pool", "processes", "PSS", "USS"]
    )
    for name, values in pool_memory.items():
        table.rows.append(
            [name, str(values["processes"]), f"{values['pss'] / _MIB:.1f} MiB", f"{values['uss'] / _MIB:.1f} MiB"]
        )
    section.tables.append(table)
    section.notes.append(
        f"Engine's programs run with `max_concurrent_tool_calls={COUNT}` (the default is 8, which would run the "
        f"calls in {-(-COUNT // 8)} waves); Monty's host function is an `async def` awaited by the program. Engine's "
        f"limit is `Limits(timeout={LIMIT})` (wall clock); Monty's is `max_feed_duration_secs={LIMIT}` on the "
        "checkout (time in the sandbox). `restricted` has no pool: it runs in the host process, so it has no row "
        "in the memory table."
    )
    return section


def _summed(pids: list[int]) -> dict[str, int]:
    if not pids:
        raise BenchmarkError("the pool has no processes to measure")
    figures = [memory(pid) for pid in pids]
    return {
        "processes": len(pids),
        "pss": sum(f["pss"] for f in figures),
        "uss": sum(f["uss"] for f in figures),
        "rss": sum(f["rss"] for f in figures),
    }
