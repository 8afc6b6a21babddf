"""The benchmark harness: a quick run writes every section, a comparison that cannot run fails loudly.

No timing assertions: speed is what the harness reports, not what these tests check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest

from benchmarks.__main__ import _sections
from benchmarks.core import BenchmarkError, interleave, summarize
from benchmarks.report import render_markdown

ROOT = Path(__file__).resolve().parents[2]


def _harness(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_quick_run_writes_every_section_to_json_and_markdown(tmp_path: Path) -> None:
    done = _harness("--quick", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads((tmp_path / "latest.json").read_text())
    assert set(results["sections"]) == set(_sections())
    machine = results["machine"]
    for field in ("cpu", "cores", "memory_gib", "python", "os"):
        assert machine[field], field
    for key, section in results["sections"].items():
        assert section["title"], key
        if key == "live_agent":
            # The only section allowed to skip, and it must say why.
            assert section["tables"] or section["notes"], key
            continue
        assert section["tables"], key
        assert all(table["rows"] for table in section["tables"]), key
    tokens = results["sections"]["tokens"]["data"]
    assert len(tokens["answers"]) >= 10
    # The stop latencies the sandbox tests no longer time: every kind of program was stopped at its
    # timeout, none of them by abandoning its thread.
    stops = results["sections"]["timeout"]["data"]
    for kind in ("pure-Python loop", "swallowing the stop", "waiting on a tool", "library code"):
        assert any(kind in label for label in stops), kind
    assert {row["error_type"] for row in stops.values()} == {"TimeoutError"}, stops
    markdown = (tmp_path / "latest.md").read_text()
    for section in results["sections"].values():
        assert f"## {section['title']}" in markdown


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_comparison_that_cannot_run_fails_the_run_with_a_message(tmp_path: Path) -> None:
    # Without a PATH neither node (the npm servers) nor git can start: the token tasks cannot run.
    done = _harness("--quick", "--only", "tokens", "--out", str(tmp_path), env={"PATH": ""})
    assert done.returncode == 1
    assert "BENCHMARK FAILED" in done.stderr
    assert "tokens:" in done.stderr
    assert not (tmp_path / "latest.json").exists()


def test_an_unknown_section_is_refused() -> None:
    done = _harness("--only", "no_such_section")
    assert done.returncode != 0
    assert "no_such_section" in done.stderr


def test_summaries_are_medians_and_refuse_empty_samples() -> None:
    stats = summarize([3.0, 1.0, 2.0, 10.0, 4.0])
    assert stats["median"] == 3.0
    assert stats["min"] == 1.0
    assert stats["n"] == 5
    with pytest.raises(BenchmarkError):
        summarize([])



@pytest.mark.anyio
async def test_interleaving_alternates_the_variants_round_by_round() -> None:
    order: list[str] = []

    def variant(name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            order.append(name)

        return run

    with anyio.fail_after(5):
        samples = await interleave({"a": variant("a"), "b": variant("b")}, rounds=3, warmup=0)
    assert order == ["a", "b", "b", "a", "a", "b"]
    assert [len(v) for v in samples.values()] == [3, 3]


def test_the_report_has_the_machine_and_every_table() -> None:
    results = {
        "machine": {
            "cpu": "Test CPU",
            "cores": 2,
            "usable_cores": 2,
            "memory_gib": 4.0,
            "python": "CPython 3.11",
            "os": "Linux",
            "versions": {"engine": "0.1.0"},
            "taken_at": "now",
        },
        "quick": True,
        "duration_seconds": 1.0,
        "sections": {
            "x": {
                "title": "Section X",
                "tables": [{"title": "T", "columns": ["a", "b"], "rows": [["1", "2"]]}],
                "notes": ["a note"],
                "data": {},
            },
        },
    }
    markdown = render_markdown(results)
    assert "Test CPU, 2 usable cores of 2, 4.0 GiB memory, CPython 3.11, Linux" in markdown
    assert "## Section X" in markdown
    assert "| 1 | 2 |" in markdown
    assert "- a note" in markdown
