"""What bounds a pause: the held-program cap, the approval timeout of a person asked mid-call, a
code session's next program, a resume given up on, and policy rules that must not leak."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp import Client

from engine import MCPClient, ToolPolicy, build_code_mode_server
from engine.errors import ApprovalError

from .ledger import Ledger, ledger

pytestmark = pytest.mark.anyio


def client_for(book: Ledger, **options: Any) -> MCPClient:
    config = {"mcpServers": {"ledger": book.server}}
    return MCPClient(config, code_mode=True, tool_policy={"ledger.write": "ask"}, **options)


async def test_past_the_held_cap_the_oldest_pause_is_stopped_and_replayed_on_resume(tmp_path: Path) -> None:
    book = ledger()
    async with client_for(book, store=f"sqlite:///{tmp_path / 'a.db'}") as client:
        suspensions = client.code_mode_engine().approvals.suspensions
        suspensions.max_held = 2
        ids = []
        for n in range(3):
            program = f'await ledger.balance(key="{n}")\nreturn await ledger.write(key="{n}", value="v")'
            out = await client.execute_code(program)
            assert out["status"] == "paused", out
            ids.append(out["execution_id"])
        assert [suspensions.holds(i) for i in ids] == [False, True, True]  # the oldest was let go
        done = await client.resume_execution(ids[0], approve="all")  # replayed from the store
        assert done["status"] == "ok" and done["result"] == "wrote 0"
        for execution_id in ids[1:]:
            assert (await client.resume_execution(execution_id, approve="all"))["status"] == "ok"
    assert sorted(book.received) == [("0", "v"), ("1", "v"), ("2", "v")]
    assert book.reads == 3  # the replay answered its read from the log


async def test_a_person_who_never_answers_is_a_rejection_after_the_approval_timeout() -> None:
    book = ledger()

    async def never(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        await anyio.sleep(3600)
        raise AssertionError("unreachable")

    async with client_for(book, approval_timeout=0.5) as client:
        server = build_code_mode_server(client.code_mode_engine())
        async with Client(server, mode="legacy", elicitation_callback=never) as session:
            with anyio.fail_after(30):
                result = await session.call_tool("execute_code", {"code": """
try:
    return await ledger.write(key="k", value="v")
except ToolError as exc:
    return str(exc)
"""})
    assert result.structured_content is not None, result
    assert "no answer within the approval timeout" in result.structured_content["result"]
    assert book.received == []


async def test_the_next_program_of_a_paused_code_session_waits_at_most_its_timeout() -> None:
    book = ledger()
    async with client_for(book) as client:
        out = await client.execute_code('x = await ledger.write(key="k", value="v")', session_id="s")
        assert out["status"] == "paused"
        with anyio.fail_after(30):
            busy = await client.execute_code("return 1", session_id="s", timeout=0.5)
        assert busy["status"] == "error" and "stayed busy" in busy["error"]
        done = await client.resume_execution(out["execution_id"], approve="all")
        assert done["status"] == "ok"
        after = await client.execute_code("return x", session_id="s")
        assert after["result"] == "wrote k"


async def test_a_resume_given_up_on_stops_the_program_and_sends_nothing_more() -> None:
    book = ledger()
    async with client_for(book) as client:
        out = await client.execute_code("""
import asyncio
await ledger.write(key="first", value="v")
await asyncio.sleep(60)
await ledger.balance(key="never")
""")
        assert out["status"] == "paused"
        with anyio.move_on_after(0.5):
            await client.resume_execution(out["execution_id"], approve="all")
        assert book.received == [("first", "v")]
        with pytest.raises(ApprovalError):
            await client.resume_execution(out["execution_id"], approve="all")
        assert not client.code_mode_engine().approvals.suspensions.holds(out["execution_id"])
    assert book.reads == 0


def test_a_rule_naming_its_server_beats_a_wildcard_server_rule() -> None:
    policy = ToolPolicy({"db.*": "deny", "*.list_*": "allow"})
    assert policy.action("db", "list_and_drop_tables") == "deny"
    assert policy.action("crm", "list_customers") == "allow"


async def test_a_rule_whose_server_differs_only_by_case_is_refused() -> None:
    book = ledger()
    async with MCPClient({"mcpServers": {"ledger": book.server}}, code_mode=True,
                         tool_policy={"Ledger.write": "deny"}) as client:
        with pytest.raises(ApprovalError, match="did you mean 'ledger'"):
            await client.execute_code('return await ledger.write(key="k", value="v")')
    assert book.received == []
