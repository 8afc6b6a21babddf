"""Schemas the stubs cannot say exactly (recursive `$ref`s, `not`, `allOf`, `if`, object `const`s,
40 levels of nesting, type lists) still give stubs the checker reads: a correct program is never
refused, and a mistake against what the stubs do say still is."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from mcp import types
from mcp.server.lowlevel import Server

from engine import MCPClient

pytestmark = pytest.mark.anyio

NODE = {"type": "object", "properties": {"name": {"type": "string"},
                                         "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
        "required": ["name", "children"]}
TREE = {"$ref": "#/$defs/Node", "$defs": {"Node": NODE}}
DEEP: dict[str, Any] = {"type": "string"}
for _ in range(40):
    DEEP = {"type": "object", "properties": {"next": DEEP}, "required": ["next"]}
ODD_INPUT = {
    "type": "object",
    "properties": {
        "mode": {"enum": [1.5, {"a": 1}, "x"]},
        "value": {"type": ["string", "integer", "null"]},
        "rule": {"allOf": [{"type": "string"}, {"minLength": 2}], "if": {"const": "x"}, "then": {"const": "x"}},
        "fixed": {"const": {"a": [1, 2]}},
    },
    "required": ["value"],
}
WEIRD_OUTPUT = {"type": "object", "not": {"required": ["secret"]}, "patternProperties": {"^x": {"type": "integer"}}}


def odd_server() -> Server[Any]:
    tools = [
        types.Tool(name="tree", input_schema={"type": "object"}, output_schema=TREE),
        types.Tool(name="deep", input_schema={"type": "object"}, output_schema=DEEP),
        types.Tool(name="weird", input_schema=ODD_INPUT, output_schema=WEIRD_OUTPUT),
    ]

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        value: Any
        if params.name == "tree":
            value = {"name": "root", "children": [{"name": "leaf", "children": []}]}
        elif params.name == "deep":
            value = "end"
            for _ in range(40):
                value = {"next": value}
        else:
            value = {"x1": 1, "other": "y"}
        return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(value))],
                                    structured_content=value)

    return Server("odd", on_list_tools=list_tools, on_call_tool=call_tool)


async def test_inexpressible_schemas_never_refuse_a_correct_program() -> None:
    config = {"mcpServers": {"odd": odd_server()}}
    async with MCPClient(config, code_mode=True, store=f"memory://{uuid.uuid4().hex}", check="types") as client:
        program = (
            "t = await odd.tree()\n"
            "names = [c['name'] for c in t['children']] + [g['name'] for c in t['children'] for g in c['children']]\n"
            "d = await odd.deep()\n"
            "for _ in range(3):\n"
            "    d = d['next']\n"
            "w = await odd.weird(value=None, mode=1.5, rule='xy', fixed={'a': [1, 2]})\n"
            "w2 = await odd.weird(value='v')\n"
            "return names, w.get('x1'), w2.get('other')\n"
        )
        out = await client.execute_code(program)
        assert out["status"] == "ok", out
        assert out["result"] == [["leaf"], 1, "y"]
        assert "check_warnings" not in out or all(w["type"] != "TypeCheckSkipped" for w in out["check_warnings"])
        # What the stubs do say is still checked: a key the recursive Node lacks.
        out = await client.execute_code("t = await odd.tree()\nreturn t['children'][0]['nam']")
        assert out["error_info"]["type"] == "KeyError" and out["tool_calls"] == [], out
        assert (out["error_info"]["line"], out["error_info"]["column"]) == (2, 25)
