"""The program's builtins: safe ones only, a captured `print`, and imports that resolve to facades.

Left out on purpose: `open`, `input`, `help`, `breakpoint`, `exec`, `eval`, `compile`, `globals`,
`locals`, `vars`, `id`, `memoryview`, `__import__` of real modules, `SystemExit` and
`KeyboardInterrupt` (they would tear down the worker's event loop). Replaced by guarded versions:
`getattr`, `hasattr`, `setattr`, `delattr`, `dir` (one argument, no private names), `type` (one
argument), `iter` (one argument: the two-argument form is an endless C loop), `range`, `pow`,
`format`, `bytes`, `bytearray`, `repr`, `ascii`, `hash`, `sorted`, `min`, `max`, and the classes
`str`, `list`, `tuple`, `set`, `frozenset`, `dict` (`kinds`). Each guard is the object itself, so
it holds under any name the program gives it (`f = str`, `map(repr, xs)`, `key=str`).
"""

from __future__ import annotations

import builtins as _py
import importlib
import operator
from typing import Any

from .containers import FLAT, MATERIALISED, hashed, hashed_pairs, mapping_source, sized
from .context import check_stop, current, raise_stop
from .facades import facade_for
from .guards import (
    guarded_delattr,
    guarded_dir,
    guarded_getattr,
    guarded_hasattr,
    guarded_setattr,
    guarded_write,
    make_class,
    name_of,
    safe_type,
    super_attr,
)
from .hints import install_unawaited_hook
from .intloops import ints_only
from .iterators import checked_iter, flat_nesting, safe_range
from .kinds import FACADE_BY_NAME
from .kwargs import checked_kwargs
from .numbers import guarded_divmod, guarded_floordiv, guarded_round
from .operators import (
    SMALL_INT,
    guarded_format,
    guarded_lshift,
    guarded_mod,
    guarded_mul,
    guarded_pow,
    safe_format_builtin,
)
from .ordering import (
    bounded,
    guarded_compare,
    guarded_contains,
    guarded_in_place,
    guarded_set_operator,
    hash_key,
    safe_max,
    safe_min,
    safe_sorted,
)
from .shown import SIMPLE, Text, check_shown, safe_hash, shown
from .sizes import require_size

__all__ = ["SAFE_BUILTINS", "program_globals"]

_PLAIN = (
    "abs", "all", "any", "bin", "bool", "callable", "chr", "classmethod", "complex",
    "float", "hex", "int", "isinstance",
    "issubclass", "len", "next", "object", "oct", "ord", "property",
    "reversed", "slice", "staticmethod", "super",
    "aiter", "anext", "NotImplemented", "Ellipsis", "None", "True", "False",
)

_EXCEPTIONS = (
    "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "BufferError",
    "EOFError", "Exception", "FloatingPointError", "ImportError", "IndexError", "KeyError",
    "LookupError", "MemoryError", "ModuleNotFoundError", "NameError", "NotImplementedError",
    "OSError", "OverflowError", "RecursionError", "ReferenceError", "RuntimeError",
    "StopAsyncIteration", "StopIteration", "SyntaxError", "TimeoutError", "TypeError",
    "UnboundLocalError", "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError", "ValueError",
    "ZeroDivisionError", "Warning", "UserWarning", "DeprecationWarning", "RuntimeWarning",
    "ConnectionError", "LookupError",
)


def sandbox_print(*args: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None,
                  flush: bool = False) -> None:
    """`print`, captured into this execution's output (never the process's stdout)."""
    if file is not None:
        raise TypeError("print(file=...) is not available in the sandbox")
    sep = " " if sep is None else sep
    end = "\n" if end is None else end
    if type(sep) is not str or type(end) is not str:
        raise TypeError("sep and end must be strings")
    out = current().output
    for i, arg in enumerate(args):
        if out.truncated:
            return
        if i:
            out.write(sep)
        if type(arg) is not str:
            arg = str(arg) if check_shown(arg, "printing this value") else str(Text(arg))
        out.write(arg)
    out.write(end)


_INTERNAL_IMPORTS = frozenset({"time", "_strptime", "warnings"})
"""Modules C code imports lazily while a program runs: `datetime.strftime` imports `time`, and a
coroutine's finalizer imports `warnings` for its "never awaited" hook (`hints`; without the real
module CPython falls back to printing on the host's stderr)."""


def sandbox_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    """`import x` / `from x import y`: facades only.

    C functions called from the program (`date.today()`, `strftime`, `strptime`) import through
    the *calling frame's* builtins, so they land here too. CPython's `PyImport_Import` passes
    `fromlist` as a *list* (empty; `["__doc__"]` in older versions), which the program's own
    `import` statements never do (they pass None or a tuple, and `__import__` itself is not
    reachable: `_` names do not compile). Those few internal imports get the real module, which
    only the C caller ever sees.
    """
    if level != 0:
        raise ImportError("relative imports are not allowed")
    if name in _INTERNAL_IMPORTS and type(fromlist) is list and fromlist in ([], ["__doc__"]):
        return importlib.import_module(name)
    return facade_for(name)


def _iter(obj: Any) -> Any:
    return _py.iter(obj)


