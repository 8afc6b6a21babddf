"""The `code_mode` pseudo-session: code mode as the MCP server `get_all_active_sessions()` presents.

It is the same server `codemode serve` runs (`build_code_mode_server`), reached in-process through
an `MCPSession`, so its contract is tested here without a subprocess (the toy server runs
in-process too, except where a config file names it): a failing program is an error result, the
client's limits are honoured, bad arguments are refused with the reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.types import CallToolResult, TextContent, TextResourceContents

from engine import ConfigError, Limits, MCPClient, MCPSession, build_code_mode_server
from engine.codemode.server import MAX_PROGRAM_CHARS
from tests.conftest import toy_entry
from tests.servers.toy import server as toy_server

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client() -> AsyncIterator[MCPClient]:
    client = MCPClient({"mcpServers": {"toy": toy_server}}, code_mode=True, limits={"timeout": 5})
    try:
        yield client
    finally:
        await client.close_all_sessions()


def pseudo(client: MCPClient) -> MCPSession:
    sessions = client.get_all_active_sessions()
    assert list(sessions) == ["code_mode"]
    return sessions["code_mode"]


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def execute(client: MCPClient, code: str, **arguments: Any) -> CallToolResult:
    with anyio.fail_after(60):
        return await pseudo(client).call_tool("execute_code", {"code": code, **arguments})


async def test_it_offers_the_two_code_mode_tools(client: MCPClient) -> None:
    with anyio.fail_after(60):
        tools = await pseudo(client).list_tools()
    assert sorted(tool.name for tool in tools) == ["execute_code", "search_tools"]


async def test_a_program_that_works_returns_its_envelope(client: MCPClient) -> None:
    result = await execute(client, "print('hi')\nreturn await toy.add(a=2, b=3)")
    assert not result.is_error
    envelope = result.structured_content
    assert envelope is not None and envelope["result"] == 5 and envelope["logs"] == ["hi"]
    assert text(result).startswith("output:\n  hi\nresult: 5")


async def test_a_failing_program_is_an_error_result_with_its_line(client: MCPClient) -> None:
    result = await execute(client, "x = 1\nawait toy.fail(message='out of stock')\n")
    assert result.is_error
    envelope = result.structured_content
    assert envelope is not None and envelope["error_info"]["type"] == "ToolError"
    assert envelope["error_info"]["line"] == 2
    assert text(result).startswith("error: ToolError: toy.fail:")


async def test_the_clients_timeout_is_the_default_of_every_program() -> None:
    client = MCPClient({"mcpServers": {"toy": toy_server}}, code_mode=True, limits={"timeout": 1})
    try:
        result = await execute(client, "while True:\n    pass\n")
    finally:
        await client.close_all_sessions()
    assert result.is_error
    envelope = result.structured_content
    assert envelope is not None and envelope["error_info"]["type"] == "TimeoutError"
    assert envelope["usage"]["limits"]["timeout"] == 1


async def test_a_timeout_above_the_limit_is_cut_to_the_limit(client: MCPClient) -> None:
    result = await execute(client, "return 1", timeout=3600)
    assert not result.is_error
    assert result.structured_content is not None and result.structured_content["usage"]["limits"]["timeout"] == 5
    shorter = await execute(client, "return 1", timeout=2)
    assert shorter.structured_content is not None and shorter.structured_content["usage"]["limits"]["timeout"] == 2


@pytest.mark.parametrize("timeout", [-1, 0, math.nan, math.inf], ids=["negative", "zero", "nan", "inf"])
async def test_a_bad_timeout_is_refused_with_the_reason(client: MCPClient, timeout: float) -> None:
    # Called on the server object: JSON has no NaN or infinity, and the SDK's client sends them as null.
    server = build_code_mode_server(client.code_mode_engine())
    with anyio.fail_after(60):
        result = await server.call_tool("execute_code", {"code": "return 1", "timeout": timeout})
    assert isinstance(result, CallToolResult) and result.is_error and result.structured_content is None
    assert text(result) == f"error: timeout must be a positive, finite number of seconds, got {float(timeout)!r}"


async def test_a_bad_timeout_over_the_wire_is_an_error_result_too(client: MCPClient) -> None:
    result = await execute(client, "return 1", timeout=-1)
    assert result.is_error and text(result) == "error: timeout must be a positive, finite number of seconds, got -1"


async def test_an_oversized_program_is_refused_before_it_runs(client: MCPClient) -> None:
    code = "x = 1\n" * (MAX_PROGRAM_CHARS // 6 + 1)
    result = await execute(client, code)
    assert result.is_error and result.structured_content is None
    assert f"at most {MAX_PROGRAM_CHARS:,} are accepted" in text(result)


async def test_search_tools_refuses_a_bad_argument_with_one_clean_message(client: MCPClient) -> None:
    with anyio.fail_after(60):
        bad = await pseudo(client).call_tool("search_tools", {"query": "add", "limit": 0})
        found = await pseudo(client).call_tool("search_tools", {"query": "add two numbers", "limit": 1})
    assert bad.is_error and text(bad).startswith("error: search_tools") and "limit" in text(bad)
    assert text(bad).count("search_tools") == 1 and "__engine__" not in text(bad)  # one clean prefix
    assert found.structured_content is not None and found.structured_content["results"][0]["identifier"] == "add"


async def test_the_stubs_resource_and_the_prompt_show_what_is_loaded_when_asked(client: MCPClient) -> None:
    session = pseudo(client)

    async def stubs() -> str:
        contents = (await session.read_resource("codemode://stubs")).contents[0]
        assert isinstance(contents, TextResourceContents)
        return contents.text

    with anyio.fail_after(60):
        before = await stubs()
        await execute(client, "return await toy.add(a=1, b=1)")  # waits for the toy server's tools
        after = await stubs()
        content = (await session.get_prompt("code_mode")).messages[0].content
    assert before == "# No tools loaded yet; starting or not yet used: toy.\n"
    assert "class toy:" in after and "async def add(" in after
    assert isinstance(content, TextContent)
    assert "- toy (server 'toy'," in content.text and "class toy:" in content.text


async def test_the_config_files_code_mode_key_sets_the_limits_the_pseudo_session_honours(tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"mcpServers": {"toy": toy_entry()}, "codeMode": {"limits": {"timeout": 1}}}))
    client = MCPClient(config=str(path), code_mode=True)
    try:
        result = await execute(client, "while True:\n    pass\n", timeout=60)
    finally:
        await client.close_all_sessions()
    assert client.limits.timeout == 1 and client.executor == "restricted"
    assert result.structured_content is not None and result.structured_content["error_info"]["type"] == "TimeoutError"
    assert result.structured_content["usage"]["limits"]["timeout"] == 1  # 60 was cut to the configured limit


def test_arguments_win_over_the_code_mode_key_and_options_belong_to_their_executor() -> None:
    document = {"mcpServers": {}, "codeMode": {"executor": "process", "executorOptions": {"workers": 1},
                                               "limits": {"maxToolCalls": 3}}}
    defaults = MCPClient(document)
    assert (defaults.executor, defaults.executor_options) == ("process", {"workers": 1})
    assert defaults.limits.max_tool_calls == 3
    explicit = MCPClient(document, executor="restricted", limits={"timeout": 2})
    assert (explicit.executor, explicit.executor_options) == ("restricted", {})
    assert explicit.limits == Limits(timeout=2)  # the argument replaces the file's limits, it is not merged


def test_an_unknown_code_mode_key_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in 'codeMode': limit; known: executor, executorOptions"):
        MCPClient({"mcpServers": {}, "codeMode": {"limit": {"timeout": 1}}})
