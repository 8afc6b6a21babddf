"""Printed output over its cap: the head and tail lines kept, the whole output kept as a handle.

The executors keep up to `output_ceiling(max_output_chars)` characters of printed output (and cut
past it with their own marker line, as before); on the host, `cut_lines` cuts `logs` back to the
cap, keeping the first and last lines, and the whole list of lines is kept as a handle that a later
program pages with `results.open(handle, start=..., stop=...)`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_OUTPUT_CEILING", "MIN_OUTPUT_CEILING", "OUTPUT_CEILING_FACTOR", "CutLines", "cut_lines",
           "output_ceiling"]

OUTPUT_CEILING_FACTOR = 16
"""How far over `max_output_chars` printed output may go and still reach the host to be cut there."""
MIN_OUTPUT_CEILING = 4_000_000
"""The ceiling's floor, in characters: a small cap still lets this much output be kept as a handle."""
MAX_OUTPUT_CEILING = 16_000_000
"""The ceiling's own bound, in characters: a run still cannot print without bound."""


def output_ceiling(cap: int) -> int:
    """The executors' output limit for a cap of `cap` characters: `cap * OUTPUT_CEILING_FACTOR`, at
    least `MIN_OUTPUT_CEILING`, at most `MAX_OUTPUT_CEILING`, never below `cap`."""
    return max(cap, min(max(cap * OUTPUT_CEILING_FACTOR, MIN_OUTPUT_CEILING), MAX_OUTPUT_CEILING))


@dataclass
class CutLines:
    """Lines cut to a character budget: `head` (lines `0..len(head)`; its last one is only a prefix
    when `partial`) and `tail` (lines `tail_start..`), everything between them left out."""

    head: list[str]
    tail: list[str]
    tail_start: int
    lines: int
    chars: int
    partial: bool

    @property
    def kept_chars(self) -> int:
        return sum(map(len, self.head)) + sum(map(len, self.tail))

    @property
    def cut_lines(self) -> int:
        """Lines not shown whole (a line shown only in part counts)."""
        return self.lines - len(self.tail) - len(self.head) + (1 if self.partial else 0)


def cut_lines(lines: list[str], cap: int) -> CutLines | None:
    """`lines` within `cap` characters (half for the first lines, the rest for the last ones), or
    None when they already fit. Newlines are not counted, as the executors' cap does not count them."""
    total = sum(map(len, lines))
    if total <= cap:
        return None
    head: list[str] = []
    used = 0
    partial = False
    for line in lines:
        room = cap // 2 - used
        if len(line) > room:
            if room > 0 and not head:  # a long first line is shown in part rather than not at all
                head.append(line[:room])
                used += room
                partial = True
            break
        head.append(line)
        used += len(line)
    tail_start = len(lines)
    room = cap - used
    while tail_start > len(head) and len(lines[tail_start - 1]) <= room:
        tail_start -= 1
        room -= len(lines[tail_start])
    return CutLines(head, lines[tail_start:], tail_start, len(lines), total, partial)
