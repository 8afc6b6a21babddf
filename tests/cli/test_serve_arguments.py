"""Finding 9 of issue 14: `codemode serve` refuses bad arguments and oversized requests, saying why.

Through the mcp SDK's client against a real `codemode serve` (stdio and streamable HTTP), and
with raw JSON-RPC where the SDK's client cannot send the value (it writes NaN and infinity as
`null`, which means "the default"). Before the fix a string or bool timeout was converted, an
unknown or misspelt argument dropped (the program ran with the default timeout), and a 50 MB
program over HTTP got `MCPError(-32603, 'Server returned an error response')`.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, MCPError
from mcp.types import INVALID_REQUEST

from engine import MCPClient, build_code_mode_server
from engine.cli.body_limit import MAX_REQUEST_BYTES
from engine.codemode.arguments import EXECUTE_CODE_ARGUMENTS, SEARCH_TOOLS_ARGUMENTS
from tests.cli.conftest import COMMAND, command_env, write_config
from tests.cli.test_serve import TRANSPORTS, serve_http
from tests.conftest import ROOT, toy_entry

pytestmark = pytest.mark.anyio

POSITIVE = "timeout must be a positive, finite number of seconds, got"

BAD_EXECUTE = [
    ({"timeout": -1}, f"{POSITIVE} -1"),
    ({"timeout": 0}, f"{POSITIVE} 0"),
    ({"timeout": "5"}, f"{POSITIVE} str '5'"),
    ({"timeout": "abc"}, f"{POSITIVE} str 'abc'"),
    ({"timeout": True}, f"{POSITIVE} bool True"),
    ({"timeout": [5]}, f"{POSITIVE} list [5]"),
    ({"tiemout": 5}, "execute_code() got an unknown argument 'tiemout' (did you mean 'timeout'?); it takes code, "),
    ({"timeout": 5, "bogus": 1}, "execute_code() got an unknown argument 'bogus'; it takes code, timeout"),
]

BAD_SEARCH = [
    ({"query": 5}, "search_tools() query must be a str, got int"),
    ({"limit": "3"}, "search_tools() limit must be a positive int or None, got str"),
    ({"limit": 2.5}, "search_tools() limit must be a positive int or None, got float"),
    ({"limit": 0}, "search_tools() limit must be a positive int or None, got 0"),
    ({"detail_level": 3}, "search_tools() detail_level must be 'names', 'descriptions' or 'full', got 3"),
    ({"querry": "add"}, "search_tools() got an unknown argument 'querry' (did you mean 'query'?)"),
]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "servers.json", {"toy": toy_entry()}, codeMode={"limits": {"timeout": 20}})


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> Any:
    return TRANSPORTS[request.param]


def text(result: Any) -> str:
    return str(result.content[0].text)


async def test_the_checked_names_are_the_tools_own() -> None:
    # A new argument of either tool must be added to the check too, or every call using it is refused.
    async with MCPClient({"mcpServers": {}}, code_mode=True) as client:
        tools = await build_code_mode_server(client.code_mode_engine()).list_tools()
    schemas = {tool.name: set(tool.input_schema["properties"]) for tool in tools}
    assert schemas == {"execute_code": set(EXECUTE_CODE_ARGUMENTS), "search_tools": set(SEARCH_TOOLS_ARGUMENTS)}


async def test_bad_arguments_of_both_tools_are_refused_with_the_reason(transport: Any, config: Path) -> None:
    with anyio.fail_after(90):
        async with transport(config) as served:
            call = served.client.call_tool
            executed = [await call("execute_code", {"code": "return 1", **bad}) for bad, _ in BAD_EXECUTE]
            searched = [await call("search_tools", bad) for bad, _ in BAD_SEARCH]
            missing = await call("execute_code", {"timeout": 5})
            # Valid calls still run: a number, an integer, null (the default), and the defaults of search.
            good = [await call("execute_code", {"code": "return 1", "timeout": t}) for t in (2.5, 3, None)]
            found = await served.client.call_tool("search_tools", {"query": "add", "limit": 1})
    for result, (_, message) in zip(executed + searched, BAD_EXECUTE + BAD_SEARCH, strict=True):
        assert result.is_error
        assert text(result).startswith(f"error: {message}"), text(result)
    assert missing.is_error and "needs the argument 'code'" in text(missing)
    assert [(r.is_error, r.structured_content["result"]) for r in good] == [(False, 1)] * 3  # type: ignore[index]
    limits = [r.structured_content["usage"]["limits"]["timeout"] for r in good]  # type: ignore[index]
    assert limits[:2] == [2.5, 3] and limits[2] == 20
    assert not found.is_error and found.structured_content is not None
    assert found.structured_content["results"][0]["identifier"] == "add"


def test_nan_and_infinite_timeouts_sent_as_json_are_refused(config: Path) -> None:
    # Python's json writes NaN and Infinity; 1e999 parses as infinity. Raw JSON-RPC over stdio.
    process = subprocess.Popen([*COMMAND, "serve", "--config", str(config), "-q"], cwd=ROOT, env=command_env(),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def request(number: int, method: str, params: str) -> dict[str, Any]:
        stdin.write(f'{{"jsonrpc": "2.0", "id": {number}, "method": "{method}", "params": {params}}}\n')
        stdin.flush()
        while True:
            answer: dict[str, Any] = json.loads(stdout.readline())
            if answer.get("id") == number:
                return answer

    try:
        hello = '{"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}'
        request(0, "initialize", hello)
        stdin.write('{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
        call = '{"name": "execute_code", "arguments": {"code": "return 1", "timeout": TIMEOUT}}'
        answers = {
            value: request(n, "tools/call", call.replace("TIMEOUT", value))
            for n, value in enumerate(["NaN", "Infinity", "-Infinity", "1e999"], 1)
        }
    finally:
        stdin.close()
        assert process.wait(30) == 0
    shown = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf", "1e999": "inf"}
    for value, answer in answers.items():
        assert answer["result"]["isError"] is True
        assert answer["result"]["content"][0]["text"] == f"error: {POSITIVE} {shown[value]}"


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


async def test_a_50_mb_program_over_http_is_refused_unread_and_other_clients_keep_working(config: Path) -> None:
    huge = "#" * 50_000_000
    others: list[Any] = []
    with anyio.fail_after(120):
        async with serve_http(config) as served:
            await served.client.call_tool("execute_code", {"code": "return await toy.add(a=1, b=1)"})  # warmed up
            before = peak_rss_kb(served.pid)

            async def refused() -> MCPError:
                with pytest.raises(MCPError) as caught:
                    await served.client.call_tool("execute_code", {"code": huge})
                return caught.value

            async def another_client() -> None:
                async with Client(f"http://127.0.0.1:{served.port}/mcp") as other:
                    for n in range(5):
                        program = f"return await toy.add(a={n}, b=1)"
                        others.append(await other.call_tool("execute_code", {"code": program}))

            errors: list[MCPError] = []
            async with anyio.create_task_group() as group:
                group.start_soon(another_client)
                errors.append(await refused())
            after = peak_rss_kb(served.pid)
            still = await served.client.call_tool("execute_code", {"code": "return await toy.add(a=2, b=2)"})
    [error] = errors
    assert error.error.code == INVALID_REQUEST
    assert re.match(r"request refused: its body has 50,000,\d{3} bytes;", error.error.message), error.error.message
    assert f"at most {MAX_REQUEST_BYTES:,} bytes per request" in error.error.message
    assert "at most 1,000,000 characters" in error.error.message
    assert [r.structured_content["result"] for r in others] == [1, 2, 3, 4, 5]  # type: ignore[index]
    assert still.structured_content is not None and still.structured_content["result"] == 4
    # Never read whole: the server's peak memory grew by far less than the 50 MB sent.
    assert after - before < 20_000


async def test_a_streamed_body_over_the_limit_is_refused_with_a_json_rpc_error(config: Path) -> None:
    async def body() -> AsyncIterator[bytes]:  # no Content-Length: the size is known only by reading
        chunk = b" " * 65_536
        for _ in range(800):
            yield chunk

    with anyio.fail_after(120):
        async with serve_http(config) as served, httpx.AsyncClient() as http:
            before = peak_rss_kb(served.pid)
            answer = await http.post(f"http://127.0.0.1:{served.port}/mcp", content=body(), headers={
                "content-type": "application/json", "accept": "application/json, text/event-stream"})
            after = peak_rss_kb(served.pid)
    assert answer.status_code == 413 and answer.headers["content-type"] == "application/json"
    error = answer.json()
    assert error["id"] is None and error["error"]["code"] == INVALID_REQUEST
    assert error["error"]["message"].startswith(f"request refused: its body has more than {MAX_REQUEST_BYTES:,} bytes")
    assert after - before < 20_000
