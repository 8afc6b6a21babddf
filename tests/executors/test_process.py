"""The `process` executor's own guarantees: OS limits in the child, crash isolation, a scrubbed child.

The contract suite covers what every executor does; these check what only a child process gives:
an allocation past the OS memory cap ends as `MemoryError` in the child while host memory stays put,
a killed child is reported and replaced, and the child runs in its own process group, without the
host's environment, with its rlimits and `no_new_privs` set.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from engine.executors.process import ProcessExecutor
from engine.limits import Limits

from .conftest import run_program

pytestmark = pytest.mark.anyio

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _host_rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE


@pytest.fixture
async def process() -> AsyncIterator[ProcessExecutor]:
    executor = ProcessExecutor(memory_mb=128)
    try:
        yield executor
    finally:
        with anyio.fail_after(15):
            await executor.aclose()


async def test_unbounded_allocation_is_stopped_by_the_os_limit_and_the_host_lives_on(
    process: ProcessExecutor,
) -> None:
    await process.start()
    before = _host_rss()
    # The in-child watchdog would stop at 4 GiB; the OS cap (128 MiB above start-up) comes first.
    limits = Limits(timeout=20, max_memory_bytes=4 * 1024**3)
    code = "chunks = []\nwhile True:\n    chunks.append('x' * 1_000_000)\n"
    envelope = await run_program(process, code, limits=limits)
    info = envelope["error_info"]
    assert info is not None
    assert info["type"] in ("MemoryError", "SandboxCrashed"), info
    assert "memory" in info["message"]
    assert _host_rss() - before < 64 * 1024 * 1024
    after = await run_program(process, "return 'after'")
    assert after["result"] == "after", after["error"]


async def test_a_killed_child_is_reported_and_the_next_run_gets_a_new_one(process: ProcessExecutor) -> None:
    await process.start()
    first_pid = process.pid
    assert first_pid is not None

    async def kill_soon() -> None:
        await anyio.sleep(0.3)
        os.killpg(first_pid, signal.SIGKILL)

    async with anyio.create_task_group() as group:
        group.start_soon(kill_soon)
        envelope = await run_program(process, "import asyncio\nawait asyncio.sleep(10)\nreturn 'slept'")
    assert envelope["error_info"] is not None and envelope["error_info"]["type"] == "SandboxCrashed"
    again = await run_program(process, "return 'fresh'")
    assert again["result"] == "fresh"
    assert process.pid not in (None, first_pid)


async def test_the_child_has_no_host_secrets_its_own_group_and_its_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENGINE_TEST_SECRET", "hunter2")
    executor = ProcessExecutor(memory_mb=256, nofile=64)
    try:
        await run_program(executor, "return 1")
        pid = executor.pid
        assert pid is not None
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert b"hunter2" not in environ and b"ENGINE_TEST_SECRET" not in environ
        assert os.getpgid(pid) == pid != os.getpgid(0)
        limits = Path(f"/proc/{pid}/limits").read_text()
        address_space = next(line for line in limits.splitlines() if line.startswith("Max address space"))
        assert "unlimited" not in address_space
        open_files = next(line for line in limits.splitlines() if line.startswith("Max open files"))
        assert open_files.split()[3] == "64"
        cpu = next(line for line in limits.splitlines() if line.startswith("Max cpu time"))
        assert cpu.split()[3] != "unlimited"  # the per-run ceiling moved the soft limit
        assert "NoNewPrivs:\t1" in Path(f"/proc/{pid}/status").read_text()
        assert executor.startup_seconds is not None
    finally:
        await executor.aclose()


async def test_closing_the_executor_ends_the_child(process: ProcessExecutor) -> None:
    await process.start()
    pid = process.pid
    assert pid is not None
    await process.aclose()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_a_child_that_cannot_start_is_reported_with_its_last_words(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'ImportError: no engine here' >&2\nexit 1\n")
    fake.chmod(0o755)
    executor = ProcessExecutor(python=str(fake))
    try:
        envelope = await run_program(executor, "return 1")
    finally:
        await executor.aclose()
    assert envelope["error_info"] is not None and envelope["error_info"]["type"] == "SandboxError"
    assert "exited with status 1" in envelope["error_info"]["message"]
    assert "ImportError: no engine here" in envelope["error_info"]["message"]
