"""Rendered stub source: a snapshot of a realistic tool, types from schemas, and injection-proofing."""

from __future__ import annotations

import ast
from typing import Any

import mcp.types as types
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.stubs.render import render_all, render_namespace
from engine.stubs.spec import ToolSpec, namespace_identifier, specs_for_server

ISSUE_TOOL = types.Tool(
    name="create-issue",
    description="Create an issue in a repository.",
    input_schema={
        "type": "object",
        "properties": {
            "owner": {"type": "string", "description": "Repository owner."},
            "repo": {"type": "string"},
            "title": {"type": "string"},
            "state": {"enum": ["open", "closed"], "default": "open"},
            "labels": {"type": "array", "items": {"type": "string"}},
            "assignee": {"$ref": "#/$defs/User"},
        },
        "required": ["owner", "repo", "title"],
        "$defs": {
            "User": {
                "type": "object",
                "properties": {"login": {"type": "string"}, "id": {"type": "integer"}},
                "required": ["login"],
            }
        },
    },
    output_schema={
        "type": "object",
        "properties": {
            "number": {"type": "integer"},
            "url": {"type": "string"},
            "meta": {"type": "object", "additionalProperties": {"type": "number"}},
            "author": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["number", "url"],
    },
)

EXPECTED = '''\
from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class GithubUser(TypedDict):
    login: str
    id: NotRequired[int]


class GithubCreateIssueResult(TypedDict):
    number: int
    url: str
    meta: NotRequired[dict[str, float]]
    author: NotRequired[str | None]


class github:
    """MCP server 'github'. Call as `await github.<tool>(...)`."""

    async def create_issue(
        *,
        owner: str,
        repo: str,
        title: str,
        state: Literal['open', 'closed'] = 'open',
        labels: list[str] | None = None,
        assignee: GithubUser | None = None,
    ) -> GithubCreateIssueResult:
        """Create an issue in a repository.

        Args:
            owner: Repository owner.

        Original name: 'create-issue' (also `github['create-issue']`).
        """
        ...
'''


def test_a_realistic_tool_renders_as_expected() -> None:
    source = render_namespace("github", specs_for_server("github", [ISSUE_TOOL]))
    assert source == EXPECTED
    ast.parse(source)


def test_the_rendered_source_runs_and_defines_the_typed_dicts() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(render_namespace("github", specs_for_server("github", [ISSUE_TOOL])), "<stubs>", "exec"), namespace)
    assert set(namespace["GithubUser"].__annotations__) == {"login", "id"}
    assert namespace["github"].create_issue.__doc__.startswith("Create an issue")


def spec(name: str = "t", description: str = "", schema: dict[str, Any] | None = None) -> ToolSpec:
    (only,) = specs_for_server(
        "srv", [types.Tool(name=name, description=description, input_schema=schema or {"type": "object"})]
    )
    return only


def test_recursive_refs_and_odd_keys_use_names_and_the_functional_form() -> None:
    schema = {
        "type": "object",
        "properties": {"root": {"$ref": "#/definitions/Node"}},
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {"child-nodes": {"type": "array", "items": {"$ref": "#/definitions/Node"}}},
            }
        },
    }
    source = render_namespace("srv", [spec(schema=schema)])
    assert "SrvNode = TypedDict('SrvNode', {'child-nodes': 'NotRequired[list[SrvNode]]'})" in source
    assert "root: SrvNode | None = None" in source
    ast.parse(source)


def test_unions_enums_of_mixed_literals_and_open_objects() -> None:
    schema = {
        "type": "object",
        "properties": {
            "mode": {"enum": [1, "two", None, True]},
            "value": {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "number"}}]},
            "extra": {"type": "object"},
        },
        "required": ["mode", "value", "extra"],
    }
    source = render_namespace("srv", [spec(schema=schema)])
    assert "        mode: Literal[1, 'two', None, True],\n" in source
    assert "        value: int | list[float],\n" in source
    assert "        extra: dict[str, Any],\n" in source


