"""The in-process sandbox behind the `restricted` executor.

Modules, one job each: `policy` (the RestrictedPython transformer and the AST rewrites),
`compiler` (compile and cache), `guards` (attribute access,
writes, classes), `operators` and `methods` (allocation guards), `sizes` (the size limits),
`iterators` (stoppable iteration), `builtins` (safe builtins, captured `print`, imports),
`facades` and `aio` (vetted module stand-ins),
`context` (per-run state and the stop exception), `workers` (thread pool and watchdog),
`runner` (one run on a worker thread; results and errors as plain data by the kernel), `state`
(code sessions). `engine.executors.restricted.RestrictedExecutor` puts them together.
"""

from __future__ import annotations

from .compiler import ProgramSyntaxError, compile_program
from .context import StopExecution
from .facades import ALLOWED_MODULES

__all__ = ["ALLOWED_MODULES", "ProgramSyntaxError", "StopExecution", "compile_program"]
