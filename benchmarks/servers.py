"""The MCP servers the benchmarks talk to, and the working directory they share.

The toy server (`tests/servers/toy.py`, written with the mcp SDK) runs with this interpreter. The
third-party servers (filesystem, memory, git, everything, time) are the pinned ones that
`tests/servers/install.sh` puts under `.servers/`; `./dev bench` runs that script first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .core import BenchmarkError

__all__ = ["ROOT", "THIRD_PARTY", "prepare_workdir", "third_party_config", "toy_config"]

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "tests" / "servers" / "toy.py"
SERVERS = ROOT / ".servers"
NPM = SERVERS / "npm" / "node_modules" / "@modelcontextprotocol"
THIRD_PARTY = ("filesystem", "memory", "git", "everything", "time")


def toy_config(name: str = "toy") -> dict[str, Any]:
    """A config with the toy server over stdio."""
    return {"mcpServers": {name: {"command": sys.executable, "args": [str(TOY), "stdio"]}}}


def _require(path: Path) -> Path:
    if not path.exists():
        raise BenchmarkError(f"{path.relative_to(ROOT)} is missing: run tests/servers/install.sh (./dev bench does)")
    return path


def _entry(name: str, workdir: Path) -> dict[str, Any]:
    if name in ("everything", "filesystem", "memory"):
        args = [str(_require(NPM / f"server-{name}" / "dist" / "index.js"))]
        env: dict[str, str] = {}
        if name == "filesystem":
            args.append(str(workdir))
        if name == "memory":
            env["MEMORY_FILE_PATH"] = str(workdir / "memory.jsonl")
        return {"command": "node", "args": args, "env": env}
    binary = _require(SERVERS / f"{name}-venv" / "bin" / f"mcp-server-{name}")
    return {"command": str(binary), "args": ["--repository", str(workdir / "repo")] if name == "git" else []}


def third_party_config(workdir: Path) -> dict[str, Any]:
    """A config with the five pinned third-party servers, all pointed at `workdir`."""
    return {"mcpServers": {name: _entry(name, workdir) for name in THIRD_PARTY}}


# -- the shared working directory: a small project, a sales CSV, a log and a git repository ----------

_REGIONS = ("north", "south", "east", "west")
_COMPONENTS = ("api", "db", "auth", "cache", "worker")
_AUTHORS = (("Ada", "ada@example.com"), ("Grace", "grace@example.com"), ("Linus", "linus@example.com"))


def _project_files() -> dict[str, str]:
    files: dict[str, str] = {}
    for index in range(8):
        lines = [f'"""Module {index} of the sample project."""', ""]
        for line in range(30):
            if (index * 7 + line) % 11 == 0:
                lines.append(f"# TODO: handle case {index}-{line}")
            lines.append(f"def f{line}(x):\n    return x * {line + index}\n")
        files[f"project/src/mod{index}.py"] = "\n".join(lines)
    for index in range(3):
        files[f"project/docs/page{index}.md"] = f"# Page {index}\n\n" + "Some prose about the project.\n" * (
            index * 20 + 5
        )
    rows = ["date,region,product,units,unit_price"]
    for day in range(240):
        region = _REGIONS[(day * 7) % 4]
        rows.append(f"2026-{1 + day // 30:02d}-{1 + day % 28:02d},{region},P{day % 9},{1 + day % 13},{5 + day % 17}.50")
    files["data/sales.csv"] = "\n".join(rows) + "\n"
    log = []
    for line in range(600):
        level = "ERROR" if line % 17 == 0 or line % 23 == 0 else ("WARN" if line % 5 == 0 else "INFO")
        component = _COMPONENTS[(line * 3) % 5]
        log.append(f"2026-11-01T10:{line // 60:02d}:{line % 60:02d}Z {level} [{component}] event number {line}")
    files["logs/app.log"] = "\n".join(log) + "\n"
    for index, size in enumerate((120, 4500, 800, 22000, 60)):
        files[f"assets/blob{index}.bin"] = "x" * size
    return files


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **(env or {})}, timeout=30
    )


def _make_repo(repo: Path) -> None:
    """A repository with 12 commits by three authors; fixed dates make every hash reproducible."""
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "commit.gpgsign", "false")
    for index in range(12):
        name, email = _AUTHORS[(index * 2) % 3]
        path = repo / f"file{index % 4}.txt"
        path.write_text(path.read_text() + f"change {index}\n" if path.exists() else f"change {index}\n")
        if index % 3 == 0:
            (repo / f"notes{index}.md").write_text(f"note {index}\n")
        _git(repo, "add", "-A")
        date = f"2026-10-{index + 1:02d}T12:00:00+00:00"
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        _git(repo, "commit", "-q", "-m", f"Change {index}: update file{index % 4}", env=env)


def prepare_workdir(workdir: Path) -> Path:
    """Fill an empty directory with the benchmark's files and repository; returns its resolved path."""
    workdir = workdir.resolve()
    for relative, text in _project_files().items():
        path = workdir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _make_repo(workdir / "repo")
    return workdir