HOSTILE = [
    '"""\nimport os\nos.system("rm -rf /")\n"""',
    "\\",
    'ends with a quote"',
    "ends with a backslash \\",
    "'''\nimport os",
    "\x00 nul \r carriage \u2028 separator \x0c feed \t tab",
    "ünïcödé ✓ 日本語 \U0001f600",
    "}{)(][",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_names_and_descriptions_cannot_inject_code(text: str) -> None:
    schema = {
        "type": "object",
        "properties": {
            text: {"type": "string", "description": text, "enum": [text], "default": text},
            "x": {"$ref": f"#/$defs/{text}"},
        },
        "$defs": {text: {"type": "object", "description": text, "properties": {text: {"const": text}}}},
        "required": [],
    }
    specs = {namespace_identifier(text): [spec(name=text, description=text, schema=schema)]}
    source = render_all(specs)
    assert_only_stub_definitions(source)
    # The description survives as text inside the docstring.
    namespace: dict[str, Any] = {}
    exec(compile(source, "<stubs>", "exec"), namespace)


def assert_only_stub_definitions(source: str) -> None:
    """The source is imports, TypedDicts and namespace classes of `async def ...: "doc"; ...` only."""
    tree = ast.parse(source)
    imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
    assert [(i.module, [a.name for a in i.names]) for i in imports] == [
        ("__future__", ["annotations"]),
        ("typing", ["Any", "Literal", "NotRequired", "TypedDict"]),
    ]
    for node in tree.body[2:]:
        if isinstance(node, ast.Assign):
            # Functional TypedDict: Name = TypedDict('Name', {str: str}) only.
            assert isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
            assert node.value.func.id == "TypedDict"
            assert all(isinstance(a, ast.Constant | ast.Dict) for a in node.value.args)
            continue
        assert isinstance(node, ast.ClassDef), ast.dump(node)
        if node.bases:  # a TypedDict
            assert [ast.unparse(b) for b in node.bases] == ["TypedDict"]
            assert all(isinstance(s, ast.AnnAssign | ast.Expr | ast.Pass) for s in node.body)
            continue
        assert isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
        for method in node.body[1:]:
            assert isinstance(method, ast.AsyncFunctionDef)
            assert not method.decorator_list
            assert len(method.body) == 2
            doc, ellipsis = method.body
            assert (
                isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str)
            )
            assert isinstance(ellipsis, ast.Expr) and isinstance(ellipsis.value, ast.Constant)
            assert ellipsis.value.value is Ellipsis
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert all(isinstance(c.func, ast.Name) and c.func.id == "TypedDict" for c in calls)


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(max_size=12),
    description=st.text(max_size=40),
    prop=st.text(min_size=1, max_size=8),
    value=st.text(max_size=8) | st.integers() | st.booleans() | st.none(),
)
def test_any_server_text_renders_to_source_with_only_stub_definitions(
    name: str, description: str, prop: str, value: object
) -> None:
    schema = {
        "type": "object",
        "properties": {prop: {"enum": [value], "description": description, "default": value}},
        "required": [],
    }
    source = render_all({namespace_identifier(name): [spec(name=name or "t", description=description, schema=schema)]})
    assert_only_stub_definitions(source)


def test_description_text_is_kept_verbatim_in_the_docstring() -> None:
    text = 'Say """hi""" \\ twice'
    namespace: dict[str, Any] = {}
    exec(compile(render_namespace("srv", [spec(description=text)]), "<stubs>", "exec"), namespace)
    assert namespace["srv"].t.__doc__ == text


def test_identifiers_from_plain_data_are_checked() -> None:
    bad = ToolSpec(server="s", name="x", identifier="x(): pass\nimport os\ndef y", input_schema={})
    with pytest.raises(ValueError, match="not a usable identifier"):
        render_namespace("s", [bad])
    with pytest.raises(ValueError, match="not a usable identifier"):
        render_namespace("import os", [])


def test_render_all_keeps_generated_names_apart_across_namespaces() -> None:
    user = {
        "type": "object",
        "properties": {"u": {"$ref": "#/$defs/User"}},
        "$defs": {"User": {"type": "object", "properties": {"a": {"type": "string"}}}},
    }
    source = render_all({"gh": [spec(schema=user)], "gl": [spec(schema=user)]})
    assert "class GhUser(TypedDict)" in source and "class GlUser(TypedDict)" in source
    tree = ast.parse(source)
    assert [n.name for n in tree.body if isinstance(n, ast.ClassDef) and not n.bases] == ["gh", "gl"]
