"""Pause and resume the very program: a call that needs approval parks, the rest of the program waits.

Against a real MCP server (the ledger, in this process) whose writes are counted: approving one
write of a `gather` and rejecting the other gives the program one result and one catchable
`ToolError`, and the server receives exactly one write.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine import MCPClient
from engine.errors import ApprovalError

from .ledger import Ledger, ledger

pytestmark = pytest.mark.anyio

PROGRAM = """
import asyncio
before = await ledger.balance(key="a")
print("read", repr(before))
results = await asyncio.gather(
    ledger.write(key="a", value="1"),
    ledger.write(key="b", value="2"),
    return_exceptions=True,
)
print("after gather")
return [r if isinstance(r, str) else f"{type(r).__name__}: {r}" for r in results]
"""


def client_for(book: Ledger, **options: Any) -> MCPClient:
    config = {"mcpServers": {"ledger": book.server}}
    return MCPClient(config, code_mode=True, tool_policy={"ledger.write": "ask"}, **options)


async def test_gather_of_two_writes_pauses_once_and_each_decision_holds(executor_kwargs: dict[str, Any]) -> None:
    book = ledger()
    async with client_for(book, **executor_kwargs) as client:
        out = await client.execute_code(PROGRAM)
        assert out["status"] == "paused", out
        assert [p["tool"] for p in out["pending"]] == ["ledger.write", "ledger.write"]
        assert {p["arguments"]["key"] for p in out["pending"]} == {"a", "b"}
        assert out["logs"] == ["read ''"]
        assert book.received == []  # nothing written while paused
        first, second = (p["id"] for p in out["pending"])
        done = await client.resume_execution(out["execution_id"], approve=[first], reject=[second], reason="not b")
        assert done["status"] == "ok", done
        approved_key = next(p["arguments"]["key"] for p in out["pending"] if p["id"] == first)
        assert book.received == [(approved_key, "1" if approved_key == "a" else "2")]
        results = done["result"]
        assert sum(r.startswith("wrote") for r in results) == 1
        rejected = [r for r in results if not r.startswith("wrote")]
        assert len(rejected) == 1 and rejected[0].startswith("ToolError") and "rejected" in rejected[0]
        assert "not b" in rejected[0]
        assert done["logs"] == ["after gather"]
        outcomes = sorted(call["outcome"] for call in done["tool_calls"])
        assert outcomes == ["ok", "ok", "rejected"]


async def test_resuming_twice_or_unknown_ids_is_a_clear_error_and_executes_nothing() -> None:
    book = ledger()
    async with client_for(book) as client:
        out = await client.execute_code('return await ledger.write(key="k", value="v")')
        assert out["status"] == "paused"
        execution_id = out["execution_id"]
        with pytest.raises(ApprovalError, match="not pending"):
            await client.resume_execution(execution_id, approve=["c99"])
        with pytest.raises(ApprovalError, match="both approved and rejected"):
            await client.resume_execution(execution_id, approve=["c1"], reject=["c1"])
        with pytest.raises(ApprovalError, match="no paused execution"):
            await client.resume_execution("ex_unknown", approve="all")
        assert book.received == []
        done = await client.resume_execution(execution_id, approve="all")  # still resumable
        assert done["status"] == "ok" and done["result"] == "wrote k"
        with pytest.raises(ApprovalError, match="no paused execution"):
            await client.resume_execution(execution_id, approve="all")
        assert book.received == [("k", "v")]


async def test_denied_call_never_reaches_the_server() -> None:
    book = ledger()
    async with MCPClient({"mcpServers": {"ledger": book.server}}, code_mode=True,
                         tool_policy={"ledger.*": "deny", "ledger.balance": "allow"}) as client:
        out = await client.execute_code("""
try:
    await ledger.write(key="x", value="y")
except ToolError as exc:
    return ["caught", str(exc), await ledger.balance(key="x")]
""")
        assert out["status"] == "ok", out
        assert out["result"][0] == "caught" and "denied by the tool policy" in out["result"][1]
        assert book.received == []


async def test_dry_run_lists_planned_writes_and_sends_none() -> None:
    book = ledger()
    book.values["a"] = "old"
    async with MCPClient({"mcpServers": {"ledger": book.server}}, code_mode=True) as client:
        out = await client.execute_code("""
