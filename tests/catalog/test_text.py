"""Text analysis: word splitting, light stemming, abbreviations and query-side synonyms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.catalog.text import SYNONYM_WEIGHT, analyse, analyse_query, name_key, stem, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("list_pull_requests", ["list", "pull", "requests"]),
        ("listPullRequests", ["list", "pull", "requests"]),
        ("list-pull-requests", ["list", "pull", "requests"]),
        ("github.create_issue", ["github", "create", "issue"]),
        ("HTTPServer", ["http", "server"]),
        ("getURLsForIDs", ["get", "urls", "for", "ids"]),
        ("open PRs", ["open", "prs"]),
        ("s3Bucket ec2 k8s", ["s3", "bucket", "ec2", "k8s"]),
        ("Create a new issue, then (maybe) close it!", ["create", "a", "new", "issue", "then", "maybe", "close", "it"]),
        ("", []),
    ],
)
def test_words_split_identifiers_and_prose(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("forms", "stemmed"),
    [
        (["repository", "repositories"], "repository"),
        (["branch", "branches"], "branch"),
        (["file", "files"], "file"),
        (["status", "statuses"], "status"),
        (["create", "creates", "creating", "created"], "creat"),
        (["merge", "merges", "merging", "merged"], "merg"),
        (["stop", "stops", "stopping", "stopped"], "stop"),
        (["call", "calls", "calling", "called"], "call"),
        (["pr", "prs"], "pr"),
        (["process", "processes"], "process"),
    ],
)
def test_stem_merges_plurals_and_verb_endings(forms: list[str], stemmed: str) -> None:
    assert {stem(f) for f in forms} == {stemmed}


@pytest.mark.parametrize("word", ["add", "ssh", "s3", "ec2", "bus", "analysis", "is"])
def test_stem_leaves_short_and_special_words_alone(word: str) -> None:
    assert stem(word) == word


def test_abbreviations_expand_on_both_sides() -> None:
    assert analyse("list_prs") == ["list", "pull", "request"]
    assert analyse("Delete a repo") == ["delet", "repository"]
    assert [g.alternatives[0][0] for g in analyse_query("open PRs in my repo")] == [
        "open",
        "pull",
        "request",
        "repository",
    ]


def test_stopwords_are_dropped_from_documents_and_queries() -> None:
    assert analyse("Get the contents of a file") == ["get", "content", "file"]
    assert analyse_query("the of a an") == []


def test_synonyms_are_weaker_query_side_alternatives() -> None:
    (group,) = analyse_query("delete")
    alternatives = dict(group.alternatives)
    assert alternatives["delet"] == 1.0
    assert alternatives["remov"] == SYNONYM_WEIGHT
    # Documents are not expanded: a tool that says "remove" does not also say "delete".
    assert analyse("remove a label") == ["remov", "label"]


def test_get_all_means_list() -> None:
    (group, issues) = analyse_query("get all issues")
    assert group.alternatives[0] == ("list", 1.0)
    assert ("get", SYNONYM_WEIGHT) in group.alternatives
    assert issues.alternatives[0] == ("issu", 1.0)


def test_repeated_query_words_count_once() -> None:
    assert len(analyse_query("issue issues ISSUE")) == 1


def test_name_keys_ignore_spelling() -> None:
    assert name_key("createPullRequest") == name_key("create-pull-request") == name_key("create_pull_request")


@given(st.text(max_size=80))
def test_analysis_accepts_any_text_and_yields_lowercase_ascii_terms(text: str) -> None:
    for term in analyse(text):
        assert term and term.isascii() and term == term.lower() and term.isalnum()
    for group in analyse_query(text):
        assert group.alternatives[0][1] == 1.0
