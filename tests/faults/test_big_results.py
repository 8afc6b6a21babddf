"""Finding 8 of issue 14: a tool result bigger than `max_tool_result_bytes` is a `ToolError` in
the program (reported in `usage.limits`), from a real server over stdio; smaller ones pass."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from engine import Limits, MCPClient
from tests.conftest import toy_server
from tests.faults.servers import bad_stdio_entry

pytestmark = pytest.mark.anyio

PROGRAM = """
out = {"small": await big.small()}
try:
    await big.blob()
except ToolError as exc:
    out["blob"] = exc.message
try:
    await toy.echo(text="y" * 1000, times=100)
except ToolError as exc:
    out["echo"] = exc.message
out["fits"] = len(await toy.echo(text="y" * 1000, times=10))
return out
"""


def test_the_limit_has_a_default_and_a_camel_case_spelling() -> None:
    assert Limits().max_tool_result_bytes == 10_000_000
    assert Limits.parse({"maxToolResultBytes": 5}).max_tool_result_bytes == 5


async def test_a_tool_result_over_the_limit_is_a_tool_error_in_the_program() -> None:
    config: dict[str, Any] = {"mcpServers": {"big": bad_stdio_entry("big", "300000"), "toy": toy_server()}}
    async with MCPClient(config, code_mode=True, limits={"maxToolResultBytes": 50_000}) as client:
        with anyio.fail_after(60):
            out = await client.execute_code(PROGRAM)
    assert out["error"] is None, out["error"]
    result = out["result"]
    assert result["small"] == "ok" and result["fits"] == 10 * 1000 + 9
    # A text item is refused before anything is built from it.
    assert result["blob"].startswith("the result is at least 300000 bytes, over the limit of 50000")
    assert result["echo"].startswith("the result is ") and "over the limit of 50000" in result["echo"]
    assert "max_tool_result_bytes" in result["blob"]
    assert out["usage"]["limits"]["max_tool_result_bytes"] == 50_000
    assert [call["outcome"] for call in out["tool_calls"]] == ["ok", "error", "error", "ok"]
