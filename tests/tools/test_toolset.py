"""`ToolSet` and `ToolHost`: namespaces that never silently merge, snapshots per change, per-server loading."""

from __future__ import annotations

from typing import Any

import anyio
import mcp.types as types
import pytest

from engine import MCPClient
from engine.tools import ToolSet, assign_namespaces
from tests.conftest import toy_server

pytestmark = pytest.mark.anyio


def _tool(name: str) -> types.Tool:
    return types.Tool(name=name, input_schema={"type": "object"})


def test_servers_whose_names_sanitise_alike_get_distinct_namespaces() -> None:
    assert assign_namespaces(["my-gh", "my_gh", "other"]) == {"my-gh": "my_gh", "my_gh": "my_gh_2", "other": "other"}
    # A suffix never takes the plain name of another server, whatever the order.
    assert assign_namespaces(["a-b", "a_b", "a_b_2"]) == {"a-b": "a_b", "a_b": "a_b_3", "a_b_2": "a_b_2"}
    # Which server keeps the plain name depends only on the configuration order.
    assert assign_namespaces(["my_gh", "my-gh"]) == {"my_gh": "my_gh", "my-gh": "my_gh_2"}


def test_a_toolset_keeps_both_clashing_servers_with_their_own_tools() -> None:
    toolset = ToolSet.build(["my-gh", "my_gh"], {"my-gh": [_tool("a")], "my_gh": [_tool("b")]}, {})
    assert toolset.namespaces == {"my_gh": "my-gh", "my_gh_2": "my_gh"}
    assert toolset.names.listing == {"my_gh": ["a"], "my_gh_2": ["b"]}
    found = toolset.catalog.search("", detail_level="names")
    assert {(r["server"], r["namespace"]) for r in found["results"]} == {("my-gh", "my_gh"), ("my_gh", "my_gh_2")}


def test_a_tool_listed_twice_does_not_break_its_server_or_others() -> None:
    tools = {"bad": [_tool("dup"), _tool("dup"), _tool("ok")], "good": [_tool("g")]}
    toolset = ToolSet.build(["bad", "good"], tools, {})
    assert toolset.names.listing == {"bad": ["dup", "ok"], "good": ["g"]}


def test_servers_not_loaded_are_listed_with_their_reason() -> None:
    toolset = ToolSet.build(["up", "down"], {"up": [_tool("a")]}, {"down": "server 'down': could not connect"})
    assert toolset.unavailable == {"down": "server 'down': could not connect"}
    assert list(toolset.namespaces) == ["up"]


async def test_two_servers_that_sanitise_alike_are_both_reachable_from_a_program() -> None:
    config: dict[str, Any] = {"mcpServers": {"my-gh": toy_server(), "my_gh": toy_server()}}
    async with MCPClient(config, code_mode=True) as client:
        with anyio.fail_after(30):
            out = await client.execute_code(
                "a = await my_gh.add(a=1, b=2)\n"
                "b = await my_gh_2.add(a=3, b=4)\n"
                "return [a, b, sorted(__tool_namespaces)]"
            )
            found = await client.search_tools("add", detail_level="names")
    assert out["error"] is None, out["error"]
    assert out["result"][:2] == [3, 7]
    assert out["result"][2] == ["my_gh", "my_gh_2"]
    assert [record["tool"] for record in out["tool_calls"]] == ["my-gh.add", "my_gh.add"]
    namespaces = {(r["server"], r["namespace"]) for r in found["results"] if r["name"] == "add"}
    assert namespaces == {("my-gh", "my_gh"), ("my_gh", "my_gh_2")}


async def test_a_server_that_fails_to_start_leaves_the_others_usable_and_says_why() -> None:
    config: dict[str, Any] = {
        "mcpServers": {"toy": toy_server(), "ghost": {"command": "/nonexistent/ghost-server", "args": []}}
    }
    async with MCPClient(config, code_mode=True) as client:
        with anyio.fail_after(30):
            out = await client.execute_code("return await toy.add(a=1, b=1)")
        assert out["result"] == 2, out["error"]
        states = {state.server: state for state in client.code_mode_engine().states()}
        assert states["toy"].state == "connected" and states["toy"].namespace == "toy"
        assert states["ghost"].state == "failed" and states["ghost"].error
