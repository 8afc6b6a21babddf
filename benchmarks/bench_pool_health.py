"""The `process` pool's footprint and health: idle memory, a 1,000-run soak, the cold start.

- `pool_memory`: USS and PSS of an idle worker (fresh, and after runs) and of the template, vs a
  Monty worker;
- `pool_soak`: 1,000 executions at 100 in flight, twice: errors, descriptors, threads and processes
  before and after, the host's resident memory;
- `pool_cold_start`: from a new executor to its first result, and a new worker's fork to its hello,
  vs Monty's pool start and `restricted`'s first run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from engine.executors._fork import WorkerTransport
from engine.executors._remote import RemoteGuest
from engine.executors.base import ExecutionRequest
from engine.executors.process import ProcessExecutor
from engine.executors.restricted import RestrictedExecutor

from .contenders import check, monty
from .core import BenchmarkError, Section, Table, ms, summarize
from .procinfo import adopting_orphans, alive, descendants, memory, open_fds, own_rss, reap, threads

__all__ = ["bench_pool_cold_start", "bench_pool_memory", "bench_pool_soak"]

_MIB = 1024 * 1024


def _mib(value: float) -> str:
    return f"{value / _MIB:.1f} MiB"


async def _ready(pool: ProcessExecutor, count: int) -> list[int]:
    """Wait until the pool has `count` workers (started in the background), and return their pids."""
    for _ in range(300):
        if len(pool.pids) >= count:
            return pool.pids
        await asyncio.sleep(0.01)
    raise BenchmarkError(f"the pool did not start {count} workers within 3 s (it has {len(pool.pids)})")


async def bench_pool_memory(quick: bool) -> Section:
    """Memory of an idle worker of the pool, of its template, and of an idle Monty worker."""
    runs = 50 if quick else 500
    section = Section("pool_memory", "The process pool: memory of an idle worker, against a Monty worker")
    rows: dict[str, dict[str, int]] = {}
    pool = ProcessExecutor()
    try:
        await pool.start()
        pids = await _ready(pool, pool.min_workers)
        rows["process pool: a fresh worker (forked, said hello, no run yet)"] = memory(pids[0])
        program = ExecutionRequest("data = [str(i) for i in range(1000)]\nreturn len(data)")
        for _ in range(runs):
            envelope = await pool.run(program)
            if envelope["error"] is not None:
                raise BenchmarkError(f"a run on the pool failed: {envelope['error']}")
        worst = max((memory(pid) for pid in pool.pids), key=lambda m: m["pss"])
        rows[f"process pool: an idle worker after {runs} runs (the largest)"] = worst
        template = pool.template_pid
        if template is None:
            raise BenchmarkError("the pool has no template process")
        rows["process pool: the template (shared by every worker)"] = memory(template)
        workers = len(pool.pids)
    finally:
        await pool.aclose()
    async with monty(quick, section) as worker:
        if worker is not None:
            for _ in range(3):
                pid = (await worker.request({"op": "idle_worker"}))["pid"]
            rows["Monty: an idle worker (after runs)"] = memory(int(pid))
    section.data["memory_bytes"] = rows
    section.data["workers"] = workers
    table = Table("Memory of one idle process (from /proc/PID/smaps_rollup)", ["process", "USS", "PSS", "RSS"])
    for name, values in rows.items():
        table.rows.append([name, _mib(values["uss"]), _mib(values["pss"]), _mib(values["rss"])])
    section.tables.append(table)
    idle = rows[f"process pool: an idle worker after {runs} runs (the largest)"]
    section.notes.append(
        f"Target: an idle worker ≤ 20 MiB of its own (USS, and PSS): USS {_mib(idle['uss'])}, PSS {_mib(idle['pss'])} "
        f"({'met' if max(idle['uss'], idle['pss']) <= 20 * _MIB else 'NOT met'})."
    )
    section.notes.append(
        "USS is what the process holds alone (what killing it frees). PSS shares each page among the processes "
        f"mapping it, so the template's pages, shared copy-on-write by its {workers} workers, count once in all. "
        "RSS counts shared pages in full in every process and overstates a pool."
    )
    return section


def _snapshot() -> dict[str, int]:
    return {"fds": open_fds(), "threads": threads(), "processes": len(descendants()), "rss": own_rss()}


async def bench_pool_soak(quick: bool) -> Section:
    """1,000 executions at 100 in flight, twice, on the default pool: errors and leaks."""
    with adopting_orphans() as adopted:
        _need(adopted)
        return await _soak(quick)


def _need(adopted: bool) -> None:
    if not adopted:
        raise BenchmarkError("could not become a subreaper (prctl): workers left after aclose would go unseen")


async def _soak(quick: bool) -> Section:
    total, in_flight = (200, 100) if quick else (1000, 100)
    section = Section("pool_soak", f"The process pool under load: {total:,} executions at {in_flight} in flight")
    # A first pool starts what stays for the process's life either way (asyncio's default thread
    # pool, which the template's fork requests use), so it does not count as a leak below.
    async with ProcessExecutor(min_workers=1) as warmup:
        await check(warmup, "process", "return 1", 1)
    counts: dict[str, dict[str, int]] = {"before the pool": _snapshot()}
    bursts: list[dict[str, Any]] = []
    pool = ProcessExecutor()
    try:
        await pool.start()
        await _ready(pool, pool.min_workers)
        counts["pool started"] = _snapshot()
        for index in (1, 2):
            bursts.append(await _burst(pool, total, in_flight))
            counts[f"after burst {index}"] = _snapshot()
        section.data["workers_after"] = len(pool.pids)
    finally:
        await pool.aclose()
    counts["after aclose"] = _snapshot()
    left = await _survivors()
    section.data["counts"] = counts
    section.data["bursts"] = bursts
    table = Table(
        f"{total:,} executions of `return sum(range(100))` at {in_flight} in flight, twice",
        ["burst", "errors", "wall", "executions/s", "median latency", "host RSS peak"],
    )
    for index, burst in enumerate(bursts, 1):
        table.rows.append([
            str(index), str(burst["errors"]), ms(burst["wall"]), f"{total / burst['wall']:,.0f}",
            ms(burst["median_latency"]), _mib(burst["peak_rss"]),
        ])
    section.tables.append(table)
    counts_table = Table("The host process", ["when", "open fds", "threads", "processes below it", "RSS"])
    for when, snap in counts.items():
        counts_table.rows.append(
            [when, str(snap["fds"]), str(snap["threads"]), str(snap["processes"]), _mib(snap["rss"])]
        )
    section.tables.append(counts_table)
    errors = sum(burst["errors"] for burst in bursts)
    same = all(counts["after burst 1"][k] == counts["after burst 2"][k] for k in ("fds", "threads", "processes"))
    closed = all(counts["after aclose"][k] <= counts["before the pool"][k] for k in ("fds", "threads", "processes"))
    closed = closed and not left
    section.data["left_running_after_aclose"] = left
    section.data["leak_free"] = same and closed
    section.notes.append(
        f"Target: 0 errors ({errors}: {'met' if errors == 0 else 'NOT met'}); no leaked fd, thread or process "
        f"(the same counts after each burst: {'yes' if same else 'NO'}; back to at most the counts before the "
        f"pool after `aclose`, and none of its processes still running: {'yes' if closed else 'NO'}); host RSS "
        "bounded (the peak of each burst is in the table)."
    )
    section.notes.append(
        f"The pool has its default sizes: it grows to max_workers = {pool.max_workers} for the burst; the processes "
        "below the host are the template and its workers. RSS is sampled every 10 ms during a burst."
    )
    if errors:
        first = next(burst["first_error"] for burst in bursts if burst["first_error"])
        raise BenchmarkError(f"{errors} executions failed under load; the first: {first}")
    return section


async def _survivors() -> list[int]:
    """The host's descendants still running 0.2 s after a pool's `aclose` (none should be).

    Needs `adopting_orphans()` around it: a worker whose template is gone is reparented to the host then,
    not to init, so it is still counted here."""
    await asyncio.sleep(0.2)
    below = descendants()
    reap(below)
    return alive(below)


async def _burst(pool: ProcessExecutor, total: int, in_flight: int) -> dict[str, Any]:
    request = ExecutionRequest("return sum(range(100))")
    latencies: list[float] = []
    errors: list[str] = []
    peak = own_rss()

    async def lane(runs: int) -> None:
        for _ in range(runs):
            started = time.perf_counter()
            envelope = await pool.run(request)
            latencies.append(time.perf_counter() - started)
            if envelope["error"] is not None or envelope["result"] != 4950:
                errors.append(str(envelope["error"]))

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, own_rss())
            await asyncio.sleep(0.01)

    sampler = asyncio.get_running_loop().create_task(sample())
    started = time.perf_counter()
    try:
        await asyncio.gather(*(lane(total // in_flight) for _ in range(in_flight)))
    finally:
        wall = time.perf_counter() - started
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    peak = max(peak, own_rss())
    return {
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "wall": wall,
        "median_latency": summarize(latencies)["median"],
        "peak_rss": peak,
    }


async def bench_pool_cold_start(quick: bool) -> Section:
    """A new executor to its first result; a new worker's fork to its hello; Monty's and restricted's."""
    with adopting_orphans() as adopted:
        _need(adopted)
        return await _cold_start(quick)


