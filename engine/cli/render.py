"""Terminal output for the `codemode` command: colour, tables and a spinner.

Colour is used only when the stream is a terminal and `NO_COLOR` is not set (https://no-color.org);
`FORCE_COLOR` turns it on anyway. The spinner writes to stderr and only on a terminal, so piped
output and scripts see nothing but the result. Nothing here knows about MCP: it formats plain data.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

__all__ = ["Style", "Spinner", "table", "wants_colour"]

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36"}


def wants_colour(stream: TextIO, *, disabled: bool = False) -> bool:
    """Whether to colour `stream`: a terminal, and neither `NO_COLOR` nor `--no-color`."""
    if disabled or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


class Style:
    """Wraps text in ANSI colours, or returns it unchanged when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def _visible_width(text: str) -> int:
    # Cells are coloured after padding, so widths are measured on plain text only.
    return len(text)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    style: Style | None = None,
    max_width: int | None = None,
    cell_styles: Callable[[int, int], Sequence[str]] | None = None,
) -> str:
    """A plain-text table: a bold header, aligned columns, the last column cut to fit `max_width`.

    `cell_styles(row, column)` names the styles of one body cell (applied after padding, so
    colour never upsets the alignment).
    """
    style = style or Style(False)
    widths = [_visible_width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], _visible_width(cell))
    if max_width is not None and len(widths) > 1:
        fixed = sum(widths[:-1]) + 2 * (len(widths) - 1)
        widths[-1] = max(min(widths[-1], max_width - fixed), 10)

    def line(cells: Sequence[str], row: int = -1) -> str:
        parts = []
        for i, cell in enumerate(cells):
            if len(cell) > widths[i]:
                cell = cell[: widths[i] - 1] + "…"
            padded = cell.ljust(widths[i]) if i < len(cells) - 1 else cell
            if row < 0:
                padded = style(padded, "bold")
            elif cell_styles is not None:
                padded = style(padded, *cell_styles(row, i))
            parts.append(padded)
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(cells, n) for n, cells in enumerate(rows))])


class Spinner:
    """A one-line progress indicator on stderr, drawn from a thread while the event loop works.

    Shown only when stderr is a terminal and not `quiet`; otherwise every method does nothing.
    """

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.active = not quiet and bool(isatty and isatty())
        self.text = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self, text: str) -> None:
        """Change the message shown next to the spinner."""
        self.text = text

    @contextmanager
    def running(self, text: str) -> Iterator[Spinner]:
        """Show the spinner with `text` for the duration of the block, then erase it."""
        self.text = text
        if self.active:
            self._thread = threading.Thread(target=self._spin, name="codemode-spinner", daemon=True)
            self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            if self._thread is not None:
                self._thread.join(1.0)
                self.stream.write("\r\x1b[K")
                self.stream.flush()

    def _spin(self) -> None:
        i = 0
        while not self._stop.wait(0.08):
            frame = self.FRAMES[i % len(self.FRAMES)]
            self.stream.write(f"\r\x1b[K{frame} {self.text}")
            self.stream.flush()
            i += 1
