"""The `re` facade's defence against catastrophic backtracking.

CPython's regular-expression engine runs in C and holds the GIL for the whole match: a pattern
that backtracks exponentially (`(a+)+$` on `"a" * 40 + "b"`) or polynomially on a long subject
(`\\d+-` on a million digits) freezes every thread of the process, the host event loop and the
watchdog included, and no stop reaches it. The only sound defence in-process is not to start
such a match.

Every pattern the program compiles is analysed once (cached): its parse tree becomes a cost
model counting the backtracking paths one match attempt can take. A variable repeat contributes
the number of counts it can try (for a repeat of one character class: the longest run of that
class in the subject, measured by one linear scan; otherwise the subject's length); a repeat of
an ambiguous body contributes that body's paths to the power of its count (which is how nested
quantifiers explode); an alternation contributes the sum of its branches (the maximum when every
branch starts with a different literal); a backreference the subject's length. A repeat at the
very end of the pattern never backtracks and counts once. A search tries every start position,
so its cost is the attempt's cost times the subject's length.

Patterns whose cost does not depend on the subject are handed out as real `re.Pattern`s. The
others come as a `CheckedPattern`, whose methods refuse (`ValueError`) a subject for which the
cost exceeds `BUDGET` (roughly a tenth of a second of matching) before matching starts.
`Match.re` gives the checked pattern back, never the unchecked one.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from re import _compiler as _sre_compile  # type: ignore[attr-defined]
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser as _sre_parse  # type: ignore[attr-defined]
from typing import Any

from .methods import pattern_sub, pattern_subn

__all__ = ["BUDGET", "CheckedPattern", "checked_compile", "match_pattern", "re_names"]

BUDGET = 50_000_000.0
"""Backtracking steps one regular-expression call may cost: about 0.1-0.2 s of matching."""

_INF = float("inf")
_PREFIX_CHARS = 64
"""Characters of a literal prefix used to count search starts (a shorter prefix counts more)."""


def _overlaps(text: str) -> bool:
    """Whether `text` overlaps itself (`"aa"` in `"aaa"` occurs twice): it has a border."""
    return any(text[i:] == text[: len(text) - i] for i in range(1, len(text)))
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}
_SINGLE = {_c.LITERAL, _c.NOT_LITERAL, _c.IN, _c.ANY}

# Cost-model nodes: ("one",), ("seq", [nodes]), ("alt", deterministic, [nodes]), ("ref",),
# ("rep", lo, hi, body, finder index or -1, trailing).
Node = tuple[Any, ...]


class _Model:
    """The cost model of one compiled pattern."""

    def __init__(self, parsed: Any, flags: int) -> None:
        self.finders: list[re.Pattern[Any]] = []
        self.state = parsed.state
        self.flags = flags
        self.variable = False
        self.tree = self._seq(list(parsed), True, flags | parsed.state.flags)
        self.fixed = self.variable is False
        # A literal prefix: a search only starts an attempt where the prefix occurs.
        prefix: list[int] = []
        for op, av in list(parsed):
            if op is not _c.LITERAL or flags & re.IGNORECASE:
                break
            prefix.append(av)
        self.prefix: str | bytes | None = None
        if prefix:
            text = "".join(map(chr, prefix[:_PREFIX_CHARS]))
            if not _overlaps(text):  # else occurrences overlap and `count` undercounts the starts
                self.prefix = text if isinstance(parsed.state.str, str) else text.encode("latin-1")

    def _seq(self, items: list[tuple[Any, Any]], trailing: bool, flags: int) -> Node:
        nodes = [self._item(op, av, trailing and i == len(items) - 1, flags) for i, (op, av) in enumerate(items)]
        return ("seq", nodes)

    def _item(self, op: Any, av: Any, trailing: bool, flags: int) -> Node:
        if op in _REPEATS:
            lo, hi, body = av
            items = list(body)
            finder = -1
            if lo != hi:
                self.variable = True
                if len(items) == 1 and items[0][0] in _SINGLE:
                    finder = self._finder(body, flags)
            return ("rep", lo, hi, self._seq(items, False, flags), finder, trailing)
        if op is _c.SUBPATTERN:
            # `(?i:...)`: the flags added and removed for this group only (the run-length finders
            # and the alternation test must see them, or `(?i:a)+` on "aAaA" counts runs of one).
            _group, add, remove, body = av
            return self._seq(list(body), trailing, (flags | add) & ~remove)
        if op is getattr(_c, "ATOMIC_GROUP", None):
            return self._seq(list(av), False, flags)
        if op is _c.BRANCH:
            branches = [list(b) for b in av[1]]
            firsts = [b[0][1] if b and b[0][0] is _c.LITERAL else None for b in branches]
            deterministic = None not in firsts and len(set(firsts)) == len(firsts) and not flags & re.IGNORECASE
            return ("alt", deterministic, [self._seq(b, False, flags) for b in branches])
        if op in (_c.ASSERT, _c.ASSERT_NOT):
            return self._seq(list(av[1]), False, flags)
        if op is _c.GROUPREF_EXISTS:
            yes = self._seq(list(av[1]), False, flags)
            no = self._seq(list(av[2]), False, flags) if av[2] is not None else ("one",)
            return ("alt", False, [yes, no])
        if op is _c.GROUPREF:
            self.variable = True
            return ("ref",)
        return ("one",)

    def _finder(self, body: Any, flags: int) -> int:
        """A compiled `body+`: finds the runs of the one character class a repeat consumes, under
        the flags in force where the repeat is."""
        state = _sre_parse.State()  # no groups: findall() must return the runs themselves
        state.flags = flags
        runs = _sre_parse.SubPattern(state, [(_c.MAX_REPEAT, (1, _c.MAXREPEAT, body))])
        self.finders.append(_sre_compile.compile(runs, flags))
        return len(self.finders) - 1

    def cost(self, subject: Any, search: bool) -> float:
        n = len(subject)
        runs = [max(map(len, f.findall(subject)), default=0) for f in self.finders]
        attempt = _evaluate(self.tree, n, runs)
        if not search:
            return attempt
        starts = n + 1
        if self.prefix is not None and type(self.prefix) is type(subject if type(subject) is str else b""):
            starts = subject.count(self.prefix) + 1
        return attempt * starts


def _evaluate(node: Node, n: int, runs: list[int]) -> float:
    kind = node[0]
    if kind == "one":
        return 1.0
    if kind == "seq":
        total = 1.0
        for child in node[1]:
            total *= _evaluate(child, n, runs)
            if total > BUDGET * 1e6:
                return _INF
        return total
    if kind == "alt":
        costs = [_evaluate(child, n, runs) for child in node[2]]
        return max(costs) if node[1] else sum(costs)
    if kind == "ref":
        return float(n + 1)
    _, lo, hi, body, finder, trailing = node
    inner = _evaluate(body, n, runs)
    if lo == hi:
        return inner**lo if inner > 1 else 1.0
    span = min(hi, runs[finder] if finder >= 0 else n)
    counts = max(span - lo + 1, 1)
    if inner <= 1:
        return 1.0 if trailing else float(counts)
    try:
        return float(counts * inner ** max(span, lo))
    except OverflowError:
        return _INF


_cache: OrderedDict[tuple[type, Any, int], _Model] = OrderedDict()
_lock = threading.Lock()


def _model(pattern: re.Pattern[Any]) -> _Model:
    key = (type(pattern.pattern), pattern.pattern, pattern.flags)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    model = _Model(_sre_parse.parse(pattern.pattern, pattern.flags), pattern.flags)
    with _lock:
        _cache[key] = model
        if len(_cache) > 512:
            _cache.popitem(last=False)
    return model


def _refuse(model: _Model, subject: Any, search: bool) -> None:
    if not isinstance(subject, (str, bytes, bytearray)):
        return  # re raises its own TypeError
    cost = model.cost(subject, search)
    if cost > BUDGET:
        raise ValueError(
            f"this regular expression could backtrack about {cost:.3g} steps on a subject of {len(subject)} "
            f"characters, over the sandbox's budget of {BUDGET:.3g}: simplify it (avoid nested or "
            "overlapping quantifiers) or apply it to smaller pieces (for example line by line)"
        )


class CheckedPattern:
    """A compiled pattern whose matching cost depends on the subject: every call checks first."""

    __slots__ = ("_pattern", "_model")

    def __init__(self, pattern: re.Pattern[Any], model: _Model) -> None:
        self._pattern = pattern
        self._model = model

    @property
    def pattern(self) -> Any:
        return self._pattern.pattern

    @property
    def flags(self) -> int:
        return self._pattern.flags

    @property
    def groups(self) -> int:
        return self._pattern.groups

    @property
    def groupindex(self) -> dict[str, int]:
        return dict(self._pattern.groupindex)

    def __repr__(self) -> str:
        return repr(self._pattern)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CheckedPattern) and other._pattern == self._pattern

    def __hash__(self) -> int:
        return hash(self._pattern)

    def search(self, string: Any, pos: int = 0, endpos: int = sys.maxsize) -> Any:
        _refuse(self._model, string, True)
        return self._pattern.search(string, pos, endpos)

    def match(self, string: Any, pos: int = 0, endpos: int = sys.maxsize) -> Any:
        _refuse(self._model, string, False)
        return self._pattern.match(string, pos, endpos)

    def fullmatch(self, string: Any, pos: int = 0, endpos: int = sys.maxsize) -> Any:
        _refuse(self._model, string, False)
        return self._pattern.fullmatch(string, pos, endpos)

    def findall(self, string: Any, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]:
        _refuse(self._model, string, True)
        return self._pattern.findall(string, pos, endpos)

    def finditer(self, string: Any, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[Any]:
        _refuse(self._model, string, True)
        return self._pattern.finditer(string, pos, endpos)

    def split(self, string: Any, maxsplit: int = 0) -> list[Any]:
        _refuse(self._model, string, True)
        return self._pattern.split(string, maxsplit)

    def sub(self, repl: Any, string: Any, count: int = 0) -> Any:
        _refuse(self._model, string, True)
        return pattern_sub(self._pattern, repl, string, count)

    def subn(self, repl: Any, string: Any, count: int = 0) -> Any:
        _refuse(self._model, string, True)
        return pattern_subn(self._pattern, repl, string, count)


_FIXED_LIMIT = 4.0
"""Paths a pattern without variable repeats may have per attempt and stay a plain `re.Pattern`: a
search tries them at every start, so `(?:a|a){13}b` (8192 paths) on a long subject is as costly as
a nested quantifier; more than this many paths and each subject is checked (`CheckedPattern`)."""


def _guard(compiled: re.Pattern[Any]) -> re.Pattern[Any] | CheckedPattern:
    model = _model(compiled)
    if model.fixed:
        paths = _evaluate(model.tree, 0, [])
        if paths <= _FIXED_LIMIT:
            return compiled
        if paths > BUDGET:
            raise re.error(f"this regular expression has about {paths:.3g} backtracking paths per attempt")
    return CheckedPattern(compiled, model)


def checked_compile(pattern: Any, flags: int = 0) -> re.Pattern[Any] | CheckedPattern:
    """`re.compile` for the program: a plain pattern when matching it is cheap on any subject,
    else a `CheckedPattern`."""
    if isinstance(pattern, CheckedPattern):
        pattern = pattern._pattern
    return _guard(re.compile(pattern, flags))


def match_pattern(match: re.Match[Any]) -> re.Pattern[Any] | CheckedPattern:
    """`Match.re` for the program: the pattern as `re.compile` would have handed it out."""
    return _guard(match.re)


def _module_function(name: str) -> Callable[..., Any]:
    def call(pattern: Any, string: Any, flags: int = 0) -> Any:
        return getattr(checked_compile(pattern, flags), name)(string)

    call.__name__ = call.__qualname__ = name
    return call


def re_names() -> dict[str, Any]:
    """The names of the `re` facade."""
    names: dict[str, Any] = {
        n: getattr(re, n)
        for n in ("escape", "error", "A", "ASCII", "I", "IGNORECASE", "M", "MULTILINE", "S", "DOTALL", "X",
                  "VERBOSE", "U", "UNICODE", "NOFLAG", "Pattern", "Match")
    }
    for name in ("search", "match", "fullmatch", "findall", "finditer"):
        names[name] = _module_function(name)

    def split(pattern: Any, string: Any, maxsplit: int = 0, flags: int = 0) -> list[Any]:
        return checked_compile(pattern, flags).split(string, maxsplit)

    def sub(pattern: Any, repl: Any, string: Any, count: int = 0, flags: int = 0) -> Any:
        compiled = checked_compile(pattern, flags)
        if isinstance(compiled, CheckedPattern):
            return compiled.sub(repl, string, count)
        return pattern_sub(compiled, repl, string, count)  # the size checks a plain pattern's sub() gets

    def subn(pattern: Any, repl: Any, string: Any, count: int = 0, flags: int = 0) -> Any:
        compiled = checked_compile(pattern, flags)
        if isinstance(compiled, CheckedPattern):
            return compiled.subn(repl, string, count)
        return pattern_subn(compiled, repl, string, count)

    names.update(compile=checked_compile, split=split, sub=sub, subn=subn)
    return names
