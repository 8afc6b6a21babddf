"""Issue 14's load run: programs on a healthy server beside a hung one and a crashing one.

`python -m benchmarks.bench_faults [ROUNDS] [PER_ROUND] [IN_FLIGHT]` (standalone; defaults 10 100 100:
1,000 executions, 100 in flight). Three servers over stdio, as configured in a real client:

- `toy`: the toy server (`tests/servers/toy.py`), healthy;
- `crashy`: the same server, whose `crash` tool kills it mid-call (it restarts on next use);
- `mute`: a process that reads requests and never answers, not even `initialize` (60 s connect timeout).

Each round runs PER_ROUND programs, at most IN_FLIGHT at once, on the `restricted` executor: 80%
`toy.add` (timeout 5 s), 10% `crashy.crash()` then nothing, 10% `mute.anything()` (timeout 2 s).
It reports the slowest healthy program against its timeout, whether every envelope's record of
calls is exact (one call each, with the expected outcome), and the host's open fds, threads,
asyncio tasks and child processes after each round (they must not grow).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

from engine import MCPClient

from .procinfo import descendants, open_fds, threads
from .servers import TOY

MUTE = "import sys\nfor _ in sys.stdin:\n    pass\n"
HEALTHY_TIMEOUT = 5.0
HUNG_TIMEOUT = 2.0
KINDS = ("healthy", "hung", "crash")


def config() -> dict[str, Any]:
    toy = {"command": sys.executable, "args": [str(TOY), "stdio"]}
    return {
        "mcpServers": {
            "toy": toy,
            "crashy": dict(toy),
            "mute": {"command": sys.executable, "args": ["-c", MUTE], "connect_timeout": 60},
        }
    }


async def one(client: MCPClient, index: int) -> tuple[str, float, bool, str | None]:
    kind = "crash" if index % 10 == 3 else "hung" if index % 10 == 7 else "healthy"
    code, timeout, outcome = {
        "healthy": ("return await toy.add(a=1, b=2)", HEALTHY_TIMEOUT, "ok"),
        "crash": ("return await crashy.crash()", HEALTHY_TIMEOUT, "error"),
        "hung": ("return await mute.anything()", HUNG_TIMEOUT, None),
    }[kind]
    started = time.perf_counter()
    out = await client.execute_code(code, timeout=timeout)
    elapsed = time.perf_counter() - started
    calls = out["tool_calls"]
    if kind == "hung":  # refused before it leaves: no call, the reason in the error
        exact = calls == [] and "server 'mute' is unavailable" in (out["error"] or "")
    else:
        exact = len(calls) == 1 and calls[0]["outcome"] == outcome
    if kind == "healthy" and out["error"] is not None:
        exact = False
    return kind, elapsed, exact, out["error"]


async def run(rounds: int, per_round: int, in_flight: int) -> None:
    gate = asyncio.Semaphore(in_flight)
    async with MCPClient(config(), code_mode=True) as client:

        async def gated(index: int) -> tuple[str, float, bool, str | None]:
            async with gate:
                return await one(client, index)

        print("| round | healthy max s (timeout 5) | hung max s (timeout 2) | crash max s | inexact | fds | threads "
              "| tasks | children |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for number in range(1, rounds + 1):
            results = await asyncio.gather(*(gated(i) for i in range(per_round)))
            worst = {kind: max((e for k, e, _, _ in results if k == kind), default=0.0) for kind in KINDS}
            inexact = [(k, err) for k, _, exact, err in results if not exact]
            await asyncio.sleep(0.5)  # let crashed servers' processes be reaped before counting
            print(
                f"| {number} | {worst['healthy']:.2f} | {worst['hung']:.2f} | {worst['crash']:.2f} | {len(inexact)} | "
                f"{open_fds()} | {threads()} | {len(asyncio.all_tasks())} | {len(descendants(os.getpid()))} |"
            )
            for kind, error in inexact[:3]:
                print(f"    inexact {kind}: {error}")


def main(argv: list[str]) -> None:
    numbers = [int(a) for a in argv] + [10, 100, 100][len(argv):]
    asyncio.run(run(*numbers[:3]))


if __name__ == "__main__":
    main(sys.argv[1:])
