"""The `process` pool against the `restricted` executor and Monty's worker pool: latency and speed.

- `pool_latency`: an empty execution, and one tool call inside a program (a host-function round
  trip for Monty);
- `pool_throughput`: executions per second with 1, 10 and 100 in flight;
- `pool_cpu`: two CPU-bound programs at once vs one after the other (does the pool use two cores?).

Every contender runs in the same run, interleaved round by round (`core.interleave`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from engine.executors.base import ExecutionRequest, Executor

from .bench_overhead import WORKLOAD
from .contenders import NoopBackend, block, engine_executors, monty, tool_request
from .core import BenchmarkError, Section, Table, interleave, ms, ratio, summarize, us
from .envs import Worker

__all__ = ["bench_pool_cpu", "bench_pool_latency", "bench_pool_throughput"]

POOL = "process pool (warm)"
RESTRICTED = "restricted (in-process)"
MONTY_FRESH = "Monty: fresh checkout"
MONTY_REUSED = "Monty: reused session"


async def bench_pool_latency(quick: bool) -> Section:
    """Empty execution and per-tool-call round trip: pool vs restricted vs Monty."""
    section = Section("pool_latency", "The process pool: empty execution and one tool call, against Monty")
    empty_rounds, per_round = (5, 5) if quick else (40, 25)
    call_rounds, calls = (3, 20) if quick else (15, 50)
    async with engine_executors() as (pool, restricted), monty(quick, section) as worker:
        empty_request = ExecutionRequest("return 1")
        variants: dict[str, Any] = {
            POOL: block(lambda: pool.run(empty_request), per_round),
            RESTRICTED: block(lambda: restricted.run(empty_request), per_round),
        }
        if worker is not None:
            variants[MONTY_FRESH] = _monty_durations(worker, "empty_fresh", per_round)
            variants[MONTY_REUSED] = _monty_durations(worker, "empty_reused", per_round)
        empty = {name: summarize(s) for name, s in (await interleave(variants, rounds=empty_rounds)).items()}
        call_variants: dict[str, Any] = {POOL: _calls(pool, calls), RESTRICTED: _calls(restricted, calls)}
        if worker is not None:
            call_variants["Monty: awaited async host function"] = _monty_calls(worker, calls, sync=False)
            call_variants["Monty: sync host function"] = _monty_calls(worker, calls, sync=True)
        per_call = {
            name: summarize(s) for name, s in (await interleave(call_variants, rounds=call_rounds, warmup=1)).items()
        }
    section.data["empty_execution"] = empty
    section.data["per_tool_call"] = per_call
    base = empty[RESTRICTED]["median"]
    table = Table("An empty execution (`return 1`; Monty: `1`)", ["contender", "median", "p10", "p90", "vs restricted"])
    for name, stats in empty.items():
        table.rows.append([name, us(stats["median"]), us(stats["p10"]), us(stats["p90"]), ratio(stats["median"], base)])
    section.tables.append(table)
    call_base = per_call[RESTRICTED]["median"]
    calls_table = Table(
        f"One tool call inside a program ({calls} sequential `await bench.noop()`; per call, arrival to arrival)",
        ["contender", "median per call", "p90", "over restricted"],
    )
    for name, stats in per_call.items():
        over = "—" if name == RESTRICTED else f"{(stats['median'] - call_base) * 1000:+.3f} ms"
        calls_table.rows.append([name, us(stats["median"]), us(stats["p90"]), over])
    section.tables.append(calls_table)
    _latency_notes(section, empty, per_call)
    return section


def _latency_notes(section: Section, empty: dict[str, dict[str, float]], per_call: dict[str, dict[str, float]]) -> None:
    pool_empty, base = empty[POOL]["median"], empty[RESTRICTED]["median"]
    line = (
        f"Target: an empty execution on a warm pool ≤ 2× `restricted`'s: {pool_empty / base:.2f}× "
        f"({'met' if pool_empty <= 2 * base else 'NOT met'})"
    )
    if MONTY_FRESH in empty:
        fresh = empty[MONTY_FRESH]["median"]
        line += f"; and below a fresh Monty checkout ({us(fresh)}): {'met' if pool_empty < fresh else 'NOT met'}"
    section.notes.append(line + ".")
    pool_call, call_base = per_call[POOL]["median"], per_call[RESTRICTED]["median"]
    line = (
        f"Target: a tool call inside a program ≤ `restricted`'s + 0.15 ms: +{(pool_call - call_base) * 1000:.3f} ms "
        f"({'met' if pool_call - call_base <= 150e-6 else 'NOT met'})"
    )
    monty_call = per_call.get("Monty: awaited async host function")
    if monty_call is not None:
        met = pool_call < monty_call["median"]
        line += f"; and below Monty's host-call round trip ({us(monty_call['median'])}): {'met' if met else 'NOT met'}"
    section.notes.append(line + ".")
    section.notes.append(
        "Each tool call's figure is the interval between two calls' arrivals at the host: the reply's way back "
        "into the program, the loop's next turn and the next call's way out. The pool and Monty use their default "
        "sizes (the pool: min_workers = CPU count, max_workers = 4 per CPU; Monty: min_processes set to the CPU "
        "count, max_processes its default, the CPU count). A fresh Monty checkout is a new session (fresh globals) "
        "on a warm worker, as each `process` run is a fresh program on a warm worker."
    )


def _monty_durations(worker: Worker, op: str, n: int) -> Any:
    async def run() -> Sequence[float]:
        return list((await worker.request({"op": op, "n": n}))["durations"])

    return run


def _monty_calls(worker: Worker, calls: int, *, sync: bool) -> Any:
    async def run() -> Sequence[float]:
        return list((await worker.request({"op": "calls", "calls": calls, "sync": sync}))["intervals"])

    return run


def _calls(executor: Executor, calls: int) -> Any:
    code = f"for i in range({calls}):\n    await bench.noop()\nreturn 'done'"

    async def run() -> Sequence[float]:
        backend = NoopBackend()
        envelope = await executor.run(tool_request(code, backend, calls))
        if envelope["error"] is not None or len(backend.arrivals) != calls:
            raise BenchmarkError(f"the tool-call program failed: {envelope['error']}")
        return [b - a for a, b in zip(backend.arrivals, backend.arrivals[1:], strict=False)]

    return run


THROUGHPUT_PROGRAM = "return sum(range(100))"


async def bench_pool_throughput(quick: bool) -> Section:
    """Executions per second at 1, 10 and 100 in flight: pool, restricted, Monty."""
    section = Section("pool_throughput", "The process pool: executions per second, against restricted and Monty")
    total, rounds = (100, 1) if quick else (600, 3)
    levels = (1, 10, 100)
    rates: dict[str, dict[int, list[float]]] = {}
    latencies: dict[str, dict[int, list[float]]] = {}
    async with engine_executors() as (pool, restricted), monty(quick, section) as worker:
        contenders: dict[str, Any] = {
            POOL: _engine_throughput(pool, total),
            RESTRICTED: _engine_throughput(restricted, total),
        }
        if worker is not None:
            contenders["Monty (a checkout per execution)"] = _monty_throughput(worker, total)
        for index in range(rounds):
            order = list(contenders) if index % 2 == 0 else list(reversed(contenders))
            for level in levels:
                for name in order:
                    elapsed, lats = await contenders[name](level)
                    rates.setdefault(name, {}).setdefault(level, []).append(total / elapsed)
                    latencies.setdefault(name, {}).setdefault(level, []).extend(lats)
    table = Table(
        f"`{THROUGHPUT_PROGRAM}` (Monty: `sum(range(100))`), {total} executions per block, median of {rounds} block(s)",
        ["contender", *(f"{level} in flight: executions/s" for level in levels), "median latency at 100"],
    )
    data: dict[str, Any] = {}
    for name in rates:
        per_level = {level: summarize(rates[name][level])["median"] for level in levels}
        data[name] = {
            str(level): {"per_second": per_level[level], "median_latency": summarize(latencies[name][level])["median"]}
            for level in levels
        }
        table.rows.append(
            [name, *(f"{per_level[level]:,.0f}" for level in levels), ms(data[name]["100"]["median_latency"])]
        )
    section.data["throughput"] = data
    section.tables.append(table)
    monty_name = "Monty (a checkout per execution)"
    if monty_name in data:
        verdicts = [
            f"{level} in flight: {'met' if data[POOL][str(level)]['per_second'] > data[monty_name][str(level)]['per_second'] else 'NOT met'}"  # noqa: E501
            for level in (1, 10)
        ]
        section.notes.append(
            "Target: executions per second above Monty's at 1 and 10 in flight (" + "; ".join(verdicts) + ")."
        )
    section.notes.append(
        "In flight = that many lanes, each running its executions one after the other. The pool's runs wait for a "
        "free worker beyond max_workers; Monty's checkouts wait for a free process beyond max_processes."
    )
    return section


def _engine_throughput(executor: Executor, total: int) -> Any:
    request = ExecutionRequest(THROUGHPUT_PROGRAM)

    async def run(in_flight: int) -> tuple[float, list[float]]:
        lats: list[float] = []
        errors: list[str] = []

        async def lane(runs: int) -> None:
            for _ in range(runs):
                started = time.perf_counter()
                envelope = await executor.run(request)
                lats.append(time.perf_counter() - started)
                if envelope["error"] is not None:
                    errors.append(envelope["error"])

        started = time.perf_counter()
        await asyncio.gather(*(lane(total // in_flight) for _ in range(in_flight)))
        elapsed = time.perf_counter() - started
        if errors:
            raise BenchmarkError(f"{len(errors)} of {total} executions failed at {in_flight} in flight: {errors[0]}")
        return elapsed, lats

    return run


def _monty_throughput(worker: Worker, total: int) -> Any:
    async def run(in_flight: int) -> tuple[float, list[float]]:
        reply = await worker.request(
            {"op": "throughput", "code": "sum(range(100))", "in_flight": in_flight, "total": total}
        )
        return float(reply["elapsed"]), list(reply["latencies"])

    return run


async def bench_pool_cpu(quick: bool) -> Section:
    """Two CPU-bound programs at once vs one after the other, per contender."""
    n = 20_000 if quick else 150_000
    rounds = 2 if quick else 8
    section = Section("pool_cpu", f"The process pool on two cores: `work({n:,})` twice, at once vs one after the other")
    program = f"{WORKLOAD}\nreturn work({n})"
    expected_env: dict[str, Any] = {}
    exec(compile(WORKLOAD, "<workload>", "exec"), expected_env)
    expected = expected_env["work"](n)
    async with engine_executors() as (pool, restricted), monty(quick, section) as worker:
        variants: dict[str, Any] = {}
        for name, executor in ((POOL, pool), (RESTRICTED, restricted)):
            request = ExecutionRequest(program)
            for together in (True, False):
                variants[_label(name, together)] = _engine_pair(executor, request, together, expected)
        if worker is not None:
            for together in (True, False):
                variants[_label("Monty", together)] = _monty_pair(worker, f"{WORKLOAD}\nwork({n})", together, expected)
        samples = await interleave(variants, rounds=rounds, warmup=1)
    stats = {name: summarize(values) for name, values in samples.items()}
    section.data["samples"] = stats
    table = Table(
        "Wall time of two runs", ["contender", "at once (2 in flight)", "one after the other", "ratio (target ≤ 0.6)"]
    )
    ratios: dict[str, float] = {}
    for name in (POOL, RESTRICTED, "Monty"):
        at_once, apart = stats.get(_label(name, True)), stats.get(_label(name, False))
        if at_once is None or apart is None:
            continue
        ratios[name] = at_once["median"] / apart["median"]
        table.rows.append([name, ms(at_once["median"]), ms(apart["median"]), ratio(at_once["median"], apart["median"])])
    section.data["ratios"] = ratios
    section.tables.append(table)
    met = "met" if ratios[POOL] <= 0.6 else "NOT met"
    section.notes.append(
        f"Target for the pool: ≤ 0.6 (two cores used): {ratios[POOL]:.2f} ({met}). "
        "`restricted` runs programs on threads of one process, which share one core through the GIL (near 1.0 "
        "expected). The machine's two cores are shared with the other work on it (see the load average), which "
        "moves the ratio toward 1."
    )
    return section


def _label(name: str, together: bool) -> str:
    return f"{name}: {'at once' if together else 'one after the other'}"


def _engine_pair(executor: Executor, request: ExecutionRequest, together: bool, expected: object) -> Any:
    async def run() -> None:
        if together:
            envelopes = list(await asyncio.gather(executor.run(request), executor.run(request)))
        else:
            envelopes = [await executor.run(request), await executor.run(request)]
        for envelope in envelopes:
            if envelope["error"] is not None or envelope["result"] != expected:
                got = f"{envelope['result']!r} ({envelope['error']})"
                raise BenchmarkError(f"work() returned {got}, CPython {expected!r}")

    return run


def _monty_pair(worker: Worker, code: str, together: bool, expected: object) -> Any:
    async def run() -> Sequence[float]:
        reply = await worker.request({"op": "work", "code": code, "together": together})
        if reply["value"] != expected:
            raise BenchmarkError(f"Monty's work() returned {reply['value']!r}, CPython {expected!r}")
        return [float(reply["elapsed"])]

    return run
