"""The context-safe results benchmark section: a quick run produces every figure (never checks how fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_quick_run_counts_the_tokens_of_each_large_result_task_both_ways(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "results", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=110,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    section = json.loads((tmp_path / "latest.json").read_text())["sections"]["results"]
    tasks = section["data"]["tasks"]
    assert len(tasks) == 3 and len(section["tables"][0]["rows"]) == 3
    for figures in tasks.values():
        assert figures["kept_bytes"] <= section["data"]["cap"] < figures["result_bytes"]
        if section["data"]["tokenizer"] is not None:
            assert 0 < figures["cut_tokens"] < figures["whole_tokens"]
        for variant in ("whole", "cut", "tokenized"):
            assert figures["times"][variant]["n"] >= 3
