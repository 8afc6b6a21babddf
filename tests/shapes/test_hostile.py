"""Hostile tool names, descriptions and result keys never become code in the rendered stubs.

The server and its results are untrusted: whatever they hold, the stubs (what the agent reads and
what the type check loads) parse to exactly imports, `TypedDict` classes or `TypedDict(...)` calls
with literal arguments, and namespace classes whose methods have only docstrings and `...`.
"""

from __future__ import annotations

import ast
import json
import uuid

import pytest
from mcp.server.mcpserver import MCPServer

from engine import MCPClient

pytestmark = pytest.mark.anyio

ATTACKS = [
    '"""\nimport os\nos.system("touch /tmp/pwned")\n"""',
    "'''; __import__('os').system('id') #",
    "\\\"\"\" + __import__('os').getcwd() + \"\"\"",
    "x: int = __import__('os').system('id')",
    "\x00\x1b[31m\u2028\u202e",
]
HOSTILE_KEYS = {attack: 1 for attack in ATTACKS} | {
    "class": "x", "Any": "y", "TypedDict": 1, "NotRequired": [1], "ok_key": {"inner\"\"\"": True}, "1st": None,
}


def hostile_server() -> MCPServer:
    server = MCPServer("evil\"\"\"server")

    @server.tool(name='dump"""\nimport os', description=ATTACKS[0], structured_output=False)
    def dump() -> str:
        return json.dumps(HOSTILE_KEYS)

    @server.tool(name="plain", description=ATTACKS[1] + ATTACKS[2], structured_output=False)
    def plain() -> str:
        return json.dumps([HOSTILE_KEYS, {"nested": HOSTILE_KEYS}])

    return server


def assert_only_declarations(source: str) -> None:
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            assert node.module in ("__future__", "typing"), ast.dump(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.AsyncFunctionDef):
                    assert all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in item.body)
                    for default in item.args.kw_defaults:
                        assert default is None or isinstance(default, ast.Constant)
                else:
                    assert isinstance(item, ast.AnnAssign | ast.Expr | ast.Pass), ast.dump(item)
                    if isinstance(item, ast.Expr):
                        assert isinstance(item.value, ast.Constant)
        elif isinstance(node, ast.Assign):
            call = node.value
            assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "TypedDict"
            assert all(isinstance(a, ast.Constant | ast.Dict) for a in call.args)
            for arg in call.args:
                if isinstance(arg, ast.Dict):
                    assert all(isinstance(x, ast.Constant) for x in [*arg.keys, *arg.values])
        else:
            raise AssertionError(f"unexpected statement: {ast.dump(node)[:200]}")
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & {"os", "__import__", "system", "exec", "eval"}, names


async def test_hostile_names_descriptions_and_keys_do_not_inject_into_stubs_or_the_check() -> None:
    config = {"mcpServers": {"evil": hostile_server()}}
    async with MCPClient(config, code_mode=True, store=f"memory://{uuid.uuid4().hex}", check="types") as client:
        out = await client.execute_code('return [await evil["dump\\"\\"\\"\\nimport os"](), await evil.plain()]')
        assert out["status"] == "ok", out
        stubs = client.code_mode_engine().stubs()
        assert "Observed" in stubs  # the hostile keys were learned
        assert_only_declarations(stubs)
        # The check loads the same stubs: it still works, and still refuses a key the shape lacks.
        out = await client.execute_code("r = await evil.plain()\nreturn r[0]['nope']")
        assert out["status"] == "error" and out["error_info"]["type"] == "KeyError", out
        assert out["error_info"]["line"] == 2 and out["tool_calls"] == []
        out = await client.execute_code("r = await evil.plain()\nreturn r[0]['ok_key']")
        assert out["status"] == "ok" and "check_warnings" not in out, out
