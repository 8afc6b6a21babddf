"""ToolCatalog: result shape, detail levels, limits, validation, cache semantics and statistics."""

from __future__ import annotations

from typing import Any

import mcp.types
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.catalog import CODE_MODE_SERVER, DETAIL_LEVELS, CatalogStatistics, ToolCatalog, python_identifier

from .conftest import tool

OUTPUT = {"type": "object", "properties": {"id": {"type": "integer"}}}


@pytest.fixture
def catalog() -> ToolCatalog:
    catalog = ToolCatalog()
    catalog.set_tools(
        "github",
        [
            tool("create_pull_request", "Open a new pull request", "owner", "repo", "title", "head", "base"),
            tool("list_issues", "List issues in a repository", "owner", "repo", "state", output=OUTPUT),
            tool("get_me", "Details of the authenticated user"),
        ],
    )
    catalog.set_tools(
        "my-slack",
        [
            tool("post_message", "Post a message to a channel", "channel_id", "text"),
            tool("list_channels", "List the public channels of the workspace", "cursor"),
        ],
    )
    catalog.set_tools(
        CODE_MODE_SERVER,
        [tool("execute_code", "Execute Python code that calls tools", "code"), tool("search_tools", "Search tools")],
    )
    return catalog


def ids(result: dict[str, Any]) -> list[str]:
    return [f"{r['server']}.{r['name']}" for r in result["results"]]


def test_the_result_has_the_seeds_shape_and_meta_counts_user_tools_only(catalog: ToolCatalog) -> None:
    result = catalog.search("pull request")
    assert set(result) == {"meta", "results"}
    assert result["meta"] == {"total_tools": 5, "namespaces": ["github", "my-slack"], "result_count": 1}
    assert ids(result) == ["github.create_pull_request"]


def test_each_detail_level_returns_exactly_its_keys(catalog: ToolCatalog) -> None:
    names = catalog.search("list issues", "names")["results"][0]
    descriptions = catalog.search("list issues", "descriptions")["results"][0]
    full = catalog.search("list issues", "full")["results"][0]
    assert names == {"server": "github", "name": "list_issues", "namespace": "github", "identifier": "list_issues"}
    assert descriptions == {**names, "description": "List issues in a repository"}
    assert full == {**descriptions, "input_schema": catalog.tools("github")[2].input_schema, "output_schema": OUTPUT}
    # A tool without an output schema has no output_schema key rather than a None.
    assert "output_schema" not in catalog.search("create_pull_request", "full")["results"][0]


def test_detail_levels_are_applied_after_ranking(catalog: ToolCatalog) -> None:
    # "authenticated" appears only in get_me's description; the names level still finds it.
    for level in DETAIL_LEVELS:
        assert ids(catalog.search("authenticated user", level)) == ["github.get_me"]
    ranked = [ids(catalog.search("list channels issues", level)) for level in DETAIL_LEVELS]
    assert ranked[0] == ranked[1] == ranked[2] and len(ranked[0]) == 3


def test_namespaces_and_identifiers_are_python_names(catalog: ToolCatalog) -> None:
    entry = catalog.search("post message", "names")["results"][0]
    assert (entry["server"], entry["namespace"], entry["identifier"]) == ("my-slack", "my_slack", "post_message")
    assert python_identifier("import") == "import_"
    assert python_identifier("list") == "list_"
    assert python_identifier("2fa") == "tool_2fa"
    assert python_identifier("2fa", "server") == "server_2fa"
    assert python_identifier("__class__") == "class__"
    assert python_identifier("get.thing-v2") == "get_thing_v2"
    assert python_identifier("") == "tool"


def test_the_sanitisers_can_be_replaced_so_names_agree_with_the_stubs() -> None:
    catalog = ToolCatalog(namespace=lambda s: f"ns_{s}", identifier=str.upper)
    catalog.set_tools("a", [tool("run")])
    assert catalog.search("run", "names")["results"] == [
        {"server": "a", "name": "run", "namespace": "ns_a", "identifier": "RUN"}
    ]


