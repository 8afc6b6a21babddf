"""Compile an agent's program with the sandbox policy, cached by source hash.

`compile_program(source)` returns a `CompiledProgram` (the code object that defines
`__agent_main__`, plus the source lines for tracebacks) or raises `ProgramSyntaxError` with the
collected `"Line N: ..."` messages. Parsing, the top-level wrap and the final compile are the
kernel's (`engine.kernel.program`); the sandbox policy runs between them. Compiling is pure, so
results are cached by the SHA-256 of the source; errors are cached too.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator

from ..kernel.program import (
    AGENT_FILENAME,
    CompiledProgram,
    ProgramSyntaxError,
    compile_wrapped,
    parse,
    top_level_names,
)
from .policy import SandboxPolicy

__all__ = [
    "AGENT_FILENAME",
    "INLINE_SOURCE_CHARS",
    "MAX_SOURCE_CHARS",
    "CompiledProgram",
    "ProgramSyntaxError",
    "compile_program",
]

def _fail(errors: list[str]) -> ProgramSyntaxError:
    first = errors[0]
    line: int | None = None
    message = first
    if first.startswith("Line "):
        head, _, rest = first.partition(": ")
        try:
            line = int(head[5:])
        except ValueError:
            line = None
        message = rest
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more: " + "; ".join(errors[1:4]) + ")"
    return ProgramSyntaxError(tuple(errors), line, message)


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while a program is parsed and compiled.

    A collection that runs inside `ast.parse` or `compile` runs the finalizers of whatever garbage
    is due, including generators and coroutines of earlier programs, whose `finally` blocks stop
    themselves by raising. On CPython 3.11 that can break the AST constructor's own bookkeeping:
    `ast.parse` of a valid program then fails with `SystemError: AST constructor recursion depth
    mismatch` (observed in this test suite). Counted, so overlapping compiles on several threads
    re-enable the collector only when the last one ends, and only if it was enabled before."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def _compile(source: str) -> CompiledProgram:
    tree = parse(source)
    names = top_level_names(tree)
    errors: list[str] = []
    warnings: list[str] = []
    policy = SandboxPolicy(errors, warnings, {})
    try:
        tree = policy.visit(tree)
    except RecursionError:
        raise ProgramSyntaxError(("program nests too deeply",), None, "program nests too deeply") from None
    if errors:
        raise _fail(errors)
    return compile_wrapped(tree, names, source)


_CACHE_SIZE = 256
_KEY_CHARS = 4096
"""Programs up to this long are cached under their own text (at most 1 Mi characters of keys in
all); longer ones under a tuple of their SHA-256 digest, which never compares with a text key (no
`BytesWarning` under `python -b` either, whatever its hash)."""
_cache: OrderedDict[str | tuple[str, bytes], CompiledProgram | ProgramSyntaxError] = OrderedDict()
_cache_lock = threading.Lock()


MAX_SOURCE_CHARS = 300_000
"""Longest program accepted. Compiling costs about 4 s per megabyte of source and is not covered
by the execution's limits, so a huge program would be a free CPU (and, for the C parser, a GIL)
hog; agent programs are a few kilobytes."""

INLINE_SOURCE_CHARS = 20_000
"""Programs up to this long compile on the caller's thread (about 0.1 s at most); longer ones
should be compiled off the event loop (`RestrictedExecutor` does)."""


def compile_program(source: str) -> CompiledProgram:
    """Compile `source` (cached), or raise `ProgramSyntaxError`."""
    if len(source) > MAX_SOURCE_CHARS:
        message = f"the program is {len(source)} characters long, over the limit of {MAX_SOURCE_CHARS}"
        raise ProgramSyntaxError((message,), None, message)
    # A short program is its own key (a dict lookup, no digest); a long one is keyed by its hash.
    key: str | tuple[str, bytes] = source
    if len(source) > _KEY_CHARS:
        key = ("sha256", hashlib.sha256(source.encode("utf-8", "surrogatepass")).digest())
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
    if hit is None:
        try:
            with _collector_paused():
                hit = _compile(source)
        except ProgramSyntaxError as exc:
            hit = exc
        with _cache_lock:
            _cache[key] = hit
            if len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    if isinstance(hit, ProgramSyntaxError):
        raise ProgramSyntaxError(hit.errors, hit.line, hit.message)
    return hit
