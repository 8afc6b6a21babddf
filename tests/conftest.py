"""Shared fixtures: real MCP servers (the toy server written with the mcp SDK, and third-party ones).

Every async test runs on asyncio through anyio's pytest plugin. Third-party servers are installed
by `tests/servers/install.sh` (pinned, each in its own environment) into `.servers/`.

The toy server runs over stdio (`toy_entry`), over HTTP and SSE (the `toy_*_url` fixtures), or in
this process (`toy_server`): tests where the transport is not the point use the last, which
starts in milliseconds instead of a Python process per session.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer

from tests.redis_server import RedisServer, find_redis_server

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "tests" / "servers" / "toy.py"
SERVERS = ROOT / ".servers"
NPM = SERVERS / "npm" / "node_modules" / "@modelcontextprotocol"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def toy_entry(*extra: str, **options: Any) -> dict[str, Any]:
    """A config entry that runs the toy server over stdio."""
    return {"command": sys.executable, "args": [str(TOY), "stdio", *extra], **options}


_toy_loads = itertools.count()


def toy_server() -> MCPServer:
    """A fresh toy server to run in this process (a config entry of its own, or an `InProcessConnector`).

    `toy.py` is executed anew for each call, so tools added at run time and stored notes never
    leak from one test into the next. Its `crash` tool is removed: it exits the process, which
    in-process would be the test run (crashes are tested over stdio).
    """
    spec = importlib.util.spec_from_file_location(f"toy_in_process_{next(_toy_loads)}", TOY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server: MCPServer = module.server
    server.remove_tool("crash")
    return server


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: run tests/servers/install.sh first (the README says how)")
    return path


def third_party_entry(name: str, workdir: Path) -> dict[str, Any]:
    """A config entry for one pinned third-party server."""
    if name in ("everything", "filesystem", "memory"):
        script = _require(NPM / f"server-{name}" / "dist" / "index.js")
        args = [str(script)]
        env: dict[str, str] = {}
        if name == "filesystem":
            args.append(str(workdir))
        if name == "memory":
            env["MEMORY_FILE_PATH"] = str(workdir / "memory.jsonl")
        return {"command": "node", "args": args, "env": env}
    binary = _require(SERVERS / f"{name}-venv" / "bin" / f"mcp-server-{name}")
    args = ["--repository", str(workdir)] if name == "git" else []
    return {"command": str(binary), "args": args}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port} within {deadline}s")


def _serve(command: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[int]:
    process = subprocess.Popen(
        command, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def toy_http_url() -> Iterator[str]:
    port = free_port()
    for _ in _serve([sys.executable, str(TOY), "http", str(port)], port):
        yield f"http://127.0.0.1:{port}/mcp"


@pytest.fixture(scope="session")
def toy_sse_url() -> Iterator[str]:
    port = free_port()
    for _ in _serve([sys.executable, str(TOY), "sse", str(port)], port):
        yield f"http://127.0.0.1:{port}/sse"


@pytest.fixture(scope="session")
def everything_http_url() -> Iterator[str]:
    port = free_port()
    script = str(_require(NPM / "server-everything" / "dist" / "index.js"))
    for _ in _serve(["node", script, "streamableHttp"], port, {"PORT": str(port)}):
        yield f"http://127.0.0.1:{port}/mcp"


@pytest.fixture(scope="session")
def everything_sse_url() -> Iterator[str]:
    port = free_port()
    script = str(_require(NPM / "server-everything" / "dist" / "index.js"))
    for _ in _serve(["node", script, "sse"], port, {"PORT": str(port)}):
        yield f"http://127.0.0.1:{port}/sse"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real `redis-server` on a free port of 127.0.0.1, for the whole session: `redis://127.0.0.1:PORT/0`.

    Skipped where `redis-server` is not installed, except on CI (`CI` set), where that fails.
    """
    if find_redis_server() is None:
        reason = "redis-server is not installed: ./dev test installs it (Debian package redis-server)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with RedisServer() as server:
        yield server.url