def _apply(func: Any, *args: Any, **kwargs: Any) -> Any:
    """`f(*args, **kwargs)`: RestrictedPython routes star-calls through `_apply_`."""
    return func(*args, **kwargs)


def _public_name(func: Any, name: str) -> Any:
    func.__name__ = func.__qualname__ = name
    return func


def _bytes(source: Any = b"", *args: Any) -> bytes:
    if isinstance(source, int):
        require_size(source, "bytes()")
    elif not args:
        sized(source)
    return _py.bytes(source, *args)


def _bytearray(source: Any = b"", *args: Any) -> bytearray:
    if isinstance(source, int):
        require_size(source, "bytearray()")
    elif not args:
        sized(source)
    return _py.bytearray(source, *args)


_NUMBERS = (int, float, complex)


def _sum(iterable: Any, /, start: Any = 0) -> Any:
    """`sum()`; adding up sequences (`sum(lists, [])`) is quadratic, so it runs in Python where
    the stop flag is checked, instead of one uninterruptible C loop."""
    if isinstance(start, _NUMBERS):
        return _py.sum(iterable, start)
    total = start
    for item in checked_iter(iterable):
        total = total + item
    return total


def _repr(obj: Any, /) -> str:
    return repr(shown(obj))


def _ascii(obj: Any, /) -> str:
    return ascii(shown(obj))


def _getattr(obj: Any, name: str, *default: Any) -> Any:
    return guarded_getattr(obj, name, *default)


def _stopped() -> None:
    """Called by instrumented code when `_stop_` is set."""
    try:
        run = current()
    except BaseException:
        raise
    raise_stop(run.stop_reason or "the execution is over")


SAFE_BUILTINS: dict[str, Any] = {name: getattr(_py, name) for name in (*_PLAIN, *_EXCEPTIONS)}
SAFE_BUILTINS.update(
    {
        "print": sandbox_print,
        "__import__": sandbox_import,
        "__build_class__": _py.__build_class__,
        "getattr": _getattr,
        "hasattr": guarded_hasattr,
        "setattr": guarded_setattr,
        "delattr": guarded_delattr,
        "dir": guarded_dir,
        "type": safe_type,
        "iter": _iter,
        "range": safe_range,
        "_range_": safe_range,
        "sum": _sum,
        "pow": guarded_pow,
        "format": safe_format_builtin,
        "bytes": _bytes,
        "bytearray": _bytearray,
        "divmod": guarded_divmod,
        "round": guarded_round,
        "hash": safe_hash,
        "repr": _repr,
        "ascii": _ascii,
        "sorted": safe_sorted,
        "min": safe_min,
        "max": safe_max,
        **FACADE_BY_NAME,
        "map": flat_nesting(map),
        "filter": flat_nesting(filter),
        "zip": flat_nesting(zip),
        "enumerate": flat_nesting(enumerate),
        # Hooks the compiled program calls (names start with "_", so the program cannot).
        "_apply_": _apply,
        "_superattr_": super_attr,
        "_name_of_": name_of,
        "_type_": _py.type,
        "_ints_": ints_only,
        "_int_": int,
        "_float_": float,
        "_big_": SMALL_INT,
        "_writable_": frozenset({dict, list, bytearray}),
        "_getattr_": guarded_getattr,
        "_getitem_": operator.getitem,
        "_write_": guarded_write,
        "_mul_": guarded_mul,
        "_pow_": guarded_pow,
        "_lshift_": guarded_lshift,
        "_mod_": guarded_mod,
        "_floordiv_": guarded_floordiv,
        "_format_": guarded_format,
        "_stopped_": _stopped,
        "_sized_": sized,
        "_sized_types_": MATERIALISED,
        "_shown_types_": SIMPLE,
        "_shown_": shown,
        "_hashed_": hashed,
        "_pairs_": hashed_pairs,
        "_mapping_": mapping_source,
        "_kwargs_": checked_kwargs,
        "_guard_": check_stop,
        "_compare_": guarded_compare,
        "_contains_": guarded_contains,
        "_bounded_": bounded,
        "_setop_": guarded_set_operator,
        "_isetop_": guarded_in_place,
        "_key_": hash_key,
        "_flat_": FLAT,
        # The real classes, which the policy calls where the program names the builtin itself.
        **{f"_{name}_": real for real, name in ((str, "str"), (list, "list"), (tuple, "tuple"), (set, "set"),
                                                 (frozenset, "frozenset"), (dict, "dict"))},
    }
)
for _name in ("print", "getattr", "hasattr", "setattr", "delattr", "dir", "type", "iter", "range", "pow", "format",
              "bytes", "bytearray", "sum", "divmod", "round", "hash", "repr", "ascii", "sorted", "min", "max"):
    _public_name(SAFE_BUILTINS[_name], _name)


def program_globals(target: dict[str, Any]) -> dict[str, Any]:
    """Install (or refresh, for a code session) the engine's names in a program's globals."""
    # Idempotent: a program's unawaited coroutines warn in its output, not on the host's stderr.
    install_unawaited_hook()
    target["__builtins__"] = SAFE_BUILTINS
    target["__name__"] = "agent"
    target["__metaclass__"] = make_class
    target["_stop_"] = False
    return target