async def _cold_start(quick: bool) -> Section:
    repeats, forks = (1, 3) if quick else (7, 40)
    section = Section("pool_cold_start", "The process pool's cold start, against Monty's and restricted's")
    first_runs: list[float] = []
    template_starts: list[float] = []
    left: list[int] = []
    for _ in range(repeats):
        started = time.perf_counter()
        pool = ProcessExecutor()
        try:
            await check(pool, "process", "return 1", 1)
            first_runs.append(time.perf_counter() - started)
            template_starts.append(pool.startup_seconds or 0.0)
        finally:
            await pool.aclose()
        left += await _survivors()
    section.data["left_running_after_aclose"] = left
    hellos = await _fork_to_hello(forks, confine=True)
    unconfined = await _fork_to_hello(forks, confine=False)
    restricted_first: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        restricted = RestrictedExecutor()
        try:
            await check(restricted, "restricted", "return 1", 1)
            restricted_first.append(time.perf_counter() - started)
        finally:
            await restricted.aclose()
    rows = {
        "process pool: new executor to its first result (template start, its imports, a fork, the run)": first_runs,
        "process pool: the template process spawned (before its imports)": template_starts,
        "process pool: a new worker, fork to hello (template warm)": hellos,
        "the same without the kernel confinement (`confine=False`), for its cost": unconfined,
        "restricted: new executor to its first result": restricted_first,
    }
    async with monty(quick, section) as worker:
        if worker is not None:
            reply = await worker.request({"op": "cold", "n": repeats}, timeout=120)
            rows["Monty: new pool (1 process) to its first result"] = list(reply["durations"])
    stats = {name: summarize(values) for name, values in rows.items()}
    section.data["seconds"] = stats
    table = Table("Cold start", ["what", "median", "p90", "samples"])
    for name, value in stats.items():
        table.rows.append([name, ms(value["median"]), ms(value["p90"]), str(int(value["n"]))])
    section.tables.append(table)
    section.notes.append(
        "The first result of a new pool waits for the template to import the kernel, the sandbox and the guest, "
        "then for a forked worker's hello; after that every new worker is a fork of the warm template. Each "
        "repetition is a new executor in this same host process (the host's own imports are already done)."
    )
    section.notes.append(
        f"Worker processes still running 0.2 s after `aclose`, over {repeats} new executor(s) each closed right "
        f"after its first result: {len(left)}" + (" (a leak: see docs/benchmarks.md)." if left else ".")
    )
    return section


async def _fork_to_hello(count: int, *, confine: bool) -> list[float]:
    """Fork `count` workers from a warm template, one at a time, timing each from the request to its hello.

    Uses the pool's own template and worker arguments (private attributes: this figure has no public
    handle), so each worker is exactly what the pool would fork, confinement included."""
    pool = ProcessExecutor(min_workers=1, confine=confine)
    durations: list[float] = []
    try:
        await pool.start()
        await _ready(pool, 1)
        for _ in range(count):
            transport = WorkerTransport(pool._template, pool._argv, confine=pool._confine)
            guest = RemoteGuest(transport, local=True)
            started = time.perf_counter()
            await guest.start(30.0)
            durations.append(time.perf_counter() - started)
            await guest.kill("measured")
    finally:
        await pool.aclose()
    return durations
