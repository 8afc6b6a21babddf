"""The code modes users pick today, each pinned in its own virtualenv: FastMCP's CodeMode and
pydantic-ai-harness's CodeMode (both run programs on Monty, `pydantic-monty`).

A full run (`./dev bench`) builds every environment it needs and fails when one cannot be built.
The quick mode never builds one and leaves the peers out, saying so in the section's notes, so that
it stays a smoke run of a few seconds per section; with `BENCH_QUICK_PEERS=1` it also runs each peer
whose environment an earlier full run built (the peer sections' tests set it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .core import Section
from .envs import ensure_env, installed_env

__all__ = ["FASTMCP", "FASTMCP_NOTE", "HARNESS", "HARNESS_NOTE", "QUICK_PEERS", "peer_python"]

QUICK_PEERS = "BENCH_QUICK_PEERS"

# The newest releases whose wheels install here (checked 2026-11-30). pydantic-monty is pinned to
# 1.4.0 in both: 1.5.0 needs `pydantic-monty-client==1.5.0`, which the registry does not have.
FASTMCP = ("fastmcp[code-mode]==4.2.3", "pydantic-monty==1.4.0")
FASTMCP_NOTE = "FastMCP is `fastmcp[code-mode]` 4.2.3 with `pydantic-monty` 1.4.0 (its sandbox)."
HARNESS = ("pydantic-ai-harness[code-mode]==0.62.0", "pydantic-ai-slim[mcp]==2.62.0", "pydantic-monty==1.4.0")
HARNESS_NOTE = (
    "pydantic-ai-harness is 0.62.0 (`[code-mode]`) with `pydantic-ai-slim[mcp]` 2.62.0 and `pydantic-monty` 1.4.0."
)


def peer_python(quick: bool, name: str, requirements: Sequence[str], section: Section, label: str) -> Path | None:
    """The python of the peer's environment: built if needed in a full run, None in quick mode without it.

    Raises:
        BenchmarkError: a full run could not build the environment.
    """
    if not quick:
        return ensure_env(name, requirements)
    if os.environ.get(QUICK_PEERS) != "1":
        section.notes.append(f"Quick mode: {label} was not run (a full run runs it; so does {QUICK_PEERS}=1).")
        return None
    python = installed_env(name, requirements)
    if python is None:
        section.notes.append(
            f"Quick mode: {label} was not run (its virtualenv benchmarks/.envs/{name} is not built; "
            "a full run builds it)."
        )
    return python
