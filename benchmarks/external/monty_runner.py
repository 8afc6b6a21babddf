"""Times Monty's worker pool (`pydantic-monty`); runs in `benchmarks/.envs/monty`.

Not part of engine and never imports it. One JSON request per line on stdin, one reply per line on
stdout. Every figure is timed here, so the request/reply hop to the harness is not counted.

- `{"op": "version"}`;
- `{"op": "start", "min_processes": N}` starts the pool every later request uses (the default
  `max_processes`: the CPU count), and replies with the seconds from `AsyncMonty()` to the first
  result of `1`;
- `{"op": "cold", "n": N}` N times: a new pool (one process) from nothing to the first result;
- `{"op": "empty_fresh", "n": N}`: `checkout()` + `feed_run("1")` + return the worker, N times;
- `{"op": "empty_reused", "n": N}`: `feed_run("1")` on one checked-out session, N times;
- `{"op": "calls", "calls": N, "sync": bool}`: one program calling a host function N times (awaited
  when async); replies with the intervals between the calls' arrivals here (one round trip each);
- `{"op": "throughput", "code": "...", "in_flight": K, "total": T}`: T executions (a checkout
  each), K at once; replies with the wall time and each execution's latency;
- `{"op": "work", "code": "...", "together": bool}`: the program twice, at once or one after the
  other; replies with the wall time and the value;
- `{"op": "idle_worker"}`: runs `1` and replies with the pid of the worker that ran it, now idle in
  the pool (the harness reads its memory);
- `{"op": "pool_pids"}`: the pids of the pool's idle workers (every one checked out at once, then
  returned), for the memory of a whole idle pool;
- `{"op": "program", "code": "..."}`: the program once on a fresh checkout; replies with its value
  (an error in the program is the reply's `error`);
- `{"op": "gather", "count": N, "seconds": S}`: one program awaiting N calls of an async host
  function that sleeps S seconds, through `asyncio.gather`; replies with the wall time and the
  most calls in flight at once;
- `{"op": "stop", "code": "...", "limit": S}`: the program under `max_feed_duration_secs=S`;
  replies with the wall time until the error came back and the error's type.
"""

from __future__ import annotations

import asyncio
import sys
import time
from importlib import metadata
from typing import Any

import pydantic_monty
from lines import serve  # the runner loop beside this script (benchmarks/external/lines.py)

_pool: Any = None
_size = 1


async def _checkout_run(code: str) -> Any:
    async with _pool.checkout() as session:
        return await session.feed_run(code)


async def _cold(n: int) -> list[float]:
    durations = []
    for _ in range(n):
        started = time.perf_counter()
        async with pydantic_monty.AsyncMonty(min_processes=1) as pool, pool.checkout() as session:
            await session.feed_run("1")
            durations.append(time.perf_counter() - started)
    return durations


async def _calls(count: int, sync: bool) -> list[float]:
    arrivals: list[float] = []

    def noop_sync() -> None:
        arrivals.append(time.perf_counter())

    async def noop() -> None:
        arrivals.append(time.perf_counter())

    code = f"for i in range({count}):\n    {'noop()' if sync else 'await noop()'}\n1"
    async with _pool.checkout() as session:
        await session.feed_run(code, external_lookup={"noop": noop_sync if sync else noop})
    return [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]


async def _throughput(code: str, in_flight: int, total: int) -> dict[str, Any]:
    latencies: list[float] = []

    async def lane(runs: int) -> None:
        for _ in range(runs):
            started = time.perf_counter()
            await _checkout_run(code)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(lane(total // in_flight) for _ in range(in_flight)))
    return {"elapsed": time.perf_counter() - started, "latencies": latencies}


async def _pool_pids() -> list[int]:
    sessions = [_pool.checkout() for _ in range(_size)]
    entered = [await session.__aenter__() for session in sessions]
    try:
        for session in entered:
            await session.feed_run("1")
        return sorted({int(session.worker_pid) for session in entered})
    finally:
        for session in sessions:
            await session.__aexit__(None, None, None)


async def _gather(count: int, seconds: float) -> dict[str, Any]:
    in_flight = 0
    most = 0

    async def slow(i: int) -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(seconds)
        in_flight -= 1
        return i

    code = f"import asyncio\nr = await asyncio.gather(*[slow(i) for i in range({count})])\nlen(r)"
    started = time.perf_counter()
    async with _pool.checkout() as session:
        value = await session.feed_run(code, external_lookup={"slow": slow})
    elapsed = time.perf_counter() - started
    if value != count:
        raise RuntimeError(f"the gather program returned {value!r}")
    return {"elapsed": elapsed, "most_in_flight": most}


async def _stop(code: str, limit: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with _pool.checkout(limits={"max_feed_duration_secs": limit}) as session:
            await session.feed_run(code)
    except Exception as exc:  # the limit's error is the expected outcome
        return {"elapsed": time.perf_counter() - started, "error_type": type(exc).__name__}
    raise RuntimeError("the CPU loop was not stopped at its limit")


async def handle(request: dict[str, Any]) -> dict[str, Any]:
    global _pool, _size
    op = request["op"]
    if op == "version":
        return {"pydantic-monty": metadata.version("pydantic-monty"), "python": sys.version.split()[0]}
    if op == "start":
        started = time.perf_counter()
        _size = int(request["min_processes"])
        _pool = pydantic_monty.AsyncMonty(min_processes=_size)
        await _pool.__aenter__()
        await _checkout_run("1")
        return {"seconds": time.perf_counter() - started}
    if op == "cold":
        return {"durations": await _cold(int(request["n"]))}
    if op == "empty_fresh":
        durations = []
        for _ in range(int(request["n"])):
            started = time.perf_counter()
            await _checkout_run("1")
            durations.append(time.perf_counter() - started)
        return {"durations": durations}
    if op == "empty_reused":
        durations = []
        async with _pool.checkout() as session:
            for _ in range(int(request["n"])):
                started = time.perf_counter()
                await session.feed_run("1")
                durations.append(time.perf_counter() - started)
        return {"durations": durations}
    if op == "calls":
        return {"intervals": await _calls(int(request["calls"]), bool(request["sync"]))}
    if op == "throughput":
        return await _throughput(request["code"], int(request["in_flight"]), int(request["total"]))
    if op == "work":
        started = time.perf_counter()
        if request["together"]:
            values = await asyncio.gather(_checkout_run(request["code"]), _checkout_run(request["code"]))
        else:
            values = [await _checkout_run(request["code"]), await _checkout_run(request["code"])]
        return {"elapsed": time.perf_counter() - started, "value": values[0]}
    if op == "pool_pids":
        return {"pids": await _pool_pids()}
    if op == "program":
        return {"value": await _checkout_run(request["code"])}
    if op == "gather":
        return await _gather(int(request["count"]), float(request["seconds"]))
    if op == "stop":
        return await _stop(request["code"], float(request["limit"]))
    if op == "idle_worker":
        async with _pool.checkout() as session:
            await session.feed_run("1")
            pid = session.worker_pid
        return {"pid": pid}
    return {"error": f"unknown op {op!r}"}


async def _close() -> None:
    if _pool is not None:
        await _pool.__aexit__(None, None, None)


async def main() -> None:
    await serve(handle, _close)


if __name__ == "__main__":
    asyncio.run(main())
