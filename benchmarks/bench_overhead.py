"""Engine overhead against what a user would pick instead.

- one tool call: `execute_code` vs a raw `MCPSession.call_tool` on the same stdio server, and
  mcp-use 1.7.1's code mode (in its own virtualenv) vs its own raw call on the same server;
- an empty execution (`return 1`) on each executor;
- a pure-Python workload: the restricted sandbox vs plain `exec` vs smolagents' `LocalPythonExecutor`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from engine import MCPClient
from engine.executors import ExecutionRequest
from engine.executors.registry import EXECUTORS
from engine.executors.restricted import RestrictedExecutor
from engine.sandbox.loop import WorkerLoop

from .core import BenchmarkError, Section, Table, interleave, ms, ratio, summarize, us
from .envs import Worker, ensure_env
from .servers import toy_config

__all__ = ["MCP_USE", "SMOLAGENTS", "bench_empty_execution", "bench_tool_call", "bench_workload"]

MCP_USE = ("mcp-use==1.7.1", "mcp<2")
SMOLAGENTS = ("smolagents==1.26.0",)
TOOL_PROGRAM = "return await toy.add(a=1, b=2)"
CALLS = 20
LOOP_PROGRAM = f"for _ in range({CALLS}):\n    await toy.add(a=1, b=2)\nreturn 1"
EMPTY_PROGRAM = "return 1"
READY_PROGRAM = "return await toy.add(a=0, b=1)"

WORKLOAD_TARGET = 1.5
"""The workload's target, sandbox over plain CPython: issue 3 set 1.6×, issue 13 (the sandbox's
hardening) asked that it stay within 1.5×."""

# A pure-Python workload every contender can run: loops, arithmetic, dicts, lists, strings, sorting.
# Written as a function so it is the same source everywhere; a few milliseconds on CPython.
WORKLOAD = """\
def work(n):
    counts = {}
    words = []
    total = 0
    for i in range(n):
        key = "k" + str(i % 97)
        counts[key] = counts.get(key, 0) + i
        if i % 3 == 0:
            total += i * i
        if i % 50 == 0:
            words.append(key + ":" + str(total % 1000))
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:5]
    return [total, len(words), ranked[0][0], sum(v for _, v in ranked)]
