"""The `process` pool's own guarantees: isolation per run, OS limits and kernel confinement, a scrubbed worker.

The contract suite covers what every executor does; these check what only separate processes give:
a worker killed from outside costs its own run only, a lost code session is said, an allocation past
the OS memory cap ends as `MemoryError` while host memory stays put, and each worker runs in its own
process group, without the host's environment, with its rlimits, `no_new_privs`, a network namespace,
Landlock and a seccomp filter. The confinement itself is probed with raw Python (no sandbox policy)
in a process confined by the very function the workers call.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest

from engine.codemode.request import build_request
from engine.executors.process import ProcessExecutor
from engine.limits import Limits
from engine.tools import ToolSet

from .conftest import run_program

pytestmark = pytest.mark.anyio

_PAGE = os.sysconf("SC_PAGE_SIZE")
HOLD = ToolSet.build(["gate"], {"gate": [types.Tool(name="hold", input_schema={"type": "object"})]}, {})


def _host_rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE


class Gate:
    """A tool backend whose `hold` returns only once the test opens the gate; counts who waits."""

    def __init__(self) -> None:
        self.waiting = 0
        self.opened = anyio.Event()
        self.arrived = anyio.Event()
        self.expected = 0

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        self.waiting += 1
        if self.waiting >= self.expected:
            self.arrived.set()
        await self.opened.wait()
        return types.CallToolResult(content=[], structured_content={"ok": True})

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        return {}


@pytest.fixture
async def process() -> AsyncIterator[ProcessExecutor]:
    executor = ProcessExecutor(memory_mb=128, min_workers=1)
    try:
        yield executor
    finally:
        with anyio.fail_after(15):
            await executor.aclose()


async def test_a_worker_killed_from_outside_costs_its_own_run_only() -> None:
    process = ProcessExecutor(memory_mb=128, min_workers=1, max_workers=12)
    try:
        await _ten_runs_one_killed(process)
    finally:
        with anyio.fail_after(15):
            await process.aclose()


async def gated_runs(
    process: ProcessExecutor, count: int, meanwhile: Callable[[list[dict[str, Any]]], Awaitable[None]]
) -> list[dict[str, Any]]:
    """`count` runs that each wait at a gate; once all wait, `meanwhile(results so far)`, then the gate opens."""
    gate = Gate()
    gate.expected = count
    results: list[dict[str, Any]] = []

    async def one(i: int) -> None:
        request = build_request(HOLD, f"await gate.hold()\nreturn {i}", limits=Limits(timeout=30), backend=gate)
        results.append(dict(await process.run(request)))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for i in range(count):
                group.start_soon(one, i)
            await gate.arrived.wait()
            await meanwhile(results)
            gate.opened.set()
    return results


async def kill_a_busy_worker(process: ProcessExecutor) -> None:
    victim = next(w for w in process._workers if w.busy)  # noqa: SLF001 - which worker runs what
    assert victim.transport.pid is not None
    os.kill(victim.transport.pid, signal.SIGKILL)
    with anyio.fail_after(10):
        while victim.alive:
            await anyio.sleep(0.01)


async def _ten_runs_one_killed(process: ProcessExecutor) -> None:
    async def meanwhile(results: list[dict[str, Any]]) -> None:
        assert len(process.pids) >= 10  # ten runs in flight, each on its own worker, each waiting
        await kill_a_busy_worker(process)
        with anyio.fail_after(10):
            while not any(r["error_info"] for r in results):
                await anyio.sleep(0.01)

    results = await gated_runs(process, 10, meanwhile)
    failed = [r for r in results if r["error_info"] is not None]
    assert len(failed) == 1, [r["error"] for r in failed]
    assert failed[0]["error_info"]["type"] == "SandboxCrashed"
    assert "SIGKILL" in failed[0]["error_info"]["message"]
    assert sorted(r["result"] for r in results if r["error_info"] is None) == sorted(
        set(range(10)) - {next(i for i in range(10) if all(r["result"] != i for r in results))}
    )
    again = await run_program(process, "return 'fresh'")
    assert again["result"] == "fresh", again["error"]


async def test_a_code_session_whose_worker_died_is_reported_lost(process: ProcessExecutor) -> None:
    first = await run_program(process, "counter = 41\nreturn counter", session_id="s")
    assert first["result"] == 41
    (holder,) = [w for w in process._workers if "s" in w.sessions]  # noqa: SLF001 - which worker holds it
    assert holder.transport.pid is not None
    os.kill(holder.transport.pid, signal.SIGKILL)
    with anyio.fail_after(10):
        while holder.alive:
            await anyio.sleep(0.01)
    lost = await run_program(process, "counter += 1\nreturn counter", session_id="s")
    assert lost["error_info"] is not None and lost["error_info"]["type"] == "SessionLost"
    assert "'s' was lost" in lost["error_info"]["message"] and "SIGKILL" in lost["error_info"]["message"]
    fresh = await run_program(process, "counter = 1\nreturn counter", session_id="s")
    assert fresh["result"] == 1  # said once, then the id starts afresh


async def test_unbounded_allocation_is_stopped_by_the_os_limit_and_the_host_lives_on(
    process: ProcessExecutor,
) -> None:
    await process.start()
    before = _host_rss()
    # The in-worker watchdog would stop at 4 GiB; the OS cap (128 MiB above start-up) comes first.
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


async def test_a_worker_has_no_host_secrets_its_own_group_limits_and_confinement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENGINE_TEST_SECRET", "hunter2")
    executor = ProcessExecutor(memory_mb=256, nofile=64, min_workers=1)
    try:
        await run_program(executor, "return 1")
        pid = executor.pids[0]
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
        core = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
        assert core.split()[4] == "0"
        status = Path(f"/proc/{pid}/status").read_text()
        assert "NoNewPrivs:\t1" in status
        report = executor.confinement
        if report.get("syscalls") == "seccomp":
            assert "Seccomp:\t2" in status
            # Every thread of the worker, not only the one that confined itself: the filter (like
            # Landlock) binds the calling thread and the threads it starts after, so a worker
            # starts none before it is confined.
            for task in Path(f"/proc/{pid}/task").iterdir():
                assert "Seccomp:\t2" in (task / "status").read_text(), f"thread {task.name} is not confined"
        if report.get("network", "").endswith("namespace"):
            assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
        assert set(report) == {"network", "capabilities", "filesystem", "syscalls"}
        if report["capabilities"] == "none":
            assert "CapEff:\t0000000000000000" in status and "CapBnd:\t0000000000000000" in status
        open_files_hard = next(line for line in limits.splitlines() if line.startswith("Max open files"))
        assert open_files_hard.split()[4] == "64"  # the hard limit too: it cannot be raised again
    finally:
        await executor.aclose()


_PROBE = """
import os, socket, sys
sys.path.insert(0, sys.argv[1])
from engine.guest import oslimits
from engine.executors import _confine
oslimits.apply(memory_bytes=None, nofile=64)
report = _confine.confine()
print("report|", report, flush=True)
def attempt(name, action):
    try:
        action()
        print(name + "|", "ALLOWED", flush=True)
    except OSError as exc:
        print(name + "|", "refused", type(exc).__name__, flush=True)
