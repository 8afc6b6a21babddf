"""Includes `benchmarks/bench_remote.py` (bridge overhead and start-up per executor) when it exists.

That module is written and owned separately and prints its own table from `main(argv)`; this wrapper
runs it in-process with smaller counts in quick mode, keeps its printed output verbatim, and turns
its table into a report table.
"""

from __future__ import annotations

import contextlib
import importlib
import io
from pathlib import Path

from .core import BenchmarkError, Section, Table

__all__ = ["bench_remote_available", "bench_remote_section"]

_MODULE = Path(__file__).resolve().parent / "bench_remote.py"


def bench_remote_available() -> bool:
    return _MODULE.exists()


async def bench_remote_section(quick: bool) -> Section:
    """Run `bench_remote.main` and wrap what it prints."""
    module = importlib.import_module("benchmarks.bench_remote")
    argv = ["--calls", "30", "--startups", "1"] if quick else ["--calls", "300", "--startups", "5"]
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            await module.main(argv)
    except Exception as exc:
        raise BenchmarkError(f"benchmarks/bench_remote.py failed: {type(exc).__name__}: {exc}") from exc
    text = printed.getvalue()
    section = Section("remote", "Bridge overhead and start-up per executor (benchmarks/bench_remote.py)")
    section.data = {"argv": argv, "output": text}
    lines = text.splitlines()
    header_index = next((i for i, line in enumerate(lines) if line.startswith("executor")), None)
    if header_index is None:
        raise BenchmarkError("benchmarks/bench_remote.py printed no table")
    table = Table(
        "Sequential no-op tool calls through each executor's transport, and start-up",
        ["executor", "call p50", "call p90", "call mean", "start-up p50", "start-up p90"],
    )
    for line in lines[header_index + 2 :]:
        if not line.strip():
            break
        # The executor's name may contain a space ("e2b (stand-in)"); the last five cells are numbers.
        cells = line.split()
        name, numbers = " ".join(cells[:-5]), cells[-5:]
        table.rows.append([name, *(f"{n} ms" for n in numbers)])
    section.tables.append(table)
    section.notes.extend(line for line in lines if line.startswith(("target", "machine")) or "no-op" in line)
    return section
