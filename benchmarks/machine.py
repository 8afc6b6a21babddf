"""A description of the machine the figures were taken on: CPU, cores, memory, Python, OS."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["describe_machine", "machine_line"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))} (kernel {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def describe_machine() -> dict[str, Any]:
    """The machine, the interpreter and the versions that matter to the figures."""
    cores = os.cpu_count()
    usable: int | None = cores
    if hasattr(os, "sched_getaffinity"):  # Linux: the cores this process may run on
        usable = len(os.sched_getaffinity(0))
    return {
        "cpu": _cpu_model(),
        "cores": cores,
        "usable_cores": usable,
        "memory_gib": round(_memory_gib() or 0.0, 1),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": _os_name(),
        "versions": {name: _version(name) for name in ("engine", "mcp", "RestrictedPython", "tiktoken")},
        "git_commit": _git_commit(),
        "executable": Path(sys.executable).name,
        "taken_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # Other work on the machine at the start (1, 5, 15 minutes): the p90 columns reflect it.
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def machine_line(machine: dict[str, Any]) -> str:
    """One line for the top of the report."""
    return (
        f"{machine['cpu']}, {machine['usable_cores']} usable cores of {machine['cores']}, "
        f"{machine['memory_gib']} GiB memory, {machine['python']}, {machine['os']}"
    )
