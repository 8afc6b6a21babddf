"""Context-safe results: the tokens a model reads on large-result tasks, whole result against cut + handle.

Three tasks whose program returns raw data instead of an answer (the failure mode the feature is
for: an agent that dumps a tool's output, a call log echoed back, a nested export), each against
an in-process MCP server (the mcp SDK) with deterministic data:

- `whole`: `max_result_bytes` raised so the whole result fits: what a code mode without a cap puts
  in the model's context (one round trip, then the answer);
- `cut + handle`: the default treatment at a cap of `CAP` bytes: the envelope carries the cut
  result, `truncation` and `handles`; the agent then runs the program the envelope spells out
  (`results.open(handle, path, start, stop)`) and reads the next 50 items (two round trips).

Tokens are cl100k_base counts of what the model reads (the envelope as `execute_code` returns it,
JSON) and writes (the programs), summed over the round trips as in `bench_tokens` (the context
re-read on every trip is the same for both and left out). Also the host time of the cut itself
(`execute_code` medians, same program, cut vs whole) and of tokenization (tokenize on vs off).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer

from engine import MCPClient

from .core import BenchmarkError, Section, Table, interleave, ms, summarize
from .tokens import load_tokenizer

__all__ = ["CAP", "bench_results"]

CAP = 20_000
"""The result cap of the `cut + handle` treatment (bytes)."""


def _server() -> MCPServer:
    server = MCPServer("shop")

    @server.tool()
    def orders(count: int) -> dict[str, Any]:
        """Orders with their lines and customers."""
        return {"orders": [
            {"id": i, "status": ("open", "shipped", "returned")[i % 3], "total": round(i * 3.7 % 500, 2),
             "customer": {"id": i % 97, "name": f"Customer {i % 97}", "email": f"c{i % 97}@example.com"},
             "lines": [{"sku": f"SKU-{(i * 7 + j) % 400:04d}", "qty": 1 + j % 4, "price": 9.5 + j} for j in range(4)]}
            for i in range(count)
        ]}

    @server.tool()
    def call_log(entries: int) -> list[dict[str, Any]]:
        """A service's call log."""
        return [{"at": f"2026-11-30T12:{i // 60 % 60:02d}:{i % 60:02d}Z", "method": ("GET", "POST")[i % 2],
                 "path": f"/api/v1/items/{i % 113}", "status": (200, 200, 200, 404, 500)[i % 5],
                 "ms": i * 13 % 900, "agent": "worker-" + str(i % 7)} for i in range(entries)]

    @server.tool()
    def report() -> dict[str, Any]:
        """A nested sales report: regions, stores, days."""
        return {"regions": {
            f"region-{r}": {f"store-{s}": [{"day": d, "revenue": (r * 31 + s * 7 + d) % 1000} for d in range(60)]
                            for s in range(40)}
            for r in range(12)
        }}

    return server


TASKS: list[tuple[str, str]] = [
    ("orders dump (2,000 orders)", "return await shop.orders(count=2000)"),
    ("call log (2,500 entries)", "return await shop.call_log(entries=2500)"),
    ("nested report (12×40×60)", "return await shop.report()"),
]


def _follow_up(envelope: dict[str, Any]) -> str:
    """The program an agent writes from the envelope's instruction (the call it spells out)."""
    found = re.search(r"`(await results\.open\([^`]*\))`", envelope["truncation"]["how_to_get_more"])
    if found is None:
        raise BenchmarkError(f"no results.open call in {envelope['truncation']['how_to_get_more']!r}")
    call = re.sub(r"stop=\d+", lambda m: f"stop={int(m.group()[5:]) - 50}", found.group(1))
    return f"part = {call}\nreturn part"


async def bench_results(quick: bool) -> Section:
    section = Section("results", f"Context-safe results: large-result tasks, whole vs cut to {CAP:,} B + handle")
    tokenizer = load_tokenizer(allow_venv=not quick)
    rounds = 3 if quick else 15
    table = Table("Tokens the model reads and writes per task (cl100k_base)",
                  ["task", "result bytes", "whole: tokens", "cut + handle: tokens", "saved", "round trips"])
    times = Table("Host time per execute_code (medians)", ["task", "whole", "cut + handle", "tokenize on"])
    data: dict[str, Any] = {"cap": CAP, "tasks": {}}
    config = {"mcpServers": {"shop": _server()}}
    async with MCPClient(config, code_mode=True, limits={"max_result_bytes": 40_000_000}) as whole, \
            MCPClient(config, code_mode=True, limits={"max_result_bytes": CAP}) as cut, \
            MCPClient(config, code_mode=True, limits={"max_result_bytes": CAP}, tokenize=True) as tokenized:
        for name, program in TASKS:
            full = await whole.execute_code(program)
            first = await cut.execute_code(program)
            if full["status"] != "ok" or first["status"] != "ok" or "truncation" not in first:
                raise BenchmarkError(f"{name}: {full['error'] or first['error'] or 'not cut'}")
            follow = _follow_up(first)
            second = await cut.execute_code(follow)
            if second["status"] != "ok" or not second["result"]:
                raise BenchmarkError(f"{name}: the follow-up failed: {second['error']}")
            texts = {
                "program": json.dumps({"name": "execute_code", "arguments": {"code": program}}),
                "follow": json.dumps({"name": "execute_code", "arguments": {"code": follow}}),
                "whole": json.dumps(full, default=str),
                "first": json.dumps(first, default=str),
                "second": json.dumps(second, default=str),
            }
            if tokenizer is not None:
                keys = list(texts)
                count = dict(zip(keys, tokenizer.count_many([texts[k] for k in keys]), strict=True))
                # Round trip 1 writes the program; the last one reads everything so far.
                whole_tokens = count["program"] + (count["program"] + count["whole"])
                history = count["program"] + count["first"]
                cut_tokens = (count["program"] + history + count["follow"]
                              + (history + count["follow"] + count["second"]))
            else:
                whole_tokens = cut_tokens = 0
            saved = 1 - cut_tokens / whole_tokens if whole_tokens else 0.0
            table.rows.append([name, f"{full['usage']['result_bytes']:,}", f"{whole_tokens:,}", f"{cut_tokens:,}",
                               f"{saved:.1%}", "2 vs 3"])

            def run(client: MCPClient, program: str = program) -> Callable[[], Any]:
                async def once() -> None:
                    out = await client.execute_code(program)
                    assert out["status"] == "ok", out["error"]
                return once

            samples = await interleave({"whole": run(whole), "cut": run(cut), "tokenized": run(tokenized)},
                                       rounds=rounds, warmup=1)
            timing = {k: summarize(v) for k, v in samples.items()}
            times.rows.append([name, ms(timing["whole"]["median"]), ms(timing["cut"]["median"]),
                               ms(timing["tokenized"]["median"])])
            data["tasks"][name] = {"result_bytes": full["usage"]["result_bytes"], "whole_tokens": whole_tokens,
                                   "cut_tokens": cut_tokens, "saved": saved, "times": timing,
                                   "kept_bytes": first["truncation"]["kept_bytes"]}
    section.tables.extend([table, times])
    section.data = data
    section.data["tokenizer"] = tokenizer.name if tokenizer is not None else None
    section.notes.append(
        "Whole: the result in the envelope as it is (max_result_bytes raised to fit). Cut + handle: the envelope "
        f"at a {CAP:,}-byte cap, then the follow-up program the envelope spells out, reading 50 more items. "
        "Input tokens count each round trip re-reading the transcript so far; the system prompt and tool "
        "definitions, the same in both, are left out. 'tokenize on' adds every built-in detector over the cut envelope."
    )
    return section
