"""Virtualenvs for the alternatives we compare against, and a line-JSON link to a process in one.

mcp-use 1.7.1 needs `mcp < 2` and so cannot share engine's environment; smolagents and the
tokenizer get their own too, so nothing they pull in changes what engine runs with. Each lives
under `benchmarks/.envs/<name>` (not committed), is created with this interpreter's `venv` on first
use from pinned requirements, and is reused while the requirements are unchanged.

`Worker` drives a script in such an environment: one JSON request per line on its stdin, one JSON
reply per line on its stdout (the scripts are in `benchmarks/external/`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .core import BenchmarkError

__all__ = ["ENVS", "EXTERNAL", "Worker", "ensure_env", "installed_env"]

ENVS = Path(__file__).resolve().parent / ".envs"
EXTERNAL = Path(__file__).resolve().parent / "external"


def _stamp(venv: Path, requirements: Sequence[str]) -> Path:
    return venv / (".installed-" + hashlib.sha1("\n".join(requirements).encode()).hexdigest()[:12])


def installed_env(name: str, requirements: Sequence[str]) -> Path | None:
    """The python of `benchmarks/.envs/<name>` if it is already installed with `requirements`, else None.

    The quick mode uses this: it runs a peer whose environment an earlier full run built, and never
    builds one itself (that takes minutes).
    """
    venv = ENVS / name
    python = venv / "bin" / "python"
    return python if _stamp(venv, requirements).exists() and python.exists() else None


def ensure_env(name: str, requirements: Sequence[str]) -> Path:
    """The python of `benchmarks/.envs/<name>`, with `requirements` installed (created if needed).

    Raises:
        BenchmarkError: the environment could not be created (the message has pip's last words).
    """
    venv = ENVS / name
    python = venv / "bin" / "python"
    stamp = _stamp(venv, requirements)
    if stamp.exists() and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    ENVS.mkdir(parents=True, exist_ok=True)
    print(f"[bench] creating {venv.relative_to(ENVS.parent.parent)} with {' '.join(requirements)} ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise BenchmarkError(f"could not create the {name!r} environment: {done.stderr.strip()[-800:]}")
    stamp.touch()
    return python


class Worker:
    """A script running in another environment, answering one JSON line per request."""

    def __init__(self, python: Path, script: str, *, env: dict[str, str] | None = None) -> None:
        self._command = [str(python), str(EXTERNAL / script)]
        self._env = {**os.environ, **(env or {})}
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Worker:
        self._process = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
            limit=16 * 1024 * 1024,
        )
        return self

    async def request(self, payload: dict[str, Any], timeout: float = 300.0) -> dict[str, Any]:
        """Send one request and wait for its reply; a failure in the worker raises BenchmarkError."""
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise BenchmarkError("the worker is not running")
        process.stdin.write((json.dumps(payload) + "\n").encode())
        await process.stdin.drain()
        line = await asyncio.wait_for(process.stdout.readline(), timeout)
        if not line:
            stderr = b""
            if process.stderr is not None:
                stderr = await asyncio.wait_for(process.stderr.read(), 10)
            raise BenchmarkError(f"{Path(self._command[1]).name} exited: {stderr.decode(errors='replace')[-1500:]}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise BenchmarkError(f"{Path(self._command[1]).name}: {reply['error']}")
        return reply

    async def __aexit__(self, *exc_info: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
