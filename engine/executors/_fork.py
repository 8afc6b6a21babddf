"""Host side of the `process` pool's processes: the template that forks workers, and a worker's transport.

`Template` starts the template process (`_template.py`) once and asks it for workers over a
`SOCK_SEQPACKET` control socket: each request carries the worker's end of a fresh socket pair, so
the worker's channel never passes through the template's hands again. `WorkerTransport` is the
`GuestTransport` of one worker over the host's end of that pair (length-prefixed records both
ways: the OS keeps order and integrity, so no base64 and no checksum). A worker's exit status comes
from the template, which reaps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from ._remote import TransportBroken
from ._wire import MAX_RECORD

__all__ = ["Template", "WorkerTransport", "describe_exit"]

_ENGINE_ROOT = str(Path(__file__).resolve().parent.parent.parent)

FORK_TIMEOUT = 10.0

MAX_BACKLOG = 2 * MAX_RECORD
"""Bytes the host holds for a worker that does not read its channel, at most (two of the largest
records); past that the worker is ended rather than the host's memory spent on it."""
"""Seconds the template may take to answer a fork request before it is killed and restarted."""
_SAFE_ENV = ("LANG", "LC_ALL", "TZ")

# `-I` (isolated mode) drops PYTHONPATH and the user site, so the template finds `engine` through
# the path given as its first argument. It needs only leaf modules (the guest, the kernel, the
# sandbox); registering the packages as bare namespaces skips their `__init__` re-exports, which
# import the MCP SDK and would double the template's start-up time and every worker's memory.
_BOOT = (
    "import sys, types\n"
    "root = sys.argv[1]\n"
    "for name in ('engine', 'engine.executors'):\n"
    "    package = types.ModuleType(name)\n"
    "    package.__path__ = [root + '/' + name.replace('.', '/')]\n"
    "    sys.modules[name] = package\n"
    "sys.path.insert(0, root)\n"
    "from engine.executors._template import main\n"
    "main(int(sys.argv[2]))\n"
)


def describe_exit(status: int | None, killed: bool) -> str:
    """Why a worker ended, from its `waitpid` status (None: unknown)."""
    if status is None:
        return "the worker process ended"
    if killed:
        return "the worker process was killed by the executor"
    if os.WIFEXITED(status):
        return f"the worker process exited with status {os.WEXITSTATUS(status)}"
    sig = os.WTERMSIG(status)
    if sig == signal.SIGXCPU:
        return "killed: CPU time limit (SIGXCPU)"
    if sig == signal.SIGKILL:
        return "killed (SIGKILL): out of memory or killed from outside"
    if sig == signal.SIGSEGV:
        return "the worker process crashed (SIGSEGV)"
    if sig == signal.SIGSYS:
        return "the worker process made a forbidden system call (SIGSYS)"
    name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
    return f"the worker process died of signal {name}"


