"""A stdio MCP server inside an (stand-in) E2B sandbox appears as an ordinary MCP session."""

from __future__ import annotations

import sys
from collections import deque

import anyio
import pytest
from mcp import Client

from engine.connectors import E2BStdioConnector, e2b_stdio_client
from engine.errors import ConfigError, ServerStartError
from engine.session import MCPSession
from tests.conftest import TOY, free_port

from .e2b_standin import EnvdStandIn

pytestmark = pytest.mark.anyio


async def test_a_stdio_server_in_the_sandbox_answers_over_the_process_api(envd: EnvdStandIn) -> None:
    stderr: deque[str] = deque(maxlen=20)
    options = {"debug": True, "sandbox_url": envd.url}
    with anyio.fail_after(60):
        transport = e2b_stdio_client(sys.executable, [str(TOY), "stdio"], sandbox_options=options, stderr_tail=stderr)
        async with Client(transport) as client:
            tools = await client.list_tools()
            assert "add" in {tool.name for tool in tools.tools}
            results = []

            async def add(a: int) -> None:
                result = await client.call_tool("add", {"a": a, "b": 1})
                results.append(result.structured_content)

            async with anyio.create_task_group() as group:
                for a in range(5):
                    group.start_soon(add, a)
            assert sorted(r["result"] for r in results if r) == [1, 2, 3, 4, 5]


async def test_the_connector_yields_one_e2b_transport_and_refuses_unknown_options() -> None:
    connector = E2BStdioConnector(name="toy", command="python3", args=["server.py"])
    assert [label for label, _ in connector.transports()] == ["e2b"]
    assert connector.diagnostics() == ""
    # A bad option is a configuration error, found before anything starts.
    with pytest.raises(ConfigError, match=r"server 'toy': unknown sandbox_options \['bad'\]; known: "):
        E2BStdioConnector(name="toy", command="python3", sandbox_options={"bad": 1})
    with pytest.raises(ConfigError, match=r"server 'fs': unknown sandbox_options \['bad'\]"):
        async with e2b_stdio_client("python3", sandbox_options={"bad": 1}, name="fs"):
            pass


async def test_without_the_e2b_sdk_the_session_fails_at_once_with_a_start_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `import e2b` fails as it would where the extra is not installed (None in sys.modules makes it so).
    monkeypatch.setitem(sys.modules, "e2b", None)
    session = MCPSession(E2BStdioConnector(name="toy", command="python3"))
    # Well within the connector's 120 s connect timeout: the failure is reported, not waited out.
    with anyio.fail_after(30), pytest.raises(ServerStartError) as info:
        await session.connect()
    assert info.value.server == "toy"
    assert "need the E2B SDK" in str(info.value) and "pip install 'engine[e2b]'" in str(info.value)


async def test_a_sandbox_that_cannot_be_reached_is_a_start_error_naming_the_server() -> None:
    options = {"debug": True, "sandbox_url": f"http://127.0.0.1:{free_port()}"}
    with anyio.fail_after(60):
        with pytest.raises(ServerStartError, match="server 'toy': could not start 'python3' in the sandbox: "):
            async with e2b_stdio_client("python3", ["server.py"], sandbox_options=options, name="toy"):
                pass
        session = MCPSession(E2BStdioConnector(name="toy", command="python3", sandbox_options=options))
        with pytest.raises(ServerStartError, match="server 'toy'.*could not start 'python3' in the sandbox"):
            await session.connect()


async def test_an_mcp_session_over_the_connector_is_an_ordinary_session(envd: EnvdStandIn) -> None:
    connector = E2BStdioConnector(
        name="toy", command=sys.executable, args=[str(TOY), "stdio"],
        sandbox_options={"debug": True, "sandbox_url": envd.url},
    )
    with anyio.fail_after(60):
        async with MCPSession(connector) as session:
            await session.initialize()
            result = await session.call_tool("add", {"a": 2, "b": 3})
            assert result.structured_content == {"result": 5}


async def test_mcp_client_with_sandbox_true_runs_stdio_servers_inside_the_sandbox(envd: EnvdStandIn) -> None:
    from engine import MCPClient

    config = {"mcpServers": {"toy": {"command": sys.executable, "args": [str(TOY), "stdio"]}}}
    options = {"debug": True, "sandbox_url": envd.url}
    async with MCPClient(config, sandbox=True, sandbox_options=options, code_mode=True) as client:
        with anyio.fail_after(60):
            session = await client.create_session("toy")
            assert type(session.connector) is E2BStdioConnector
            assert (await session.call_tool("add", {"a": 4, "b": 5})).structured_content == {"result": 9}
            out = await client.execute_code("return await toy.add(a=1, b=2)")
            assert out["error"] is None and out["result"] == 3


async def test_sandbox_options_move_stdio_entries_only_and_keep_an_explicit_connect_timeout() -> None:
    from engine import HttpConnector, InProcessConnector, MCPClient
    from engine.config import parse_server
    from engine.connectors import connector_for
    from tests.conftest import toy_server

    options = {"template": "engine-guest"}
    default = connector_for("a", parse_server("a", {"command": "x"}), sandbox_options=options)
    assert isinstance(default, E2BStdioConnector) and default.sandbox_options == options
    assert default.connect_timeout == 120  # a sandbox starts slower than a local process
    explicit = connector_for("b", parse_server("b", {"command": "x", "timeout": 7}), sandbox_options=options)
    assert explicit.connect_timeout == 7
    remote = connector_for("h", parse_server("h", {"url": "http://127.0.0.1:1/mcp"}), sandbox_options=options)
    assert isinstance(remote, HttpConnector)
    local = connector_for("m", parse_server("m", toy_server()), sandbox_options=options)
    assert isinstance(local, InProcessConnector)
    client = MCPClient({"mcpServers": {"toy": {"command": "x"}}}, sandbox=True, sandbox_options={"bad": 1})
    with anyio.fail_after(30), pytest.raises(ConfigError, match="server 'toy': unknown sandbox_options"):
        await client.create_session("toy")
    assert client.sessions == {}
