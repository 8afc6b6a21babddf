"""The `codemode` command: code mode from a terminal, and as an MCP server for any agent.

```
codemode serve --config servers.json          # MCP server (stdio) with execute_code and search_tools
codemode serve --config servers.json --http --port 8000
codemode run program.py --config servers.json # run one program, print result/output/error
codemode tools [QUERY] --config servers.json  # list or search the tools
codemode stubs [SERVER] --config servers.json # the Python stubs programs call
codemode check --config servers.json          # connect to every server, report each one's state
```

A thin shell over `engine`'s public API (`MCPClient` in code mode); standard library only.
Exit codes: 0 success, 1 the program or a server failed, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence

from engine import EngineError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from . import check, run, serve, tools

    parser = argparse.ArgumentParser(
        prog="codemode",
        description="Sandboxed code mode for MCP: agents write one Python program that calls every "
        "configured server's tools, instead of calling them one by one.",
        epilog="Run 'codemode COMMAND --help' for a command's options. Docs: docs/cli.md",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log engine internals to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve.add_parser(commands)
    run.add_parser(commands)
    tools.add_parsers(commands)
    check.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `codemode` command; returns its exit code. Meant to be the last thing a process does."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.ERROR, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.handler(args)
    except EngineError as exc:
        print(f"codemode: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("codemode: interrupted", file=sys.stderr)
        return 130
    finally:
        # The command is done and every server is closed. The interpreter's last garbage collection
        # would now walk every object of pydantic, mcp and the loaded tool schemas: 0.4-0.9 s of a
        # `codemode serve` stopping on SIGTERM, most of its exit time. Frozen objects are skipped;
        # atexit handlers and stream flushing still run.
        gc.freeze()
    return code
