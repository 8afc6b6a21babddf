"""Through `codemode serve`'s server with the mcp SDK's own client: an agent that gets a cut result
follows the envelope's instructions to fetch the rest, and personal data leaves only as tokens."""

from __future__ import annotations

import json
import re
from typing import Any

import msgpack
import pytest
from mcp import Client

from engine import MCPClient, build_code_mode_server

from .crm import ADDRESS, crm
from .test_end_to_end import BIG

pytestmark = pytest.mark.anyio

CAP = 100_000


async def test_an_agent_following_the_envelope_fetches_the_rest_through_the_handle(
    every_executor: dict[str, Any],
) -> None:
    book = crm()
    async with MCPClient({"mcpServers": {"crm": book.server}}, code_mode=True,
                         limits={"timeout": 60, "max_result_bytes": CAP}, **every_executor) as engine:
        server = build_code_mode_server(engine.code_mode_engine())
        async with Client(server) as agent:
            first = await agent.call_tool("execute_code", {"code": BIG})
            envelope = first.structured_content
            assert envelope is not None and envelope["status"] == "ok", envelope
            assert len(msgpack.packb(envelope["result"], use_bin_type=True)) <= CAP
            text = first.content[0].text  # type: ignore[union-attr]
            assert "result cut: " in text and "results.open(" in text
            # What an agent does: copy the call the envelope spells out into its next program.
            call = re.search(r"`(await results\.open\([^`]*\))`", envelope["truncation"]["how_to_get_more"])
            assert call is not None
            second = await agent.call_tool("execute_code", {"code": f"part = {call.group(1)}\nreturn part"})
            part = second.structured_content
            assert part is not None and part["status"] == "ok", part
            kept = envelope["truncation"]["cuts"][0]["kept"]
            assert [order["id"] for order in part["result"]] == list(range(kept, kept + 100))
            assert "truncation" not in part


async def test_serve_responses_carry_tokens_not_addresses() -> None:
    book = crm()
    async with MCPClient({"mcpServers": {"crm": book.server}}, code_mode=True, tokenize=True) as engine:
        server = build_code_mode_server(engine.code_mode_engine())
        async with Client(server) as agent:
            first = await agent.call_tool(
                "execute_code", {"code": "c = await crm.customer(customer_id=3)\nprint(c)\nreturn c['email']"}
            )
            wire = json.dumps(first.model_dump(mode="json"))
            assert ADDRESS not in wire
            token = first.structured_content["result"]  # type: ignore[index]
            assert token.startswith("[EMAIL_1:")
            second = await agent.call_tool(
                "execute_code", {"code": f"return await crm.send(to={token!r}, body='order shipped')"}
            )
            assert second.structured_content["status"] == "ok"  # type: ignore[index]
            assert book.sent == [{"to": ADDRESS, "body": "order shipped"}]


# In this process the SDK's deprecation warning of the logging capability is an error
# (filterwarnings=error) that the relay swallows; `codemode serve` runs it in its own process.
@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
async def test_log_messages_streamed_by_serve_carry_tokens() -> None:
    messages: list[str] = []

    async def on_log(params: Any) -> None:
        messages.append(str(params.data))

    async with MCPClient({"mcpServers": {"crm": crm().server}}, code_mode=True, tokenize=["email"]) as engine:
        server = build_code_mode_server(engine.code_mode_engine())
        async with Client(server, logging_callback=on_log, log_level="info") as agent:
            await agent.call_tool("execute_code", {"code": "print((await crm.customer(customer_id=3))['email'])"})
    assert messages and all(ADDRESS not in m for m in messages)
    assert any(m.startswith("[EMAIL_1:") for m in messages)
