"""Which of the checker's diagnostics are certain enough to refuse a run, and what they become.

Certain (the run would fail there, or call what does not exist), each as the exception the run
would raise:

- a tool the namespace does not have (`missing-attribute` on a namespace class): `AttributeError`;
- an argument the tool does not take, a required one missing, or one of the wrong type
  (`unknown-argument`, `missing-argument`, `invalid-argument-type` on a tool's stub): `TypeError`;
- a key or attribute that a declared or observed result type does not have
  (`invalid-typed-dict-key`, `missing-attribute` on a stub `TypedDict`): `KeyError`, `AttributeError`;
  except on a type learned only from results other clients shared through the store (`shared`):
  another client's server of the same name may have written it, so that is a warning;
- a tool's coroutine used as its result (any error about a `CoroutineType`): `TypeError` with the
  hint "did you forget `await`?";
- text or a list indexed with a string key (`status["clean"]` on a `str`): `TypeError`, which is
  what indexing a `str` or a `list` with a `str` always raises.

Everything else the checker reports (a name it cannot resolve: the program may rely on a code
session's globals; a library's types; a possibly-missing key) is a warning: shown, never a refusal.
Diagnostics below warning severity are dropped, and so is every diagnostic about an import the
checker cannot resolve (it sees only the stubs and typeshed, never the host's modules; the sandbox
says at run time which imports it allows). What a message names of the checker's own workspace and
its `info:` lines (the paths it searched) are cut out: nothing of the host's paths reaches the agent.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..envelope import CheckFinding

__all__ = ["AWAIT_HINT", "OBSERVED_HINT", "SHARED_HINT", "Classified", "StubNames", "classify", "hidden", "scrub"]

AWAIT_HINT = "did you forget `await`?"
SHARED_HINT = ("that type was learned only from results other clients sharing the store saw, so it is "
               "not certain; the run goes ahead")
OBSERVED_HINT = ("that type was learned from the results seen so far; if some results have this key, "
                 "read it with .get() or test `in` first")
_TICKED = re.compile(r"`([^`]*)`")
_STRING_KEY = re.compile(
    r"^Method `__getitem__` of type `bound method (?:str|list\[[^`]*\])\.__getitem__.*` cannot be called with key "
    r"of type `Literal\[[\"'].*` on object of type `(?:str|list\[[^`]*\])`$", re.DOTALL
)


_IMPORT_RULES = frozenset({"unresolved-import", "import-not-found", "possibly-unresolved-import",
                           "possibly-missing-import", "unresolved-module"})


def hidden(rule: str, message: str) -> bool:
    """A diagnostic never shown: an import the checker cannot resolve (what it says would be about
    its own environment, not the sandbox's)."""
    return rule in _IMPORT_RULES or message.startswith("Cannot resolve imported module")


def scrub(message: str, paths: Sequence[str]) -> str:
    """`message` without the checker's `info:` lines (the paths it searched) and without `paths`."""
    kept = [line for line in message.split("\n") if not line.lstrip().startswith("info:")]
    text = "\n".join(kept).strip()
    for path in sorted(paths, key=len, reverse=True):
        if path:
            text = text.replace(path, "<check>")
    return text


@dataclass(frozen=True, slots=True)
class StubNames:
    """What the stubs declare: namespace classes, `ns.tool` functions and result `TypedDict`s."""

    namespaces: Collection[str]
    functions: Collection[str]
    typed_dicts: Mapping[str, Sequence[str]]
    """`{TypedDict name: its keys}`: what a refusal lists so the agent can pick the right one."""
    shared: Collection[str] = frozenset()
    """TypedDicts learned only from the store (`engine.shapes.SHARED_NOTE`): never a refusal."""


@dataclass(frozen=True, slots=True)
class Classified:
    finding: CheckFinding
    certain: bool


def classify(rule: str, message: str, line: int, column: int, names: StubNames) -> Classified:
    """One diagnostic of the checker, as a finding in the agent's code."""
    ticked = _TICKED.findall(message)

    def found(type_name: str, certain: bool, text: str = message) -> Classified:
        return Classified(CheckFinding(type=type_name, message=text, line=line, column=column, rule=rule), certain)

    if "CoroutineType[" in message or "Coroutine[" in message:
        return found("TypeError", True, f"{message}: {AWAIT_HINT}")
    if rule == "missing-attribute":
        owner = ticked[0] if ticked else ""
        if message.startswith("Class ") and owner in names.namespaces:
            tool = ticked[1] if len(ticked) > 1 else "?"
            tools = [name.split(".", 1)[1] for name in names.functions if name.startswith(owner + ".")]
            close = difflib.get_close_matches(tool, tools, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return found("AttributeError", True, f"server namespace {owner!r} has no tool {tool!r}{hint} ({message})")
        if owner in names.typed_dicts:
            shared = owner in names.shared
            return found("AttributeError", not shared,
                         f"{message}: it is a dict, {_keys(owner, names)}" + (f"; {SHARED_HINT}" if shared else ""))
        return found("AttributeError", False)
    if rule == "invalid-typed-dict-key":
        owner = ticked[0] if ticked else ""
        if owner in names.typed_dicts:
            message += f"; {_keys(owner, names)}"
        if "Observed" in owner:  # learned from the results seen so far: say how to read a rarer key
            message += f"; {OBSERVED_HINT}"
        if owner in names.shared:
            message += f"; {SHARED_HINT}"
        return found("KeyError", owner in names.typed_dicts and owner not in names.shared, message)
    if rule == "invalid-argument-type" and _STRING_KEY.search(message):
        kind = "text" if message.rstrip().endswith("`str`") else "a list"
        return found("TypeError", True, f"{message}: the value is {kind}, not a dict")
    if rule in ("unknown-argument", "missing-argument", "invalid-argument-type", "too-many-positional-arguments"):
        function = re.search(r"function `([^`]*)`", message)
        return found("TypeError", function is not None and function.group(1) in names.functions)
    if rule in ("unresolved-reference", "possibly-unresolved-reference"):
        return found("NameError", False)
    return found("TypeError", False)


def _keys(owner: str, names: StubNames) -> str:
    keys = list(names.typed_dicts.get(owner, ()))
    shown = ", ".join(repr(key)[:80] for key in keys[:20]) + (", ..." if len(keys) > 20 else "")
    return f"its keys are {shown}" if keys else "with no known keys"


def diagnostic_parts(diagnostic: Any) -> tuple[str, str, int, int, int] | None:
    """`(rule, message, severity, line, character)` of an LSP diagnostic (0-based position), or None."""
    if not isinstance(diagnostic, dict):
        return None
    start = diagnostic.get("range", {}).get("start", {}) if isinstance(diagnostic.get("range"), dict) else {}
    line, character = start.get("line"), start.get("character")
    message, severity = diagnostic.get("message"), diagnostic.get("severity", 1)
    if type(line) is not int or type(character) is not int or not isinstance(message, str):
        return None
    code = diagnostic.get("code")
    return str(code or ""), message[:2000], severity if type(severity) is int else 1, line, character
