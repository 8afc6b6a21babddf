"""Detectors of personal data and secrets in text: built-in ones, and patterns a user supplies.

```python
detectors = parse_detectors(True)                       # every built-in one
detectors = parse_detectors(["email", {"name": "employee", "pattern": r"EMP-\\d{6}"}])
for found in find(detectors, "mail ann@example.com"):   # Found(start=5, end=20, label="EMAIL")
    ...
```

Built-ins: `email`, `phone` (international `+` numbers, and the (555) 123-4567 / 555-123-4567
forms), `card` (13-19 digits passing the Luhn checksum), `iban` (passing the ISO 13616 mod-97
check), `secret` (bearer tokens, and API keys of well-known forms: `sk-...`, `ghp_...`,
`github_pat_...`, `xox?-...`, `AKIA...`, `AIza...`, `sk_live_...`). Each is a bounded pattern (every
repeat has an upper bound) plus, where one exists, a checksum, so a match costs linear time.

A detector finds what it matches and nothing else: a phone number written in words, an e-mail
address with its `@` spelt out, or a card number split over two strings is missed.

A user pattern is vetted when it is parsed, with the sandbox's regular-expression cost model
(`engine.sandbox.regex`): a pattern whose matching could backtrack catastrophically (`(a+)+$`)
is refused with the reason, as is one whose worst case costs more than about 80 steps per character
(an unbounded repeat tried at every position, `\\d+x` or `\\w+@corp\\.com`, costs the square of
the window: bound it, `\\d{1,64}x`). User patterns are applied to windows of `WINDOW` characters, so
the work per string is proportional to its length whatever the pattern and the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..sandbox import regex as _regex

__all__ = ["BUILT_IN", "Detector", "DetectorError", "Found", "find", "parse_detectors"]

WINDOW = 4096
"""Characters a user pattern is applied to at once; windows overlap by `OVERLAP`."""
OVERLAP = 256
"""The longest match of a user pattern that is sure to be found across a window boundary."""
_PATTERN_BUDGET = 80 * (WINDOW + 1)
"""Steps a user pattern may cost on one window at worst: about 80 per character (a repeat bounded to
64, `\\w{1,64}`, fits; an unbounded one tried at every start, `\\w+@corp`, costs the window squared:
seconds of CPU, holding the GIL, on a long string). The work per character scanned stays small."""


class DetectorError(ConfigError):
    """A detector specification is malformed, unknown, or a pattern too costly to run (a
    `ConfigError`, so a `ValueError` too)."""


@dataclass(frozen=True, slots=True)
class Found:
    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class Detector:
    """One detector: a label for its tokens (`EMAIL`), a compiled pattern and an optional check."""

    name: str
    label: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None = None
    windowed: bool = False

    def find(self, text: str) -> Iterator[Found]:
        if not self.windowed:
            for match in self.pattern.finditer(text):
                if self.check is None or self.check(match.group()):
                    yield Found(match.start(), match.end(), self.label)
            return
        step = WINDOW - OVERLAP
        seen = -1
        for base in range(0, max(len(text) - OVERLAP, 1), step):
            for match in self.pattern.finditer(text, base, min(base + WINDOW, len(text))):
                if match.start() >= seen and match.end() > match.start():
                    seen = match.end()
                    yield Found(match.start(), match.end(), self.label)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _luhn(text: str) -> bool:
    digits = _digits(text)
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for index, ch in enumerate(reversed(digits)):
        n = int(ch)
        if index % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _iban(text: str) -> bool:
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def _phone(text: str) -> bool:
    return 7 <= len(_digits(text)) <= 15


_BUILT_IN: dict[str, tuple[str, str, Callable[[str], bool] | None]] = {
    "email": (
        "EMAIL",
        r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,8}\.[A-Za-z]{2,24}(?![\w-])",
        None,
    ),
    "card": ("CARD", r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])", _luhn),
    "iban": ("IBAN", r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])", _iban),
    "phone": (
        "PHONE",
        r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
        r"|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w])",
        _phone,
    ),
    "secret": (
        "SECRET",
        r"(?:(?<=Bearer )|(?<=bearer )|(?<=token ))[A-Za-z0-9._~+/-]{16,512}=*"
        r"|(?<![\w-])(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,200}|ghp_[A-Za-z0-9]{36}|gh[ousr]_[A-Za-z0-9]{36}"
        r"|github_pat_[A-Za-z0-9_]{22,255}|xox[abposr]-[A-Za-z0-9-]{10,200}|AKIA[0-9A-Z]{16}"
        r"|AIza[0-9A-Za-z_-]{35}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,200})(?![\w-])",
        None,
    ),
}

BUILT_IN = tuple(_BUILT_IN)
"""The names of the built-in detectors, in the order they are applied."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


