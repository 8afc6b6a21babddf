"""Personal data and secrets kept from the model: detectors, and a vault of stable tokens per session.

`parse_detectors(spec)` turns `tokenize=True` or a list of names and patterns into detectors
(`detectors.py`); a `Vault` replaces what they find by tokens like `[EMAIL_1:9f2c4e1a]` in what
leaves the engine, and puts the values back in tool arguments (`vault.py`). docs/results.md has
the guarantees and limits: a detector misses what it does not match.
"""

from .detectors import BUILT_IN, Detector, DetectorError, Found, find, parse_detectors
from .vault import TOKEN, RestoreLimitError, TokenError, Vault

__all__ = [
    "BUILT_IN", "TOKEN", "Detector", "DetectorError", "Found", "RestoreLimitError", "TokenError", "Vault", "find",
    "parse_detectors",
]
