"""A small MCP server (the mcp SDK) whose tools publish no `outputSchema`: their results are JSON text.

Like most MCP servers in the wild: the only way to know a result's shape is to look at one.
`files()` builds a fresh one to run in this process; `calls` counts the tool calls it answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from mcp.server.mcpserver import MCPServer


@dataclass
class Files:
    server: MCPServer
    calls: list[str] = field(default_factory=list)
    entries: dict[str, str] = field(default_factory=lambda: {"a.txt": "alpha\nbeta\n", "notes.md": "# notes\n"})


def files(name: str = "files") -> Files:
    server = MCPServer(name)
    state = Files(server)

    @server.tool(structured_output=False)
    def search_files(pattern: str) -> str:
        """Find files whose name contains `pattern`."""
        state.calls.append("search_files")
        found = [name for name in state.entries if pattern in name]
        return json.dumps({"content": "\n".join(found), "count": len(found)})

    @server.tool(structured_output=False)
    def file_info(path: str) -> str:
        """Describe one file."""
        state.calls.append("file_info")
        text = state.entries.get(path, "")
        info: dict[str, object] = {"path": path, "lines": text.count("\n"), "info": f"size: {len(text)}"}
        if path.endswith(".md"):
            info["title"] = text.splitlines()[0] if text else ""
        return json.dumps(info)

    @server.tool(structured_output=False)
    def read_text(path: str) -> str:
        """The text of a file."""
        state.calls.append("read_text")
        return state.entries.get(path, "")

    @server.tool(structured_output=False)
    def write_file(path: str, content: str) -> str:
        """Write a file (a side effect a refused program must never reach)."""
        state.calls.append("write_file")
        state.entries[path] = content
        return json.dumps({"written": path, "bytes": len(content)})

    @server.tool()
    def stat(path: str) -> dict[str, int]:
        """Declares its output schema (the SDK derives it from the annotation)."""
        state.calls.append("stat")
        return {"size": len(state.entries.get(path, ""))}

    return state


if __name__ == "__main__":  # over stdio, for the command-line tests and the benchmarks
    files().server.run("stdio")
