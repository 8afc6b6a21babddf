"""Review findings on typed results, kept as strict xfails until fixed (docs/typed-results.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp.server.mcpserver import MCPServer

from engine import MCPClient
from engine.shapes import SHARED_NOTE, ShapeRegistry
from engine.store import open_store
from engine.typecheck import stub_names

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


async def test_a_shared_store_does_not_let_another_server_refuse_a_correct_program(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    async with MCPClient({"mcpServers": {"fs": _fs({"x": 1})}}, code_mode=True, store=store) as other:
        out = await other.execute_code("return await fs.read(path='a')")
        assert out["status"] == "ok"
    async with MCPClient({"mcpServers": {"fs": _fs({"content": "hi"})}}, code_mode=True, store=store,
                         check="types") as client:
        out = await client.execute_code("r = await fs.read(path='a.txt')\nreturn r['content']")
        assert out["status"] == "ok" and out["result"] == "hi", out["error"]
        (warning,) = [w for w in out["check_warnings"] if w["type"] == "KeyError"]
        assert "other clients sharing the store" in warning["message"] and warning["line"] == 2, warning
        # Its own result learned, this client's type is certain again: a key no result had is refused.
        out = await client.execute_code("r = await fs.read(path='a.txt')\nreturn r['size']")
        assert out["error_info"]["type"] == "KeyError" and out["tool_calls"] == [], out
        out = await client.execute_code("r = await fs.read(path='a.txt')\nreturn r['content']")
        assert out["status"] == "ok" and out["result"] == "hi", out


async def test_a_shape_read_only_from_the_store_is_marked_until_this_client_sees_a_result(tmp_path: Path) -> None:
    value = {"info": {"size": 1}, "items": [{"name": "a"}]}
    async with open_store(f"sqlite:///{tmp_path / 'engine.db'}") as store:
        writer = ShapeRegistry(store)
        writer.observe("fs", "read", value)
        await writer.flush()
        reader = ShapeRegistry(store)
        await reader.sync([("fs", "read")], force=True)
        shared = reader.snapshot([("fs", "read")])[("fs", "read")]
        assert json.dumps(shared.schema).count(json.dumps(SHARED_NOTE)) == 3  # the result and both nested objects
        own = writer.learned("fs", "read")
        assert own is not None and writer.snapshot([("fs", "read")])[("fs", "read")].schema == own.schema
        before = reader.shape_version
        reader.observe("fs", "read", value)
        reader.drain()
        assert reader.shape_version > before  # the checked stubs are rendered again, unmarked
        assert SHARED_NOTE not in json.dumps(reader.snapshot([("fs", "read")])[("fs", "read")].schema)
    stubs = (f'class FsReadObserved(TypedDict):\n    """{SHARED_NOTE}"""\n    x: int\n\n\n'
             "class Other(TypedDict):\n    y: int\n")
    assert set(stub_names(stubs, {}).shared) == {"FsReadObserved"}