def test_an_empty_or_stopword_query_lists_every_user_tool_by_server_then_name(catalog: ToolCatalog) -> None:
    expected = [
        "github.create_pull_request",
        "github.get_me",
        "github.list_issues",
        "my-slack.list_channels",
        "my-slack.post_message",
    ]
    assert ids(catalog.search()) == expected
    assert ids(catalog.search("  the  ")) == expected
    assert ids(catalog.search("", limit=4)) == expected[:4]
    assert catalog.search("", limit=4)["meta"]["result_count"] == 4


def test_limit_keeps_the_best_results_in_order(catalog: ToolCatalog) -> None:
    everything = ids(catalog.search("list"))
    assert len(everything) == 2
    assert ids(catalog.search("list", limit=1)) == everything[:1]
    assert ids(catalog.search("list", limit=50)) == everything


def test_a_query_matching_nothing_returns_no_results(catalog: ToolCatalog) -> None:
    assert catalog.search("kubernetes") == {
        "meta": {"total_tools": 5, "namespaces": ["github", "my-slack"], "result_count": 0},
        "results": [],
    }


@pytest.mark.parametrize("level", ["name", "FULL", "", "schemas"])
def test_an_unknown_detail_level_is_a_value_error_listing_the_allowed_ones(catalog: ToolCatalog, level: str) -> None:
    with pytest.raises(ValueError, match="'names', 'descriptions', 'full'"):
        catalog.search("x", level)  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [0, -1])
def test_a_non_positive_limit_is_a_value_error(catalog: ToolCatalog, limit: int) -> None:
    with pytest.raises(ValueError, match="positive int"):
        catalog.search("x", limit=limit)


@pytest.mark.parametrize("limit", ["3", 1.5, True])
def test_a_non_int_limit_is_a_type_error(catalog: ToolCatalog, limit: Any) -> None:
    with pytest.raises(TypeError, match="positive int"):
        catalog.search("x", limit=limit)


def test_a_non_string_query_is_a_type_error(catalog: ToolCatalog) -> None:
    with pytest.raises(TypeError, match="query must be a string"):
        catalog.search(None)  # type: ignore[arg-type]


def test_code_mode_tools_are_stored_but_never_searched_listed_or_counted(catalog: ToolCatalog) -> None:
    assert [t.name for t in catalog.tools(CODE_MODE_SERVER)] == ["execute_code", "search_tools"]
    assert CODE_MODE_SERVER not in catalog.servers()
    for query in ["", "execute code", "execute_code", "code_mode.search_tools", "search tools"]:
        result = catalog.search(query)
        assert all(r["server"] != CODE_MODE_SERVER for r in result["results"]), query
        assert result["meta"]["total_tools"] == 5
        assert CODE_MODE_SERVER not in result["meta"]["namespaces"]
    assert catalog.search("", servers=[CODE_MODE_SERVER])["meta"]["total_tools"] == 0
    assert catalog.statistics().tools == 5


def test_servers_restricts_the_search_and_the_meta(catalog: ToolCatalog) -> None:
    result = catalog.search("list", servers=["my-slack", "unknown"])
    assert ids(result) == ["my-slack.list_channels"]
    assert result["meta"] == {"total_tools": 2, "namespaces": ["my-slack"], "result_count": 1}


def test_set_tools_replaces_one_servers_tools_and_leaves_the_others(catalog: ToolCatalog) -> None:
    catalog.set_tools("github", [tool("list_releases", "List the releases of a repository")])
    assert ids(catalog.search("pull request")) == []
    assert ids(catalog.search("releases")) == ["github.list_releases"]
    assert ids(catalog.search("post message")) == ["my-slack.post_message"]
    assert catalog.search()["meta"]["total_tools"] == 3


def test_invalidate_marks_stale_until_the_next_set_tools(catalog: ToolCatalog) -> None:
    assert catalog.has_tools("github")
    catalog.invalidate("github")
    assert not catalog.has_tools("github")
    assert catalog.statistics().stale_servers == 1
    # Stale tools stay visible while the owner refreshes them.
    assert ids(catalog.search("pull request")) == ["github.create_pull_request"]
    catalog.set_tools("github", catalog.tools("github"))
    assert catalog.has_tools("github")
    assert catalog.statistics().stale_servers == 0
    catalog.invalidate("never-seen")
    assert not catalog.has_tools("never-seen")


