"""Search quality on the realistic fixture catalog, against two naive baselines.

The held-out queries are the `split == "test"` entries of `benchmarks/data/search_queries.json`;
the ranking was tuned only while looking at the `dev` entries.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.catalog import ToolCatalog

from .conftest import DATA

Ranker = Callable[[str], list[str]]


def held_out(queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [q for q in queries if q["split"] == "test"]


def recall(ranker: Ranker, queries: list[dict[str, Any]]) -> tuple[float, float, float]:
    """(recall@1, recall@5, MRR@10); a hit is the expected tool or one of its alternatives."""
    at1 = at5 = rr = 0.0
    for q in queries:
        accepted = {q["expected"], *q["alternatives"]}
        ranked = ranker(q["query"])[:10]
        rank = next((i for i, found in enumerate(ranked) if found in accepted), None)
        if rank is not None:
            at1 += rank == 0
            at5 += rank < 5
            rr += 1 / (rank + 1)
    n = len(queries)
    return at1 / n, at5 / n, rr / n


def ours(catalog: ToolCatalog) -> Ranker:
    def rank(query: str) -> list[str]:
        return [f"{r['server']}.{r['name']}" for r in catalog.search(query, "names", limit=10)["results"]]

    return rank


def seed_substring(catalog_data: dict[str, list[dict[str, Any]]]) -> Ranker:
    """Today's library: the whole query as a substring of the name or description, catalog order."""
    tools = [(s, t["name"], t.get("description", "")) for s in sorted(catalog_data) for t in catalog_data[s]]

    def rank(query: str) -> list[str]:
        q = query.lower()
        return [f"{s}.{n}" for s, n, d in tools if q in n.lower() or q in d.lower()]

    return rank


def word_overlap(catalog_data: dict[str, list[dict[str, Any]]]) -> Ranker:
    """A fairer baseline: count the query's words found as substrings of server, name and description."""
    tools = [
        (f"{s}.{t['name']}", f"{s} {t['name']} {t.get('description', '')}".lower())
        for s in sorted(catalog_data)
        for t in catalog_data[s]
    ]

    def rank(query: str) -> list[str]:
        words = [w for w in re.findall(r"[a-z0-9]+", query.lower()) if len(w) > 2]
        scored = [(sum(w in text for w in words), i, name) for i, (name, text) in enumerate(tools)]
        return [name for score, _, name in sorted(scored, key=lambda x: (-x[0], x[1])) if score > 0]

    return rank


def test_the_fixture_catalog_is_realistic_and_large(catalog_data: dict[str, list[dict[str, Any]]]) -> None:
    assert len(catalog_data) >= 25
    assert sum(len(tools) for tools in catalog_data.values()) >= 500
    for tools in catalog_data.values():
        for t in tools:
            assert t["description"] and t["inputSchema"]["type"] == "object"


def test_the_fixture_catalog_is_what_its_generator_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(DATA))
    generator = importlib.import_module("make_catalog")
    assert generator.build() == json.loads((DATA / "catalog.json").read_text())


def test_the_labelled_queries_name_real_tools_and_hold_out_at_least_40(
    labelled_queries: list[dict[str, Any]], catalog_data: dict[str, list[dict[str, Any]]]
) -> None:
    names = {f"{s}.{t['name']}" for s, tools in catalog_data.items() for t in tools}
    assert len(labelled_queries) >= 100
    assert len(held_out(labelled_queries)) >= 40
    assert {q["split"] for q in labelled_queries} == {"dev", "test"}
    for q in labelled_queries:
        assert {q["expected"], *q["alternatives"]} <= names, q


def test_held_out_queries_find_the_right_tool_first(
    big_catalog: ToolCatalog, labelled_queries: list[dict[str, Any]]
) -> None:
    at1, at5, mrr = recall(ours(big_catalog), held_out(labelled_queries))
    assert at1 >= 0.8, (at1, at5, mrr)
    assert at5 >= 0.95, (at1, at5, mrr)


def test_ranked_search_beats_substring_and_word_overlap_matching(
    big_catalog: ToolCatalog,
    labelled_queries: list[dict[str, Any]],
    catalog_data: dict[str, list[dict[str, Any]]],
) -> None:
    queries = held_out(labelled_queries)
    mine = recall(ours(big_catalog), queries)
    seed = recall(seed_substring(catalog_data), queries)
    overlap = recall(word_overlap(catalog_data), queries)
    # The seed's whole-query substring almost never matches a multi-word query.
    assert seed[1] < 0.2
    assert mine[0] >= seed[0] + 0.6
    # Counting the query's words as substrings is a strong baseline on queries that reuse the tools'
    # own words (about 0.75 recall@1 here); stems, synonyms, field weights and IDF still do better.
    assert mine[0] >= overlap[0] + 0.05, (mine, overlap)
    assert mine[2] > overlap[2], (mine, overlap)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("list open PRs", "github.list_pull_requests"),
        ("get all issues in a gitlab project", "gitlab.list_issues"),
        ("remove a docker container", "docker.remove_container"),
        ("kube pod logs", "kubernetes.get_pod_logs"),
        ("createPullRequest", "github.create_pull_request"),
        ("github.create_issue", "github.create_issue"),
        ("brave-search.brave_web_search", "brave-search.brave_web_search"),
    ],
)
def test_spellings_abbreviations_and_prefixes_reach_the_tool(
    big_catalog: ToolCatalog, query: str, expected: str
) -> None:
    results = big_catalog.search(query, "names", limit=3)["results"]
    assert f"{results[0]['server']}.{results[0]['name']}" == expected, results


def test_the_benchmark_file_sits_beside_the_catalog_it_labels(labelled_queries: list[dict[str, Any]]) -> None:
    data = json.loads((Path(__file__).parents[2] / "benchmarks" / "data" / "search_queries.json").read_text())
    assert data["catalog"] == "tests/catalog/data/catalog.json"
    assert len(data["queries"]) == len(labelled_queries)
