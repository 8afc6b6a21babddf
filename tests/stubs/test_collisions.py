"""Tool names that sanitise to the same identifier: an error by identifier, reachable by original name."""

from __future__ import annotations

import ast

import mcp.types as types
import pytest

from engine.kernel import protocol
from engine.kernel.stubs import PreparedNamespaces
from engine.stubs import NameCollisionError, ToolSpec, render_namespace, specs_for_server

pytestmark = pytest.mark.anyio

TOOLS = [
    types.Tool(name="get-item", input_schema={"type": "object"}),
    types.Tool(name="get_item", input_schema={"type": "object"}),
    types.Tool(name='evil"\n"""name', input_schema={"type": "object"}),
    types.Tool(name="list", input_schema={"type": "object"}),
]


def test_the_default_is_an_error_naming_both_tools() -> None:
    with pytest.raises(NameCollisionError, match="'get-item' and 'get_item' both map to 'get_item'"):
        specs_for_server("shop", TOOLS)


def test_original_only_leaves_both_without_identifier_and_keeps_the_rest() -> None:
    specs = specs_for_server("shop", TOOLS, on_collision="original_only")
    assert [(s.identifier, s.clashes) for s in specs[:2]] == [("", "get_item"), ("", "get_item")]
    assert specs[3].identifier == "list_"
    assert ToolSpec.from_dict(specs[0].to_dict()) == specs[0]


async def test_namespaces_refuse_the_ambiguous_identifier_and_serve_original_names() -> None:
    sent: list[dict[str, object]] = []

    async def send(frame: bytes) -> bytes:
        call = protocol.decode(frame)
        sent.append(call)
        return protocol.encode(protocol.result_frame(call["id"], call["tool"]))

    specs = specs_for_server("shop", TOOLS, on_collision="original_only")
    shop = PreparedNamespaces({"shop": specs}).bind(send, tool_error=RuntimeError)["shop"]
    ambiguous = r"shop\.get_item is ambiguous: .*shop\['get-item'\] or shop\['get_item'\]"
    with pytest.raises(AttributeError, match=ambiguous):
        shop.get_item  # noqa: B018
    assert await shop["get-item"]() == "get-item"
    assert await shop["get_item"]() == "get_item"
    assert await shop.list_() == "list"
    assert "get_item" not in dir(shop) and not any(name.startswith("?") for name in dir(shop))
    assert [call["tool"] for call in sent] == ["get-item", "get_item", "list"]


def test_rendered_stubs_mention_clashing_tools_without_injecting_code() -> None:
    specs = specs_for_server("shop", TOOLS, on_collision="original_only")
    source = render_namespace("shop", specs)
    tree = ast.parse(source)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert [c.name for c in classes][-1] == "shop"
    methods = [n.name for n in classes[-1].body if isinstance(n, ast.AsyncFunctionDef)]
    assert "get_item" not in methods and "list_" in methods
    assert "shop['get-item']" in source
