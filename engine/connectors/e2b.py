"""MCP servers inside E2B: a stdio server started in a sandbox, its JSON-RPC over the process API.

`E2BStdioConnector` is a connector (`transports()` / `diagnostics()`) like `StdioConnector`, but the
server's command runs inside an E2B sandbox (`sandbox.commands.run(..., background=True, stdin=True,
timeout=0)`). `e2b_stdio_client` is the `mcp.client` transport: an async context manager yielding
`TransportStreams` (anyio memory streams of `SessionMessage`), so the server appears to `MCPSession`
as an ordinary session. Messages to the server go as JSON lines through ONE ordered `send_stdin`
writer; the server's stdout arrives as UTF-8 text chunks split anywhere, buffered and split on
newlines. A dropped output stream is reattached with `commands.connect(pid)`; JSON-RPC has no
sequence numbers, so a line the server wrote while the stream was down is lost, and the request
it answered times out (the executor's own link has replay; MCP's does not).

Failures are connector errors: an unknown sandbox option is a `ConfigError` (when the connector
is made, before anything starts); a missing E2B SDK, a sandbox that cannot be created and a
command that cannot be started are `ServerStartError`s naming the server.

```python
connector = E2BStdioConnector(name="fs", command="npx", args=["-y", "@modelcontextprotocol/server-filesystem", "/"],
                              sandbox_options={"template": "my-template"})
```
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp.types as types
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage

from ..errors import ConfigError, ServerError, ServerStartError
from .base import Target

__all__ = ["E2BStdioConnector", "e2b_stdio_client"]

_SANDBOX_KEYS = ("template", "timeout", "envs", "allow_internet_access", "metadata")
_CONNECTION_KEYS = ("api_key", "domain", "debug", "sandbox_url", "request_timeout", "http_version")


def _sdk(server: str) -> Any:
    try:
        import e2b
    except ImportError as exc:
        message = f"MCP servers in E2B need the E2B SDK ({exc}): pip install 'engine[e2b]'"
        raise ServerStartError(server, message) from exc
    return e2b


def _check_options(server: str, sandbox_options: Mapping[str, Any] | None) -> dict[str, Any]:
    options = dict(sandbox_options or {})
    unknown = sorted(set(options) - set(_SANDBOX_KEYS) - set(_CONNECTION_KEYS))
    if unknown:
        known = ", ".join(sorted((*_SANDBOX_KEYS, *_CONNECTION_KEYS)))
        raise ConfigError(f"server {server!r}: unknown sandbox_options {unknown}; known: {known}")
    return options


@contextlib.contextmanager
def _starting(server: str, what: str) -> Iterator[None]:
    """The E2B SDK's failures while starting, as one `ServerStartError` naming the server (`from` the cause)."""
    try:
        yield
    except ServerError:
        raise
    except Exception as exc:
        raise ServerStartError(server, f"{what}: {type(exc).__name__}: {exc}") from exc


