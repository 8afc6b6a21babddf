"""FastMCP's CodeMode in front of the toy server's tools; runs in `benchmarks/.envs/fastmcp`.

Not part of engine and never imports it. Usage: `python fastmcp_codemode_server.py PYTHON TOY`:
a FastMCP proxy of the toy server (`PYTHON TOY stdio`, one process kept for the server's life) with
the `CodeMode` transform added as FastMCP's docs show, served over stdio. Clients see `search`,
`get_schema` and `execute`; a program in `execute` calls `await call_tool("add", {...})`.
"""

from __future__ import annotations

import sys

from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from fastmcp.experimental.transforms.code_mode import CodeMode
from fastmcp.server import create_proxy


def main() -> None:
    python, toy = sys.argv[1], sys.argv[2]
    backend = Client(StdioTransport(command=python, args=[toy, "stdio"]))
    server = create_proxy(backend, name="fastmcp-codemode")
    server.add_transform(CodeMode())
    server.run(show_banner=False, log_level="WARNING")


if __name__ == "__main__":
    main()
