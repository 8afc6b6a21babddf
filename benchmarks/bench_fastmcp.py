"""FastMCP's CodeMode against `codemode serve`, both behind the same MCP SDK client over stdio.

- `fastmcp_codemode`: an empty program, one tool call and 20 tool calls through FastMCP's `execute`
  (a FastMCP proxy of the toy server with the `CodeMode` transform, in its own virtualenv) and
  through `codemode serve`'s `execute_code` (restricted and process executors) in front of the same
  toy server; a direct `tools/call` to the toy server is the floor. Every variant is one
  `ClientSession.call_tool` of the same SDK client, interleaved round by round.
- `fastmcp_search`: recall@1/@5 and MRR@10 of CodeMode's BM25 `search` tool on the labelled queries
  of `search_quality`, next to engine's `search_tools`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import mcp.types as types
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from engine.catalog import ToolCatalog

from .bench_catalog import add_quality_tables, load_fixture, load_queries
from .core import BenchmarkError, Section, Table, interleave, ms, summarize
from .envs import EXTERNAL, Worker
from .peers import FASTMCP, FASTMCP_NOTE, peer_python
from .servers import TOY, toy_config

__all__ = ["bench_fastmcp_codemode", "bench_fastmcp_search", "load_note"]

CALLS = 20
DIRECT = "direct tools/call to the toy server (floor)"
SERVE = "codemode serve execute_code (restricted)"
SERVE_PROCESS = "codemode serve execute_code (--executor process)"
FASTMCP_EXECUTE = "FastMCP CodeMode execute (Monty)"
# The same three programs in each dialect: engine's `await toy.add(...)`, FastMCP's `call_tool(name, params)`.
ENGINE_PROGRAMS = {
    "empty": "return 1",
    "one call": "return await toy.add(a=1, b=2)",
    f"{CALLS} calls": f"n = 0\nfor i in range({CALLS}):\n    n += await toy.add(a=i, b=1)\nreturn n",
}
FASTMCP_PROGRAMS = {
    "empty": "return 1",
    "one call": 'return (await call_tool("add", {"a": 1, "b": 2}))["result"]',
    f"{CALLS} calls": (
        f'n = 0\nfor i in range({CALLS}):\n    n += (await call_tool("add", {{"a": i, "b": 1}}))["result"]\nreturn n'
    ),
}
EXPECTED = {"empty": 1, "one call": 3, f"{CALLS} calls": sum(i + 1 for i in range(CALLS))}


def load_note() -> str:
    """The load average now, for a section's notes (the machine is shared with other work)."""
    one, five, fifteen = os.getloadavg()
    return f"Load average when this section started (1, 5, 15 min): {one:.2f}, {five:.2f}, {fifteen:.2f}."


@contextlib.asynccontextmanager
async def _session(command: str, args: list[str]) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=command, args=args, env=dict(os.environ))
    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


def _value(result: types.CallToolResult, engine: bool) -> Any:
    """The program's value from an `execute_code` envelope or a FastMCP `execute` result."""
    if result.is_error:
        raise BenchmarkError(f"the call failed: {result.content}")
    if engine:
        envelope = result.structured_content or json.loads(result.content[0].text)  # type: ignore[union-attr]
        if envelope.get("error") is not None:
            raise BenchmarkError(f"execute_code failed: {envelope['error']}")
        return envelope["result"]
    if result.structured_content is not None:
        return result.structured_content.get("result", result.structured_content)
    text = "".join(getattr(block, "text", "") for block in result.content)
    try:  # FastMCP sends a value as JSON text, except a string, which it sends as itself
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _variant(session: ClientSession, tool: str, code: str, expected: object, engine: bool) -> Any:
    async def run() -> None:
        value = _value(await session.call_tool(tool, {"code": code}), engine)
        if value != expected:
            raise BenchmarkError(f"{tool} returned {value!r}, expected {expected!r}")

    return run


def _direct(session: ClientSession, calls: int) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        for i in range(calls):
            result = await session.call_tool("add", {"a": i, "b": 1})
            if result.is_error:
                raise BenchmarkError(f"the direct call failed: {result.content}")

    return run


