"""The tool catalog: cost at 100, 1,000 and 10,000 tools, and search quality on labelled queries.

Scale: catalogs are built from the realistic 507-tool, 33-server fixture in `tests/catalog/data/`,
cut down (100) or copied under renamed servers (1,000 and 10,000) so every tool is a real one.
Quality: `benchmarks/data/search_queries.json` (labelled natural-language queries over that fixture),
`search_tools`' ranking vs mcp-use's method (the query as a substring of a tool's name or description,
in catalog order) and a word-overlap baseline.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import mcp.types

from engine.catalog import ToolCatalog
from engine.errors import ToolError
from engine.kernel.stubs import build_namespaces
from engine.stubs import namespace_identifier, render_all, specs_for_server

from .core import BenchmarkError, Section, Table, ms, us
from .servers import ROOT

__all__ = ["add_quality_tables", "bench_catalog_scale", "bench_search_quality", "load_fixture", "load_queries"]

CATALOG = ROOT / "tests" / "catalog" / "data" / "catalog.json"
QUERIES = ROOT / "benchmarks" / "data" / "search_queries.json"

Ranker = Callable[[str], list[str]]


def load_fixture() -> dict[str, list[dict[str, Any]]]:
    """The fixture catalog: server name -> tool definitions (as `tools/list` returns them)."""
    if not CATALOG.exists():
        raise BenchmarkError(f"{CATALOG.relative_to(ROOT)} is missing")
    servers: dict[str, list[dict[str, Any]]] = json.loads(CATALOG.read_text())["servers"]
    return servers


def load_queries() -> list[dict[str, Any]]:
    """The labelled queries: `query`, `expected` (`server.tool`), `alternatives`, `split`."""
    if not QUERIES.exists():
        raise BenchmarkError(f"{QUERIES.relative_to(ROOT)} is missing")
    queries: list[dict[str, Any]] = json.loads(QUERIES.read_text())["queries"]
    if len(queries) < 100:
        raise BenchmarkError(f"{QUERIES.relative_to(ROOT)} has {len(queries)} queries; the benchmark needs ≥ 100")
    return queries


def _scaled(fixture: dict[str, list[dict[str, Any]]], size: int) -> dict[str, list[mcp.types.Tool]]:
    """`size` real tools: whole servers in fixture order, copied under `<server>_<n>` when needed."""
    servers: dict[str, list[mcp.types.Tool]] = {}
    remaining = size
    copy = 0
    while remaining > 0:
        for server, tools in fixture.items():
            if remaining <= 0:
                break
            name = server if copy == 0 else f"{server}_{copy}"
            chosen = tools[:remaining]
            servers[name] = [mcp.types.Tool.model_validate(t) for t in chosen]
            remaining -= len(chosen)
        copy += 1
    return servers


async def _never_sent(frame: bytes) -> bytes:
    raise AssertionError("the stubs are built, never called, in this benchmark")


def bench_catalog_scale(quick: bool) -> Section:
    """Index build, stub generation and search latency at growing catalog sizes."""
    fixture = load_fixture()
    queries = [q["query"] for q in load_queries()][: 20 if quick else 60]
    sizes = (100, 1000) if quick else (100, 1000, 10000)
    section = Section("catalog_scale", "Catalog scale: stubs and search at 100, 1,000 and 10,000 tools")
    table = Table(
        "Cost by number of tools",
        [
            "tools",
            "servers",
            "index build",
            "stub specs + namespaces",
            "stub source (prompt)",
            "search_tools median",
            "search p90",
            "substring median",
        ],
    )
    for size in sizes:
        servers = _scaled(fixture, size)
        started = time.perf_counter()
        catalog = ToolCatalog()
        for server, tools in servers.items():
            catalog.set_tools(server, tools)
        build = time.perf_counter() - started

        started = time.perf_counter()
        specs = {namespace_identifier(server): specs_for_server(server, tools) for server, tools in servers.items()}
        build_namespaces(specs, _never_sent, tool_error=ToolError)
        stubs = time.perf_counter() - started
        started = time.perf_counter()
        source = render_all(specs)
        render = time.perf_counter() - started

        timings = []
        for query in queries:
            started = time.perf_counter()
            catalog.search(query, detail_level="descriptions", limit=10)
            timings.append(time.perf_counter() - started)
        substring = _substring_ranker({s: [t.model_dump(mode="json") for t in ts] for s, ts in servers.items()})
        substring_timings = []
        for query in queries:
            started = time.perf_counter()
            substring(query)
            substring_timings.append(time.perf_counter() - started)
        timings.sort()
        median = statistics.median(timings)
        p90 = timings[int(0.9 * len(timings))]
        sub_median = statistics.median(substring_timings)
        section.data[str(size)] = {
            "servers": len(servers),
            "index_build": build,
            "stubs": stubs,
            "render": render,
            "stub_source_chars": len(source),
            "search_median": median,
            "search_p90": p90,
            "substring_median": sub_median,
        }
        table.rows.append(
            [f"{size:,}", str(len(servers)), ms(build), ms(stubs), ms(render), us(median), us(p90), us(sub_median)]
        )
    section.tables.append(table)
    section.notes.append(
        f"Search latency over {len(queries)} labelled queries, `detail_level='descriptions'`, `limit=10`; the index is "
        "built once per server (`set_tools`) and rebuilt only for a server whose tools change. "
        "Stub specs + namespaces is what every execution's program gets; the stub source is rendered for prompts."
    )
    if quick:
        section.notes.append("Quick mode: the 10,000-tool catalog was not built.")
    return section


def _substring_ranker(fixture: dict[str, list[dict[str, Any]]]) -> Ranker:
    """mcp-use's `search_tools`: the whole query, lowercased, as a substring of name or description."""
    tools = [(s, t["name"], t.get("description") or "") for s in fixture for t in fixture[s]]

    def rank(query: str) -> list[str]:
        q = query.lower()
        return [f"{s}.{n}" for s, n, d in tools if q in n.lower() or q in d.lower()]

    return rank


