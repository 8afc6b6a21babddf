"""The typed-results benchmark section: a quick run produces every figure (never checks how fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_quick_run_counts_first_attempts_and_measures_the_check(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "typed_results", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=110,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    section = json.loads((tmp_path / "latest.json").read_text())["sections"]["typed_results"]
    data = section["data"]
    assert len(data["without"]) == len(data["with"]) == 13
    without, with_ = data["totals"]["without"], data["totals"]["with"]
    # Every task with a mistake fails without; the check refuses the ones a type shows, before any call.
    assert without["ok"] == with_["ok"] == 3
    assert without["refused"] == 0 and with_["refused"] >= 1
    assert with_["calls_before_failure"] < without["calls_before_failure"]
    assert with_["writes_before_failure"] == 0 < without["writes_before_failure"]
    for row in data["with"]:
        if row["refused"]:
            assert row["tool_calls"] == 0 and row["line"] and row["column"]
    for figure in ("warm", "cold", "checker", "execution"):
        assert data["latency"][figure]["median"] > 0 and data["latency"][figure]["n"] >= 1
    assert data["latency"]["lines"] >= 30
    for size in ("small", "large"):
        assert data["observe"][size]["observe"]["median"] > 0
