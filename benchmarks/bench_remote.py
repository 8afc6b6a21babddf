"""Bridge overhead and start-up cost of the executors, side by side: `python benchmarks/bench_remote.py`.

Per-tool-call overhead: a program makes sequential calls to a tool that does nothing; the host
timestamps each call frame's arrival, so each interval is one full round trip through the executor's
transport (program -> host dispatcher -> program -> next call). `restricted` crosses threads in one
process; `process` crosses pipes to a child; `e2b` runs through the real E2B SDK against the local
envd stand-in from the tests (HTTP on 127.0.0.1), so it measures the transport without the network.

Start-up: `restricted` is construction plus a first trivial run; `process` and `e2b` are the time
from nothing to the guest's hello (for `e2b` also the sandbox creation, which is instant against the
stand-in and seconds against real E2B).

Options: `--calls N` (default 300), `--startups N` (default 5), `--only restricted,process,e2b`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from benchmarks.contenders import NoopBackend, tool_request  # noqa: E402
from benchmarks.machine import describe_machine, machine_line  # noqa: E402
from engine.executors.base import ExecutionRequest, Executor  # noqa: E402


def quantiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))],
        "mean": statistics.fmean(ordered),
    }


async def per_call(make: Callable[[], Executor], calls: int) -> dict[str, float]:
    executor = make()
    try:
        warm = NoopBackend()
        await executor.run(tool_request("await bench.noop()", warm, 1))  # start-up is measured separately
        backend = NoopBackend()
        code = f"for i in range({calls}):\n    await bench.noop()\nreturn 'done'"
        envelope = await executor.run(tool_request(code, backend, calls))
        if envelope["error"] is not None:
            raise RuntimeError(envelope["error"])
        intervals = [b - a for a, b in zip(backend.arrivals, backend.arrivals[1:], strict=False)]
        return quantiles([interval * 1000 for interval in intervals])
    finally:
        await executor.aclose()


async def startup(make: Callable[[], Executor], repeats: int) -> dict[str, float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        executor = make()
        try:
            starter = getattr(executor, "start", None)
            if starter is not None:
                await starter()
            else:
                await executor.run(ExecutionRequest("return 1"))
            samples.append((time.perf_counter() - started) * 1000)
        finally:
            await executor.aclose()
    return quantiles(samples)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--startups", type=int, default=5)
    parser.add_argument("--only", default="restricted,process,e2b")
    options = parser.parse_args(argv)
    wanted = options.only.split(",")

    from engine.executors.e2b import E2BExecutor
    from engine.executors.process import ProcessExecutor
    from engine.executors.restricted import RestrictedExecutor

    print(f"machine: {machine_line(describe_machine())}")
    print(f"{options.calls} sequential no-op tool calls per executor; {options.startups} start-ups each\n")
    rows: list[tuple[str, dict[str, float], dict[str, float]]] = []
    # The stand-in runs in its own process, as envd runs on another machine: sharing the host's
    # interpreter (and its GIL) would charge its work to the host's transport.
    standin = subprocess.Popen(
        [sys.executable, "-m", "tests.executors.e2b_standin"], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )
    assert standin.stdout is not None
    url = standin.stdout.readline().strip()
    try:
        makers: dict[str, Callable[[], Executor]] = {
            "restricted": RestrictedExecutor,
            "process": ProcessExecutor,
            "e2b (stand-in)": lambda: E2BExecutor(debug=True, sandbox_url=url, python=sys.executable),
        }
        for name, make in makers.items():
            if name.split()[0] not in wanted:
                continue
            call = await per_call(make, options.calls)
            start = await startup(make, options.startups)
            rows.append((name, call, start))
    finally:
        standin.communicate(timeout=30)
    header = (
        f"{'executor':<16} {'call p50 ms':>12} {'call p90 ms':>12} {'call mean ms':>13} "
        f"{'start p50 ms':>13} {'start p90 ms':>13}"
    )
    print(header)
    print("-" * len(header))
    for name, call, start in rows:
        print(f"{name:<16} {call['p50']:>12.3f} {call['p90']:>12.3f} {call['mean']:>13.3f} "
              f"{start['p50']:>13.1f} {start['p90']:>13.1f}")
    print("\ntarget: per-call p50 <= 2 ms over an out-of-process transport")


if __name__ == "__main__":
    asyncio.run(main())
