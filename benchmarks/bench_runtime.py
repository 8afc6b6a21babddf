"""How programs behave at run time: concurrent tool calls, stopping at a timeout, throughput, memory.

Everything here runs on the `restricted` executor against the toy server over stdio.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from engine import MCPClient

from .core import BenchmarkError, Section, Table, interleave, ms, summarize
from .servers import toy_config

__all__ = ["bench_concurrency", "bench_memory", "bench_throughput", "bench_timeout"]

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE


async def bench_concurrency(quick: bool) -> Section:
    """`asyncio.gather` of N slow tool calls inside one program, vs the same calls one by one."""
    count, seconds, repeats = (10, 0.05, 1) if quick else (20, 0.1, 5)
    gather = (
        "import asyncio\n"
        f"r = await asyncio.gather(*[toy.sleep(seconds={seconds}) for i in range({count})])\n"
        "return len(r)"
    )
    sequential = f"n = 0\nfor i in range({count}):\n    await toy.sleep(seconds={seconds})\n    n += 1\nreturn n"
    section = Section("concurrency", f"Concurrent tool calls: {count} × toy.sleep({seconds}) in one program")
    table = Table(
        f"Wall time of one program making {count} calls of {seconds * 1000:.0f} ms",
        ["program", "max_concurrent_tool_calls", "median", "ideal"],
    )
    cases = {
        f"asyncio.gather, limit {count}": (gather, count, seconds),
        "asyncio.gather, limit 8 (default)": (gather, 8, seconds * -(-count // 8)),
        f"one by one, limit {count}": (sequential, count, seconds * count),
    }
    variants: dict[str, Callable[[], Awaitable[None]]] = {}
    async with contextlib.AsyncExitStack() as stack:
        for label, (program, limit, _) in cases.items():
            client = await stack.enter_async_context(
                MCPClient(toy_config(), code_mode=True, limits={"max_concurrent_tool_calls": limit})
            )
            await client.execute_code("return await toy.add(a=1, b=1)")  # connect and warm up

            async def run(client: MCPClient = client, program: str = program, label: str = label) -> None:
                out = await client.execute_code(program)
                if out["error"] is not None or out["result"] != count:
                    raise BenchmarkError(f"the {label} program failed: {out['error']}")

            variants[label] = run
        samples = await interleave(variants, rounds=repeats, warmup=0)
    for label, (_, _, ideal) in cases.items():
        median = summarize(samples[label])["median"]
        section.data[label] = {"median": median, "ideal": ideal}
        program_kind, _, limit_text = label.partition(", limit ")
        table.rows.append([program_kind, limit_text, ms(median), ms(ideal)])
    section.tables.append(table)
    section.notes.append(
        f"With the default limit of 8 concurrent tool calls per program, {count} calls run in {-(-count // 8)} waves; "
        "raise `Limits.max_concurrent_tool_calls` to run them all at once."
    )
    return section


async def bench_timeout(quick: bool) -> Section:
    """How long after its timeout a program is actually stopped: CPU-bound, swallowing the stop,
    waiting on a tool, or deep in library code that has no stop checks."""
    timeout, repeats = (0.2, 1) if quick else (0.5, 5)
    programs = {
        "pure-Python loop (`while True: pass`)": "while True:\n    pass",
        "loop calling builtins (`sorted(range(1000))`)": "while True:\n    x = sorted(range(1000))",
        "nested function calls": "def f(n):\n    return n + 1\nx = 0\nwhile True:\n    x = f(x)",
        "loop swallowing the stop (`except BaseException`)": (
            "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
        ),
        "waiting on a tool (`await toy.sleep(seconds=30)`)": "await toy.sleep(seconds=30)",
        "library code without stop checks (`statistics.mean` of Fractions)": (
            "import statistics, fractions\ndata = [fractions.Fraction(1, 7)] * 3000000\n"
            "return str(statistics.mean(data))"
        ),
    }
    section = Section("timeout", f"Stopping a program at its timeout ({timeout * 1000:.0f} ms)")
    table = Table(
        f"Time from the {timeout * 1000:.0f} ms timeout to the envelope",
        ["program", "median overshoot", "max overshoot", "error type"],
    )
    async with MCPClient(toy_config(), code_mode=True) as client:
        await client.execute_code("return await toy.add(a=1, b=1)")  # connect the server first: not the stop's cost
        for label, program in programs.items():
            overshoots = []
            error_type = None
            for _ in range(repeats):
                started = time.perf_counter()
                out = await client.execute_code(program, timeout=timeout)
                overshoots.append(time.perf_counter() - started - timeout)
                info = out.get("error_info") or {}
                error_type = info.get("type") if isinstance(info, dict) else None
                if out["error"] is None:
                    raise BenchmarkError(f"{label} was not stopped at its timeout")
                if "abandoned" in out["error"]:
                    # Given up on after the grace period, not stopped: the figure would be the grace.
                    error_type = f"{error_type} (thread abandoned)"
            stats = summarize(overshoots)
            section.data[label] = {**stats, "max": max(overshoots), "error_type": error_type}
            table.rows.append([label, ms(stats["median"]), ms(max(overshoots)), str(error_type)])
    section.tables.append(table)
    section.notes.append(
        "Overshoot = wall time of `execute_code` minus the timeout; it includes building the envelope. A program "
        "still running 50 ms after its stop (library code without stop checks) is interrupted; one still running "
        "500 ms after it is abandoned (the error type says so)."
    )
    return section


async def bench_throughput(quick: bool) -> Section:
    """Executions per second with 1, 10 and 100 executions in flight."""
    total = 100 if quick else 1000
    program = "return sum(range(100))"
    section = Section("throughput", "Throughput: executions per second (restricted executor)")
    table = Table(
        f"`{program}`, {total} executions",
        ["executions in flight", "executions/s", "median latency", "mean latency"],
    )
    async with MCPClient(toy_config(), code_mode=True) as client:
        await client.execute_code(program)
        for concurrency in (1, 10, 100):
            latencies: list[float] = []

            async def lane(runs: int, latencies: list[float] = latencies) -> None:
                for _ in range(runs):
                    started = time.perf_counter()
                    out = await client.execute_code(program)
                    latencies.append(time.perf_counter() - started)
                    if out["error"] is not None:
                        raise BenchmarkError(f"throughput run failed: {out['error']}")

            started = time.perf_counter()
            await asyncio.gather(*(lane(total // concurrency) for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
            rate = len(latencies) / elapsed
            median = summarize(latencies)["median"]
            mean = sum(latencies) / len(latencies)
            section.data[str(concurrency)] = {"per_second": rate, "median_latency": median, "mean_latency": mean}
            table.rows.append([str(concurrency), f"{rate:,.0f}", ms(median), ms(mean)])
    section.tables.append(table)
    section.notes.append(
        "Programs run on pooled worker threads; Python's GIL means CPU-bound programs share one core, so "
        "more executions in flight raise latency rather than throughput."
    )
    return section


async def bench_memory(quick: bool) -> Section:
    """Resident memory held per code session (globals kept between executions)."""
    sessions = 20 if quick else 300
    program = "data = list(range(1000))\nlabel = 'session'\nreturn len(data)"
    section = Section("memory", "Memory per code session")
    async with MCPClient(toy_config(), code_mode=True) as client:
        await client.execute_code("return 1", session_id="warm-up")
        gc.collect()
        before = _rss()
        for index in range(sessions):
            out = await client.execute_code(program, session_id=f"s{index}")
            if out["error"] is not None:
                raise BenchmarkError(f"code session {index} failed: {out['error']}")
        check = await client.execute_code("return len(data)", session_id="s0")
        if check["result"] != 1000:
            raise BenchmarkError("a code session did not keep its globals")
        gc.collect()
        after = _rss()
    per_session = (after - before) / sessions
    section.data = {"sessions": sessions, "rss_before": before, "rss_after": after, "per_session_bytes": per_session}
    table = Table(
        f"{sessions} code sessions, each holding `list(range(1000))`", ["RSS before", "RSS after", "per session"]
    )
    table.rows.append([f"{before / 2**20:.1f} MiB", f"{after / 2**20:.1f} MiB", f"{per_session / 1024:.1f} KiB"])
    section.tables.append(table)
    section.notes.append(
        "Measured as the growth of the process's resident memory; a list of 1,000 small ints alone is about 8 KiB "
        "of pointers (the ints themselves are cached by CPython)."
    )
    return section
