"""The `process` executor: the restricted policy inside a child process with hard OS limits.

One child (the guest's main loop serving `engine.executors._child`) serves every run, so start-up is paid once;
it is restarted when it dies. The child runs each program through its own `RestrictedExecutor`
(the same policy, guards and limits as in-process) and, before it runs anything, caps itself:
address space (`RLIMIT_AS`, so unbounded allocation ends in `MemoryError` inside the child, never
in host memory), a per-run `RLIMIT_CPU` ceiling (`SIGXCPU` for code stuck in native loops), open
files, no core dumps, `PR_SET_NO_NEW_PRIVS`. It starts with a scrubbed environment (no host secrets)
in its own process group, so a kill takes everything it started. Frames cross its stdin/stdout as
guest link records; what programs print is captured inside the child and never touches them.

```python
executor = ProcessExecutor(memory_mb=256)
envelope = await executor.run(ExecutionRequest("return 1 + 1"))
await executor.aclose()
```
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import CodeModeError
from ._remote import GuestTransport, RemoteExecutor, TransportBroken

__all__ = ["ProcessExecutor"]

_ENGINE_ROOT = str(Path(__file__).resolve().parent.parent.parent)
_SAFE_ENV = ("LANG", "LC_ALL", "TZ")


def _describe_exit(code: int | None, killed: bool) -> str:
    if code is None:
        return "the child process ended"
    if code >= 0:
        return f"the child process exited with status {code}"
    sig = -code
    if killed:
        return "the child process was killed by the executor"
    if sig == signal.SIGXCPU:
        return "killed: CPU time limit (SIGXCPU)"
    if sig == signal.SIGKILL:
        return "killed (SIGKILL): out of memory or killed from outside"
    if sig == signal.SIGSEGV:
        return "the child process crashed (SIGSEGV)"
    return f"the child process died of signal {signal.Signals(sig).name if sig in signal.valid_signals() else sig}"


class _ChildTransport:
    """A `GuestTransport` over a local child's pipes."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self._command = command
        self._env = env
        self._process: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._killed = False
        self._stderr_tail = b""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(
        self, on_data: Callable[[str | bytes], None], on_broken: Callable[[], None], on_exit: Callable[[str], None]
    ) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._pump(on_data, on_exit)),
            loop.create_task(self._stderr()),
        ]

    async def _pump(self, on_data: Callable[[str | bytes], None], on_exit: Callable[[str], None]) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        while True:
            chunk = await process.stdout.read(1 << 16)
            if not chunk:
                break
            on_data(chunk)
        code = await process.wait()
        reason = _describe_exit(code, self._killed)
        # The child's last words (an import error, a traceback) say why it could not start.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._tasks[1]), 1.0)
        tail = self._stderr_tail.decode("utf-8", "replace").strip().splitlines()[-3:]
        on_exit(reason + (": " + " | ".join(tail) if tail and not self._killed else ""))

    async def _stderr(self) -> None:
        # Guest diagnostics: drained so the child never blocks on a full pipe, the tail kept.
        process = self._process
        assert process is not None and process.stderr is not None
        while chunk := await process.stderr.read(1 << 16):
            self._stderr_tail = (self._stderr_tail + chunk)[-4096:]

    async def write(self, data: bytes) -> None:
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            raise TransportBroken("the child process is not running")
        try:
            process.stdin.write(data)
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise TransportBroken(str(exc)) from exc

    async def reattach(self) -> bool:
        # Pipes do not drop while the child lives; a broken pipe means it is gone.
        return False

    async def kill(self) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            self._killed = True
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(process.wait(), 5.0)
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, 1.0)
        if process.stdin is not None:
            process.stdin.close()


class ProcessExecutor(RemoteExecutor):
    """Runs programs under the restricted policy in a reused child process with hard OS limits.

    Args:
        memory_mb: the child's address-space allowance above its start-up size (`RLIMIT_AS`); past it
            allocation fails with `MemoryError`. None: no OS memory cap (the in-child watchdog still
            applies `Limits.max_memory_bytes`).
        cpu_ceiling: move `RLIMIT_CPU` per run to the run's CPU budget plus a margin.
        nofile: the child's open-file limit.
        python: the interpreter for the child (default: this one).
        env: extra environment variables for the child (the rest of the host's is not passed).
    """

    def __init__(
        self,
        *,
        memory_mb: int | None = 1024,
        cpu_ceiling: bool = True,
        nofile: int | None = 256,
        python: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        if not sys.platform.startswith("linux"):
            raise CodeModeError("the process executor needs Linux (rlimits, process groups, prctl)")
        if memory_mb is not None and memory_mb < 16:
            raise CodeModeError("memory_mb must be at least 16")
        super().__init__()
        self._memory_mb = memory_mb
        self._cpu_ceiling = cpu_ceiling
        self._nofile = nofile
        self._python = python or sys.executable
        self._extra_env = dict(env or {})
        self._current: _ChildTransport | None = None

    @property
    def pid(self) -> int | None:
        """The current child's process id (None before the first run)."""
        return self._current.pid if self._current is not None else None

    def _command(self) -> list[str]:
        command = [self._python, "-I", "-c", _BOOT, _ENGINE_ROOT, "--mode", "restricted"]
        if self._memory_mb is not None:
            command += ["--memory-bytes", str(self._memory_mb * 1024 * 1024)]
        if self._nofile is not None:
            command += ["--nofile", str(self._nofile)]
        if not self._cpu_ceiling:
            command.append("--no-cpu-ceiling")
        return command

    def _env(self) -> dict[str, str]:
        env = {key: os.environ[key] for key in _SAFE_ENV if key in os.environ}
        env.update(
            PATH="/usr/bin:/bin",
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
            # Few malloc arenas: each thread's arena would otherwise reserve 64 MiB of address space.
            MALLOC_ARENA_MAX="2",
        )
        env.update(self._extra_env)
        return env

    async def _transport(self) -> GuestTransport:
        self._current = _ChildTransport(self._command(), self._env())
        return self._current


# `-I` (isolated mode) drops PYTHONPATH and the user site, so the child finds `engine` through the
# path given as its first argument. The child needs only leaf modules (the guest, the sandbox, the
# stub runtime); registering the packages as bare namespaces skips their `__init__` re-exports,
# which import the MCP SDK and would double the child's start-up time.
_BOOT = (
    "import sys, types\n"
    "root = sys.argv.pop(1)\n"
    "for name in ('engine', 'engine.executors'):\n"
    "    package = types.ModuleType(name)\n"
    "    package.__path__ = [root + '/' + name.replace('.', '/')]\n"
    "    sys.modules[name] = package\n"
    "sys.path.insert(0, root)\n"
    "from engine.executors._child import main\n"
    "main(sys.argv[1:])\n"
)
