"""Review findings on context-safe results, kept as strict xfails until fixed (docs/results.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.server.mcpserver import MCPServer

from engine import MCPClient

pytestmark = pytest.mark.anyio


async def test_tokens_put_back_cannot_amplify_an_argument() -> None:
    sink = MCPServer("sink")
    received: list[int] = []

    @sink.tool()
    def note(items: list[str]) -> int:
        """Keep a note."""
        received.append(sum(map(len, items)))
        return received[-1]

    async with MCPClient({"mcpServers": {"sink": sink}}, code_mode=True, tokenize=True) as client:
        out = await client.execute_code("print('Bearer ' + 'A' * 512)\nreturn 1", session_id="s")
        token = out["logs"][0].split()[-1]
        assert token.startswith("[SECRET_1:")
        sent = len(token) * 50_000 * 2
        out = await client.execute_code(f"t = {token!r} * 50_000\nreturn await sink.note(items=[t, t])", session_id="s")
    # Refused, or what reached the server is of the order of what the program sent.
    assert out["status"] == "error" or max(received, default=0) <= 4 * sent
    assert received == [] and "too many of this session's tokens" in out["error"]


async def test_a_reopened_value_keeps_the_servers_it_came_from(tmp_path: Path) -> None:
    secret, other = MCPServer("secret"), MCPServer("other")

    @secret.tool()
    def dump() -> list[str]:
        """Data of the secret server."""
        return ["s" * 100] * 2000

    @other.tool()
    def ping() -> str:
        """Ping."""
        return "pong"

    config = {"mcpServers": {"secret": secret, "other": other}}
    store = f"sqlite:///{tmp_path / 'handles.db'}"
    async with MCPClient(config, code_mode=True, store=store, limits={"max_result_bytes": 10_000}) as allowed:
        out = await allowed.execute_code("return await secret.dump()", session_id="a")
        first = out["truncation"]["handle"]
        out = await allowed.execute_code(f"return await results.open({first!r})", session_id="a2")
        second = out["truncation"]["handle"]
    async with MCPClient(config, code_mode=True, store=store, allowed_servers=["other"]) as refused:
        direct = await refused.execute_code(f"return len(await results.open({first!r}))", session_id="b")
        laundered = await refused.execute_code(f"return len(await results.open({second!r}))", session_id="b")
    assert direct["status"] == "error" and "may not use" in direct["error"]
    assert laundered["status"] == "error", laundered["result"]
    assert "may not use" in laundered["error"] and "ValueError" in laundered["error"], laundered["error"]
