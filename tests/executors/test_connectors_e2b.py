"""A stdio MCP server inside an (stand-in) E2B sandbox appears as an ordinary MCP session."""

from __future__ import annotations

import sys
from collections import deque

import anyio
import pytest
from mcp import Client

from engine.connectors_e2b import E2BStdioConnector, e2b_stdio_client
from engine.errors import CodeModeError
from engine.session import MCPSession
from tests.conftest import TOY

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
    connector = E2BStdioConnector(name="toy", command="python3", args=["server.py"], sandbox_options={"bad": 1})
    candidates = list(connector.transports())
    assert [label for label, _ in candidates] == ["e2b"]
    with pytest.raises(CodeModeError, match="unknown sandbox_options"):
        async with candidates[0][1]:
            pass
    assert connector.diagnostics() == ""


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
