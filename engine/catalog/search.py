"""A ranked full-text index over tools: BM25F with synonyms, prefix fallback and an exact-name boost.

The index is split into one immutable `ServerIndex` per server, so replacing one server's tools
(`tools/list_changed`) rebuilds only that part; `SearchIndex` keeps the catalog-wide document frequencies
up to date incrementally. A search touches only the postings of the query's terms, so its cost grows with
the number of tools that match, not with the size of the catalog.

Scoring (see docs/search.md):

- Each tool is a document with five fields, each with a weight and a length normalisation `b`
  (`FIELDS`): its name and title, its server's name, its description, its parameter names, and its
  parameters' descriptions and enum values.
- BM25F: a term's frequency in each field is normalised by the field's length relative to that field's
  average *within the same server* (servers write descriptions in very different styles; comparing a tool
  with its siblings keeps one verbose server from being buried), weighted, summed, then saturated with `K1`.
  The saturated value is precomputed per posting, so a query only multiplies by the term's IDF.
- A query is a list of groups of alternatives (`text.analyse_query`): per group the best alternative
  counts, so a tool matching both "delete" and its synonym "remove" is not counted twice.
- A query term the catalog has never seen falls back to the terms it is a prefix of ("kube" ->
  "kubernetes"), at a reduced weight.
- A query that spells a tool's name (or `server.name`) exactly gets `EXACT_BOOST`, which puts it first.

This module knows nothing of MCP: it indexes plain strings.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple

from .text import QueryGroup, analyse, analyse_query, name_key

__all__ = ["EXACT_BOOST", "FIELDS", "Document", "FieldSpec", "Hit", "SearchIndex", "ServerIndex", "build_part"]


class FieldSpec(NamedTuple):
    """How one field of a tool contributes to its score."""

    #: Multiplier of the field's term frequency: a word in the name counts more than one in the prose.
    weight: float
    #: BM25 length normalisation, 0 (none) to 1 (full): long descriptions should not win by repetition.
    b: float


FIELDS: Final[dict[str, FieldSpec]] = {
    "name": FieldSpec(2.0, 0.3),
    "server": FieldSpec(1.5, 0.0),
    "description": FieldSpec(1.0, 0.75),
    "params": FieldSpec(0.6, 0.5),
    "param_text": FieldSpec(0.25, 0.75),
}
"""The indexed fields of a tool, in `Document` order."""

K1: Final = 1.2
"""BM25 term-frequency saturation: the second occurrence of a word adds less than the first."""

EXACT_BOOST: Final = 100.0
"""Added to a tool whose name the query spells exactly; larger than any text score in practice."""

PREFIX_WEIGHT: Final = 0.5
"""Weight of a vocabulary term found by prefix for a query term the catalog does not contain."""

COVERAGE: Final = 1.0
"""Exponent of the matched share of query groups that scales a tool's score (0 turns it off)."""

_MAX_PREFIX_EXPANSIONS: Final = 8
_MIN_PREFIX_LENGTH: Final = 3


@dataclass(frozen=True, slots=True)
class Document:
    """The searchable text of one tool."""

    name: str
    title: str = ""
    description: str = ""
    params: Sequence[str] = ()
    param_text: str = ""


class Hit(NamedTuple):
    """One ranked result: the tool's server, its position in that server's part, and its score."""

    score: float
    server: str
    position: int


class ServerIndex:
    """The immutable index of one server's tools: postings, document frequencies and exact-name keys."""

    __slots__ = ("df", "exact", "names", "postings")

    def __init__(
        self,
        names: list[str],
        postings: dict[str, list[tuple[int, float]]],
        exact: dict[str, list[int]],
    ) -> None:
        self.names = names
        #: term -> [(tool index, saturated BM25F term weight)]
        self.postings = postings
        #: spelling-independent name key -> tool indexes (see `text.name_key`)
        self.exact = exact
        #: term -> number of this server's tools containing it
        self.df = {term: len(plist) for term, plist in postings.items()}


def build_part(server: str, documents: Sequence[Document]) -> ServerIndex:
    """Index one server's tools. `documents` must be in the order results should tie-break in."""
    server_terms = analyse(server)
    fields_per_doc: list[tuple[list[str], ...]] = [
        (
            analyse(doc.name) + analyse(doc.title),
            server_terms,
            analyse(doc.description),
            analyse(" ".join(doc.params)),
            analyse(doc.param_text),
        )
        for doc in documents
    ]
    specs = list(FIELDS.values())
    averages = [
        max(1.0, sum(len(f[i]) for f in fields_per_doc) / max(1, len(fields_per_doc))) for i in range(len(specs))
    ]
    postings: dict[str, list[tuple[int, float]]] = {}
    exact: dict[str, list[int]] = {}
    server_key = name_key(server)
    for index, (doc, fields) in enumerate(zip(documents, fields_per_doc, strict=True)):
        weighted: dict[str, float] = {}
        for spec, average, terms in zip(specs, averages, fields, strict=True):
            if not terms:
                continue
            # Each occurrence adds weight / norm: the field-weighted, length-normalised frequency.
            unit = spec.weight / (1.0 - spec.b + spec.b * len(terms) / average)
            for term in terms:
                weighted[term] = weighted.get(term, 0.0) + unit
        for term, tf in weighted.items():
            postings.setdefault(term, []).append((index, tf * (K1 + 1.0) / (tf + K1)))
        own_key = name_key(doc.name)
        for key in {own_key, f"{server_key} {own_key}", name_key(doc.title)}:
            if key.strip():
                exact.setdefault(key, []).append(index)
    return ServerIndex([doc.name for doc in documents], postings, exact)


