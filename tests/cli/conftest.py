"""Helpers for the `codemode` command tests: config files, running the command, finding processes.

The command is always run as a new user would: a subprocess, `python -m engine.cli ...`.
Downstream servers are the toy test server and the demo inventory server, over stdio.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, toy_entry

COMMAND = [sys.executable, "-m", "engine.cli"]


def inventory_entry() -> dict[str, Any]:
    return {"command": sys.executable, "args": ["-m", "engine.demo.servers.inventory"]}


def write_config(path: Path, servers: dict[str, Any], **top: Any) -> Path:
    path.write_text(json.dumps({"mcpServers": servers, **top}), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Two working servers: `toy` (tests/servers/toy.py) and `inventory` (the demo)."""
    return write_config(tmp_path / "servers.json", {"toy": toy_entry(), "inventory": inventory_entry()})


def command_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CODEMODE_CONFIG")}
    env.update(extra)
    return env


def codemode(*args: str, input: str | None = None, env: dict[str, str] | None = None,
             timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run `codemode ARGS...` to completion; output captured as text."""
    return subprocess.run([*COMMAND, *args], input=input, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env=env or command_env())


def children_of(pid: int) -> set[int]:
    """PIDs whose parent is `pid`, read from /proc (no psutil)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after its closing one.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie is not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def processes_with(marker: str) -> list[int]:
    """PIDs whose command line contains `marker` (a unique path, such as a test's config file)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline and alive(int(entry.name)):
                found.append(int(entry.name))
    return found
