"""Review findings on typed results, kept as strict xfails until fixed (docs/typed-results.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp.server.mcpserver import MCPServer

from engine import MCPClient

pytestmark = pytest.mark.anyio


def _fs(returns: dict[str, object]) -> MCPServer:
    server = MCPServer("fs")

    @server.tool(structured_output=False)
    def read(path: str) -> str:
        """Read a file."""
        return json.dumps(returns)

    return server


async def test_check_warnings_do_not_reveal_the_host() -> None:
    async with MCPClient({"mcpServers": {"fs": _fs({"size": 1})}}, code_mode=True, check="types") as client:
        out = await client.execute_code(
            "import engine.results.truncate as t\nx: bytes = t.MAX_CEILING\nimport no_such_module_xyz\n"
            "import pytest\ny: bytes = pytest.__version__\nreturn 1"
        )
        checked = await client.execute_code("import json\nz: int = json.dumps(1)\nreturn 1")  # typeshed still works
    shown = json.dumps(out.get("check_warnings", []))
    assert "50331648" not in shown and pytest.__version__ not in shown  # constants of host modules
    assert "site-packages" not in shown and "editable install" not in shown and "info:" not in shown  # host paths
    assert "engine-check" not in shown and "/" not in shown, shown
    (warning,) = checked["check_warnings"]
    assert warning["rule"] == "invalid-assignment" and warning["line"] == 2, warning


@pytest.mark.xfail(strict=True, reason="review: learned shapes are keyed by namespace and tool names only; another "
                   "client's server of the same names poisons a shared store and correct programs are refused")
async def test_a_shared_store_does_not_let_another_server_refuse_a_correct_program(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    async with MCPClient({"mcpServers": {"fs": _fs({"x": 1})}}, code_mode=True, store=store) as other:
        out = await other.execute_code("return await fs.read(path='a')")
        assert out["status"] == "ok"
    async with MCPClient({"mcpServers": {"fs": _fs({"content": "hi"})}}, code_mode=True, store=store,
                         check="types") as client:
        out = await client.execute_code("r = await fs.read(path='a.txt')\nreturn r['content']")
    assert out["status"] == "ok" and out["result"] == "hi", out["error"]