class SearchIndex:
    """All servers' parts plus catalog-wide document frequencies, updated one server at a time."""

    def __init__(self) -> None:
        self._parts: dict[str, ServerIndex] = {}
        self._df: Counter[str] = Counter()
        self._size = 0
        self._vocabulary: list[str] | None = None  # sorted, rebuilt lazily for prefix lookups

    def set_part(self, server: str, part: ServerIndex) -> None:
        """Install (or replace) one server's part."""
        self.remove_part(server)
        self._parts[server] = part
        self._df.update(part.df)
        self._size += len(part.names)
        self._vocabulary = None

    def remove_part(self, server: str) -> None:
        """Drop one server's part; unknown servers are ignored."""
        old = self._parts.pop(server, None)
        if old is None:
            return
        self._df.subtract(old.df)
        for term in [t for t in old.df if self._df[t] <= 0]:
            del self._df[term]
        self._size -= len(old.names)
        self._vocabulary = None

    def part(self, server: str) -> ServerIndex | None:
        return self._parts.get(server)

    def rank(self, query: str, servers: Collection[str], limit: int | None = None) -> list[Hit] | None:
        """The best `limit` (or all) matching tools of `servers`, best first; None if the query has no terms."""
        groups = [self._resolve(g) for g in analyse_query(query)]
        if not groups:
            return None
        key = name_key(query)
        # Sort keys are plain tuples: ties break by server then tool name (parts are built in name
        # order), so results are stable; Hit objects are only made for what is returned.
        ranked: list[tuple[float, str, int]] = []
        for server in servers:
            part = self._parts.get(server)
            if part is None:
                continue
            scores = _score_part(part, groups)
            for position in part.exact.get(key, ()):
                scores[position] = scores.get(position, 0.0) + EXACT_BOOST
            ranked.extend([(-score, server, position) for position, score in scores.items()])
        best = heapq.nsmallest(limit, ranked) if limit is not None and limit < len(ranked) else sorted(ranked)
        return [Hit(-negative, server, position) for negative, server, position in best]

    def _idf(self, term: str) -> float:
        df = self._df.get(term, 0)
        return math.log(1.0 + (self._size - df + 0.5) / (df + 0.5))

    def _resolve(self, group: QueryGroup) -> list[tuple[str, float]]:
        """Give each alternative its IDF-weighted factor; unknown terms fall back to prefix matches.

        An alternative never weighs more than the query's own term would (its IDF is capped by the
        original's): a rare synonym must not outrank the word the agent actually typed.
        """
        (original, _), *_ = group.alternatives
        cap = self._idf(original)
        resolved: list[tuple[str, float]] = []
        for term, weight in group.alternatives:
            if term in self._df:
                resolved.append((term, weight * min(cap, self._idf(term))))
            elif term == original and len(term) >= _MIN_PREFIX_LENGTH:
                resolved.extend((t, PREFIX_WEIGHT * min(cap, self._idf(t))) for t in self._prefixed(term))
        return resolved

    def _prefixed(self, prefix: str) -> Iterable[str]:
        if self._vocabulary is None:
            self._vocabulary = sorted(self._df)
        vocabulary = self._vocabulary
        start = bisect_left(vocabulary, prefix)
        found: list[str] = []
        for term in vocabulary[start : start + _MAX_PREFIX_EXPANSIONS]:
            if not term.startswith(prefix):
                break
            found.append(term)
        return found


def _score_part(part: ServerIndex, groups: list[list[tuple[str, float]]]) -> dict[int, float]:
    """Sum over query groups of the best alternative's score, for every tool matching any term.

    The sum is then scaled by the share of groups the tool matched (`COVERAGE`): a tool that matches
    every word of "comment on a merge request" beats one that matches "merge request" twice over.
    """
    postings = part.postings
    total: dict[int, float] = {}
    matched: dict[int, int] = {}
    for alternatives in groups:
        if len(alternatives) == 1:  # the common case: no synonyms, no max() needed
            term, factor = alternatives[0]
            for index, weight in postings.get(term, ()):
                total[index] = total.get(index, 0.0) + factor * weight
                matched[index] = matched.get(index, 0) + 1
            continue
        best: dict[int, float] = {}
        for term, factor in alternatives:
            for index, weight in postings.get(term, ()):
                value = factor * weight
                if value > best.get(index, 0.0):
                    best[index] = value
        for index, value in best.items():
            total[index] = total.get(index, 0.0) + value
            matched[index] = matched.get(index, 0) + 1
    if len(groups) > 1:
        n = len(groups)
        for index, count in matched.items():
            if count < n:
                total[index] *= (count / n) ** COVERAGE
    return total
