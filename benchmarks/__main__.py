"""`python -m benchmarks` (or `./dev bench`): run every benchmark, write `results/latest.{md,json}`.

Options:
    --quick        a few seconds: fewer repetitions, smaller catalogs, none of the comparisons that
                   need their own virtualenv (mcp-use, smolagents, the tokenizer when it is not
                   importable here; BENCH_QUICK_PEERS=1 runs FastMCP, pydantic-ai-harness and the
                   language-coverage peers when a full run built their virtualenvs); what was left
                   out is said in each section's notes
    --only A,B     run only these sections (keys as in latest.json)
    --out DIR      where to write the results (default: benchmarks/results)

Every comparison the harness lists must run: if one cannot, the run goes on to collect every
failure, then exits with status 1 naming them, and writes nothing to `latest.*`. Only the live-agent
section may be skipped (no API key), and it says so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .bench_approvals import bench_approvals
from .bench_catalog import bench_catalog_scale, bench_search_quality
from .bench_coverage import bench_language_coverage
from .bench_fastmcp import bench_fastmcp_codemode, bench_fastmcp_search
from .bench_harness import bench_harness_codemode
from .bench_overhead import bench_empty_execution, bench_tool_call, bench_workload
from .bench_pool import bench_pool_cpu, bench_pool_latency, bench_pool_throughput
from .bench_pool_health import bench_pool_cold_start, bench_pool_memory, bench_pool_soak
from .bench_pool_peers import bench_pool_monty_runtime
from .bench_remote_section import bench_remote_available, bench_remote_section
from .bench_results import bench_results
from .bench_runtime import bench_concurrency, bench_memory, bench_throughput, bench_timeout
from .bench_tokens import bench_tokens
from .bench_typed import bench_typed
from .core import BenchmarkError, Section
from .live_agent import bench_live
from .machine import describe_machine, machine_line
from .report import render_markdown

RESULTS = Path(__file__).resolve().parent / "results"


def _sections() -> dict[str, Callable[[bool, dict[str, Section]], Awaitable[Section]]]:
    """Section key -> runner; a runner gets `quick` and the sections done so far."""

    def plain(run: Callable[[bool], Awaitable[Section]]) -> Callable[[bool, dict[str, Section]], Awaitable[Section]]:
        async def wrapped(quick: bool, done: dict[str, Section]) -> Section:
            return await run(quick)

        return wrapped

    def sync(run: Callable[[bool], Section]) -> Callable[[bool, dict[str, Section]], Awaitable[Section]]:
        async def wrapped(quick: bool, done: dict[str, Section]) -> Section:
            return run(quick)

        return wrapped

    async def live(quick: bool, done: dict[str, Section]) -> Section:
        tokens = done.get("tokens")
        return await bench_live(quick, tokens.data.get("answers") if tokens is not None else None)

    sections = {
        "tool_call": plain(bench_tool_call),
        "empty_execution": plain(bench_empty_execution),
        "workload": plain(bench_workload),
        "concurrency": plain(bench_concurrency),
        "timeout": plain(bench_timeout),
        "throughput": plain(bench_throughput),
        "memory": plain(bench_memory),
        "pool_latency": plain(bench_pool_latency),
        "pool_throughput": plain(bench_pool_throughput),
        "pool_cpu": plain(bench_pool_cpu),
        "pool_memory": plain(bench_pool_memory),
        "pool_soak": plain(bench_pool_soak),
        "pool_cold_start": plain(bench_pool_cold_start),
        "pool_monty_runtime": plain(bench_pool_monty_runtime),
        "approvals": plain(bench_approvals),
        "results": plain(bench_results),
        "typed_results": plain(bench_typed),
        "catalog_scale": sync(bench_catalog_scale),
        "search_quality": sync(bench_search_quality),
        "fastmcp_codemode": plain(bench_fastmcp_codemode),
        "fastmcp_search": plain(bench_fastmcp_search),
        "harness_codemode": plain(bench_harness_codemode),
        "language_coverage": plain(bench_language_coverage),
    }
    if bench_remote_available():
        sections["remote"] = plain(bench_remote_section)
    sections["tokens"] = plain(bench_tokens)
    sections["live_agent"] = live
    return sections


async def run(quick: bool, only: list[str] | None) -> tuple[dict[str, Any], list[str]]:
    """Run the sections; return the results and the failures (one message each)."""
    sections = _sections()
    if only:
        unknown = sorted(set(only) - set(sections))
        if unknown:
            raise SystemExit(f"unknown section(s) {unknown}; choose from {sorted(sections)}")
    machine = describe_machine()
    print(f"[bench] {machine_line(machine)}", file=sys.stderr)
    started = time.perf_counter()
    done: dict[str, Section] = {}
    failures: list[str] = []
    for key, runner in sections.items():
        if only and key not in only:
            continue
        section_started = time.perf_counter()
        print(f"[bench] {key} ...", file=sys.stderr, flush=True)
        try:
            done[key] = await runner(quick, done)
        except BenchmarkError as exc:
            failures.append(f"{key}: {exc}")
        except Exception:
            failures.append(f"{key}: unexpected error\n{traceback.format_exc()}")
        print(f"[bench] {key} took {time.perf_counter() - section_started:.1f} s", file=sys.stderr, flush=True)
    results = {
        "machine": machine,
        "quick": quick,
        "duration_seconds": time.perf_counter() - started,
        "sections": {key: section.to_dict() for key, section in done.items()},
    }
    return results, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a few seconds; see above")
    parser.add_argument("--only", default="", help="comma-separated section keys")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory")
    options = parser.parse_args(argv)
    only = [key for key in options.only.split(",") if key]
    results, failures = asyncio.run(run(options.quick, only or None))
    out: Path = options.out
    out.mkdir(parents=True, exist_ok=True)
    if failures:
        (out / "failed-run.json.tmp").write_text(json.dumps({**results, "failures": failures}, indent=1, default=str))
        print("\nBENCHMARK FAILED: these comparisons could not run:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        print(f"(partial results in {out / 'failed-run.json.tmp'}; latest.* left unchanged)", file=sys.stderr)
        return 1
    markdown = render_markdown(results)
    (out / "latest.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out / "latest.md").write_text(markdown)
    print(markdown)
    print(f"[bench] wrote {out / 'latest.md'} and {out / 'latest.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
