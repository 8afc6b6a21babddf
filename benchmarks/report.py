"""Renders the harness's results as Markdown (for `latest.md` and `docs/benchmarks.md`)."""

from __future__ import annotations

from typing import Any

from .machine import machine_line

__all__ = ["render_markdown"]


def _table(table: dict[str, Any]) -> list[str]:
    lines = [f"**{table['title']}**", "", "| " + " | ".join(table["columns"]) + " |"]
    lines.append("|" + "|".join(" --- " for _ in table["columns"]) + "|")
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in table["rows"])
    return [*lines, ""]


def render_markdown(results: dict[str, Any]) -> str:
    """The whole report: the machine, then one heading per section with its tables and notes."""
    machine = results["machine"]
    mode = "quick mode (fewer repetitions, no virtualenv built)" if results["quick"] else "full run"
    lines = [
        "# Benchmark results",
        "",
        f"- Machine: {machine_line(machine)}",
        f"- Taken: {machine['taken_at']}, engine commit {machine.get('git_commit') or 'unknown'}, {mode}, "
        f"{results['duration_seconds']:.0f} s in all",
        f"- Versions: {', '.join(f'{k} {v}' for k, v in machine['versions'].items() if v)}",
        f"- Load average at the start (1, 5, 15 min): {machine.get('load_average') or 'unknown'} "
        f"on {machine['usable_cores']} cores: other work on the machine shows in the p90 columns",
        "- Every comparison ran side by side in this one run (variants interleaved); figures are medians.",
        "",
    ]
    for section in results["sections"].values():
        lines += [f"## {section['title']}", ""]
        for table in section["tables"]:
            lines += _table(table)
        lines += [f"- {note}" for note in section["notes"]]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
