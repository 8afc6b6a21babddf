"""What the checker reads: the stubs as a module, and the agent's program wrapped so it type-checks.

The program may `await` and `return` at the top level, so it is checked as the body of an
`async def`: every line indented by the same prefix after a fixed prelude, which makes mapping a
position back to the agent's code a subtraction (`Wrapped.position`). The stubs module is the
rendered stubs (`engine.stubs.render_all`, learned shapes included) plus the other names every
program sees (`search_tools`, `ToolError`, `tool_namespaces`).

Nothing the servers wrote is spliced in here: the stubs source is rendered by the stub renderer,
which writes server text only inside escaped docstrings and `repr`'d literals (tests check it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["MODULE", "Wrapped", "stubs_module", "wrap"]

MODULE = "engine_tools"
"""The module name of the stubs in the checker's workspace."""

_PROGRAM_NAMES = '''

class ToolError(Exception):
    """A tool call failed (the message says why)."""


async def search_tools(query: str = "", detail_level: str = "full", limit: int | None = None) -> dict[str, Any]:
    """Search the connected servers' tools."""
    ...


tool_namespaces: dict[str, list[str]]
'''

_PRELUDE = (
    f"from {MODULE} import *\nfrom {MODULE} import ToolError, search_tools, tool_namespaces\n\n\n"
    "async def __program__():\n"
)
_PRELUDE_LINES = _PRELUDE.count("\n")


def stubs_module(stubs: str) -> str:
    """The stubs module's source: the rendered stubs and the names every program sees."""
    if not stubs.strip():
        stubs = "from __future__ import annotations\n\nfrom typing import Any\n"
    elif "from typing import" not in stubs:
        stubs = "from typing import Any\n" + stubs
    return stubs + _PROGRAM_NAMES


@dataclass(frozen=True, slots=True)
class Wrapped:
    """A program as the checker reads it, and how to map a position back."""

    source: str
    indent: str
    lines: tuple[str, ...]
    """The agent's lines, as written."""

    def position(self, line: int, character: int, encoding: str) -> tuple[int, int] | None:
        """The agent's (line, column), both 1-based, for a 0-based position in `source` (None: outside
        the agent's code). `character` counts code units of `encoding` (`utf-16` or `utf-32`)."""
        agent = line - _PRELUDE_LINES
        if not 0 <= agent < len(self.lines):
            return None
        text = self.lines[agent]
        units = max(character - len(self.indent), 0)
        if encoding == "utf-16":
            column, seen = 0, 0
            while column < len(text) and seen < units:
                seen += 2 if ord(text[column]) > 0xFFFF else 1
                column += 1
            units = column
        return agent + 1, min(units, len(text)) + 1


def wrap(code: str) -> Wrapped | None:
    """The program wrapped for the checker; None when it does not parse (the run reports that itself)."""
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    # Python's own line breaks (str.splitlines also breaks on form feeds and other separators).
    lines = tuple(code.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    # A program indented with tabs gets a tab, so Python's rules on mixed indentation hold as written.
    indent = "\t" if any(line.startswith("\t") for line in lines) else "    "
    body = "".join(f"{indent}{line}\n" for line in lines) or f"{indent}pass\n"
    return Wrapped(source=_PRELUDE + body + f"{indent}pass\n", indent=indent, lines=lines)
