"""What to tell the agent when its program trips on the sandbox's rules or forgets `await`.

- Refused underscore names: `attribute_hint(name)` and `variable_hint(name)` give the supported
  alternative (`type(x)` for `x.__class__`, `len(x)` for `x.__len__()`...), used by the policy's
  compile-time errors and by `getattr`'s run-time error.
- A forgotten `await`: `ns.tool()["x"]` subscripts a coroutine, and CPython only says "'coroutine'
  object is not subscriptable". `add_hint(exc)` appends "did you forget `await`?" to such a
  `TypeError` or `AttributeError` before it is reported, and "add `import asyncio`" to a
  `NameError` for a module the sandbox offers (mcp_use's programs had `asyncio` pre-imported).
- The coroutine is then dropped unawaited, and CPython warns "coroutine ... was never awaited" on
  the process's stderr: the host's. `install_unawaited_hook()` chains a hook in front of CPython's
  (`warnings._warn_unawaited_coroutine`) that routes the warning of a program's coroutine into
  that program's own output instead, where the agent sees it; other coroutines warn as before.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable
from typing import Any

from ..kernel.program import AGENT_FILENAME
from .context import current
from .facades import ALLOWED_MODULES

__all__ = [
    "NAME_ATTRIBUTES",
    "add_hint",
    "attribute_hint",
    "install_unawaited_hook",
    "variable_hint",
]

NAME_ATTRIBUTES = frozenset({"__name__", "__qualname__"})
"""The underscore attributes a program may read (never assign or delete), through `guards.name_of`."""

# -- refused underscore names ------------------------------------------------------------------

_WRITE_INSTEAD: dict[str, str] = {
    "__len__": "len(x)",
    "__iter__": "iter(x) or a for loop",
    "__next__": "next(x)",
    "__aiter__": "aiter(x) or async for",
    "__anext__": "anext(x)",
    "__await__": "await x",
    "__str__": "str(x)",
    "__repr__": "repr(x)",
    "__format__": "format(x, spec)",
    "__hash__": "hash(x)",
    "__bool__": "bool(x)",
    "__int__": "int(x)",
    "__float__": "float(x)",
    "__index__": "int(x)",
    "__abs__": "abs(x)",
    "__round__": "round(x)",
    "__reversed__": "reversed(x)",
    "__getitem__": "x[key]",
    "__setitem__": "x[key] = value",
    "__delitem__": "del x[key]",
    "__contains__": "key in x",
    "__call__": "x(...)",
    "__enter__": "with x: ...",
    "__aenter__": "async with x: ...",
    "__eq__": "x == y",
    "__ne__": "x != y",
    "__lt__": "x < y",
    "__le__": "x <= y",
    "__gt__": "x > y",
    "__ge__": "x >= y",
    "__add__": "x + y",
    "__sub__": "x - y",
    "__mul__": "x * y",
}

_ATTRIBUTE_HINTS: dict[str, str] = {
    "__class__": "use type(x) instead (and type(x).__name__ for the name of its class)",
    "__dict__": "use dir(x) and getattr(x, name) instead, or keep the data in a dict",
    "__init__": "call the class, C(...); inside a subclass's __init__, call super().__init__(...)",
    "__doc__": "for a tool's description, use await search_tools(query, detail_level='descriptions')",
    "__annotations__": "for a tool's parameters, use await search_tools(query, detail_level='full')",
    "__signature__": "for a tool's parameters, use await search_tools(query, detail_level='full')",
    "__bases__": "use isinstance(x, C) or issubclass(A, B) instead",
    "__base__": "use isinstance(x, C) or issubclass(A, B) instead",
    "__mro__": "use isinstance(x, C) or issubclass(A, B) instead",
    "__traceback__": "the error report already gives the line; use str(e) for the message",
    "__module__": "use type(x).__name__ for the name of a class",
}


def attribute_hint(name: str) -> str:
    """What to write instead of reading the attribute `name`, which starts with `_`."""
    if name in _ATTRIBUTE_HINTS:
        return _ATTRIBUTE_HINTS[name]
    if name in _WRITE_INSTEAD:
        return f"write {_WRITE_INSTEAD[name]} instead"
    if name.startswith("__") and name.endswith("__"):
        return "it is not available in the sandbox (of such names only __name__ and __qualname__ are readable)"
    return "names starting with '_' are private: use the public attributes (dir(x) lists them)"


def variable_hint(name: str) -> str:
    """What to write instead of the variable, function or argument `name`, which starts with `_`."""
    if name == "__name__":
        return "a program is not a module: drop `if __name__ == '__main__':` and write the code at top level"
    if name in ("__import__", "__builtins__"):
        return "use an import statement (import json) for the modules the sandbox offers"
    if name.startswith("__") and name.endswith("__"):
        return "it is not available in the sandbox"
    return f"rename it without the leading underscore ({name.lstrip('_') or 'value'!r})"


# -- a forgotten await -------------------------------------------------------------------------

AWAIT_HINT = (
    "did you forget `await`? Calling a tool (or any async function) gives a coroutine: write (await ns.tool(...))"
)

_COROUTINE_MESSAGES = ("'coroutine' object", "'coroutine' and", "and 'coroutine'")
_IMPORT_HINT = "modules are imported, as in plain Python"
_HINTED = (f"{AWAIT_HINT})", f"{_IMPORT_HINT})")


def add_hint(exc: BaseException) -> None:
    """Append a hint to the message of an error the program did not catch, when one helps:
    `AWAIT_HINT` to a `TypeError`/`AttributeError` about a coroutine, `import x` to a
    `NameError` for a module the sandbox offers.

    Only exact built-in exceptions with one string argument are changed (as the interpreter
    raises them), once."""
    kind = type(exc)
    if kind not in (TypeError, AttributeError, NameError) or len(exc.args) != 1:
        return
    message = exc.args[0]
    if type(message) is not str or message.endswith(_HINTED):
        return
    if kind is NameError:
        name = getattr(exc, "name", None)
        if type(name) is str and name in ALLOWED_MODULES:
            exc.args = (f"{message} (add `import {name}`: {_IMPORT_HINT})",)
    elif any(marker in message for marker in _COROUTINE_MESSAGES):
        exc.args = (f"{message} ({AWAIT_HINT})",)


# -- "coroutine ... was never awaited" -----------------------------------------------------------

_original_hook: Callable[[Any], None] | None = None


def _is_programs(coro: Any) -> bool:
    """A coroutine the program made: its own `async def`, or one finalized on a sandbox thread
    (a tool stub's coroutine is host code, but only a program leaves one unawaited there)."""
    code = getattr(coro, "cr_code", None)
    if code is not None and code.co_filename == AGENT_FILENAME:
        return True
    return threading.current_thread().name.startswith("sandbox-")


def _unawaited(coro: Any) -> None:
    """Replaces `warnings._warn_unawaited_coroutine`, which CPython calls from a coroutine's finalizer."""
    if not _is_programs(coro):
        if _original_hook is not None:
            _original_hook(coro)  # may raise (a warning filter set to "error"): CPython reports it
        return
    try:
        run = current()  # raises StopExecution when no program runs on this thread: stay silent
        # Only this run's own coroutines: a collection on this thread also finalizes the garbage of
        # earlier runs, whose warnings (and the names in them) are not this run's to see.
        if run.stopped or not _belongs(coro, run):
            return
        shown = run.extras.get("unawaited", 0)
        run.extras["unawaited"] = shown + 1
        if shown < _MAX_WARNINGS:
            name = getattr(coro, "__qualname__", "?")
            run.output.write(f"RuntimeWarning: coroutine '{name}' was never awaited ({AWAIT_HINT})\n")
        elif shown == _MAX_WARNINGS:
            run.output.write("RuntimeWarning: more coroutines were never awaited (not shown)\n")
    except BaseException:  # noqa: S110 - a finalizer must not raise; the warning is dropped
        pass


_MAX_WARNINGS = 10
"""Never-awaited warnings shown per run; then one line says there were more."""


def _belongs(coro: Any, run: Any) -> bool:
    """Whether `coro` is `run`'s: its own `async def` (its globals), or one of its tool stubs (its `send`)."""
    frame = getattr(coro, "cr_frame", None)
    if frame is None:
        return False
    if frame.f_globals is run.globals:
        return True
    send = run.extras.get("send")
    return send is not None and frame.f_locals.get("send") is send


def install_unawaited_hook() -> None:
    """Chain `_unawaited` in front of CPython's hook for unawaited coroutines (once), and keep the
    other warnings a program causes off the host's stderr (`_install_filters`, applied on import)."""
    global _original_hook
    current_hook = getattr(warnings, "_warn_unawaited_coroutine", None)
    if current_hook is None or current_hook is _unawaited:
        return
    _original_hook = current_hook
    warnings._warn_unawaited_coroutine = _unawaited  # type: ignore[attr-defined]


def _install_filters() -> None:
    """Keep the warnings a program causes off the host's stderr: those attributed to its code
    (compile-time `SyntaxWarning`s, `re`'s `FutureWarning`s) and those `re` raises while the
    sandbox compiles the program's patterns for it."""
    # Matched against the module a warning is attributed to: the program's code is `<agent>` while
    # it compiles and `agent` (its globals' `__name__`) while it runs.
    warnings.filterwarnings("ignore", module=f"({re.escape(AGENT_FILENAME)}|agent)$")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"engine\.sandbox\.regex$")


_install_filters()  # now: the first program compiles before any program's globals exist
