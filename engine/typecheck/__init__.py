"""The pre-run type check: a program checked against the stubs (learned shapes included) by a warm `ty`.

`TypeChecker.check(code, stubs, names)` returns a `CheckReport`: certain `errors` (the run is
refused before any tool is called), `warnings`, or `skipped` with the reason (the run goes ahead).
See docs/typed-results.md.
"""

from .checker import DEFAULT_TIMEOUT, CheckReport, TypeChecker, find_ty, stub_names
from .findings import AWAIT_HINT, StubNames

__all__ = ["AWAIT_HINT", "DEFAULT_TIMEOUT", "CheckReport", "StubNames", "TypeChecker", "find_ty", "stub_names"]
