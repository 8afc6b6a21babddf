"""Size limits the guards share: how big one operation may make a sequence or an integer.

Limits come from the current run (`context.current()`), so a guard called outside a run stops.
"""

from __future__ import annotations

from .context import current

__all__ = ["max_int_bits", "max_sequence", "require_size"]


def max_sequence() -> int:
    return current().limits.max_sequence_length


def require_size(size: int, what: str) -> None:
    """Raise `MemoryError` if building `size` elements/characters would exceed the limit."""
    limit = current().limits.max_sequence_length
    if size > limit:
        raise MemoryError(f"{what} would have {size} elements, over the limit of {limit}")


def max_int_bits() -> int:
    # An integer may have max_sequence_length / 32 bits (312,500 by default, about 94,000
    # decimal digits): big-int arithmetic runs in C, holding the GIL, where it cannot be
    # stopped, and division is quadratic; this keeps any one operation well under a second.
    return max(current().limits.max_sequence_length // 32, 4096)
