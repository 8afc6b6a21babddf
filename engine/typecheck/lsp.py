"""A minimal Language Server Protocol client over a child process's stdio: JSON-RPC with `Content-Length` frames.

Only what the type check needs: start the server and complete the handshake, send notifications,
send requests and await their answers (each with a deadline), answer the server's own requests
with nothing, and stop it. Every read is bounded (header lines, message size), the server's stderr
is drained into a short tail (a full pipe would stall it), and a server that dies fails every
request waiting on it at once, with its exit code and that tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["LanguageServer", "ServerGone"]

MAX_MESSAGE = 32 * 1024 * 1024
_MAX_HEADER = 4096
_TAIL = 4000


class ServerGone(Exception):
    """The language server exited, broke the protocol or did not answer in time."""


class LanguageServer:
    """One language server process (see the module docstring)."""

    def __init__(self, argv: Sequence[str], *, cwd: str, env: Mapping[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.capabilities: dict[str, Any] = {}
        self._process: asyncio.subprocess.Process | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._stderr = b""
        self._gone: str | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None and self._gone is None

    async def start(self, initialize: Mapping[str, Any], *, timeout: float) -> None:
        """Start the process and complete `initialize` / `initialized`."""
        self._process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=self.cwd, env=self.env, start_new_session=True,
        )
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._drain_stderr())]
        answer = await self.request("initialize", dict(initialize), timeout=timeout)
        self.capabilities = answer.get("capabilities", {}) if isinstance(answer, dict) else {}
        self.notify("initialized", {})

    def notify(self, method: str, params: Mapping[str, Any]) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: Mapping[str, Any], *, timeout: float) -> Any:
        """The result of one request; `ServerGone` when the server fails, errs or is late."""
        if self._gone is not None:
            raise ServerGone(self._gone)
        ident = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        try:
            self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
            try:
                return await asyncio.wait_for(future, timeout)
            except TimeoutError:
                raise ServerGone(f"no answer to {method} within {timeout:g} s") from None
        finally:
            self._pending.pop(ident, None)

    async def aclose(self, *, polite: bool = True) -> None:
        """Stop the server (politely, then by signal; with `polite=False` by signal at once) and its
        reader tasks."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            if polite:
                with contextlib.suppress(Exception):
                    self._send_to(process, {"jsonrpc": "2.0", "id": 0, "method": "shutdown"})
                    self._send_to(process, {"jsonrpc": "2.0", "method": "exit"})
            try:
                await asyncio.wait_for(process.wait(), 1.0 if polite else 0.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._fail("the type checker was stopped")

    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # -- internals -----------------------------------------------------------------------------

    def _send(self, message: Mapping[str, Any]) -> None:
        if self._process is None:
            raise ServerGone("the type checker is not running")
        try:
            self._send_to(self._process, message)
        except (OSError, RuntimeError) as exc:
            raise ServerGone(f"the type checker's input is closed: {exc}") from None

    @staticmethod
    def _send_to(process: asyncio.subprocess.Process, message: Mapping[str, Any]) -> None:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
        assert process.stdin is not None
        process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def _read(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        stdout = process.stdout
        try:
            while True:
                length = None
                while True:
                    line = await stdout.readline()
                    if not line:
                        raise EOFError
                    if len(line) > _MAX_HEADER:
                        raise ValueError("a header line is too long")
                    text = line.decode("ascii", "replace").strip()
                    if not text:
                        break
                    name, _, value = text.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                if length is None or not 0 <= length <= MAX_MESSAGE:
                    raise ValueError(f"a message has no usable Content-Length ({length})")
                self._dispatch(json.loads(await stdout.readexactly(length)))
        except (EOFError, asyncio.IncompleteReadError, ConnectionError):
            code = await _exit_code(process)
            self._fail(f"the type checker exited (code {code}){self._tail()}")
        except (ValueError, UnicodeDecodeError) as exc:
            self._fail(f"the type checker broke the protocol: {exc}")
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        ident = message.get("id")
        if "method" in message:
            if ident is not None:  # a request of the server's: configuration, registrations, progress
                params = message.get("params")
                items = params.get("items") if isinstance(params, dict) else None
                result: Any = [None] * len(items) if isinstance(items, list) else None
                with contextlib.suppress(ServerGone):
                    self._send({"jsonrpc": "2.0", "id": ident, "result": result})
            return
        future = self._pending.get(ident) if isinstance(ident, int) else None
        if future is None or future.done():
            return
        if "error" in message:
            error = message["error"]
            text = error.get("message") if isinstance(error, dict) else error
            future.set_exception(ServerGone(f"the type checker answered with an error: {text}"))
        else:
            future.set_result(message.get("result"))

    async def _drain_stderr(self) -> None:
        process = self._process
        assert process is not None and process.stderr is not None
        while chunk := await process.stderr.read(4096):
            self._stderr = (self._stderr + chunk)[-_TAIL:]

    def _tail(self) -> str:
        text = self._stderr.decode("utf-8", "replace").strip()
        return f": {text[-500:]}" if text else ""

    def _fail(self, reason: str) -> None:
        if self._gone is None:
            self._gone = reason
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ServerGone(self._gone))


async def _exit_code(process: asyncio.subprocess.Process) -> int | None:
    try:
        return await asyncio.wait_for(process.wait(), 1.0)
    except TimeoutError:
        return None


def clean_environment(home: Path | None = None) -> dict[str, str]:
    """The environment for the checker: this one without a virtual environment to discover and,
    with `home`, with its user configuration directories there (not the host user's)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH")}
    if home is not None:
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    return env