class Template:
    """The template process, started once; `fork()` returns a new worker's pid and channel."""

    def __init__(self, *, python: str | None = None, env: dict[str, str] | None = None) -> None:
        self._python = python or sys.executable
        self._extra_env = dict(env or {})
        self._process: asyncio.subprocess.Process | None = None
        self._control: socket.socket | None = None
        self._lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()
        self._replies: dict[int, asyncio.Future[int]] = {}
        self._request_ids = itertools.count(1)
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.stderr_tail = b""
        self.children: set[int] = set()
        """Workers forked and not yet reported ended."""

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

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start the template process (imports once; every worker is a fork of it)."""
        host_end, template_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = await asyncio.create_subprocess_exec(
                self._python, "-I", "-c", _BOOT, _ENGINE_ROOT, str(template_end.fileno()),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=self._env(),
                cwd="/",
                start_new_session=True,
                pass_fds=(template_end.fileno(),),
            )
        finally:
            template_end.close()
        host_end.setblocking(False)
        self._control = host_end
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._stderr())]

    async def ensure_running(self) -> None:
        """Start the template again if it died (its workers live on: they are not its to keep)."""
        async with self._start_lock:
            process = self._process
            if process is not None and process.returncode is None:
                return
            if process is not None:
                await self._stop()  # its workers live on: they are the pool's
                self.stderr_tail = b""
            await self.start()

    async def _read(self) -> None:
        control = self._control
        assert control is not None
        loop = asyncio.get_running_loop()
        while True:
            try:
                message = await loop.sock_recv(control, 65536)
            except OSError:
                message = b""
            if not message:
                break
            data = json.loads(message)
            if "exit" in data:
                self.children.discard(data["exit"])
                future = self._exits.setdefault(data["exit"], loop.create_future())
                if not future.done():
                    future.set_result(data["status"])
            else:
                # A reply names its request: one that lost its waiter (a timeout) pairs with nothing.
                waiter = self._replies.pop(data.get("id"), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(data["pid"])
                elif waiter is None and isinstance(data.get("pid"), int):
                    _kill_group(data["pid"])  # forked for a request nobody waits for any more
        for waiter in self._replies.values():  # the template is gone: wake every fork waiting for it
            if not waiter.done():
                waiter.set_exception(OSError("the worker template ended"))
        self._replies.clear()

    async def _stderr(self) -> None:
        process = self._process
        assert process is not None and process.stderr is not None
        while chunk := await process.stderr.read(1 << 16):
            self.stderr_tail = (self.stderr_tail + chunk)[-8192:]

    async def fork(self, argv: list[str], *, confine: bool) -> tuple[int, socket.socket]:
        """A new worker: its pid and the host's end of its channel."""
        control = self._control
        if control is None or self._process is None or self._process.returncode is not None:
            raise OSError(f"the worker template is not running: {await self._last_words()}")
        host_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request_id = next(self._request_ids)
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = waiter
        try:
            async with self._lock:
                request = json.dumps({"argv": argv, "confine": confine, "id": request_id}).encode()
                await asyncio.get_running_loop().run_in_executor(
                    None, socket.send_fds, control, [request], [worker_end.fileno()]
                )
            pid = await asyncio.wait_for(waiter, FORK_TIMEOUT)
        except TimeoutError:
            # A template that does not answer (stopped by a signal, say) is replaced.
            host_end.close()
            self._replies.pop(request_id, None)
            await self._stop()
            raise OSError(f"the worker template did not answer within {FORK_TIMEOUT:g} s; it was restarted") from None
        except OSError as exc:
            host_end.close()
            self._replies.pop(request_id, None)
            raise OSError(f"the worker template is not running ({exc}): {await self._last_words()}") from None
        finally:
            worker_end.close()
        self.children.add(pid)
        return pid, host_end

    async def _last_words(self) -> str:
        """The tail of the template's stderr once it has ended (an import error says why it could not start)."""
        process = self._process
        if process is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(process.wait(), 1.0)
        if len(self._tasks) > 1:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._tasks[1]), 1.0)
        return " | ".join(self.stderr_tail.decode("utf-8", "replace").strip().splitlines()[-3:])

    async def exit_status(self, pid: int, timeout: float) -> int | None:
        """The worker's `waitpid` status once the template reaped it (None if not within `timeout`)."""
        future = self._exits.setdefault(pid, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return None
        finally:
            if future.done():
                self._exits.pop(pid, None)

    async def aclose(self) -> None:
        """Stop the template, and kill every worker it forked that has not ended: the pool kills its
        own, and this catches one forked while the pool was closing."""
        for pid in list(self.children):
            _kill_group(pid)
        self.children.clear()
        await self._stop()

    async def _stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(process.wait(), 5.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class WorkerTransport:
    """A `GuestTransport` over one forked worker's channel.

    The host's end of the socket is watched by the loop itself (`add_reader`): a record from the
    worker is handed to `on_data` in the callback that reads it, with no reader task to wake in
    between (a stream reader's task cost a loop turn per run and per tool call)."""

    _READ_SIZE = 1 << 18

    def __init__(self, template: Template, argv: list[str], *, confine: bool) -> None:
        self._template = template
        self._argv = argv
        self._confine = confine
        self.pid: int | None = None
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._backlog = bytearray()
        """Bytes the socket did not take yet (written, in order, when it can)."""
        self._drained: asyncio.Future[None] | None = None
        self._on_data: Callable[[str | bytes], None] | None = None
        self._on_exit: Callable[[str], None] | None = None
        self._eof: asyncio.Future[None] | None = None
        self._pump: asyncio.Task[None] | None = None
        """Reports the worker's end once its channel closed."""
        self._killed = False

    async def start(
        self, on_data: Callable[[str | bytes], None], on_broken: Callable[[], None], on_exit: Callable[[str], None]
    ) -> None:
        self.pid, channel = await self._template.fork(self._argv, confine=self._confine)
        channel.setblocking(False)
        self._sock, self._on_data, self._on_exit = channel, on_data, on_exit
        self._loop = asyncio.get_running_loop()
        self._eof = self._loop.create_future()
        self._pump = self._loop.create_task(self._ended(self._eof))
        self._loop.add_reader(channel.fileno(), self._readable)

    def _readable(self) -> None:
        sock = self._sock
        assert sock is not None and self._loop is not None and self._on_data is not None
        try:
            chunk = sock.recv(self._READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if chunk:
            self._on_data(chunk)
            return
        self._loop.remove_reader(sock.fileno())
        if self._eof is not None and not self._eof.done():
            self._eof.set_result(None)

    async def _ended(self, eof: asyncio.Future[None]) -> None:
        await eof
        assert self.pid is not None and self._on_exit is not None
        status = await self._template.exit_status(self.pid, 1.0)
        reason = describe_exit(status, self._killed)
        tail = self._template.stderr_tail.decode("utf-8", "replace").strip().splitlines()
        mine = [line for line in tail if line.startswith(f"engine worker {self.pid}:")]
        self._on_exit(reason + (": " + mine[-1] if mine and not self._killed else ""))

    def send_now(self, data: bytes) -> None:
        """Write without waiting: what the socket does not take now is written, in order, when it can."""
        sock = self._sock
        if sock is None or sock.fileno() < 0:
            raise TransportBroken("the worker's channel is closed")
        if not self._backlog:
            try:
                sent = sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                raise TransportBroken(str(exc)) from exc
            if sent == len(data):
                return
            data = data[sent:]
            assert self._loop is not None
            self._loop.add_writer(sock.fileno(), self._writable)
        if len(self._backlog) + len(data) > MAX_BACKLOG:
            # A worker that does not read what it asked for: its replies would pile up in the host.
            raise TransportBroken(f"the worker left over {MAX_BACKLOG} bytes unread")
        self._backlog += data

    def _writable(self) -> None:
        sock = self._sock
        assert sock is not None and self._loop is not None
        try:
            sent = sock.send(self._backlog)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            sent, self._backlog = 0, bytearray()  # the worker is gone: its end is reported by the reader
        del self._backlog[:sent]
        if not self._backlog:
            self._loop.remove_writer(sock.fileno())
            if self._drained is not None and not self._drained.done():
                self._drained.set_result(None)

    async def write(self, data: bytes) -> None:
        self.send_now(data)
        while self._backlog and self._sock is not None:
            # Flow control: a worker that does not read holds the writer here, not the host's memory.
            assert self._loop is not None
            self._drained = self._loop.create_future()
            await self._drained
        if self._sock is None:
            raise TransportBroken("the worker's channel is closed")

    async def reattach(self) -> bool:
        return False  # a socket does not drop while the worker lives

    async def kill(self) -> None:
        if self.pid is not None and not self._killed:
            self._killed = True
            _kill_group(self.pid)
        if self._pump is not None:
            # The channel's end (the reader sees it), then the worker's status, which says why.
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._pump), 2.0)
            if not self._pump.done():
                self._pump.cancel()
        sock, self._sock = self._sock, None
        if sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(sock.fileno())
                self._loop.remove_writer(sock.fileno())
            sock.close()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)  # a writer waiting finds the channel closed


def _kill_group(pid: int) -> None:
    """SIGKILL a worker and everything in its process group."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # not yet its own group leader (just forked), or gone
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    except PermissionError:
        pass