def _built_in(name: str) -> Detector:
    label, pattern, check = _BUILT_IN[name]
    return Detector(name, label, re.compile(pattern), check)


def _vet(pattern: str, name: str) -> re.Pattern[str]:
    """Compile a user pattern, refusing one whose worst case on a window is too costly."""
    if not isinstance(pattern, str) or not pattern or len(pattern) > 1000:
        raise DetectorError(f"detector {name!r}: pattern must be a non-empty string of at most 1000 characters")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise DetectorError(f"detector {name!r}: pattern does not compile: {exc}") from None
    if compiled.match(""):
        raise DetectorError(f"detector {name!r}: pattern matches the empty string; it would match everywhere")
    try:
        model = _regex._model(compiled)
        # The worst case: every repeated class spans the whole window (a run of one character).
        attempt = _regex._evaluate(model.tree, WINDOW, [WINDOW] * len(model.finders))
    except RecursionError:
        attempt = float("inf")
    cost = attempt * (WINDOW + 1)
    if cost > _PATTERN_BUDGET:
        raise DetectorError(
            f"detector {name!r}: pattern could backtrack about {cost:.3g} steps on {WINDOW} characters "
            f"(over {_PATTERN_BUDGET:.3g}); bound repeats (\\w{{1,64}} rather than \\w+ or .*) and avoid nested "
            "or overlapping quantifiers such as (a+)+"
        )
    return compiled


def parse_detectors(spec: Any) -> tuple[Detector, ...]:
    """Detectors from `True` (every built-in), `False`/None (none), or a list of built-in names and
    `{"name": ..., "pattern": ...}` entries (tokens are labelled by the name in capitals).

    Raises:
        DetectorError: an unknown name, a malformed entry, a pattern that does not compile, matches
            the empty string or could backtrack catastrophically.
    """
    if spec is None or spec is False:
        return ()
    if spec is True:
        return tuple(_built_in(name) for name in BUILT_IN)
    if isinstance(spec, str) or not isinstance(spec, Sequence):
        raise DetectorError(f"tokenize must be true, false or a list of detectors, got {type(spec).__name__}")
    detectors: list[Detector] = []
    for item in spec:
        if isinstance(item, str):
            if item not in _BUILT_IN:
                raise DetectorError(f"unknown detector {item!r}; built-in ones: {', '.join(BUILT_IN)}")
            detectors.append(_built_in(item))
        elif isinstance(item, dict):
            name, pattern = item.get("name"), item.get("pattern")
            extra = sorted(set(item) - {"name", "pattern"})
            if extra or not isinstance(name, str) or not _NAME.fullmatch(name):
                raise DetectorError(
                    f"a custom detector is {{'name': identifier, 'pattern': regex}}, got {sorted(item)} "
                    f"(name {name!r})"
                )
            if name in _BUILT_IN:
                raise DetectorError(f"detector name {name!r} is built in; give the pattern another name")
            detectors.append(Detector(name, name.upper(), _vet(pattern, name), None, windowed=True))  # type: ignore[arg-type]
        else:
            raise DetectorError(f"a detector is a built-in name or {{'name', 'pattern'}}, got {type(item).__name__}")
    names = [d.name for d in detectors]
    if len(set(names)) != len(names):
        raise DetectorError(f"detectors named twice: {sorted({n for n in names if names.count(n) > 1})}")
    return tuple(detectors)


def find(detectors: Sequence[Detector], text: str) -> list[Found]:
    """Non-overlapping matches of every detector in `text`, leftmost first (the longest at one place)."""
    found = [hit for detector in detectors for hit in detector.find(text)]
    found.sort(key=lambda hit: (hit.start, -hit.end))
    chosen: list[Found] = []
    end = -1
    for hit in found:
        if hit.start >= end:
            chosen.append(hit)
            end = hit.end
    return chosen
