"""Text analysis for tool search: words, stems, abbreviations and synonyms.

Tool names arrive as `snake_case`, `camelCase`, `kebab-case` or `dotted.names`; descriptions are English
prose; queries are whatever an agent types ("open PRs in a repo"). This module turns all of them into the
same vocabulary of *terms* so the index in `search.py` can compare them:

1. `words()` splits identifiers and prose into lowercase words (`listPullRequests` -> list, pull, requests).
2. `stem()` removes plural and `-ing`/`-ed` endings with a few light rules (repositories -> repository,
   creating / created / create -> creat). It is deliberately small: tool vocabularies are short and
   technical, and an aggressive stemmer merges names that mean different things.
3. `ABBREVIATIONS` are expansions applied to documents and queries alike (`pr` -> pull request,
   `repo` -> repository), because they are two spellings of one thing.
4. `SYNONYMS` are groups of different words that often mean the same action or object (delete / remove,
   search / find). They are only expanded on the query side, at a reduced weight, so a tool whose own
   words match the query still ranks above one that only matches a synonym.

Nothing here knows about MCP or tools; it only exposes functions of strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Final, NamedTuple

__all__ = [
    "ABBREVIATIONS",
    "STOPWORDS",
    "SYNONYM_WEIGHT",
    "SYNONYMS",
    "QueryGroup",
    "analyse",
    "analyse_query",
    "name_key",
    "stem",
    "words",
]

# One word of an identifier or of prose, in order of preference: an acronym with a plural `s` (`PRs`,
# `URLs`), an acronym before a capitalised word (`HTTP` in `HTTPServer`), a (capitalised) lowercase run,
# an upper-case run. Digits stay glued to their word (`s3`, `ec2`, `k8s`, `oauth2`); everything else
# (spaces, `_`, `-`, `.`, `/`, punctuation, non-ASCII) separates words.
_WORD: Final = re.compile(r"[A-Z]+s(?![a-z])|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z0-9]+")

STOPWORDS: Final = frozenset(
    "a an the of for to in on at by with from into onto and or but is are be been being was were this that "
    "these those it its i me my we our you your he she they them their please can could would should will "
    "do does did how what which who whom whose where when there here as via using use some any each every "
    "all also just only so than then if not no yes let lets want need like am have has had much many may might must "
    "shall".split()
)
"""Words that carry no meaning in a tool query. `not`/`no` are dropped too: search has no negation."""

# Consonants that are legitimately doubled at the end of a stem (`call`, `pass`, `buzz`), so
# `calling` -> `call` keeps them while `stopped` -> `stopp` -> `stop` undoubles.
_KEEP_DOUBLE: Final = frozenset("lsz")
_VOWELS: Final = frozenset("aeiouy")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Reduce an English word to a light stem shared by its inflections.

    `repositories` -> `repository`, `branches` -> `branch`, `files` -> `file`, `statuses` -> `status`,
    `creating`/`created`/`create` -> `creat`, `stopped` -> `stop`, `prs` -> `pr`. Words of two letters or
    fewer, and words with digits, are returned unchanged.
    """
    w = word
    if len(w) <= 2 or not w.isalpha():
        return w
    # Plurals.
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith(("xes", "ches", "shes", "zzes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    # Verb endings: only when a real stem (with a vowel) of three letters or more remains.
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            base = w[: -len(suffix)]
            if not _VOWELS.intersection(base):
                break
            if len(base) >= 4 and base[-1] == base[-2] and base[-1] not in _VOWELS | _KEEP_DOUBLE:
                base = base[:-1]
            w = base
            break
    # A silent final `e` goes so that `create` meets `creat(ing)` and `merge` meets `merg(ed)`.
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def words(text: str) -> list[str]:
    """Split identifiers and prose into lowercase words, in order (camel, snake, kebab and dots)."""
    return [w.lower() for w in _WORD.findall(text)]


def name_key(text: str) -> str:
    """A spelling-independent key for an exact-name comparison: `createPullRequest` == `create-pull-request`."""
    return " ".join(words(text))


def _stemmed_table(raw: dict[str, str]) -> dict[str, tuple[str, ...]]:
    return {stem(k): tuple(stem(w) for w in v.split()) for k, v in raw.items()}


ABBREVIATIONS: Final[dict[str, tuple[str, ...]]] = _stemmed_table(
    {
        "pr": "pull request",
        "mr": "merge request",
        "repo": "repository",
        "repos": "repository",
        "dir": "directory",
        "folder": "directory",
        "db": "database",
        "msg": "message",
        "dm": "direct message",
        "k8s": "kubernetes",
        "kube": "kubernetes",
        "env": "environment",
        "config": "configuration",
        "cfg": "configuration",
        "auth": "authentication",
        "org": "organization",
        "organisation": "organization",
        "img": "image",
        "pic": "image",
        "doc": "document",
        "docs": "document",
        "tz": "timezone",
        "info": "information",
        "desc": "description",
    }
)
"""Abbreviation (stemmed) -> its expansion (stemmed). Applied to documents and queries alike."""

_SYNONYM_GROUPS: Final = (
    "delete remove destroy erase drop",
    "create add new make insert",
    "list enumerate",
    "get fetch retrieve read show view describe",
    "search find query lookup look",
    "send post publish",
    "update edit modify change patch",
    "run execute invoke trigger",
    "start launch boot",
    "stop halt terminate kill shutdown",
    "cancel abort",
    "user member person people account",
    "email mail",
    "issue ticket bug",
    "error exception failure crash",
    "meeting event appointment",
    "image picture photo",
    "upload put",
    "download save",
    "comment reply note",
    "navigate visit goto go",
    "click press tap",
    "screenshot capture snapshot",
    "restart reboot",
    "payment charge",
    "customer client",
    "secret credential password",
)

SYNONYMS: Final[dict[str, tuple[str, ...]]] = {}
"""Stemmed word -> the other (stemmed) words of its synonym groups."""
for _line in _SYNONYM_GROUPS:
    _members = [stem(w) for w in _line.split()]
    for _m in _members:
        SYNONYMS[_m] = tuple(dict.fromkeys(SYNONYMS.get(_m, ()) + tuple(o for o in _members if o != _m)))

# Phrases that stand for one action in a query ("get all issues" means "list issues").
_QUERY_PHRASES: Final[dict[tuple[str, str], str]] = {
    ("get", "all"): "list",
    ("show", "all"): "list",
    ("fetch", "all"): "list",
    ("look", "up"): "search",
    ("find", "out"): "get",
    ("sign", "in"): "login",
    ("log", "in"): "login",
}

SYNONYM_WEIGHT: Final = 0.6
"""How much a synonym or phrase match counts relative to the query's own word."""


def analyse(text: str) -> list[str]:
    """Turn a document field (name, description, parameter names) into terms, in order, with repeats."""
    out: list[str] = []
    for w in words(text):
        if w in STOPWORDS:
            continue
        s = stem(w)
        out.extend(ABBREVIATIONS.get(s, (s,)))
    return out


class QueryGroup(NamedTuple):
    """One unit of meaning in a query: alternatives of which the best-matching one counts."""

    #: `(term, weight)` pairs: the query's own term at weight 1, synonyms at `SYNONYM_WEIGHT`.
    alternatives: tuple[tuple[str, float], ...]


def _group(term: str, extra: Iterable[str] = ()) -> QueryGroup:
    alts: dict[str, float] = {term: 1.0}
    for other in (*SYNONYMS.get(term, ()), *extra):
        alts.setdefault(other, SYNONYM_WEIGHT)
    return QueryGroup(tuple(alts.items()))


def analyse_query(query: str) -> list[QueryGroup]:
    """Turn a query into groups of alternative terms; repeated terms are kept once."""
    raw = words(query)
    groups: list[QueryGroup] = []
    seen: set[str] = set()
    i = 0
    while i < len(raw):
        phrase = _QUERY_PHRASES.get((raw[i], raw[i + 1])) if i + 1 < len(raw) else None
        if phrase is not None:
            # The phrase's meaning is the term; its first word competes as a weaker alternative.
            meaning = stem(phrase)
            if meaning not in seen:
                seen.add(meaning)
                groups.append(_group(meaning, (stem(raw[i]),)))
            i += 2
            continue
        w = raw[i]
        i += 1
        if w in STOPWORDS:
            continue
        for term in ABBREVIATIONS.get(stem(w), (stem(w),)):
            if term not in seen:
                seen.add(term)
                groups.append(_group(term))
    return groups
