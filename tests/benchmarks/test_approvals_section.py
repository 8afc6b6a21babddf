"""The approvals benchmark section: a quick run produces every figure (never checks how fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_quick_run_measures_pause_and_resume_on_both_executors(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "approvals", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=100,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    section = json.loads((tmp_path / "latest.json").read_text())["sections"]["approvals"]
    assert [row[0] for row in section["tables"][0]["rows"]] == ["restricted", "process"]
    for executor in ("restricted", "process"):
        for figure in ("no_policy", "pause", "resume"):
            assert section["data"][executor][figure]["median"] > 0
            assert section["data"][executor][figure]["n"] >= 5
