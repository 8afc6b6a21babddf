"""pydantic-ai-harness's CodeMode (`run_code` on Monty) against engine's `execute_code`.

Both are libraries driving the same toy server over stdio in-process. pydantic-ai-harness runs
inside a pydantic-ai agent, so its figures are whole agent runs driven by a FunctionModel (two model
turns around one tool call, no model behind them): `run_code` with the program, and the same agent
calling the toy's `add` natively as its floor. Engine's are `MCPClient.execute_code` and a raw
`call_tool` on the same kind of session. The comparable figure is each one's cost over its own
direct call.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from engine import MCPClient

from .bench_fastmcp import load_note
from .core import BenchmarkError, Section, Table, interleave, ms, summarize
from .envs import Worker
from .peers import HARNESS, HARNESS_NOTE, peer_python
from .servers import TOY, toy_config

__all__ = ["bench_harness_codemode"]

CALLS = 20
# The harness's type check reads the toy's `add` as returning its output schema, `{"result": int}`,
# while the call returns the int: `n += await add(...)` fails the check and `["result"]` fails at run
# time. Collecting the values in a list passes both, on every contender.
HARNESS_PROGRAMS = {
    "empty": "1",
    "one call": "await add(a=1, b=2)",
    f"{CALLS} calls": f"[await add(a=i, b=1) for i in range({CALLS})]",
}
ENGINE_PROGRAMS = {
    "empty": "return 1",
    "one call": "return await toy.add(a=1, b=2)",
    f"{CALLS} calls": f"return [await toy.add(a=i, b=1) for i in range({CALLS})]",
}
EXPECTED = {"empty": 1, "one call": 3, f"{CALLS} calls": [i + 1 for i in range(CALLS)]}
HARNESS_RUN = "pydantic-ai-harness: agent run with run_code"
HARNESS_NATIVE = "pydantic-ai: the same agent calling add natively (floor)"
ENGINE_RUN = "engine: MCPClient.execute_code"
ENGINE_RAW = "engine: raw call_tool on the same session (floor)"


def _harness(worker: Worker, variant: str, code: str, expected: object, n: int) -> Any:
    async def run() -> Sequence[float]:
        reply = await worker.request({"op": "run", "variant": variant, "code": code, "n": n}, timeout=120)
        if reply["returned"] != expected:
            raise BenchmarkError(f"pydantic-ai-harness {variant} returned {reply['returned']!r}, not {expected!r}")
        return list(reply["durations"])

    return run


async def bench_harness_codemode(quick: bool) -> Section:
    """run_code through a FunctionModel-driven agent vs execute_code, each over its own direct call."""
    section = Section("harness_codemode", "pydantic-ai-harness CodeMode against execute_code, each over its floor")
    section.notes.append(load_note())
    rounds, per_round = (2, 2) if quick else (12, 5)
    python = peer_python(quick, "harness", HARNESS, section, "pydantic-ai-harness CodeMode")
    async with MCPClient(toy_config(), code_mode=True) as client:
        first = await client.execute_code(ENGINE_PROGRAMS["one call"])  # connects the toy server
        if first["error"] is not None or first["result"] != 3:
            raise BenchmarkError(f"engine could not call toy.add: {first['error']}")
        session = client.get_session("toy")
        variants: dict[str, Any] = {}
        for program, code in ENGINE_PROGRAMS.items():

            async def engine(code: str = code, want: object = EXPECTED[program]) -> None:
                out = await client.execute_code(code)
                if out["error"] is not None or out["result"] != want:
                    raise BenchmarkError(f"execute_code returned {out['result']!r} ({out['error']})")

            variants[f"{ENGINE_RUN}|{program}"] = engine

        async def raw() -> None:
            result = await session.call_tool("add", {"a": 1, "b": 2})
            if result.is_error:
                raise BenchmarkError(f"the raw call failed: {result.content}")

        variants[f"{ENGINE_RAW}|one call"] = raw
        worker: Worker | None = None
        if python is not None:
            worker = Worker(python, "harness_runner.py")
            await worker.__aenter__()
        try:
            if worker is not None:
                section.data["versions"] = await worker.request({"op": "version"})
                check = await worker.request({"op": "start", "command": sys.executable, "args": [str(TOY), "stdio"]})
                if check != {"run_code": 3, "native": 3}:
                    raise BenchmarkError(f"pydantic-ai-harness could not call toy.add: {check}")
                for program, code in HARNESS_PROGRAMS.items():
                    variants[f"{HARNESS_RUN}|{program}"] = _harness(worker, "run_code", code, EXPECTED[program], 1)
                variants[f"{HARNESS_NATIVE}|one call"] = _harness(worker, "native", "", 3, 1)
            samples = await interleave(variants, rounds=rounds, per_round=per_round, warmup=1)
        finally:
            if worker is not None:
                await worker.__aexit__(None, None, None)
    stats = {key: summarize(values) for key, values in samples.items()}
    section.data["seconds"] = stats
    table = Table(
        f"Median of {rounds} interleaved rounds × {per_round}",
        ["contender", "empty program", "one toy.add", f"{CALLS} toy.add", "one call over its floor"],
    )
    pairs = [(ENGINE_RUN, ENGINE_RAW)] + ([(HARNESS_RUN, HARNESS_NATIVE)] if worker is not None else [])
    for run_name, floor_name in pairs:
        one = stats[f"{run_name}|one call"]["median"]
        floor = stats[f"{floor_name}|one call"]["median"]
        table.rows.append(
            [
                run_name,
                ms(stats[f"{run_name}|empty"]["median"]),
                ms(one),
                ms(stats[f"{run_name}|{CALLS} calls"]["median"]),
                f"{(one - floor) * 1000:+.2f} ms",
            ]
        )
        table.rows.append([floor_name, "—", ms(floor), "—", "—"])
    section.tables.append(table)
    if worker is not None:
        section.notes.append(
            HARNESS_NOTE + " An agent run is two FunctionModel turns around one tool call (no model behind them, no "
            "API key): the floor row is the same agent calling the toy's `add` as a native MCP tool, through "
            "pydantic-ai's `MCPToolset` (a FastMCP client over stdio). Every `run_code` type-checks the program "
            "against stubs of the tools before Monty runs it, in a Monty worker process."
        )
        section.notes.append(
            "The harness's stubs read `add` as returning its output schema (`{\"result\": int}`) while the call "
            "returns the int, so `n += await add(...)` fails its type check and `(await add(...))[\"result\"]` fails "
            f"at run time; the {CALLS}-call program therefore collects the values in a list, on both sides."
        )
    return section
