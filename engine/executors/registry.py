"""Executor backends by name, imported lazily so optional ones cost nothing until used.

```python
executor = get_executor("restricted")                 # in-process RestrictedPython
executor = get_executor("process", {"memory_mb": 512})
executor = get_executor("e2b", {"template": "engine-guest"})
```
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ..errors import CodeModeError
from .base import Executor

__all__ = ["EXECUTORS", "get_executor"]

EXECUTORS: dict[str, tuple[str, str, str]] = {
    "restricted": ("engine.executors.restricted", "RestrictedExecutor", ""),
    "process": ("engine.executors.process", "ProcessExecutor", ""),
    "e2b": ("engine.executors.e2b", "E2BExecutor", "e2b"),
}
"""name -> (module, class, optional extra that provides its dependencies)."""


def get_executor(name: str, options: dict[str, Any] | None = None) -> Executor:
    """Create the executor called `name` with `options` as keyword arguments.

    Raises:
        CodeModeError: no such executor, its extra is not installed, or an option is wrong.
    """
    if name not in EXECUTORS:
        raise CodeModeError(f"unknown executor {name!r}; choose one of {sorted(EXECUTORS)}")
    module_name, class_name, extra = EXECUTORS[name]
    try:
        module = import_module(module_name)
    except ImportError as exc:
        hint = f": pip install 'engine[{extra}]'" if extra else ""
        raise CodeModeError(f"executor {name!r} is not available ({exc}){hint}") from exc
    factory = getattr(module, class_name)
    try:
        executor: Executor = factory(**(options or {}))
    except TypeError as exc:
        raise CodeModeError(f"executor {name!r}: bad executor_options: {exc}") from exc
    return executor