"""
WORKLOAD_N = 12000


async def bench_tool_call(quick: bool) -> Section:
    """A tool call through `execute_code` vs raw, for engine and for mcp-use."""
    rounds, per_round = (3, 5) if quick else (25, 20)
    section = Section("tool_call", "One tool call: code mode vs a raw call on the same stdio server")
    async with MCPClient(toy_config(), code_mode=True) as client:
        first = await client.execute_code(TOOL_PROGRAM)
        if first["error"] is not None or first["result"] != 3:
            raise BenchmarkError(f"engine could not call toy.add: {first['error']}")
        session = client.get_session("toy")

        async def engine_code() -> None:
            await client.execute_code(TOOL_PROGRAM)

        async def engine_raw() -> None:
            await session.call_tool("add", {"a": 1, "b": 2})

        async def engine_loop() -> None:
            await client.execute_code(LOOP_PROGRAM)

        async def engine_raw_loop() -> None:
            for _ in range(CALLS):
                await session.call_tool("add", {"a": 1, "b": 2})

        async def engine_empty() -> None:
            await client.execute_code(EMPTY_PROGRAM)

        variants: dict[str, Any] = {
            "engine execute_code": engine_code,
            "engine raw call_tool": engine_raw,
            "engine execute_code, loop": engine_loop,
            "engine raw call_tool, loop": engine_raw_loop,
            "engine execute_code, empty": engine_empty,
        }
        worker: Worker | None = None
        if not quick:
            worker = Worker(ensure_env("mcp-use", MCP_USE), "mcp_use_runner.py")
            await worker.__aenter__()
            versions = await worker.request({"op": "version"})
            await worker.request({"op": "start", "config": toy_config()}, timeout=60)
            check = await worker.request({"op": "code", "code": TOOL_PROGRAM, "n": 1})
            if check["result"] != 3:
                raise BenchmarkError(f"mcp-use's code mode returned {check['result']!r} for toy.add(1, 2)")
            section.data["mcp_use_versions"] = versions
            mcp_use = worker

            async def mcp_use_code() -> Sequence[float]:
                reply = await mcp_use.request({"op": "code", "code": TOOL_PROGRAM, "n": per_round})
                return list(reply["durations"])

            async def mcp_use_raw() -> Sequence[float]:
                reply = await mcp_use.request(
                    {"op": "raw", "server": "toy", "tool": "add", "arguments": {"a": 1, "b": 2}, "n": per_round}
                )
                return list(reply["durations"])

            variants["mcp-use 1.7.1 execute_code"] = mcp_use_code
            variants["mcp-use 1.7.1 raw call_tool"] = mcp_use_raw
        try:
            samples = await _interleave_blocks(variants, rounds=rounds, per_round=per_round)
        finally:
            if worker is not None:
                await worker.__aexit__(None, None, None)
    stats = {name: summarize(values) for name, values in samples.items()}
    section.data["samples"] = stats
    table = Table(
        "Median latency of one `toy.add` call", ["variant", "median", "p90", "overhead vs its raw call", "ratio"]
    )
    for prefix in ("engine", "mcp-use 1.7.1"):
        code, raw = stats.get(f"{prefix} execute_code"), stats.get(f"{prefix} raw call_tool")
        if code is None or raw is None:
            continue
        overhead = code["median"] - raw["median"]
        table.rows.append([f"{prefix} raw call_tool", ms(raw["median"]), ms(raw["p90"]), "—", "1.00×"])
        table.rows.append(
            [
                f"{prefix} execute_code",
                ms(code["median"]),
                ms(code["p90"]),
                us(overhead),
                ratio(code["median"], raw["median"]),
            ]
        )
        section.data[f"{prefix} overhead_seconds"] = overhead
    engine_code_s, engine_raw_s = stats["engine execute_code"]["median"], stats["engine raw call_tool"]["median"]
    met = engine_code_s - engine_raw_s <= max(0.05 * engine_raw_s, 50e-6)
    section.data["target_met"] = met
    section.tables.append(table)
    section.tables.append(_per_call_table(stats, section))
    section.tables.append(await _handoff_floor(section, samples=60 if quick else 400))
    section.notes.append(
        "Target for engine: within 5% or 50 µs of the raw call. "
        f"Measured: {us(engine_code_s - engine_raw_s)} over raw ({'met' if met else 'NOT met'}). "
        "Each contender is compared with a raw call made by its own MCP client to its own toy server process "
        "(same server code), so the two overheads are comparable although the processes differ."
    )
    floor = 2 * section.data["handoff_round_trip_seconds"]["after 2 ms idle"]
    section.notes.append(
        f"The floor: an execution with one tool call crosses between the host's thread and the program's "
        f"worker thread four times (start, call, reply, end). Two round trips that do nothing at all cost "
        f"{us(floor)} here after the threads idled, as they do while a server works: more than the target "
        "allows. The program runs on a worker thread and never on the host's event loop by design (a "
        "spinning program must not stall MCP traffic or other executions), so this design cannot reach "
        "the target on this machine; what it adds beyond the floor is the execution's set-up and the bridge."
    )
    if quick:
        section.notes.append("Quick mode: mcp-use (which needs its own virtualenv) was not run.")
    return section


def _per_call_table(stats: dict[str, dict[str, float]], section: Section) -> Table:
    """The marginal cost of one more tool call inside a program: (N-call program - empty) / N vs raw."""
    raw = stats["engine raw call_tool, loop"]["median"] / CALLS
    empty = stats["engine execute_code, empty"]["median"]
    in_program = (stats["engine execute_code, loop"]["median"] - empty) / CALLS
    section.data["per_call"] = {"raw_seconds": raw, "in_program_seconds": in_program, "empty_program_seconds": empty}
    table = Table(
        f"One more tool call inside a program ({CALLS} sequential `toy.add` calls, per call)",
        ["variant", "median per call", "overhead vs raw", "ratio"],
    )
    table.rows.append(["engine raw call_tool", ms(raw), "—", "1.00×"])
    table.rows.append([f"engine: in a program, (program - empty program) / {CALLS}", ms(in_program),
                       us(in_program - raw), ratio(in_program, raw)])
    return table


async def _handoff_floor(section: Section, *, samples: int) -> Table:
    """The cheapest round trip between the host loop and a program's `WorkerLoop` thread, doing nothing.

    An `execute_code` with one tool call needs two such round trips (start and end of the
    execution, the call and its reply). Measured hot (back to back) and after 2 ms idle, which is
    what a tool call looks like: both threads slept while the server worked."""
    host = asyncio.get_running_loop()
    worker = WorkerLoop()
    thread = threading.Thread(target=worker.run_forever, name="bench-handoff", daemon=True)
    thread.start()
    medians: dict[str, float] = {}
    try:
        for label, gap in (("back to back", 0.0), ("after 2 ms idle", 0.002)):
            durations = []
            for _ in range(samples):
                if gap:
                    await asyncio.sleep(gap)
                reply: asyncio.Future[None] = host.create_future()
                started = time.perf_counter()
                worker.call_soon_threadsafe(host.call_soon_threadsafe, reply.set_result, None)
                await reply
                durations.append(time.perf_counter() - started)
            medians[label] = summarize(durations)["median"]
    finally:
        worker.call_soon_threadsafe(worker.stop)
        await asyncio.to_thread(thread.join, 5)
        worker.close()
    section.data["handoff_round_trip_seconds"] = medians
    table = Table("The floor: one round trip host loop → worker thread → host loop, doing nothing",
                  ["when", "median round trip", "two round trips (one execution with one tool call)"])
    for label, median in medians.items():
        table.rows.append([label, us(median), us(2 * median)])
    return table


async def _interleave_blocks(variants: dict[str, Any], *, rounds: int, per_round: int) -> dict[str, list[float]]:
    """`interleave`, where in-process variants run `per_round` times per slot like the external blocks."""
    blocks: dict[str, Any] = {}
    for name, variant in variants.items():
        if name.endswith(", loop"):  # 20 calls each: fewer repetitions for as many calls
            blocks[name] = _repeat(variant, max(per_round // 10, 1))
        elif name.startswith("engine"):
            blocks[name] = _repeat(variant, per_round)
        else:
            blocks[name] = variant
    return await interleave(blocks, rounds=rounds, warmup=1)


def _repeat(variant: Any, times: int) -> Any:
    async def block() -> Sequence[float]:
        durations = []
        for _ in range(times):
            started = time.perf_counter()
            await variant()
            durations.append(time.perf_counter() - started)
        return durations

    return block


BARE = "restricted executor alone"


async def bench_empty_execution(quick: bool) -> Section:
    """`return 1` on every executor that can run here, interleaved."""
    rounds = 20 if quick else 400
    section = Section("empty_execution", "Empty execution (`return 1`) per executor")
    table = Table("Median time of `execute_code('return 1')`", ["executor", "median", "p10", "p90", "status"])
    skipped: dict[str, str] = {}
    variants: dict[str, Any] = {}
    async with contextlib.AsyncExitStack() as stack:
        for name in EXECUTORS:
            if name == "e2b" and not os.environ.get("E2B_API_KEY"):
                skipped[name] = "skipped: E2B_API_KEY is not set"
                section.notes.append("e2b was not measured: it needs E2B_API_KEY and network access to E2B.")
                continue
            client = await stack.enter_async_context(MCPClient(toy_config(), code_mode=True, executor=name))
            try:
                # A program that names the toy server waits for it to be loaded: the runs measured
                # below are not slowed by its start-up (a process booting on the other core).
                ready = await client.execute_code(READY_PROGRAM)
                out = await client.execute_code("return 1")
            except Exception as exc:
                raise BenchmarkError(f"the {name!r} executor cannot run here: {exc}") from exc
            if ready["error"] is not None or ready["result"] != 1:
                raise BenchmarkError(f"the {name!r} executor could not call toy.add: {ready['error']}")
            if out["error"] is not None or out["result"] != 1:
                raise BenchmarkError(f"the {name!r} executor failed on `return 1`: {out['error']}")

            async def run(client: MCPClient = client) -> None:
                await client.execute_code("return 1")

            variants[name] = run
        # The sandbox on its own (the figure issue #3's target is about): the restricted executor
        # without code mode's catalog, dispatcher and namespaces around it.
        bare = RestrictedExecutor()
        stack.push_async_callback(bare.aclose)
        bare_request = ExecutionRequest("return 1")

        async def bare_run() -> None:
            await bare.run(bare_request)

        variants[BARE] = bare_run
        samples = await interleave(variants, rounds=rounds, warmup=5)
    for name in [*EXECUTORS, BARE]:
        if name in skipped:
            table.rows.append([name, "—", "—", "—", skipped[name]])
            continue
        stats = summarize(samples[name])
        section.data[name] = stats
        table.rows.append([name, us(stats["median"]), us(stats["p10"]), us(stats["p90"]), "measured"])
    section.tables.append(table)
    section.notes.append(
        "Each client had called its toy server once before the runs, so none was measured while its server started."
    )
    for name in ("restricted", BARE):
        median = section.data[name]["median"]
        section.notes.append(
            f"Target for {name}: ≤ 0.3 ms. Measured {us(median)} ({'met' if median <= 3e-4 else 'NOT met'})."
        )
    return section


async def bench_workload(quick: bool) -> Section:
    """A pure-Python workload: restricted sandbox vs plain `exec` vs smolagents."""
    section = Section("workload", "Pure-Python workload: sandbox vs plain CPython vs smolagents")
    with _one_cpu(section):
        return await _workload(section, quick)


@contextlib.contextmanager
def _one_cpu(section: Section) -> Iterator[None]:
    """Pin this thread, and the threads it starts (the sandbox's workers), to one CPU.

    Plain `exec` runs on this thread and the sandbox on a worker thread; on a VM the two may land
    on cores of different speed (a busy hyperthread sibling on the host), which measured as a
    1.0x-2.1x swing of the ratio from one run to the next."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    previous = os.sched_getaffinity(0)
    cpu = min(previous)
    os.sched_setaffinity(0, {cpu})
    section.notes.append(
        f"The sandbox and plain `exec` ran pinned to one CPU (cpu {cpu}), so a difference in speed between "
        "the machine's cores does not show as sandbox overhead."
    )
    try:
        yield
    finally:
        os.sched_setaffinity(0, previous)


async def _workload(section: Section, quick: bool) -> Section:
    # Many short runs of the two in-process variants per slot (a few ms each), one of smolagents':
    # the machine's speed drifts between slots, and the two ratios must see the same drift.
    rounds, per_round = (3, 3) if quick else (12, 25)
    plain_code = compile(WORKLOAD, "<workload>", "exec")
    expected = _plain(plain_code)
    program = f"{WORKLOAD}\nreturn work({WORKLOAD_N})"
    async with MCPClient(toy_config(), code_mode=True) as client:
        out = await client.execute_code(program)
        if out["error"] is not None or out["result"] != expected:
            raise BenchmarkError(f"the sandbox computed {out['result']!r} ({out['error']}), CPython {expected!r}")

        cpu_times: list[float] = []

        async def sandbox() -> None:
            cpu_times.append((await client.execute_code(program))["usage"]["cpu_time"])

        plain_cpu_times: list[float] = []

        async def plain() -> None:
            started = time.thread_time()
            _plain(plain_code)
            plain_cpu_times.append(time.thread_time() - started)

        variants: dict[str, Any] = {"restricted sandbox": sandbox, "plain exec (CPython)": plain}
        worker: Worker | None = None
        if not quick:
            worker = Worker(ensure_env("smolagents", SMOLAGENTS), "smolagents_runner.py")
            await worker.__aenter__()
            section.data["smolagents_versions"] = await worker.request({"op": "version"})
            smol_program = f"{WORKLOAD}\nwork({WORKLOAD_N})"
            check = await worker.request({"op": "run", "code": smol_program, "n": 1})
            if check["value"] != expected:
                raise BenchmarkError(f"smolagents computed {check['value']!r}, CPython {expected!r}")
            smol = worker

            async def smolagents() -> Sequence[float]:
                # One run per slot: smolagents interprets the AST node by node, ~100x slower than CPython.
                return list((await smol.request({"op": "run", "code": smol_program, "n": 1}))["durations"])

            variants["smolagents LocalPythonExecutor"] = smolagents
        try:
            samples = await _interleave_blocks(
                {("engine " + k if not k.startswith("smol") else k): v for k, v in variants.items()},
                rounds=rounds,
                per_round=per_round,
            )
        finally:
            if worker is not None:
                await worker.__aexit__(None, None, None)
    stats = {name.removeprefix("engine "): summarize(values) for name, values in samples.items()}
    stats["restricted sandbox: the program's CPU time only"] = summarize(cpu_times)
    stats["plain exec (CPython): CPU time"] = summarize(plain_cpu_times)
    section.data["samples"] = stats
    base = stats["plain exec (CPython)"]["median"]
    base_cpu = stats["plain exec (CPython): CPU time"]["median"]
    table = Table(
        f"Median time of `work({WORKLOAD_N})`",
        ["runner", "median", "p90", "vs plain CPython (wall to wall, CPU time to CPU time)"],
    )
    for name, value in stats.items():
        against = base_cpu if "CPU time" in name else base
        table.rows.append([name, ms(value["median"]), ms(value["p90"]), ratio(value["median"], against)])
    section.tables.append(table)
    sandbox_ratio = stats["restricted sandbox"]["median"] / base
    cpu_ratio = (
        stats["restricted sandbox: the program's CPU time only"]["median"]
        / stats["plain exec (CPython): CPU time"]["median"]
    )
    section.data["sandbox_ratio"] = sandbox_ratio
    section.data["sandbox_cpu_ratio"] = cpu_ratio
    section.notes.append(
        f"Target: ≤ {WORKLOAD_TARGET}× plain CPython. Whole `execute_code` call: {sandbox_ratio:.2f}× "
        f"({'met' if sandbox_ratio <= WORKLOAD_TARGET else 'NOT met'}). CPU time of the program alone (the envelope's "
        f"`usage.cpu_time`, without compile cache, thread hand-off and envelope) vs CPU time of plain `exec`: "
        f"{cpu_ratio:.2f}× ({'met' if cpu_ratio <= WORKLOAD_TARGET else 'NOT met'}). "
        "CPU times are less disturbed by other load on the machine; the gap between the sandbox's wall "
        "and CPU time is time its worker thread waited."
    )
    if quick:
        section.notes.append("Quick mode: smolagents (which runs in its own virtualenv) was not run.")
    return section


def _plain(code: Any) -> Any:
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace["work"](WORKLOAD_N)
