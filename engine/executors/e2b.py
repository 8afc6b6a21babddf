"""The `e2b` executor: programs run with full Python in an E2B sandbox, tools stay on the host.

One sandbox per executor, created on first use, kept alive across runs and killed by `aclose()`.
Inside it one guest process (`engine.guest`) serves every run. It is started with
`sandbox.commands.run(cmd, background=True, stdin=True, timeout=0)` — `timeout=0` because the SDK's
default would kill it after 60 s — without retaining output. The wire over the E2B process API:

- host -> guest: length-prefixed link records written to the guest's stdin by ONE ordered writer
  (`send_stdin` calls issued concurrently could arrive reordered);
- guest -> host: link records as base64 lines on a private duplicate of the guest's stdout (the SDK
  decodes stdout as UTF-8 and splits it anywhere; `LineDecoder` buffers and splits on newlines);
- a dropped output stream is reattached with `commands.connect(pid)` and resynchronised by sequence
  numbers, so no call is lost or repeated (`engine.executors._remote`).

Without a template that pre-installs the guest (`sandbox_images/e2b`), the guest is shipped as
source over stdin to a small bootstrap on the sandbox's `python3`. The `e2b` SDK is imported
lazily: without it, constructing the executor says to `pip install 'engine[e2b]'`.

```python
executor = E2BExecutor(template="engine-guest")        # E2B_API_KEY from the environment
envelope = await executor.run(ExecutionRequest("import sys; return sys.version"))
await executor.aclose()
```
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

from ..envelope import Envelope
from ..errors import CodeModeError
from ._oneguest import RemoteExecutor
from ._remote import GuestTransport, TransportBroken
from .base import ExecutionRequest
from .bundle import bootstrap_command, installed_command, ship_payload

__all__ = ["E2BExecutor"]

DEFAULT_TEMPLATE_GUEST_PATH = "/opt/engine-guest"
"""Where the `sandbox_images/e2b` template installs the guest."""


def _import_sdk() -> Any:
    try:
        import e2b
    except ImportError as exc:
        raise CodeModeError(
            f"the e2b executor needs the E2B SDK ({exc}): pip install 'engine[e2b]'"
        ) from exc
    return e2b


class _E2BTransport:
    """A `GuestTransport` over one process of an E2B sandbox."""

    def __init__(self, sdk: Any, sandbox: Any, command: str, payload: bytes | None, envs: dict[str, str]) -> None:
        self._sdk = sdk
        self._sandbox = sandbox
        self._command = command
        self._payload = payload
        self._envs = envs
        self._handle: Any = None
        self._watch: asyncio.Task[None] | None = None
        self._on_data: Callable[[str | bytes], None] = lambda chunk: None
        self._on_broken: Callable[[], None] = lambda: None
        self._on_exit: Callable[[str], None] = lambda reason: None
        self.pid: int | None = None

    async def start(
        self, on_data: Callable[[str | bytes], None], on_broken: Callable[[], None], on_exit: Callable[[str], None]
    ) -> None:
        self._on_data, self._on_broken, self._on_exit = on_data, on_broken, on_exit
        self._handle = await self._sandbox.commands.run(
            self._command,
            background=True,
            stdin=True,
            timeout=0,
            envs=self._envs,
            on_stdout=self._stdout,
            on_stderr=self._stderr,
            retain_output=False,
        )
        self.pid = self._handle.pid
        self._watch = asyncio.get_running_loop().create_task(self._watch_handle(self._handle))
        if self._payload is not None:
            await self.write(self._payload)

    def _stdout(self, chunk: str) -> None:
        self._on_data(chunk)

    def _stderr(self, chunk: str) -> None:
        pass  # guest diagnostics only; programs' output never reaches the process's real stderr

    async def _watch_handle(self, handle: Any) -> None:
        try:
            await handle.wait()
        except asyncio.CancelledError:
            raise
        except self._sdk.CommandExitException as exc:
            self._on_exit(f"the guest exited with status {exc.exit_code}")
            return
        except Exception:
            # The stream ended without an end event, or failed: the process may well be alive.
            self._on_broken()
            return
        self._on_exit("the guest exited")

    async def write(self, data: bytes) -> None:
        if self.pid is None:
            raise TransportBroken("the guest is not started")
        try:
            await self._sandbox.commands.send_stdin(self.pid, data)
        except Exception as exc:
            raise TransportBroken(f"{type(exc).__name__}: {exc}") from exc

    async def _detach(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(BaseException):
                await watch
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(Exception):
                await handle.disconnect()

    async def reattach(self) -> bool:
        if self.pid is None:
            return False
        await self._detach()
        try:
            self._handle = await self._sandbox.commands.connect(
                self.pid, timeout=0, on_stdout=self._stdout, on_stderr=self._stderr, retain_output=False
            )
        except self._sdk.NotFoundException:
            return False
        except Exception as exc:
            raise TransportBroken(f"could not reattach: {type(exc).__name__}: {exc}") from exc
        self._watch = asyncio.get_running_loop().create_task(self._watch_handle(self._handle))
        return True

    async def kill(self) -> None:
        pid = self.pid
        await self._detach()
        if pid is not None:
            with contextlib.suppress(Exception):
                await self._sandbox.commands.kill(pid)


class E2BExecutor(RemoteExecutor):
    """Runs programs with full Python in one E2B sandbox, reused across runs.

    Args:
        template: the sandbox template; None uses E2B's default and ships the guest over stdin.
        timeout: the sandbox's lifetime in seconds, renewed while the executor is used.
        envs: environment variables for the sandbox (never the host's).
        allow_internet_access: let programs reach the internet (off by default).
        api_key: the E2B API key; defaults to the `E2B_API_KEY` environment variable.
        domain, debug, sandbox_url, request_timeout, http_version: passed to the SDK (tests point
            `debug=True, sandbox_url=...` at a local stand-in of the sandbox daemon).
        python: the interpreter inside the sandbox.
        ship_guest: ship the guest as source (default: when no template is given).
        guest_path: where the template installed the guest.
    """

    grace = 5.0
    stop_grace = 3.0
    start_timeout = 60.0

    def __init__(
        self,
        *,
        template: str | None = None,
        timeout: int = 300,
        envs: dict[str, str] | None = None,
        allow_internet_access: bool = False,
        api_key: str | None = None,
        domain: str | None = None,
        debug: bool | None = None,
        sandbox_url: str | None = None,
        request_timeout: float | None = None,
        http_version: str | None = None,
        python: str = "python3",
        ship_guest: bool | None = None,
        guest_path: str = DEFAULT_TEMPLATE_GUEST_PATH,
    ) -> None:
        self._sdk = _import_sdk()
        super().__init__()
        self._api_key = api_key or os.environ.get("E2B_API_KEY")
        if not self._api_key and not debug:
            raise CodeModeError("the e2b executor needs an API key: set E2B_API_KEY or pass api_key=...")
        self._template = template
        self._lifetime = int(timeout)
        self._envs = dict(envs or {})
        self._internet = allow_internet_access
        self._debug = debug
        self._connection: dict[str, Any] = {
            key: value
            for key, value in {
                "api_key": self._api_key,
                "domain": domain,
                "debug": debug,
                "sandbox_url": sandbox_url,
                "request_timeout": request_timeout,
                "http_version": http_version,
            }.items()
            if value is not None
        }
        self._python = python
        self._ship = ship_guest if ship_guest is not None else template is None
        self._guest_path = guest_path
        self._sandbox: Any = None
        self._renewed = 0.0
        self.sandbox_seconds: float | None = None
        """How long creating the sandbox took, for benchmarks."""

    @property
    def sandbox(self) -> Any:
        """The `AsyncSandbox` (None before the first run)."""
        return self._sandbox

    async def _ensure_sandbox(self) -> Any:
        if self._sandbox is not None and self._guest is not None and self._guest.dead is not None:
            # The guest died: if the whole sandbox went with it (lifetime over), start a new one.
            alive = False
            with contextlib.suppress(Exception):
                alive = bool(await self._sandbox.is_running())
            if not alive:
                self._sandbox = None
        if self._sandbox is None:
            started = time.perf_counter()
            self._sandbox = await self._sdk.AsyncSandbox.create(
                template=self._template,
                timeout=self._lifetime,
                envs=self._envs or None,
                allow_internet_access=self._internet,
                **self._connection,
            )
            self.sandbox_seconds = time.perf_counter() - started
            self._renewed = time.monotonic()
        return self._sandbox

    async def _transport(self) -> GuestTransport:
        sandbox = await self._ensure_sandbox()
        if self._ship:
            return _E2BTransport(self._sdk, sandbox, bootstrap_command(self._python), ship_payload(), {})
        return _E2BTransport(self._sdk, sandbox, installed_command(self._guest_path, self._python), None, {})

    async def _keep_alive(self) -> None:
        # Renew the sandbox's lifetime once half of it has passed, so a used executor never expires.
        if self._sandbox is None or self._debug or time.monotonic() - self._renewed < self._lifetime / 2:
            return
        with contextlib.suppress(Exception):
            await self._sandbox.set_timeout(self._lifetime)
            self._renewed = time.monotonic()

    async def run(self, request: ExecutionRequest) -> Envelope:
        """Run one program in the sandbox (renewing its lifetime first when due)."""
        await self._keep_alive()
        return await super().run(request)

    async def aclose(self) -> None:
        """Stop the guest and kill the sandbox."""
        if self._closed:
            return
        await super().aclose()
        sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            with contextlib.suppress(Exception):
                await sandbox.kill()
