"""Finding 7 of issue 14 and F3 of the security review: one bad tool degrades only that tool.

A schema the SDK cannot parse (over stdio, from a server that writes its JSON by hand), a tool
without a name, a schema nested 3,000 deep, a property named `arguments` beside
`additionalProperties`: the tool is left out (with the reason) or works; its server's other tools
and every other server keep working."""

from __future__ import annotations

from typing import Any

import anyio
import mcp.types as types
import pytest

from engine import MCPClient
from engine.tools import ToolSet
from tests.conftest import toy_server
from tests.faults.servers import bad_stdio_entry, listing_server, tool

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("kind", ["badschema", "noname"])
async def test_a_tool_the_sdk_cannot_parse_is_left_out_and_its_server_stays(kind: str) -> None:
    config: dict[str, Any] = {"mcpServers": {"raw": bad_stdio_entry("raw", kind), "toy": toy_server()}}
    async with MCPClient(config, code_mode=True) as client:
        with anyio.fail_after(60):
            out = await client.execute_code(
                "return [await raw.good(), await raw.also_good(n=1), await toy.add(a=1, b=1), tool_namespaces['raw']]"
            )
            session = client.get_session("raw")
            states = {state.server: state for state in client.code_mode_engine().states()}
    assert out["error"] is None, out["error"]
    assert out["result"] == ["called good", "called also_good", 2, ["good", "also_good"]]
    assert len(session.skipped_tools) == 1
    (label, reason), = session.skipped_tools.items()
    assert label == ("broken" if kind == "badschema" else "#1")
    assert reason
    assert states["raw"].left_out == ((label, reason),) and states["toy"].left_out == ()


async def test_a_tool_with_a_property_named_arguments_and_extra_properties_works() -> None:
    schema = {"type": "object", "properties": {"arguments": {"type": "array"}}, "additionalProperties": True}
    runner = listing_server("runner", [tool("run", schema)])
    config: dict[str, Any] = {"mcpServers": {"toy": toy_server(), "runner": runner}}
    async with MCPClient(config, code_mode=True) as client:
        with anyio.fail_after(60):
            out = await client.execute_code(
                "return [await toy.add(a=1, b=2), await runner.run(arguments=[1], other=2)]"
            )
            stubs = client.code_mode_engine().stubs()
    assert out["error"] is None, out["error"]
    assert out["result"] == [3, "runner.run"]
    assert "arguments: list" in stubs and "**more_arguments" in stubs


async def test_a_schema_nested_3000_deep_costs_only_its_server() -> None:
    # The SDK drops the whole message (its JSON-RPC parse gives up on the depth), so the list is
    # never answered: the server is unavailable with that reason; no other server waits for it.
    deep = bad_stdio_entry("raw", "deep", request_timeout=3)
    config: dict[str, Any] = {"mcpServers": {"deep": deep, "toy": toy_server()}}
    async with MCPClient(config, code_mode=True) as client:
        with anyio.fail_after(60):
            healthy = await client.execute_code("return await toy.add(a=1, b=2)", timeout=30)
            await client.code_mode_engine().tool_host.wait_for(None, 30)
            failed = await client.execute_code("return await deep.good()", timeout=30)
    assert healthy["error"] is None and healthy["result"] == 3
    assert healthy["usage"]["limits"]["timeout"] <= 30
    assert "server 'deep' is unavailable: tools/list got no answer within 3s" in failed["error"]


def test_a_tool_whose_stub_cannot_be_built_is_left_out_with_the_reason() -> None:
    # Past the SDK's parse (a server object in this process can hand over anything).
    broken = types.Tool.model_construct(name="broken", input_schema="not a schema")
    toolset = ToolSet.build(["s", "other"], {"s": [broken, tool("ok")], "other": [tool("fine")]}, {})
    assert toolset.names.listing == {"s": ["ok"], "other": ["fine"]}
    assert list(toolset.left_out) == ["s"] and list(toolset.left_out["s"]) == ["broken"]
    assert "def ok(" in toolset.stubs() and "def fine(" in toolset.stubs()


async def test_a_listing_too_deep_for_the_sdk_leaves_the_connection_and_every_other_program_healthy() -> None:
    # The SDK's JSON-RPC reader refuses the 3,000-deep answer before we see it (docs/code-mode.md):
    # what we own is that nothing else waits for it, and the connection itself stays usable.
    deep = bad_stdio_entry("raw", "deep", request_timeout=4)
    config: dict[str, Any] = {"mcpServers": {"deep": deep, "toy": toy_server()}}
    async with MCPClient(config, code_mode=True) as client:
        host = client.code_mode_engine().tool_host
        with anyio.fail_after(60):
            await client.execute_code("return await toy.add(a=0, b=0)")  # toy loaded; deep's list is pending
            healthy = await client.execute_code("return await toy.add(a=1, b=2)", timeout=30)
            await host.wait_for(None, 30)
            states = {state.server: state for state in host.states()}
            session = client.get_session("deep")
            resources = await session.list_resources()  # the same connection answers other requests
            connected = session.is_connected
    assert healthy["error"] is None and healthy["result"] == 3
    assert healthy["usage"]["limits"]["timeout"] == 30  # it did not wait for deep at all
    assert states["deep"].state == "failed" and states["toy"].state == "connected"
    assert states["deep"].error == "server 'deep': tools/list got no answer within 4s"
    assert connected and resources == []