attempt("socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
attempt("unix socket", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
attempt("write", lambda: open(sys.argv[2], "w"))
attempt("read passwd", lambda: open("/etc/passwd").read())
attempt("fork", os.fork)
attempt("exec", lambda: os.execv("/bin/true", ["true"]))
attempt("signal another process", lambda: os.kill(os.getppid(), 0))
import ctypes, resource
def queued_signal():
    if ctypes.CDLL(None, use_errno=True).syscall(129, os.getppid(), 10, None) != 0:
        raise OSError(ctypes.get_errno(), "rt_sigqueueinfo")
attempt("queue a signal to another process", queued_signal)
attempt("limits of another process", lambda: resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE))
attempt("memory outside the address-space limit", lambda: os.memfd_create("x"))
attempt("read the checkout", lambda: open(sys.argv[1] + "/README.md").read())
print("own limits|", "refused" if resource.getrlimit(resource.RLIMIT_NOFILE)[1] == 64 else "ALLOWED", flush=True)
import threading, json
box = []
worker = threading.Thread(target=lambda: box.append(json.dumps([1])))
worker.start(); worker.join()
print("thread|", box, flush=True)
"""


@pytest.mark.parametrize(
    ("attempt", "layer"),
    [
        ("socket", "syscalls"),
        ("unix socket", "syscalls"),
        ("write", "filesystem"),
        ("read passwd", "filesystem"),
        ("fork", "syscalls"),
        ("exec", "syscalls"),
        ("signal another process", "syscalls"),
        ("queue a signal to another process", "syscalls"),
        ("limits of another process", "syscalls"),
        ("memory outside the address-space limit", "syscalls"),
        ("read the checkout", "filesystem"),
    ],
)
def test_raw_python_in_a_confined_process_is_refused(tmp_path: Path, attempt: str, layer: str) -> None:
    # Raw Python, no sandbox policy: only the kernel stands between it and the host.
    root = str(Path(__file__).resolve().parents[2])
    target = tmp_path / "written"
    done = subprocess.run(
        [sys.executable, "-I", "-c", _PROBE, root, str(target)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = {k: v.strip() for k, _, v in (line.partition("|") for line in done.stdout.splitlines())}
    if "unavailable" in lines["report"].split(f"'{layer}': ")[1].split(",")[0]:
        pytest.skip(f"this kernel lacks the {layer} confinement: {lines['report']}")
    assert lines[attempt].startswith("refused"), done.stdout
    assert lines["thread"] == "['[1]']"  # threads and lazy imports still work
    assert not target.exists()


async def test_closing_the_executor_ends_every_worker_and_the_template(process: ProcessExecutor) -> None:
    await run_program(process, "return 1")
    pids = [*process.pids, process.template_pid]
    assert len(pids) >= 2 and None not in pids
    await process.aclose()
    for pid in pids:
        assert pid is not None
        with anyio.fail_after(5):
            while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]:
                await anyio.sleep(0.01)


async def test_a_template_that_cannot_start_is_reported_with_its_last_words(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'ImportError: no engine here' >&2\nexit 1\n")
    fake.chmod(0o755)
    executor = ProcessExecutor(python=str(fake))
    try:
        envelope = await run_program(executor, "return 1")
    finally:
        await executor.aclose()
    assert envelope["error_info"] is not None and envelope["error_info"]["type"] == "SandboxError"
    assert "ImportError: no engine here" in envelope["error_info"]["message"]


PEEK = "try:\n    return secret\nexcept NameError:\n    return 'none'"


async def test_a_session_has_its_worker_to_itself_and_a_reset_drops_its_globals(process: ProcessExecutor) -> None:
    alice = await run_program(process, "secret = 'alice-token'\nreturn 1", session_id="alice")
    assert alice["result"] == 1
    bob = await run_program(process, PEEK, session_id="bob")
    anonymous = await run_program(process, PEEK)
    assert (bob["result"], anonymous["result"]) == ("none", "none")
    holders = {w.transport.pid for w in process._workers if w.sessions}  # noqa: SLF001
    assert len(holders) == 2  # alice and bob, each on its own worker
    assert process.reset_session("alice")
    again = await run_program(process, PEEK, session_id="alice")
    assert again["result"] == "none", again["error"]


async def test_a_cancelled_run_never_hands_its_worker_to_the_next_run(process: ProcessExecutor) -> None:
    gate = Gate()
    gate.expected = 1
    request = build_request(HOLD, "await gate.hold()\nreturn 1", limits=Limits(timeout=30), backend=gate)
    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(process.run, request)
            await gate.arrived.wait()
            (busy,) = [w for w in process._workers if w.busy]  # noqa: SLF001
            group.cancel_scope.cancel()
        while busy.alive:  # retired: its program may still have been running
            await anyio.sleep(0.01)
    assert busy not in process._workers  # noqa: SLF001
    after = await run_program(process, "return 'next'")
    assert after["result"] == "next", after["error"]


async def test_a_template_that_dies_is_replaced_and_forks_pair_with_their_own_workers(
    process: ProcessExecutor,
) -> None:
    await run_program(process, "return 1")
    old = process.template_pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    with anyio.fail_after(10):
        while Path(f"/proc/{old}").exists() and "Z" not in Path(f"/proc/{old}/stat").read_text().split()[2]:
            await anyio.sleep(0.01)
    async def meanwhile(results: list[dict[str, Any]]) -> None:
        await kill_a_busy_worker(process)  # three runs, on workers of the new template

    results = await gated_runs(process, 3, meanwhile)
    assert process.template_pid not in (None, old)
    # The kill reached the worker the pool thought it was: exactly one run failed, as a crash (a
    # worker of the dead template has nobody left to report its exit status: its reason is generic).
    failed = [r for r in results if r["error_info"] is not None]
    assert len(failed) == 1 and failed[0]["error_info"]["type"] == "SandboxCrashed", [r["error"] for r in results]


DEEP = "def f(n):\n    return n if n == 0 else 1 + f(n - 1)\nreturn f({n})"
GROW = "chunks = []\nwhile True:\n    chunks.append('x' * 1000000 + str(len(chunks)))"


async def test_a_workers_own_limits_stop_programs_as_in_process(process: ProcessExecutor) -> None:
    # A worker runs each program on its one thread (no hand-off to a sandbox thread): the stack
    # padding still leaves exactly `max_recursion_depth` frames, and the sandbox's watchdog still
    # stops a program at its CPU-time and memory limits, long before the host's deadline.
    ok = await run_program(process, DEEP.format(n=40), limits=Limits(timeout=10, max_recursion_depth=50))
    assert ok["result"] == 40, ok["error"]
    over = await run_program(process, DEEP.format(n=60), limits=Limits(timeout=10, max_recursion_depth=50))
    assert over["error_info"] is not None and over["error_info"]["type"] == "RecursionError", over["error"]
    assert "50" in over["error_info"]["message"]
    bigger = await run_program(process, DEEP.format(n=400), limits=Limits(timeout=10, max_recursion_depth=500))
    assert bigger["result"] == 400, bigger["error"]
    spin = await run_program(process, "while True:\n    pass", limits=Limits(timeout=20, cpu_time=0.3))
    assert spin["error_info"] is not None and spin["error_info"]["type"] == "TimeoutError", spin["error"]
    assert "CPU-time limit of 0.3 s" in spin["error_info"]["message"]
    # The watchdog's limit (32 MiB), well inside the OS cap of the fixture's workers (128 MiB).
    grow = await run_program(process, GROW, limits=Limits(timeout=20, max_memory_bytes=32 * 1024 * 1024))
    assert grow["error_info"] is not None and grow["error_info"]["type"] == "MemoryError", grow["error"]
    assert "over its limit of 33554432" in grow["error_info"]["message"]
    after = await run_program(process, "print('still here')\nreturn 'after'")
    assert (after["result"], after["logs"]) == ("after", ["still here"]), after["error"]


def _stopped_or_gone(pid: int) -> bool:
    """Whether every thread of `pid` is stopped (`T` in its /proc stat), or the process has ended."""
    states = []
    with contextlib.suppress(FileNotFoundError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
    return all(state in "TtZX" for state in states)


class Freezer:
    """A tool backend whose `freeze` stops the worker that called it (SIGSTOP) and answers."""

    def __init__(self, process: ProcessExecutor) -> None:
        self.process = process
        self.frozen: list[int] = []

    async def freeze_busy_worker(self) -> None:
        (busy,) = [w for w in self.process._workers if w.busy]  # noqa: SLF001
        assert busy.transport.pid is not None
        os.kill(busy.transport.pid, signal.SIGSTOP)
        self.frozen.append(busy.transport.pid)
        # A stop signal wakes one thread; the others stop only once that one has run (a niced
        # worker on a loaded machine can wait milliseconds for a CPU, while its other thread
        # goes on). Answer only when the whole worker is stopped.
        with anyio.fail_after(10):
            while not _stopped_or_gone(busy.transport.pid):
                await anyio.sleep(0.001)

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        await self.freeze_busy_worker()
        return types.CallToolResult(content=[], structured_content={"ok": True})

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        return {}


@pytest.mark.parametrize("calls", [False, True], ids=["no-call", "in-a-call"])
async def test_a_frozen_worker_is_killed_at_the_deadline_and_its_run_times_out(
    process: ProcessExecutor, calls: bool
) -> None:
    # A worker that never answers (stopped: its own watchdog cannot act) is ended by the host's
    # deadline, whether the run was still waiting for its first frame or serving a tool call.
    freezer = Freezer(process)
    warm = await run_program(process, "return 0")  # the pool is up: the run's timeout is its own
    assert warm["result"] == 0, warm["error"]
    code = "await gate.hold()\nreturn 1" if calls else "while True:\n    pass"
    request = build_request(HOLD, code, limits=Limits(timeout=0.5), backend=freezer)
    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            envelope: dict[str, Any] = {}

            async def run() -> None:
                envelope.update(await process.run(request))

            group.start_soon(run)
            if not calls:
                while not any(w.busy for w in process._workers):  # noqa: SLF001
                    await anyio.sleep(0.005)
                await freezer.freeze_busy_worker()
    assert envelope["error_info"] is not None and envelope["error_info"]["type"] == "TimeoutError", envelope
    assert "was killed" in envelope["error_info"]["message"]
    assert [r["tool"] for r in envelope["tool_calls"]] == (["gate.hold"] if calls else [])
    (pid,) = freezer.frozen
    with anyio.fail_after(10):
        while pid in process.pids:
            await anyio.sleep(0.01)
    after = await run_program(process, "return 'next'")
    assert after["result"] == "next", after["error"]