def _word_overlap_ranker(fixture: dict[str, list[dict[str, Any]]]) -> Ranker:
    """A fairer naive baseline: how many of the query's words occur in server, name and description."""
    tools = [
        (f"{s}.{t['name']}", f"{s} {t['name']} {t.get('description') or ''}".lower())
        for s in fixture
        for t in fixture[s]
    ]

    def rank(query: str) -> list[str]:
        words = [w for w in re.findall(r"[a-z0-9]+", query.lower()) if len(w) > 2]
        scored = [(sum(w in text for w in words), i, name) for i, (name, text) in enumerate(tools)]
        return [name for score, _, name in sorted(scored, key=lambda x: (-x[0], x[1])) if score > 0]

    return rank


def _metrics(ranker: Ranker, queries: list[dict[str, Any]]) -> dict[str, float]:
    """recall@1, recall@5 and MRR@10; a hit is the expected tool or one of its alternatives."""
    at1 = at5 = rr = 0.0
    for q in queries:
        accepted = {q["expected"], *q.get("alternatives", [])}
        ranked = ranker(q["query"])[:10]
        rank = next((i for i, name in enumerate(ranked) if name in accepted), None)
        if rank is not None:
            at1 += rank == 0
            at5 += rank < 5
            rr += 1 / (rank + 1)
    n = len(queries)
    return {"recall@1": at1 / n, "recall@5": at5 / n, "mrr": rr / n, "queries": n}


def add_quality_tables(
    section: Section,
    rankers: Mapping[str, Callable[[str], list[Any]]],
    queries: list[dict[str, Any]],
    fixture: Mapping[str, list[Any]],
) -> None:
    """One table per split (all queries, the held-out test split): recall@1, recall@5 and MRR@10 of
    each ranker, also kept in `section.data[split][ranker]`."""
    total_tools = sum(len(t) for t in fixture.values())
    splits = {"all": queries, "held-out test split": [q for q in queries if q.get("split") == "test"]}
    for split, subset in splits.items():
        if not subset:
            raise BenchmarkError(f"no {split} queries in {QUERIES.name}")
        table = Table(
            f"{len(subset)} queries ({split}) over {total_tools} tools on {len(fixture)} servers",
            ["method", "recall@1", "recall@5", "MRR@10"],
        )
        for name, ranker in rankers.items():
            m = _metrics(ranker, subset)
            section.data.setdefault(split, {})[name] = m
            table.rows.append([name, f"{m['recall@1']:.3f}", f"{m['recall@5']:.3f}", f"{m['mrr']:.3f}"])
        section.tables.append(table)


def bench_search_quality(quick: bool) -> Section:
    """recall@1/@5 and MRR of `search_tools` vs substring matching on the labelled queries."""
    fixture = load_fixture()
    queries = load_queries()
    catalog = ToolCatalog()
    for server, tools in fixture.items():
        catalog.set_tools(server, [mcp.types.Tool.model_validate(t) for t in tools])

    def ours(query: str) -> list[str]:
        return [f"{r['server']}.{r['name']}" for r in catalog.search(query, "names", limit=10)["results"]]

    rankers = {
        "engine search_tools (BM25F)": ours,
        "substring (mcp-use 1.7.1's method)": _substring_ranker(fixture),
        "word overlap (naive baseline)": _word_overlap_ranker(fixture),
    }
    section = Section("search_quality", "Search quality on labelled queries")
    add_quality_tables(section, rankers, queries, fixture)
    section.notes.append(
        "A hit is the labelled tool or one of its listed alternatives. The ranking was tuned while looking at the "
        "`dev` split only; the `test` split is held out. Substring matching returns tools in catalog order, so it "
        "only finds anything when the whole query occurs verbatim in a name or description."
    )
    return section
