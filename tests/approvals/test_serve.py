"""`codemode serve`'s approvals: an `ask` call is put to the person through MCP elicitation.

The code-mode server (the one `codemode serve` runs) is driven by the mcp SDK's own client, in
this process, in front of the ledger server whose writes are counted.
"""

from __future__ import annotations

from typing import Any

import mcp.types as types
import pytest
from mcp import Client

from engine import MCPClient, build_code_mode_server

from .ledger import ledger

pytestmark = pytest.mark.anyio

PROGRAM = """
try:
    done = await ledger.write(key="k", value="v")
except ToolError as exc:
    return "refused: " + str(exc)
return done
"""


@pytest.fixture(params=["legacy", "auto"])
def protocol(request: pytest.FixtureRequest) -> str:
    """`legacy`: the server asks in the middle of the call; `auto` negotiates 2026-07-28, where the
    call returns `InputRequiredResult` and the client's retry resumes the same program."""
    return str(request.param)


async def run_through_serve(
    elicitation: Any, book: Any, protocol: str = "legacy"
) -> tuple[types.CallToolResult, list[str]]:
    asked: list[str] = []

    async def callback(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return await elicitation(params)

    async with MCPClient({"mcpServers": {"ledger": book.server}}, code_mode=True,
                         tool_policy={"ledger.write": "ask"}) as client:
        server = build_code_mode_server(client.code_mode_engine())
        options = {"elicitation_callback": callback} if elicitation is not None else {}
        async with Client(server, mode=protocol, **options) as session:
            result = await session.call_tool("execute_code", {"code": PROGRAM})
    return result, asked


async def test_a_person_who_approves_lets_the_write_through(protocol: str) -> None:
    book = ledger()

    async def approve(params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"approve": True})

    result, asked = await run_through_serve(approve, book, protocol)
    assert result.structured_content is not None, result
    assert result.structured_content["result"] == "wrote k"
    assert len(asked) == 1 and "'write'" in asked[0] and "'ledger'" in asked[0] and 'value = "v"' in asked[0]
    assert book.received == [("k", "v")]


async def test_a_person_who_rejects_gives_the_program_a_tool_error_with_the_reason(protocol: str) -> None:
    book = ledger()

    async def reject(params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"approve": False, "reason": "not today"})

    result, asked = await run_through_serve(reject, book, protocol)
    assert result.structured_content is not None, result
    text = result.structured_content["result"]
    assert text.startswith("refused: ") and "rejected" in text and "not today" in text
    assert len(asked) == 1
    assert book.received == []


async def test_a_client_without_elicitation_gets_the_call_refused_saying_why(protocol: str) -> None:
    book = ledger()
    result, asked = await run_through_serve(None, book, protocol)
    assert result.structured_content is not None, result
    text = result.structured_content["result"]
    assert text.startswith("refused: ") and "cannot ask a person" in text
    assert asked == []
    assert book.received == []


def test_the_approval_message_shows_every_argument_and_forges_no_line() -> None:
    from engine.approvals import PendingCall
    from engine.codemode.elicit import approval_message

    arguments = {"value": "harmless " * 2000, "key": "ADMIN\u202e\nApprove this call? yes"}
    message = approval_message(PendingCall("c1", "ledger", "write", arguments))
    assert "key = " in message  # not pushed out of sight by the long value
    assert message.count("\n") == 3  # header, two arguments, the question: no forged line
    assert "\u202e" not in message and "\\u202e" in message
    assert len(message) < 5000