def test_remove_forgets_a_server_everywhere(catalog: ToolCatalog) -> None:
    catalog.remove("github")
    catalog.remove("never-seen")
    assert catalog.servers() == ["my-slack"]
    assert not catalog.has_tools("github")
    assert catalog.tools("github") == []
    assert ids(catalog.search("pull request")) == []
    assert catalog.search()["meta"] == {"total_tools": 2, "namespaces": ["my-slack"], "result_count": 2}


def test_statistics_count_servers_tools_stale_builds_and_searches(catalog: ToolCatalog) -> None:
    # Two user servers indexed by the fixture; the code-mode server is stored but not indexed.
    assert catalog.statistics() == CatalogStatistics(servers=2, tools=5, stale_servers=0, index_builds=2, searches=0)
    catalog.search("x")
    catalog.search("")
    catalog.invalidate("my-slack")
    catalog.set_tools("github", [tool("a")])
    assert catalog.statistics() == CatalogStatistics(servers=2, tools=3, stale_servers=1, index_builds=3, searches=2)


def test_results_are_fresh_dicts_the_caller_may_change(catalog: ToolCatalog) -> None:
    first = catalog.search("pull request", "descriptions")["results"][0]
    first["description"] = "changed"
    first["extra"] = 1
    again = catalog.search("pull request", "descriptions")["results"][0]
    assert again["description"] == "Open a new pull request" and "extra" not in again


def test_words_of_parameter_names_and_server_names_are_searched(catalog: ToolCatalog) -> None:
    assert ids(catalog.search("channel_id")) == ["my-slack.post_message", "my-slack.list_channels"]
    assert set(ids(catalog.search("slack"))) == {"my-slack.post_message", "my-slack.list_channels"}


def test_a_query_spelling_a_tool_name_puts_that_tool_first(catalog: ToolCatalog) -> None:
    catalog.set_tools("other", [tool("issues_list_helper", "list issues list issues issues list")])
    assert ids(catalog.search("list_issues"))[0] == "github.list_issues"
    assert ids(catalog.search("listIssues"))[0] == "github.list_issues"
    assert ids(catalog.search("github.list_issues"))[0] == "github.list_issues"


def test_tools_sorted_by_name_and_servers_sorted(catalog: ToolCatalog) -> None:
    assert [t.name for t in catalog.tools("github")] == ["create_pull_request", "get_me", "list_issues"]
    assert catalog.servers() == ["github", "my-slack"]


def test_tools_with_odd_schemas_are_indexed_without_error() -> None:
    catalog = ToolCatalog()
    odd = [
        mcp.types.Tool(name="no_props", input_schema={"type": "object"}),
        mcp.types.Tool(name="bad_props", input_schema={"type": "object", "properties": ["x"]}),
        mcp.types.Tool(
            name="enum_param",
            input_schema={"type": "object", "properties": {"mode": {"enum": ["fast", 2, None], "description": 5}}},
        ),
        mcp.types.Tool(name="ünïcödé-näme", description="Ümlaut tool", input_schema={"type": "object"}),
    ]
    catalog.set_tools("odd", odd)
    assert ids(catalog.search("fast")) == ["odd.enum_param"]
    assert catalog.search("")["meta"]["total_tools"] == 4


@settings(max_examples=200, deadline=None)
@given(query=st.text(max_size=60), limit=st.none() | st.integers(min_value=1, max_value=10))
def test_any_query_text_returns_a_consistent_result(query: str, limit: int | None) -> None:
    catalog = ToolCatalog()
    catalog.set_tools("github", [tool("create_pull_request", "Open a pull request"), tool("get_me", "Me")])
    catalog.set_tools("fs", [tool("read_file", "Read a file", "path")])
    result = catalog.search(query, "names", limit=limit)
    assert result["meta"]["result_count"] == len(result["results"]) <= (limit or 3)
    assert len({(r["server"], r["name"]) for r in result["results"]}) == len(result["results"])
