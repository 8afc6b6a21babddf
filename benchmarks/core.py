"""What every benchmark section shares: interleaved timing, summaries, the section result shape.

A comparison is always measured side by side: the variants run in alternating rounds inside one
process and one run (A, B, A, B, ...), so drift of the machine (frequency scaling, a noisy
neighbour, a warming cache) touches every variant alike. Figures are medians; ratios are ratios of
medians.

A section is a function returning a `Section`: tables for the Markdown report plus the raw data
for `latest.json`. A comparison that cannot run raises `BenchmarkError`; the harness then fails
with a non-zero exit instead of printing a table with a hole in it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BenchmarkError",
    "Section",
    "Table",
    "interleave",
    "ms",
    "ratio",
    "summarize",
    "us",
]


class BenchmarkError(RuntimeError):
    """A comparison the harness lists could not run; the message says which and why."""


@dataclass
class Table:
    """One Markdown table: a title, column headings and rows of already formatted cells."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": self.rows}


@dataclass
class Section:
    """The outcome of one benchmark section."""

    key: str
    """The section's key in `latest.json`."""
    title: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What a reader needs to interpret the tables (targets, caveats, what was skipped and why)."""
    data: dict[str, Any] = field(default_factory=dict)
    """Raw figures (seconds, counts) for machines to read."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "tables": [t.to_dict() for t in self.tables],
            "notes": self.notes,
            "data": self.data,
        }


def summarize(samples: Sequence[float]) -> dict[str, float]:
    """Median, 10th and 90th percentile, minimum and count of a list of durations (seconds)."""
    if not samples:
        raise BenchmarkError("no samples were taken")
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "median": statistics.median(ordered),
        "p10": pick(0.1),
        "p90": pick(0.9),
        "min": ordered[0],
        "n": float(len(ordered)),
    }


async def interleave(
    variants: Mapping[str, Callable[[], Awaitable[Sequence[float] | None]]],
    *,
    rounds: int,
    per_round: int = 1,
    warmup: int = 2,
) -> dict[str, list[float]]:
    """Run each variant `per_round` times per round, alternating variants, for `rounds` rounds.

    A variant is an async callable; it returns None to be timed here with `perf_counter`, or the
    durations (seconds) it measured itself: variants timed elsewhere, e.g. a block of runs in
    another process, whose request/reply time must not count. The order of the variants alternates
    from round to round so no variant always runs first.
    """
    names = list(variants)
    for name in names:
        for _ in range(warmup):
            await variants[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        order = names if index % 2 == 0 else list(reversed(names))
        for name in order:
            for _ in range(per_round):
                started = time.perf_counter()
                measured = await variants[name]()
                if measured is None:
                    samples[name].append(time.perf_counter() - started)
                else:
                    samples[name].extend(measured)
    return samples


def ratio(a: float, b: float) -> str:
    """`a / b` formatted as `1.23×`."""
    return f"{a / b:.2f}×" if b > 0 else "n/a"


def ms(seconds: float) -> str:
    """Seconds formatted as milliseconds."""
    return f"{seconds * 1000:.2f} ms" if seconds < 10 else f"{seconds:.1f} s"


def us(seconds: float) -> str:
    """Seconds formatted as microseconds."""
    return f"{seconds * 1e6:,.0f} µs"