class _Lines:
    """Text chunks in, complete lines out; `reset()` drops a partial line after a reattach."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, chunk: str) -> list[str]:
        lines = (self._buffer + chunk).split("\n")
        self._buffer = lines.pop()
        return [line for line in lines if line.strip()]

    def reset(self) -> None:
        self._buffer = ""


def _parse(line: str) -> SessionMessage | Exception:
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        return exc


@contextlib.asynccontextmanager
async def e2b_stdio_client(
    command: str,
    args: list[str] | None = None,
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    sandbox_options: dict[str, Any] | None = None,
    sandbox: Any = None,
    stderr_tail: deque[str] | None = None,
    name: str | None = None,
) -> AsyncIterator[TransportStreams]:
    """Start `command args` in an E2B sandbox and yield the MCP (read, write) streams to it.

    Args:
        sandbox_options: `template`, `timeout`, `envs`, `allow_internet_access`, `metadata`, and the
            connection options `api_key` (default `E2B_API_KEY`), `domain`, `debug`, `sandbox_url`,
            `request_timeout`, `http_version`.
        sandbox: an `AsyncSandbox` to use instead of creating one (it is then not killed on exit).
        stderr_tail: receives the server's stderr lines (bounded by the deque's `maxlen`).
        name: the server's name in errors (default: the command).

    Raises:
        ConfigError: an unknown key in `sandbox_options`.
        ServerStartError: no E2B SDK, or the sandbox or the command could not be started.
    """
    server = name or command
    options = _check_options(server, sandbox_options)
    e2b = _sdk(server)
    own_sandbox = sandbox is None
    if own_sandbox:
        options.setdefault("api_key", os.environ.get("E2B_API_KEY"))
        with _starting(server, "could not create the E2B sandbox"):
            sandbox = await e2b.AsyncSandbox.create(**{k: v for k, v in options.items() if v is not None})
    read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](64)
    write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
    lines, errors = _Lines(), _Lines()
    exited = anyio.Event()

    async def on_stdout(chunk: str) -> None:
        for line in lines.feed(chunk):
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                await read_writer.send(_parse(line))

    def on_stderr(chunk: str) -> None:
        if stderr_tail is not None:
            stderr_tail.extend(errors.feed(chunk))

    async def watch(handle: Any) -> None:
        while True:
            try:
                await handle.wait()
                break
            except e2b.CommandExitException:
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                # The stream dropped; the server may be alive: reattach, dropping a half line.
                lines.reset()
                try:
                    handle = await sandbox.commands.connect(
                        pid, timeout=0, on_stdout=on_stdout, on_stderr=on_stderr, retain_output=False
                    )
                except Exception:
                    break
        exited.set()
        await read_writer.aclose()

    async def writer() -> None:
        async with write_reader:
            async for message in write_reader:
                data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                try:
                    await sandbox.commands.send_stdin(pid, data.encode("utf-8"))
                except Exception:
                    await read_writer.aclose()
                    return

    try:
        with _starting(server, f"could not start {command!r} in the sandbox"):
            handle = await sandbox.commands.run(
                shlex.join([command, *(args or [])]),
                background=True,
                stdin=True,
                timeout=0,
                envs=env,
                cwd=cwd,
                on_stdout=on_stdout,
                on_stderr=on_stderr,
                retain_output=False,
            )
        pid = handle.pid
        async with anyio.create_task_group() as group:
            group.start_soon(watch, handle)
            group.start_soon(writer)
            try:
                yield read_stream, write_stream
            finally:
                with anyio.CancelScope(shield=True):
                    await write_stream.aclose()
                    with contextlib.suppress(Exception):
                        await sandbox.commands.kill(pid)
                    with anyio.move_on_after(5):
                        await exited.wait()
                group.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            # All four ends: when the command never started, no task closed its own.
            for stream in (read_stream, read_writer, write_stream, write_reader):
                await stream.aclose()
            if own_sandbox:
                with contextlib.suppress(Exception):
                    await sandbox.kill()


@dataclass
class E2BStdioConnector:
    """A stdio MCP server run inside an E2B sandbox (one sandbox per connection).

    Raises:
        ConfigError: at construction, an unknown key in `sandbox_options`.
    """

    name: str
    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None
    cwd: str | None = None
    sandbox_options: dict[str, Any] = field(default_factory=dict)
    connect_timeout: float = 120.0
    request_timeout: float | None = 60.0
    _stderr: deque[str] = field(default_factory=lambda: deque(maxlen=50), init=False, repr=False)

    def __post_init__(self) -> None:
        _check_options(self.name, self.sandbox_options)

    def transports(self) -> Iterator[tuple[str, Target]]:
        """One candidate: the server's stdio inside a sandbox (a missing SDK fails when it is entered)."""
        self._stderr.clear()
        yield "e2b", e2b_stdio_client(
            self.command, self.args, env=self.env, cwd=self.cwd, sandbox_options=self.sandbox_options,
            stderr_tail=self._stderr, name=self.name,
        )

    def diagnostics(self) -> str:
        """The tail of the server's stderr inside the sandbox."""
        return "\n".join(list(self._stderr)[-10:])