async def bench_fastmcp_codemode(quick: bool) -> Section:
    """Empty, one call and 20 calls: FastMCP CodeMode's execute vs codemode serve's execute_code vs direct."""
    section = Section("fastmcp_codemode", "FastMCP CodeMode against codemode serve, over stdio with the same client")
    section.notes.append(load_note())
    rounds = 3 if quick else 20
    python = peer_python(quick, "fastmcp", FASTMCP, section, "FastMCP CodeMode")
    variants: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "servers.json"
        config.write_text(json.dumps(toy_config()))
        async with contextlib.AsyncExitStack() as stack:
            direct = await stack.enter_async_context(_session(sys.executable, [str(TOY), "stdio"]))
            variants[f"{DIRECT}|empty"] = _direct(direct, 0)
            variants[f"{DIRECT}|one call"] = _direct(direct, 1)
            variants[f"{DIRECT}|{CALLS} calls"] = _direct(direct, CALLS)
            for name, extra in ((SERVE, []), (SERVE_PROCESS, ["--executor", "process"])):
                serve = await stack.enter_async_context(
                    _session(sys.executable, ["-m", "engine.cli", "serve", "--config", str(config), "-q", *extra])
                )
                for program, code in ENGINE_PROGRAMS.items():
                    variants[f"{name}|{program}"] = _variant(serve, "execute_code", code, EXPECTED[program], True)
            if python is not None:
                fast = await stack.enter_async_context(
                    _session(str(python), [str(EXTERNAL / "fastmcp_codemode_server.py"), sys.executable, str(TOY)])
                )
                for program, code in FASTMCP_PROGRAMS.items():
                    variants[f"{FASTMCP_EXECUTE}|{program}"] = _variant(fast, "execute", code, EXPECTED[program], False)
            samples = await interleave(variants, rounds=rounds, warmup=2)
    stats = {key: summarize(values) for key, values in samples.items()}
    section.data["seconds"] = stats
    contenders = [DIRECT, SERVE, SERVE_PROCESS] + ([FASTMCP_EXECUTE] if python is not None else [])
    table = Table(
        f"One `tools/call` from the MCP SDK client over stdio (median of {rounds} interleaved rounds)",
        ["contender", "empty program", "one toy.add", f"{CALLS} toy.add in a loop", "per extra call"],
    )
    for name in contenders:
        empty, one, loop = (stats[f"{name}|{p}"]["median"] for p in ("empty", "one call", f"{CALLS} calls"))
        per_call = (loop - one) / (CALLS - 1)
        table.rows.append([name, "—" if name == DIRECT else ms(empty), ms(one), ms(loop), ms(per_call)])
    section.tables.append(table)
    section.notes.append(
        "The same SDK client (`mcp.ClientSession`, stdio) drives all four servers, each in front of one toy server "
        "process (tests/servers/toy.py). The direct row calls `add` itself, once or 20 times. "
        "Engine's programs are `return await toy.add(a=1, b=2)`; FastMCP's are "
        '`return (await call_tool("add", {"a": 1, "b": 2}))["result"]` (its tool results come back as the '
        "structured `{\"result\": 3}`). FastMCP's proxy keeps one toy process for its life, as `codemode serve` does."
    )
    if python is not None:
        section.notes.append(
            FASTMCP_NOTE + " Its MontySandboxProvider opens a new `AsyncMonty()` pool for every `execute` and "
            "closes it after (fastmcp/experimental/transforms/code_mode.py, `_run_monty`), so each execute pays "
            "Monty's cold start; a warm Monty checkout is measured in the pool sections."
        )
    return section


async def bench_fastmcp_search(quick: bool) -> Section:
    """recall@1/@5, MRR@10 of FastMCP CodeMode's BM25 search vs engine's search_tools on the labelled queries."""
    section = Section("fastmcp_search", "Search quality: FastMCP CodeMode's BM25 search against search_tools")
    fixture = load_fixture()
    queries = load_queries()
    catalog = ToolCatalog()
    for server, tools in fixture.items():
        catalog.set_tools(server, [types.Tool.model_validate(t) for t in tools])

    def ours(query: str) -> list[str]:
        return [f"{r['server']}.{r['name']}" for r in catalog.search(query, "names", limit=10)["results"]]

    rankers: dict[str, Callable[[str], list[str]]] = {"engine search_tools (BM25F)": ours}
    python = peer_python(quick, "fastmcp", FASTMCP, section, "FastMCP CodeMode")
    if python is not None:
        async with Worker(python, "fastmcp_runner.py") as worker:
            section.data["versions"] = await worker.request({"op": "version"})
            texts = [q["query"] for q in queries]
            reply = await worker.request({"op": "rank", "servers": fixture, "queries": texts, "limit": 10}, timeout=600)
        ranked = dict(zip(texts, reply["rankings"], strict=True))
        rankers["FastMCP CodeMode search (BM25)"] = lambda query: list(ranked[query])
        section.data["fastmcp_search_seconds"] = summarize(reply["seconds"])
        section.notes.append(FASTMCP_NOTE)
    add_quality_tables(section, rankers, queries, fixture)
    section.notes.append(
        "FastMCP sees each tool as `<server>_<tool>` (the name it gives a mounted server's tools) with its description "
        "and input schema, and is asked through its own `search` tool (`limit=10`, `detail='brief'`) over an "
        "in-memory FastMCP client; engine's `search_tools` ranks the same tools by server, name, description and "
        "parameters. A hit is the labelled tool or one of its alternatives."
    )
    if "fastmcp_search_seconds" in section.data:
        section.notes.append(
            f"FastMCP's search took {ms(section.data['fastmcp_search_seconds']['median'])} per query (median, through "
            "its in-memory client); engine's search latency is in the catalog_scale section."
        )
    return section
