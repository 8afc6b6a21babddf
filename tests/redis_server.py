"""A real `redis-server` for the tests: started on a free port of 127.0.0.1 in a folder of its own, then stopped.

Nothing is saved (`--save ""`, `--appendonly no`), so a restart starts empty. The binary is
Debian's `redis-server` (`./dev test` installs it); `find_redis_server` says whether it is there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType


def find_redis_server() -> str | None:
    """The path of `redis-server`, or None if it is not installed."""
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One `redis-server` process: `start()`, `url`, `restart()`, `stop()`; or `with RedisServer() as server:`."""

    def __init__(self, *, password: str | None = None, port: int | None = None) -> None:
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
        self.binary = binary
        self.password = password
        self.port = port or free_port()
        self._folder = Path(tempfile.mkdtemp(prefix="engine-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        credentials = f":{self.password}@" if self.password is not None else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    def start(self, deadline: float = 20.0) -> None:
        command = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self._folder), "--logfile", str(self._folder / "redis.log"), "--daemonize", "no",
        ]
        if self.password is not None:
            command += ["--requirepass", self.password]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self._process.poll() is not None:
                log = self._folder / "redis.log"
                text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"redis-server exited with {self._process.returncode}: {text}")
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {deadline} s")

    def _answers(self) -> bool:
        # A PING in RESP; with a password the server answers -NOAUTH, which is an answer too.
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                return sock.recv(64)[:1] in (b"+", b"-")
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port: every connection drops, and the data is gone."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def on_ci() -> bool:
    return bool(os.environ.get("CI"))
