"""Finding 10 of issue 14: inside a program, a server that failed to start is a clear error that
says why, on every executor, not a bare `NameError` whose reason only reached a log."""

from __future__ import annotations

import sys
from typing import Any

import anyio
import pytest

from engine import MCPClient
from tests.conftest import toy_server

pytestmark = pytest.mark.anyio

PROGRAM = """
try:
    await down.anything(x=1)
except ToolError as exc:
    caught = [exc.server, exc.tool, exc.message]
return [caught, await toy.add(a=1, b=2)]
"""


@pytest.mark.parametrize("executor", ["restricted", "process"])
async def test_a_server_that_failed_to_start_says_why_when_a_program_uses_it(executor: str) -> None:
    down = {"command": sys.executable, "args": ["-c", "import sys; sys.exit('no licence key configured')"]}
    config: dict[str, Any] = {"mcpServers": {"down": down, "toy": toy_server()}}
    async with MCPClient(config, code_mode=True, executor=executor) as client:
        with anyio.fail_after(60):
            out = await client.execute_code(PROGRAM, timeout=30)
            bare = await client.execute_code("return await down.anything()", timeout=30)
    assert out["error"] is None, out["error"]
    (server, tool, message), total = out["result"]
    assert (server, tool, total) == ("down", "anything", 3)
    assert message.startswith("server 'down' is unavailable: ") and "no licence key configured" in message
    assert bare["error_info"]["type"] == "ToolError" and bare["error_info"]["line"] == 1
    assert "server 'down' is unavailable" in bare["error"]
