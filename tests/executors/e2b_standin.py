"""A local stand-in for the E2B sandbox daemon (envd): the process endpoints the SDK calls, over connect-RPC.

The real `e2b` SDK, in debug mode with `sandbox_url` pointed here, talks to this server exactly as it
talks to envd inside a sandbox: `process.Process/Start` and `Connect` (server streams of process
events), `SendInput`, `SendSignal`, `CloseStdin`, `List`, and `GET /health`. Commands run as local
subprocesses (`/bin/bash -l -c cmd`, as the SDK asks). Like envd, output is fanned out to the streams
connected at the time and is not kept for streams that connect later.

Test hooks simulate the network: `drop_streams(pid)` ends every open stream of a process without an
end event (a dropped connection), `fail_next_inputs(n)` makes the next `n` `SendInput` calls deliver
their data and then fail (the ambiguous failure that forces the host to resend), and `inputs` counts
the calls. Binds 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from e2b.envd.process import process_pb
from e2b.envd.process.process_connect import ProcessASGIApplication
from protobuf import Oneof

__all__ = ["EnvdStandIn"]

_END = object()


class _Proc:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.subscribers: list[asyncio.Queue[Any]] = []
        self.ended: process_pb.ProcessEvent | None = None


def _event(**kwargs: Any) -> process_pb.ProcessEvent:
    return process_pb.ProcessEvent(event=Oneof(*next(iter(kwargs.items()))))


class _ProcessService:
    """The `process.Process` service, backed by local subprocesses."""

    def __init__(self, owner: EnvdStandIn) -> None:
        self._owner = owner
        self.procs: dict[int, _Proc] = {}

    async def _pump(self, proc: _Proc, stream: asyncio.StreamReader | None, kind: str) -> None:
        if stream is None:
            return
        while True:
            chunk = await stream.read(4096)
            if not chunk:
                return
            data = process_pb.ProcessEvent.DataEvent(output=Oneof(kind, chunk))
            for queue in list(proc.subscribers):
                queue.put_nowait(_event(data=data))

    async def _run(self, pid: int, proc: _Proc) -> None:
        await asyncio.gather(
            self._pump(proc, proc.process.stdout, "stdout"), self._pump(proc, proc.process.stderr, "stderr")
        )
        code = await proc.process.wait()
        end = process_pb.ProcessEvent.EndEvent(exit_code=code, exited=True, status=f"exit status {code}")
        proc.ended = _event(end=end)
        for queue in list(proc.subscribers):
            queue.put_nowait(proc.ended)
            queue.put_nowait(_END)

    async def _stream(self, pid: int, proc: _Proc, wrap: Any) -> AsyncIterator[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        proc.subscribers.append(queue)
        try:
            yield wrap(event=_event(start=process_pb.ProcessEvent.StartEvent(pid=pid)))
            if proc.ended is not None:
                yield wrap(event=proc.ended)
                return
            while True:
                item = await queue.get()
                if item is _END:
                    return
                yield wrap(event=item)
        finally:
            with contextlib.suppress(ValueError):
                proc.subscribers.remove(queue)

    async def start(self, request: process_pb.StartRequest, ctx: Any) -> AsyncIterator[process_pb.StartResponse]:
        config = request.process
        assert config is not None
        env = {**os.environ, **dict(config.envs)}
        process = await asyncio.create_subprocess_exec(
            config.cmd,
            *config.args,
            stdin=asyncio.subprocess.PIPE if request.stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=config.cwd or None,
            start_new_session=True,
        )
        proc = _Proc(process)
        self.procs[process.pid] = proc
        self._owner.started.append(process.pid)
        stream = self._stream(process.pid, proc, process_pb.StartResponse)
        first = await stream.__anext__()
        asyncio.get_running_loop().create_task(self._run(process.pid, proc))
        yield first
        async for item in stream:
            yield item

    async def connect(self, request: process_pb.ConnectRequest, ctx: Any) -> AsyncIterator[process_pb.ConnectResponse]:
        proc = self._find(request.process)
        async for item in self._stream(proc.process.pid, proc, process_pb.ConnectResponse):
            yield item

    def _find(self, selector: process_pb.ProcessSelector | None) -> _Proc:
        pid = selector.selector.value if selector is not None and selector.selector is not None else None
        proc = self.procs.get(pid) if isinstance(pid, int) else None
        if proc is None or proc.ended is not None:
            raise ConnectError(Code.NOT_FOUND, f"process with pid {pid} not found")
        return proc

    async def send_input(self, request: process_pb.SendInputRequest, ctx: Any) -> process_pb.SendInputResponse:
        proc = self._find(request.process)
        self._owner.inputs += 1
        assert request.input is not None and request.input.input is not None
        stdin = proc.process.stdin
        if stdin is None:
            raise ConnectError(Code.FAILED_PRECONDITION, "stdin is not enabled")
        stdin.write(request.input.input.value)
        await stdin.drain()
        if self._owner.failures > 0:
            self._owner.failures -= 1
            raise ConnectError(Code.UNAVAILABLE, "stand-in: input delivered, reply lost")
        return process_pb.SendInputResponse()

    async def close_stdin(self, request: process_pb.CloseStdinRequest, ctx: Any) -> process_pb.CloseStdinResponse:
        proc = self._find(request.process)
        if proc.process.stdin is not None:
            proc.process.stdin.close()
        return process_pb.CloseStdinResponse()

    async def send_signal(self, request: process_pb.SendSignalRequest, ctx: Any) -> process_pb.SendSignalResponse:
        proc = self._find(request.process)
        sig = signal.SIGKILL if request.signal == process_pb.Signal.SIGKILL else signal.SIGTERM
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.process.pid, sig)
        return process_pb.SendSignalResponse()

    async def list(self, request: process_pb.ListRequest, ctx: Any) -> process_pb.ListResponse:
        infos = [process_pb.ProcessInfo(pid=pid) for pid, proc in self.procs.items() if proc.ended is None]
        return process_pb.ListResponse(processes=infos)

    async def update(self, request: Any, ctx: Any) -> Any:
        raise ConnectError(Code.UNIMPLEMENTED, "not in the stand-in")

    async def stream_input(self, request: Any, ctx: Any) -> Any:
        raise ConnectError(Code.UNIMPLEMENTED, "not in the stand-in")

    async def kill_all(self) -> None:
        for proc in self.procs.values():
            if proc.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.process.pid, signal.SIGKILL)


class EnvdStandIn:
    """Runs the stand-in on a thread; `url` is what to pass as the SDK's `sandbox_url`.

    ```python
    with EnvdStandIn() as envd:
        executor = E2BExecutor(debug=True, sandbox_url=envd.url, python=sys.executable)
    ```
    """

    def __init__(self) -> None:
        self.service = _ProcessService(self)
        self.inputs = 0
        self.failures = 0
        self.started: list[int] = []
        rpc = ProcessASGIApplication(self.service)  # type: ignore[arg-type]

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"] == "/health":
                await send({"type": "http.response.start", "status": 204, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            await rpc(scope, receive, send)

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="envd-standin", daemon=True)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._server.serve()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> EnvdStandIn:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the envd stand-in did not start")
            time.sleep(0.01)
        return self

    def _call(self, fn: Any) -> Any:
        assert self._loop is not None
        done = threading.Event()
        box: list[Any] = []

        def run() -> None:
            try:
                box.append(fn())
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(5)
        return box[0] if box else None

    def drop_streams(self, pid: int) -> int:
        """End every open output stream of `pid` without an end event; returns how many."""

        def drop() -> int:
            proc = self.service.procs[pid]
            for queue in proc.subscribers:
                queue.put_nowait(_END)
            return len(proc.subscribers)

        return int(self._call(drop))

    def fail_next_inputs(self, count: int) -> None:
        """The next `count` SendInput calls deliver their data, then report a failure."""
        self.failures = count

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None:
            future = asyncio.run_coroutine_threadsafe(self.service.kill_all(), self._loop)
            with contextlib.suppress(Exception):
                future.result(5)
        self._server.should_exit = True
        self._thread.join(10)


def main() -> None:
    """Serve until stdin closes (benchmarks run the stand-in in its own process): prints its URL."""
    import sys

    with EnvdStandIn() as envd:
        print(envd.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
