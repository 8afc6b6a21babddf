"""The process pool's benchmark sections: a quick run produces every figure.

Checks only that each figure was produced (a number, a count, a table row), never how fast:
speed is what the harness reports. The quick mode leaves Monty out (it needs its own virtualenv)
and says so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("pool_latency", "pool_throughput", "pool_cpu", "pool_memory", "pool_soak", "pool_cold_start")
POOL = "process pool (warm)"
RESTRICTED = "restricted (in-process)"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", ",".join(SECTIONS), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    sections: dict[str, Any] = json.loads((out / "latest.json").read_text())["sections"]
    markdown = (out / "latest.md").read_text()
    for key in SECTIONS:
        assert f"## {sections[key]['title']}" in markdown
        assert all(table["rows"] for table in sections[key]["tables"]), key
        if key != "pool_soak":  # the soak is the pool's alone
            assert any("Monty" in note and "not run" in note for note in sections[key]["notes"]), key
    return sections


def _positive(stats: dict[str, float]) -> bool:
    return stats["median"] > 0 and stats["n"] > 0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_latency_has_the_empty_execution_and_the_per_call_figures(results: dict[str, Any]) -> None:
    data = results["pool_latency"]["data"]
    for figure in ("empty_execution", "per_tool_call"):
        assert set(data[figure]) == {POOL, RESTRICTED}, figure
        assert all(_positive(stats) for stats in data[figure].values()), figure


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_throughput_has_every_level_for_both_executors(results: dict[str, Any]) -> None:
    data = results["pool_throughput"]["data"]["throughput"]
    for name in (POOL, RESTRICTED):
        for level in ("1", "10", "100"):
            assert data[name][level]["per_second"] > 0, (name, level)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_cpu_has_a_ratio_per_executor(results: dict[str, Any]) -> None:
    ratios = results["pool_cpu"]["data"]["ratios"]
    assert set(ratios) == {POOL, RESTRICTED}
    assert all(value > 0 for value in ratios.values())


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_memory_reads_uss_and_pss_of_a_worker_and_the_template(results: dict[str, Any]) -> None:
    rows = results["pool_memory"]["data"]["memory_bytes"]
    assert len(rows) == 3
    for name, values in rows.items():
        assert 0 < values["uss"] <= values["pss"] <= values["rss"], name


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_soak_counts_errors_and_what_the_host_holds(results: dict[str, Any]) -> None:
    data = results["pool_soak"]["data"]
    assert len(data["bursts"]) == 2
    assert all(burst["errors"] == 0 for burst in data["bursts"])  # a failed run fails the section itself
    assert list(data["counts"]) == ["before the pool", "pool started", "after burst 1", "after burst 2", "after aclose"]
    assert data["counts"]["after burst 1"]["processes"] > 0
    assert isinstance(data["leak_free"], bool)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_cold_start_has_each_figure(results: dict[str, Any]) -> None:
    seconds = results["pool_cold_start"]["data"]["seconds"]
    assert len(seconds) == 5
    assert all(_positive(stats) for stats in seconds.values())
    assert isinstance(results["pool_cold_start"]["data"]["left_running_after_aclose"], list)
