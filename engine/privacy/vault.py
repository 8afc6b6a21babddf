"""The vault: personal data and secrets replaced by stable tokens on the way out, put back on the way in.

```python
vault = Vault(parse_detectors(True))
vault.redact({"to": "ann@example.com"})      # {"to": "[EMAIL_1:9f2c4e1a]"}
vault.redact("ann@example.com again")        # "[EMAIL_1:9f2c4e1a] again": the same value, the same token
vault.restore({"to": "[EMAIL_1:9f2c4e1a]"})  # {"to": "ann@example.com"}
```

A token is the detector's label, a number counted per label, and the vault's tag: 32 random bits
drawn when the vault is made. Every code session (and every client's executions without one) has
a vault of its own, so a token never means another session's value: a token of another vault
(another tag, or a number this vault never gave) is refused by `restore` with `TokenError`,
instead of resolving to whatever this vault's `[EMAIL_1]` is.

Bounds: a vault holds at most `max_values` values; past it, new values are still hidden but as
`[LABEL_REDACTED]`, which never resolves. `redact` walks at most `max_nodes` values and `MAX_DEPTH`
levels of a structure; what it cannot walk is replaced, never passed through unread. `restore`
puts back at most `RESTORE_TOKENS` tokens and `RESTORE_GROWTH` added characters per call: a
19-character token of a 512-character secret repeated 400,000 times would otherwise turn a few MB
the bridge's limits let through into hundreds of MB sent to a server (`RestoreLimitError`, and
nothing is built past the bound).
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Sequence
from typing import Any

from .detectors import Detector, find

__all__ = ["RESTORE_GROWTH", "RESTORE_TOKENS", "TOKEN", "RestoreLimitError", "TokenError", "Vault"]

TOKEN = re.compile(r"\[([A-Z][A-Z0-9_]{0,31})_(\d{1,9}):([0-9a-f]{8})\]")
"""A token: `[LABEL_N:tag]`."""

MAX_DEPTH = 64
_MAX_NODES = 2_000_000
RESTORE_TOKENS = 10_000
"""Tokens put back in one tool call's arguments, at most."""
RESTORE_GROWTH = 1_000_000
"""Characters that putting tokens back may add to one tool call's arguments, at most."""


class TokenError(LookupError):
    """A token that this vault did not give (another session's, expired, or made up)."""


class RestoreLimitError(ValueError):
    """Putting tokens back would make tool arguments too large (`RESTORE_TOKENS`, `RESTORE_GROWTH`)."""


class _Budget:
    __slots__ = ("growth", "max_growth", "max_tokens", "tokens")

    def __init__(self, max_tokens: int, max_growth: int) -> None:
        self.tokens, self.growth = max_tokens, max_growth
        self.max_tokens, self.max_growth = max_tokens, max_growth

    def spend(self, token: str, value: str) -> None:
        self.tokens -= 1
        self.growth -= len(value) - len(token)
        if self.tokens < 0 or self.growth < 0:
            raise RestoreLimitError(
                f"the arguments hold too many of this session's tokens to put back (at most {self.max_tokens} "
                f"tokens, adding at most {self.max_growth} characters, per call); nothing was sent: pass each "
                "value once, or build repeated data in the program from the real values"
            )


class Vault:
    """The tokens of one code session; see the module docstring."""

    def __init__(self, detectors: Sequence[Detector], *, max_values: int = 100_000) -> None:
        self.detectors = tuple(detectors)
        self.tag = secrets.token_hex(4)
        self.max_values = max_values
        self._tokens: dict[tuple[str, str], str] = {}
        self._values: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        # Envelopes are redacted on worker threads: one lock, so two values never get one number.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def token(self, label: str, value: str) -> str:
        """The token of `value` (made on first sight)."""
        key = (label, value)
        with self._lock:
            known = self._tokens.get(key)
            if known is not None:
                return known
            if len(self._values) >= self.max_values:
                return f"[{label}_REDACTED]"
            number = self._counts.get(label, 0) + 1
            self._counts[label] = number
            token = f"[{label}_{number}:{self.tag}]"
            self._tokens[key] = token
            self._values[token] = value
            return token

    def redact_text(self, text: str) -> str:
        """`text` with every detected value replaced by its token."""
        hits = find(self.detectors, text)
        if not hits:
            return text
        parts: list[str] = []
        at = 0
        for hit in hits:
            parts.append(text[at:hit.start])
            parts.append(self.token(hit.label, text[hit.start:hit.end]))
            at = hit.end
        parts.append(text[at:])
        return "".join(parts)

    def redact(self, value: Any) -> Any:
        """A copy of plain data with every string (keys too) redacted; other values as they are."""
        if not self.detectors:
            return value
        budget = [_MAX_NODES]
        return self._redact(value, 0, budget)

    def _redact(self, value: Any, depth: int, budget: list[int]) -> Any:
        budget[0] -= 1
        if isinstance(value, str):
            return self.redact_text(value)
        if not isinstance(value, dict | list | tuple):
            return value if value is None or isinstance(value, bool | int | float) else self.redact_text(repr(value))
        if depth >= MAX_DEPTH or budget[0] < 0:
            return "<not inspected: nested too deeply or too large>"
        if isinstance(value, dict):
            return {self.redact_text(str(key)): self._redact(item, depth + 1, budget) for key, item in value.items()}
        return [self._redact(item, depth + 1, budget) for item in value]

    def restore_text(self, text: str, budget: _Budget | None = None) -> str:
        """`text` with this vault's tokens replaced by their values.

        Raises:
            TokenError: a token this vault did not give.
            RestoreLimitError: more tokens, or more added characters, than one call may have.
        """
        if "[" not in text:
            return text
        spent = budget if budget is not None else _Budget(RESTORE_TOKENS, RESTORE_GROWTH)

        def value(match: re.Match[str]) -> str:
            found = self._values.get(match.group())
            if found is None:
                raise TokenError(
                    f"{match.group()} is not a token of this code session (tokens are per session, "
                    "and only ones shown in this session's results can be passed back)"
                )
            spent.spend(match.group(), found)  # raises before the substituted text is built
            return found

        return TOKEN.sub(value, text)

    def restore(self, value: Any, *, max_tokens: int = RESTORE_TOKENS, max_growth: int = RESTORE_GROWTH) -> Any:
        """A copy of tool arguments with this vault's tokens put back (keys too).

        Raises:
            TokenError: a token this vault did not give.
            RestoreLimitError: more than `max_tokens` tokens, or more than `max_growth` characters
                added, in all of `value`.
        """
        return self._restore(value, 0, _Budget(max_tokens, max_growth))

    def _restore(self, value: Any, depth: int, budget: _Budget) -> Any:
        if isinstance(value, str):
            return self.restore_text(value, budget)
        if depth >= MAX_DEPTH:
            return value
        if isinstance(value, dict):
            return {self.restore_text(k, budget) if isinstance(k, str) else k: self._restore(v, depth + 1, budget)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self._restore(item, depth + 1, budget) for item in value]
        return value
