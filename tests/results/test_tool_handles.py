"""A large tool result is kept as a handle too: a later program reopens it without calling the tool again."""

from __future__ import annotations

from typing import Any

import pytest

from engine import MCPClient

from .crm import crm

pytestmark = pytest.mark.anyio

AGGREGATE = """
data = await crm.orders(kilobytes=600)
return len(data["orders"])
"""


async def test_a_large_tool_result_is_listed_as_a_handle_and_reopened(executor_kwargs: dict[str, Any]) -> None:
    book = crm()
    async with MCPClient({"mcpServers": {"crm": book.server}}, code_mode=True, **executor_kwargs) as engine:
        out = await engine.execute_code(AGGREGATE, session_id="s")
        assert out["status"] == "ok", out["error"]
        count = out["result"]
        assert "truncation" not in out  # the result itself is small
        (entry,) = out["handles"]
        assert entry["source"] == "crm.orders" and entry["bytes"] >= 256 * 1024
        assert entry["shape"].startswith(f"dict{{orders: list[{count}]")
        again = await engine.execute_code(
            f"rows = await results.open({entry['id']!r}, path=['orders'])\nreturn [len(rows), rows[-1]['id']]",
            session_id="s",
        )
        assert again["result"] == [count, count - 1] and again["tool_calls"] == []
        small = await engine.execute_code("return len((await crm.orders(kilobytes=10))['orders'])", session_id="s")
        assert "handles" not in small


async def test_a_paused_execution_lists_its_large_tool_results_when_it_ends() -> None:
    book = crm()
    program = AGGREGATE.replace("return", "await crm.send(to='ops@example.com', body='counted')\nreturn")
    async with MCPClient({"mcpServers": {"crm": book.server}}, code_mode=True,
                         tool_policy={"crm.send": "ask"}) as engine:
        paused = await engine.execute_code(program, session_id="s")
        assert paused["status"] == "paused", paused
        done = await engine.resume_execution(paused["execution_id"], approve="all")
        assert done["status"] == "ok", done["error"]
        assert [entry["source"] for entry in done["handles"]] == ["crm.orders"]
        assert book.sent == [{"to": "ops@example.com", "body": "counted"}]
