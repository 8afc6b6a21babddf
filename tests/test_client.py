"""MCPClient: every seed method, callbacks passed through to real servers, and failure isolation.

Where the transport is not the point, the toy server runs in this process (`toy_server()`); what
depends on a subprocess (a crash, a command that exits at start or does not exist) runs over stdio.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import types
from mcp.client.session import ClientRequestContext
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    LoggingMessageNotificationParams,
    Root,
    TextContent,
)

from engine import (
    CodeModeError,
    ConfigError,
    InProcessConnector,
    MCPClient,
    MCPSession,
    ServerError,
    SessionState,
    SessionStateError,
    StdioConnector,
)
from tests.conftest import third_party_entry, toy_entry, toy_server

pytestmark = pytest.mark.anyio


def text_of(result: Any) -> str:
    return "\n".join(item.text for item in result.content if getattr(item, "type", "") == "text")


async def test_config_dict_add_remove_save_and_names(tmp_path: Path) -> None:
    client = MCPClient({"mcpServers": {"a": toy_entry()}})
    client.add_server("b", {"command": "python3", "args": ["x.py"]})
    assert client.get_server_names() == ["a", "b"]
    with pytest.raises(ConfigError, match="server 'c': needs 'command'"):
        client.add_server("c", {"bogus": True})
    with pytest.raises(ConfigError, match="reserved for code mode"):
        client.add_server("code_mode", {"command": "x"})
    client.remove_server("b")
    client.remove_server("b")  # gone already: a logged warning, as in mcp_use
    target = tmp_path / "saved.json"
    client.save_config(str(target))
    saved = json.loads(target.read_text())
    assert list(saved["mcpServers"]) == ["a"]
    assert MCPClient.from_config_file(str(target)).get_server_names() == ["a"]
    assert MCPClient.from_dict(saved).get_server_names() == ["a"]


def shouting_server() -> Server[Any]:
    """A low-level server with one tool, `shout`."""

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(name="shout", input_schema={"type": "object"})])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        text = str((params.arguments or {}).get("text", ""))
        return types.CallToolResult(content=[types.TextContent(type="text", text=text.upper())])

    return Server("shouting", on_list_tools=list_tools, on_call_tool=call_tool)


async def test_server_objects_in_the_config_are_reached_in_process() -> None:
    toy = toy_server()
    config = {
        "mcpServers": {
            "toy": toy,
            "shouting": shouting_server(),
            "wrapped": InProcessConnector("wrapped", toy_server(), request_timeout=5),
            "stdio": toy_entry(),
        }
    }
    async with MCPClient(config, allowed_servers=["toy", "shouting", "wrapped", "late"]) as client:
        client.add_server("late", toy_server())
        assert client.get_server_names() == ["toy", "shouting", "wrapped", "stdio", "late"]
        with anyio.fail_after(30):
            sessions = await client.create_all_sessions()
            assert sorted(sessions) == ["late", "shouting", "toy", "wrapped"]  # "stdio" is not allowed
            assert sessions["toy"].session_info is not None and sessions["toy"].session_info["name"] == "toy"
            assert (await sessions["toy"].call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
            shouted = await sessions["shouting"].call_tool("shout", {"text": "hi"})
            assert text_of(shouted) == "HI"
            assert sessions["wrapped"].connector is config["mcpServers"]["wrapped"]  # used as given
            assert sessions["late"].connector.request_timeout == 60  # an entry's default, as for dicts
            # The very server object given: its state is the state the session sees.
            await sessions["toy"].call_tool("put_note", {"key": "k", "text": "shared"})
            assert (await sessions["toy"].read_resource("note://k")).contents[0].text == "shared"  # type: ignore[union-attr]


async def test_config_keeps_server_objects_and_save_config_leaves_them_out_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    toy, shouting = toy_server(), shouting_server()
    client = MCPClient({"mcpServers": {"toy": toy, "files": {"command": "npx", "args": ["x"]}}})
    client.add_server("shouting", shouting)
    config = client.config
    assert config["mcpServers"]["toy"] is toy and config["mcpServers"]["shouting"] is shouting
    assert MCPClient(config).get_server_names() == ["toy", "files", "shouting"]  # the config round-trips
    target = tmp_path / "saved.json"
    caplog.set_level(logging.WARNING, logger="engine.client")
    client.save_config(str(target))
    assert json.loads(target.read_text()) == {"mcpServers": {"files": {"command": "npx", "args": ["x"]}}}
    warnings = [r.getMessage() for r in caplog.records if r.name == "engine.client"]
    assert len(warnings) == 1 and "'toy', 'shouting'" in warnings[0] and "server objects" in warnings[0]
    client.remove_server("toy")
    assert "toy" not in client.config["mcpServers"]


class HalfConnector:
    """Looks like a connector but has no timeouts."""

    name = "half"

    def transports(self) -> list[Any]:
        return []


def test_objects_that_are_not_servers_are_config_errors_naming_the_server() -> None:
    client = MCPClient()
    with pytest.raises(ConfigError, match="server 'n': expected an object with 'command' or 'url', .*, got int"):
        client.add_server("n", 42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="server 'cls': .*got the class MCPServer"):
        MCPClient({"mcpServers": {"cls": MCPServer}})
    with pytest.raises(ConfigError, match="server 'half': the connector HalfConnector lacks connect_timeout, "
                       "request_timeout, diagnostics"):
        client.add_server("half", HalfConnector())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="server 'mine': the connector is named 'toy'; give it the entry's name"):
        client.add_server("mine", StdioConnector("toy", "python3"))
    with pytest.raises(ConfigError, match="reserved for code mode"):
        client.add_server("code_mode", toy_server())
    assert client.get_server_names() == []


async def test_create_get_and_close_sessions() -> None:
    async with MCPClient({"mcpServers": {"one": toy_server(), "two": toy_server()}}) as client:
        with anyio.fail_after(60):
            with pytest.raises(SessionStateError, match="no session for server 'one'"):
                client.get_session("one")
            one = await client.create_session("one")
            assert isinstance(one, MCPSession) and one.is_connected and one.session_info is not None
            assert await client.create_session("one") is one  # reused while connected
            assert client.get_session("one") is one
            lazy = await client.create_session("two", auto_initialize=False)
            assert not lazy.is_connected
            assert (await lazy.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
            assert set(client.get_all_active_sessions()) == {"one", "two"}
            await client.close_session("one")
            assert not one.is_connected and set(client.get_all_active_sessions()) == {"two"}
            await client.close_session("one")  # closed already: a logged warning, as in mcp_use
        await client.close_all_sessions()
        assert client.get_all_active_sessions() == {} and lazy.state is SessionState.CLOSED


async def test_create_all_sessions_starts_servers_concurrently(monkeypatch: pytest.MonkeyPatch) -> None:
    in_flight = 0
    most = 0
    original = MCPSession.connect

    async def counting_connect(self: MCPSession) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await original(self)
        finally:
            in_flight -= 1

    monkeypatch.setattr(MCPSession, "connect", counting_connect)
    config = {"mcpServers": {f"s{i}": toy_server() for i in range(4)}}
    async with MCPClient(config) as client:
        with anyio.fail_after(60):
            sessions = await client.create_all_sessions()
            assert sorted(sessions) == ["s0", "s1", "s2", "s3"]
            assert all(s.is_connected for s in sessions.values())
    assert most == 4, "all four servers were starting at the same time"


async def test_allowed_servers_and_disabled_servers_are_not_started() -> None:
    config = {"mcpServers": {"yes": toy_server(), "no": toy_server(), "off": toy_entry(disabled=True)}}
    async with MCPClient(config, allowed_servers=["yes", "off"]) as client:
        with anyio.fail_after(60):
            sessions = await client.create_all_sessions()
            assert list(sessions) == ["yes"]
            with pytest.raises(ConfigError, match="'no' is not in allowed_servers"):
                await client.create_session("no")
            with pytest.raises(ConfigError, match="'off' is disabled"):
                await client.create_session("off")


async def test_failing_servers_are_reported_and_the_others_keep_working() -> None:
    config = {
        "mcpServers": {
            "good": toy_server(),
            "ghost": {"command": "/nonexistent/bin/server"},
            "quitter": toy_entry("--crash-at-start"),
        }
    }
    async with MCPClient(config) as client:
        with anyio.fail_after(60):
            with pytest.raises(ServerError) as info:
                await client.create_all_sessions()
            message = str(info.value)
            assert "2 server(s) failed" in message and "'ghost'" in message and "'quitter'" in message
            assert list(client.get_all_active_sessions()) == ["good"]
            good = client.get_session("good")
            assert (await good.call_tool("add", {"a": 5, "b": 5})).structured_content == {"result": 10}


async def test_a_crashed_session_can_be_created_again() -> None:
    async with MCPClient({"mcpServers": {"toy": toy_entry()}}) as client:
        with anyio.fail_after(60):
            first = await client.create_session("toy")
            with pytest.raises(ServerError, match="connection lost"):
                await first.call_tool("crash", {})
            second = await client.create_session("toy")
            assert second is not first and second.is_connected
            assert (await second.call_tool("add", {"a": 1, "b": 1})).structured_content == {"result": 2}


async def test_close_all_sessions_closes_every_session_even_if_one_fails() -> None:
    async with MCPClient({"mcpServers": {"a": toy_server(), "b": toy_server()}}) as client:
        sessions = await client.create_all_sessions()

        async def broken_disconnect() -> None:
            raise RuntimeError("disconnect failed")

        sessions["a"].disconnect = broken_disconnect  # type: ignore[method-assign]
        with anyio.fail_after(30):
            await client.close_all_sessions()
        assert client.sessions == {} and not sessions["b"].is_connected


async def test_sampling_elicitation_and_roots_callbacks_reach_the_server(tmp_path: Path) -> None:
    prompts: list[str] = []

    async def sampling(context: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
        prompts.append(params.messages[0].content.text)  # type: ignore[union-attr]
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text="sampled by engine"), model="test-model"
        )

    async def elicitation(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="decline")

    roots = [Root(uri="file:///srv/project", name="project")]  # type: ignore[arg-type]
    config = {"mcpServers": {"everything": third_party_entry("everything", tmp_path)}}
    client = MCPClient(config, sampling_callback=sampling, elicitation_callback=elicitation, roots=roots)
    async with client:
        with anyio.fail_after(60):
            session = await client.create_session("everything")
            names = {t.name for t in session.tools}
            assert {"trigger-sampling-request", "trigger-elicitation-request", "get-roots-list"} <= names
            sampled = await session.call_tool("trigger-sampling-request", {"prompt": "hello model", "maxTokens": 5})
            assert "sampled by engine" in text_of(sampled) and any("hello model" in p for p in prompts)
            elicited = await session.call_tool("trigger-elicitation-request", {})
            assert "decline" in text_of(elicited).lower()
            listed = await session.call_tool("get-roots-list", {})
            assert "file:///srv/project" in text_of(listed)


# The toy's `log_and_return` uses the logging capability, deprecated in the 2026-07-28 protocol: the
# server warns, and in-process its warning would be raised in this test process.
@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")
async def test_logging_callback_and_message_handler_receive_server_messages() -> None:
    logs: list[LoggingMessageNotificationParams] = []
    messages: list[object] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async def on_message(message: object) -> None:
        messages.append(message)

    client = MCPClient({"mcpServers": {"toy": toy_server()}}, logging_callback=on_log, message_handler=on_message)
    async with client:
        with anyio.fail_after(60):
            session = await client.create_session("toy")
            await session.call_tool("log_and_return", {"message": "note this"})
            assert any("note this" in str(p.data) for p in logs)
            assert messages, "the message handler saw the log notification too"


async def test_execute_code_needs_code_mode_and_search_tools_does_not() -> None:
    async with MCPClient({"mcpServers": {"toy": toy_server()}}) as client:
        with pytest.raises(CodeModeError, match="code_mode=True"):
            await client.execute_code("return 1")
        with anyio.fail_after(30):
            found = await client.search_tools("add two integers", detail_level="names", limit=1)
        assert [r["name"] for r in found["results"]] == ["add"]
