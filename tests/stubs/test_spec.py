"""Tool specs: identifier sanitising, collisions, and plain-data round trips."""

from __future__ import annotations

import builtins
import keyword

import mcp.types as types
import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.stubs.spec import (
    NameCollisionError,
    ToolSpec,
    namespace_identifier,
    sanitize_identifier,
    specs_for_server,
)


def tool(name: str, description: str | None = None) -> types.Tool:
    return types.Tool(name=name, description=description, input_schema={"type": "object"})


@pytest.mark.parametrize(
    ("name", "identifier"),
    [
        ("my-github", "my_github"),
        ("github", "github"),
        ("list", "list_"),
        ("class", "class_"),
        ("match", "match_"),
        ("_private", "private"),
        ("__engine__", "engine__"),
        ("9lives", "server_9lives"),
        ("---", "server"),
        ("", "server"),
        ("a.b c", "a_b_c"),
        ("ﬁle", "file"),
        ("日本", "日本"),
    ],
)
def test_server_names_become_usable_identifiers(name: str, identifier: str) -> None:
    assert namespace_identifier(name) == identifier


@given(st.text(max_size=30))
def test_every_name_sanitises_to_a_non_reserved_identifier(name: str) -> None:
    identifier = sanitize_identifier(name, fallback="tool")
    assert identifier.isidentifier()
    assert not keyword.iskeyword(identifier)
    assert not identifier.startswith("_")
    assert identifier not in dir(builtins)
    # Python reads the identifier back as itself (NFKC fixed point), so `ns.<identifier>` reaches it.
    assert compile(f"x.{identifier}", "<test>", "eval").co_names[-1] == identifier


def test_specs_keep_original_names_next_to_identifiers() -> None:
    specs = specs_for_server("my-gh", [tool("create-issue", "Make one"), tool("list")])
    assert [(s.server, s.name, s.identifier, s.description) for s in specs] == [
        ("my-gh", "create-issue", "create_issue", "Make one"),
        ("my-gh", "list", "list_", ""),
    ]


def test_tool_names_colliding_after_sanitising_are_an_error_naming_both() -> None:
    with pytest.raises(NameCollisionError, match="'get-item' and 'get_item'"):
        specs_for_server("s", [tool("get-item"), tool("get_item")])


def test_specs_round_trip_through_plain_data_and_msgpack() -> None:
    spec = ToolSpec(
        server="s",
        name="t-1",
        identifier="t_1",
        description="d",
        input_schema={"type": "object", "properties": {"a": {"type": "integer"}}},
        output_schema={"type": "object"},
    )
    shipped = msgpack.unpackb(msgpack.packb(spec.to_dict()))
    assert ToolSpec.from_dict(shipped) == spec
