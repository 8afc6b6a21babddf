"""A script written for mcp_use's documented API runs unchanged against engine.

`mcp_use_script` is what an mcp_use user has already written: it uses only what mcp_use's
reference pages document for `MCPClient` and `MCPSession` (constructor and factories, server
configuration, sessions, `search_tools` without code mode, `execute_code` with it), the defensive
closes such code does, and the `except ValueError` / `except RuntimeError` clauses it wrote for
mcp_use's errors. It touches no field the mcp 2.x SDK renamed (see docs/migrating-from-mcp-use.md).
The client class is its one parameter: the only change for engine is the import.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine import MCPClient

pytestmark = pytest.mark.anyio

DEMO = {
    "mcpServers": {
        name: {"command": sys.executable, "args": ["-m", f"engine.demo.servers.{name}"]}
        for name in ("inventory", "orders")
    }
}


async def mcp_use_script(client_class: Any, workdir: Path) -> dict[str, Any]:
    """mcp_use code, unchanged. Returns what it saw, for the test to check."""
    seen: dict[str, Any] = {}
    config_file = workdir / "mcp.json"
    config_file.write_text(json.dumps(DEMO))

    # -- configuration ----------------------------------------------------------------------
    client = client_class.from_config_file(str(config_file))
    seen["servers"] = sorted(client.get_server_names())
    client.add_server("scratch", {"command": "npx", "args": ["-y", "some-server"]})
    client.remove_server("scratch")
    client.remove_server("scratch")  # already gone: mcp_use does nothing
    client.save_config(str(workdir / "saved.json"))
    seen["saved"] = sorted(json.loads((workdir / "saved.json").read_text())["mcpServers"])

    # -- the errors mcp_use raises ------------------------------------------------------------
    try:
        await client.create_session("not-configured")
    except ValueError:
        seen["unknown server"] = "ValueError"
    try:
        client.get_session("inventory")
    except ValueError:
        seen["no session yet"] = "ValueError"
    try:
        await client.execute_code("return 1")
    except RuntimeError:
        seen["code mode off"] = "RuntimeError"
    await client.close_session("inventory")  # nothing open yet: a warning, nothing raised

    # -- sessions -----------------------------------------------------------------------------
    sessions = await client.create_all_sessions()
    seen["sessions"] = sorted(sessions)
    seen["active"] = sorted(client.get_all_active_sessions())
    session = client.get_session("inventory")
    seen["connected"] = session.is_connected
    seen["info name"] = session.session_info["name"] if session.session_info else None
    seen["tools"] = sorted(tool.name for tool in await session.list_tools())
    result = await session.call_tool(
        "get_stock", {"sku": "HAM-01"}, read_timeout_seconds=datetime.timedelta(seconds=30)
    )
    seen["on hand"] = json.loads(result.content[0].text)["on_hand"]
    seen["resources"] = await session.list_resources()
    seen["prompts"] = await session.list_prompts()

    # -- search without code mode ---------------------------------------------------------------
    found = await client.search_tools("stock level of a product", detail_level="descriptions")
    seen["search count"] = found["meta"]["result_count"] == len(found["results"]) > 0
    seen["search first"] = (found["results"][0]["server"], found["results"][0]["name"])

    # -- a session that is disconnected, then connected again --------------------------------------
    await session.disconnect()
    seen["after disconnect"] = session.is_connected
    try:
        await session.call_tool("get_stock", {"sku": "HAM-01"})
    except RuntimeError:
        seen["call on a closed session"] = "RuntimeError"
    await session.connect()
    again = await session.call_tool("get_stock", {"sku": "SAW-02"})
    seen["after reconnect"] = json.loads(again.content[0].text)["on_hand"]

    # -- defensive closes -----------------------------------------------------------------------
    await client.close_session("orders")
    await client.close_session("orders")
    await client.close_all_sessions()
    await client.close_all_sessions()
    await session.disconnect()
    seen["left open"] = sorted(client.get_all_active_sessions())

    # -- allowed_servers, from_dict -------------------------------------------------------------
    only = client_class(config=DEMO, allowed_servers=["orders"])
    seen["allowed"] = sorted(await only.create_all_sessions())
    await only.close_all_sessions()

    # -- code mode ------------------------------------------------------------------------------
    coder = client_class.from_dict(DEMO, code_mode=True)
    await coder.create_all_sessions()
    out = await coder.execute_code(
        'stock = await inventory.get_stock(sku="HAM-01")\n'
        'print("on hand:", stock["on_hand"])\n'
        'return {"sku": stock["sku"], "on_hand": stock["on_hand"]}\n',
        timeout=30.0,
    )
    seen["code keys"] = sorted(key for key in out if key in ("result", "logs", "error", "execution_time"))
    seen["code result"], seen["code logs"], seen["code error"] = out["result"], out["logs"], out["error"]
    await coder.close_all_sessions()
    return seen


async def test_a_script_written_for_mcp_use_runs_unchanged(tmp_path: Path) -> None:
    with anyio.fail_after(110):
        seen = await mcp_use_script(MCPClient, tmp_path)
    assert seen == {
        "servers": ["inventory", "orders"],
        "saved": ["inventory", "orders"],
        "unknown server": "ValueError",
        "no session yet": "ValueError",
        "code mode off": "RuntimeError",
        "sessions": ["inventory", "orders"],
        "active": ["inventory", "orders"],
        "connected": True,
        "info name": "inventory",
        "tools": ["get_stock", "list_products"],
        "on hand": 14,
        "resources": [],
        "prompts": [],
        "search count": True,
        "search first": ("inventory", "get_stock"),
        "after disconnect": False,
        "call on a closed session": "RuntimeError",
        "after reconnect": 2,
        "left open": [],
        "allowed": ["orders"],
        "code keys": ["error", "execution_time", "logs", "result"],
        "code result": {"sku": "HAM-01", "on_hand": 14},
        "code logs": ["on hand: 14"],
        "code error": None,
    }


def test_the_exceptions_are_both_engine_errors_and_what_mcp_use_raised() -> None:
    from engine import CodeModeError, ConfigError, EngineError, NoSessionError, SessionStateError

    assert issubclass(ConfigError, EngineError) and issubclass(ConfigError, ValueError)
    assert issubclass(NoSessionError, SessionStateError) and issubclass(NoSessionError, ValueError)
    assert issubclass(SessionStateError, EngineError) and issubclass(SessionStateError, RuntimeError)
    assert issubclass(CodeModeError, EngineError) and issubclass(CodeModeError, RuntimeError)
