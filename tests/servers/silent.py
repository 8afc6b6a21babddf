"""An MCP stdio server that never answers: it reads its input and replies to nothing, not even `initialize`.

Stands in for a downstream server that hangs at start (a slow `npx` download, a server waiting on
a lock). It exits at end of input, like any stdio server whose client closed the pipe.

    python tests/servers/silent.py
"""

from __future__ import annotations

import sys


def main() -> None:
    for _ in sys.stdin.buffer:
        pass


if __name__ == "__main__":
    main()