seen = await ledger.balance(key="a")
await ledger.write(key="a", value=seen + "!")
await ledger.close(key="b")
return seen
""", dry_run=True)
        assert out["status"] == "ok", out
        assert out["result"] == "old"  # the read ran
        assert [c["tool"] for c in out["planned_calls"]] == ["ledger.write", "ledger.close"]
        assert out["planned_calls"][0]["arguments"] == {"key": "a", "value": "old!"}
        assert book.received == []


async def test_time_paused_does_not_count_against_the_wall_clock_limit(executor_kwargs: dict[str, Any]) -> None:
    book = ledger()
    async with client_for(book, **executor_kwargs) as client:
        warm = await client.execute_code("return 1")  # a pool's or a sandbox's first start is not the point
        assert warm["result"] == 1
        out = await client.execute_code('await ledger.write(key="k", value="v")\nreturn "done"', timeout=0.5)
        assert out["status"] == "paused", out
        await anyio.sleep(1.0)  # twice the program's limit, spent waiting for a person
        done = await client.resume_execution(out["execution_id"], approve="all")
        assert done["status"] == "ok", done
        assert done["result"] == "done"
        assert book.received == [("k", "v")]


async def test_search_tools_says_each_tools_policy_inside_and_outside_programs() -> None:
    book = ledger()
    policy = {"ledger.write": "ask", "ledger.close": "deny"}
    async with MCPClient({"mcpServers": {"ledger": book.server}}, code_mode=True, tool_policy=policy) as client:
        found = await client.search_tools("", detail_level="names")
        assert {entry["name"]: entry["policy"] for entry in found["results"]} == {
            "balance": "allow", "write": "ask", "close": "deny",
        }
        inside = await client.execute_code('return (await search_tools("write", detail_level="names"))["results"]')
        assert inside["result"][0]["policy"] == "ask"


@pytest.mark.parametrize(("policy", "message"), [
    ({"ledger.wirte": "ask"}, "matches no tool of server 'ledger'; did you mean ledger.'write'"),
    ({"ledger.write": "maybe"}, "unknown action 'maybe'"),
    ({"write": "ask"}, "must be 'server.tool'"),
])
async def test_a_bad_policy_is_a_clear_error_and_nothing_runs(policy: dict[str, str], message: str) -> None:
    book = ledger()
    with pytest.raises(ApprovalError, match=re.escape(message)):
        async with MCPClient({"mcpServers": {"ledger": book.server}}, code_mode=True, tool_policy=policy) as client:
            await client.execute_code('return await ledger.write(key="k", value="v")')
    assert book.received == []


async def test_the_config_file_sets_the_policy_and_annotations_decide_unmatched_tools(tmp_path: Path) -> None:
    book = ledger()
    config = {"mcpServers": {"ledger": book.server},
              "codeMode": {"toolPolicy": {"annotations": True, "ledger.close": "deny"}, "approvalTimeout": 60}}
    async with MCPClient(config, code_mode=True) as client:
        out = await client.execute_code("""
first = await ledger.balance(key="k")
return await ledger.write(key="k", value="v")
""")
        assert out["status"] == "paused", out  # write is not read-only: annotations ask
        assert [p["tool"] for p in out["pending"]] == ["ledger.write"]
        done = await client.resume_execution(out["execution_id"], reject="all")
        assert done["status"] == "error" and "rejected by a person" in done["error"]
    assert book.received == []


async def test_parked_calls_count_against_the_tool_call_budget() -> None:
    book = ledger()
    async with client_for(book, limits={"maxToolCalls": 3}) as client:
        out = await client.execute_code("""
import asyncio
results = await asyncio.gather(*[ledger.write(key=str(i), value="v") for i in range(50)], return_exceptions=True)
return [type(r).__name__ for r in results]
""")
        assert out["status"] == "paused", out
        assert len(out["pending"]) == 3  # the other 47 were refused at once, none parked
        done = await client.resume_execution(out["execution_id"], reject="all")
        assert done["result"].count("ToolLimitError") == 47 and done["result"].count("ToolError") == 3
    assert book.received == []
