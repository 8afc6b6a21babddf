"""`codemode serve` driven by the mcp SDK's client, over stdio and over streamable HTTP.

Each test starts the command as a subprocess in front of real servers (the toy server, the demo
inventory, and `tests/servers/silent.py`, which never answers its handshake), the way a desktop
client or an agent framework would.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import LoggingMessageNotificationParams, TextContent

from tests.cli.conftest import COMMAND, alive, children_of, command_env, processes_with, write_config
from tests.conftest import ROOT, free_port, toy_entry
from tests.servers.toy import server as toy_server

pytestmark = pytest.mark.anyio

TOY_TOOLS = len(anyio.run(toy_server.list_tools))
"""How many tools the toy server offers (counted from the server itself, not hard-coded)."""

SILENT = ROOT / "tests" / "servers" / "silent.py"

HANDSHAKE_TIMEOUT = 5
"""What pydantic-ai gives a stdio server to answer `initialize` (its `MCPServerStdio(timeout=5)`)."""


class Received:
    """What the server sent besides results: log messages and progress, with arrival times."""

    def __init__(self) -> None:
        self.logs: list[tuple[float, Any]] = []
        self.progress: list[tuple[float, float, str | None]] = []

    async def on_log(self, params: LoggingMessageNotificationParams) -> None:
        self.logs.append((time.monotonic(), params.data))

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.progress.append((time.monotonic(), progress, message))


class Served:
    def __init__(self, client: Client, pid: int, received: Received, port: int | None = None) -> None:
        self.client = client
        self.pid = pid
        self.received = received
        self.port = port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        assert process.poll() is None, f"codemode serve exited with {process.returncode}"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"codemode serve did not listen on {port}")


def serve_params(config: Path) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=[*COMMAND[1:], "serve", "--config", str(config)],
                                 cwd=str(ROOT), env=command_env())


@asynccontextmanager
async def serve_stdio(config: Path) -> AsyncIterator[Served]:
    received = Received()
    async with Client(serve_params(config), logging_callback=received.on_log, log_level="info") as client:
        [pid] = processes_with(str(config))
        yield Served(client, pid, received)


@asynccontextmanager
async def serve_http(config: Path) -> AsyncIterator[Served]:
    port = free_port()
    process = subprocess.Popen([*COMMAND, "serve", "--config", str(config), "--http", "--port", str(port)],
                               cwd=ROOT, env=command_env(), stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process)
        received = Received()
        async with Client(f"http://127.0.0.1:{port}/mcp", logging_callback=received.on_log,
                          log_level="info") as client:
            yield Served(client, process.pid, received, port)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


TRANSPORTS = {"stdio": serve_stdio, "http": serve_http}


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> Any:
    return TRANSPORTS[request.param]


BOTH = "return [await toy.add(a=1, b=1), len(await inventory.list_products())]"
"""A program that names both servers, so it runs once both are up."""

STARTING = "starting (a program that uses it waits for it; search_tools lists its tools once up)"


def _server_lines(instructions: str) -> dict[str, str]:
    return {line[2:].split(" ", 1)[0].rstrip(":"): line for line in instructions.splitlines() if line.startswith("- ")}


async def test_it_offers_two_tools_and_a_prompt_that_names_every_namespace(transport: Any, config: Path) -> None:
    with anyio.fail_after(60):
        async with transport(config) as served:
            tools = await served.client.list_tools()
            assert sorted(t.name for t in tools.tools) == ["execute_code", "search_tools"]
            # Servers connect in the background: each is listed with its tools, or as still starting.
            lines = _server_lines(served.client.instructions or "")
            assert lines["toy"] == f"- toy: {STARTING}" or lines["toy"].startswith(
                f"- toy (server 'toy', {TOY_TOOLS} tools): [")
            assert lines["inventory"] in (f"- inventory: {STARTING}",
                                          "- inventory (server 'inventory', 2 tools): get_stock, list_products")
            await served.client.call_tool("execute_code", {"code": BOTH})  # waits for the servers it names
            content = (await served.client.get_prompt("code_mode")).messages[0].content
    assert isinstance(content, TextContent)
    prompt = content.text
    assert f"- toy (server 'toy', {TOY_TOOLS} tools): [" in prompt  # clashing names first
    assert "['clash-name'], ['clash_name'], add," in prompt
    assert "- inventory (server 'inventory', 2 tools): get_stock, list_products" in prompt
    assert "class inventory:" in prompt and "async def get_stock(*, sku: str)" in prompt


async def test_over_http_a_client_that_connects_once_the_servers_are_up_gets_their_tools_in_the_instructions(
    config: Path,
) -> None:
    with anyio.fail_after(60):
        async with serve_http(config) as served:
            await served.client.call_tool("execute_code", {"code": BOTH})  # waits for the servers it names
            instructions = STARTING
            while STARTING in instructions:  # rebuilt as soon as the last server settled
                async with Client(f"http://127.0.0.1:{served.port}/mcp") as later:
                    instructions = later.instructions or ""
    assert f"- toy (server 'toy', {TOY_TOOLS} tools): [" in instructions
    assert "- inventory (server 'inventory', 2 tools): get_stock, list_products" in instructions
    assert "async def get_stock(*, sku: str)" in instructions  # the stubs fit, so they are included


async def test_a_program_calls_two_downstream_servers(transport: Any, config: Path) -> None:
    program = (
        "import asyncio\n"
        "total, stock = await asyncio.gather(toy.add(a=40, b=2), inventory.get_stock(sku='SAW-02'))\n"
        "return {'total': total, 'saw': stock['on_hand']}\n"
    )
    with anyio.fail_after(60):
        async with transport(config) as served:
            result = await served.client.call_tool("execute_code", {"code": program})
    assert not result.is_error
    envelope = result.structured_content
    assert envelope is not None
    assert envelope["result"] == {"total": 42, "saw": 2}
    assert sorted(call["tool"] for call in envelope["tool_calls"]) == ["inventory.get_stock", "toy.add"]
    text = result.content[0].text  # type: ignore[union-attr]
    assert '"total": 42' in text and "2 tool calls" in text


async def test_a_tool_error_comes_back_with_its_line(transport: Any, config: Path) -> None:
    program = "x = await toy.add(a=1, b=2)\nprint('before')\nawait toy.fail(message='no such order')\nreturn x\n"
    with anyio.fail_after(60):
        async with transport(config) as served:
            result = await served.client.call_tool("execute_code", {"code": program})
    assert result.is_error
    envelope = result.structured_content
    assert envelope is not None and envelope["error_info"]["type"] == "ToolError"
    assert envelope["error_info"]["line"] == 3
    text = result.content[0].text  # type: ignore[union-attr]
    assert text.startswith("error: ToolError: toy.fail:") and "no such order (line 3)" in text.splitlines()[0]
    assert "output:\n  before" in text


async def test_search_tools_ranks_across_servers(transport: Any, config: Path) -> None:
    with anyio.fail_after(60):
        async with transport(config) as served:
            result = await served.client.call_tool("search_tools", {"query": "units in stock", "limit": 3})
    found = result.structured_content
    assert found is not None and found["results"][0]["namespace"] == "inventory"
    assert found["results"][0]["identifier"] == "get_stock"
    assert found["meta"]["namespaces"] == ["inventory", "toy"]


SLOW_PROGRAM = "print('started')\nawait toy.sleep(seconds=2.5)\nprint('finished')\nreturn 'done'\n"


async def test_a_long_program_reports_progress_and_its_output_as_log_messages(transport: Any, config: Path) -> None:
    with anyio.fail_after(60):
        async with transport(config) as served:
            received = served.received
            result = await served.client.call_tool(
                "execute_code", {"code": SLOW_PROGRAM}, progress_callback=received.on_progress
            )
            # The client may hand notifications to their callbacks just after the result: wait for them.
            while len(received.logs) < 2 or len(received.progress) < 2:
                await anyio.sleep(0.01)
    assert result.structured_content is not None and result.structured_content["result"] == "done"
    assert [data for _, data in received.logs] == ["started", "finished"]
    # Progress is sent once a second while the program runs: two ticks for a 2.5 s program.
    messages = [message for _, _, message in received.progress]
    assert all(message is not None and message.startswith("running for") for message in messages)


async def test_printed_lines_arrive_while_the_program_still_runs(transport: Any, config: Path) -> None:
    # The program cannot finish before its first line has arrived: after printing it waits at a
    # barrier that a second program joins only once the line is here.
    held = "print('started')\nmet = await toy.meet(n=2, group='streamed')\nreturn met['met']\n"
    results: list[Any] = []
    with anyio.fail_after(60):
        async with transport(config) as served:

            async def run_held() -> None:
                results.append(await served.client.call_tool("execute_code", {"code": held}))

            async with anyio.create_task_group() as tg:
                tg.start_soon(run_held)
                while not served.received.logs:
                    await anyio.sleep(0.01)
                joined = "return (await toy.meet(n=2, group='streamed'))['met']\n"
                await served.client.call_tool("execute_code", {"code": joined})
    assert [data for _, data in served.received.logs][:1] == ["started"]
    [result] = results
    assert result.structured_content is not None and result.structured_content["result"] is True


async def test_closing_the_connection_stops_every_downstream_server(transport: Any, config: Path) -> None:
    with anyio.fail_after(60):
        async with transport(config) as served:
            await served.client.call_tool("execute_code", {"code": "return await toy.add(a=1, b=1)"})
            downstream = children_of(served.pid)
            # toy, inventory, the pre-run type checker (ty server), and the process pool's template
            # (serve's default executor), whose workers are its own children
            assert len(downstream) == 4
            downstream |= {pid for child in list(downstream) for pid in children_of(child)}
            assert len(downstream) > 4
            serve_pid = served.pid
        end = time.monotonic() + 30
        while (alive(serve_pid) or any(alive(pid) for pid in downstream)) and time.monotonic() < end:
            await anyio.sleep(0.05)
    assert not alive(serve_pid)
    assert not [pid for pid in downstream if alive(pid)]


def server_lines(process: subprocess.Popen[str], count: int) -> list[str]:
    """The first `count` lines `serve` writes about its downstream servers (skipping its own status)."""
    assert process.stderr is not None
    found: list[str] = []
    while len(found) < count:
        line = process.stderr.readline()
        assert line, "codemode serve ended early"
        if not line.startswith(("codemode: serving", "codemode: programs run")):
            found.append(line)
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_stdio_serve_cleanly(config: Path, sig: signal.Signals) -> None:
    process = subprocess.Popen([*COMMAND, "serve", "--config", str(config)], cwd=ROOT, env=command_env(),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = server_lines(process, 2)
        assert sorted(line.split(":")[1].strip() for line in ready) == ["inventory", "toy"]
        downstream = children_of(process.pid)
        assert len(downstream) == 2
        process.send_signal(sig)  # stdin stays open: only the signal can end it
        assert process.wait(30) == 0
        assert "all servers closed" in process.stderr.read()
        assert not [pid for pid in downstream if alive(pid)]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_signal_while_a_server_is_still_starting_stops_serve_and_every_child(tmp_path: Path) -> None:
    config = write_config(tmp_path / "servers.json", {
        "toy": toy_entry(), "silent": {"command": sys.executable, "args": [str(SILENT)]},
    })
    process = subprocess.Popen([*COMMAND, "serve", "--config", str(config)], cwd=ROOT, env=command_env(),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        [ready] = server_lines(process, 1)
        assert ready.startswith("codemode: toy: ")  # the silent one never reports
        downstream = children_of(process.pid)
        assert len(downstream) == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        assert not [pid for pid in downstream if alive(pid)]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_initialize_is_answered_at_once_beside_a_server_that_never_answers_its_handshake(
    tmp_path: Path,
) -> None:
    """pydantic-ai gives a stdio server 5 s to answer `initialize`; `serve` must not spend them on its servers.

    The 5 s are counted from the moment `serve` says it is serving: the interpreter's own start
    (importing `mcp` alone takes seconds on a loaded machine) is not what this test is about.
    """
    config = write_config(tmp_path / "servers.json", {
        "toy": toy_entry(), "silent": {"command": sys.executable, "args": [str(SILENT)]},
    }, codeMode={"limits": {"timeout": 8}})
    log = tmp_path / "serve.log"
    with anyio.fail_after(60), log.open("w") as errlog:
        async with stdio_client(serve_params(config), errlog=errlog) as (read, write), \
                ClientSession(read, write) as session:
            while "codemode: serving on stdio" not in log.read_text():
                await anyio.sleep(0.05)
            with anyio.fail_after(HANDSHAKE_TIMEOUT):  # as pydantic-ai bounds it
                initialized = await session.initialize()
            instructions = initialized.instructions or ""
            # A program waits only for the servers it names: this one runs as soon as toy is up.
            result = await session.call_tool("execute_code", {"code": "return await toy.add(a=2, b=3)"})
            missing = await session.call_tool("execute_code", {"code": "return await silent.anything()", "timeout": 4})
    assert "- silent: starting" in instructions
    assert "codemode: programs run on the 'process' executor" in log.read_text()  # serve's default
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["result"] == 5
    assert missing.is_error
    first = missing.content[0].text.splitlines()[0]  # type: ignore[union-attr]
    assert first.startswith("error: ") and "'silent'" in first and "still starting" in first


async def test_a_server_that_fails_to_start_is_named_unavailable_and_the_rest_still_serve(tmp_path: Path) -> None:
    config = write_config(tmp_path / "servers.json", {
        "toy": toy_entry(), "gone": {"command": str(tmp_path / "no-such-server")},
    }, codeMode={"limits": {"timeout": 12}})
    with anyio.fail_after(60):
        async with serve_stdio(config) as served:
            instructions = served.client.instructions or ""
            result = await served.client.call_tool("execute_code", {"code": "return await toy.echo(text='hi')"})
            bad_search = await served.client.call_tool("search_tools", {"query": "x", "detail_level": "everything"})
    assert "- gone: unavailable: server 'gone': could not connect" in instructions
    assert "Limits per program: 12 s," in instructions
    assert result.structured_content is not None and result.structured_content["result"] == "hi"
    assert bad_search.is_error and "detail_level must be" in bad_search.content[0].text  # type: ignore[union-attr]
