"""Context-safe results: structural truncation of large values, and handles that keep them on the host.

- `truncate(value, budget)`: valid plain data of the same shape within a byte budget, with what was
  cut (`truncate.py`).
- `HandleRegistry`: full values kept on the host (or in a store) under opaque ids, with expiry and
  a memory bound, opened by later executions of the same code session (`handles.py`).

docs/results.md has the guarantees and limits.
"""

from .handles import DEFAULT_TTL, HandleRegistry, describe_shape
from .truncate import CEILING_FACTOR, MAX_CUTS, MAX_DEPTH, Truncated, msgpack_size, result_ceiling, truncate

__all__ = [
    "CEILING_FACTOR",
    "DEFAULT_TTL",
    "MAX_CUTS",
    "MAX_DEPTH",
    "HandleRegistry",
    "Truncated",
    "describe_shape",
    "msgpack_size",
    "result_ceiling",
    "truncate",
]
