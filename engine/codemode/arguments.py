"""Strict arguments for the code-mode server's tools: a bad one is refused with the reason, never replaced.

The SDK's `MCPServer` validates tool arguments with pydantic in lax mode: `"5"` becomes `5.0`,
`true` becomes `1.0`, an unknown name is dropped (a misspelt `tiemout` runs with the default
timeout) and a wrong type comes back as a pydantic dump. `strict_arguments(server)` checks the
arguments of `execute_code` and `search_tools` before the SDK sees them, by the library's own
rules (`CodeMode.execute`, and `search_arguments`, which a program's `search_tools` applies too),
and answers a bad call with a tool error (`isError: true`) that names the argument and says why:

```python
server = build_code_mode_server(mode, name="codemode")
strict_arguments(server)
```
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolRequestParams, CallToolResult, TextContent

from ..kernel.stubs import search_arguments

__all__ = [
    "EXECUTE_CODE_ARGUMENTS", "SEARCH_TOOLS_ARGUMENTS", "check_execute_code", "check_search_tools", "strict_arguments"
]

EXECUTE_CODE_ARGUMENTS = ("code", "timeout")
"""Every argument `execute_code` takes: any other name is refused (a test holds it to the tool's schema)."""
SEARCH_TOOLS_ARGUMENTS = ("query", "detail_level", "limit")
"""Every argument `search_tools` takes."""


def _unknown(tool: str, arguments: Mapping[str, Any], accepted: tuple[str, ...]) -> str | None:
    extra = [name for name in arguments if name not in accepted]
    if not extra:
        return None
    name = extra[0]
    close = difflib.get_close_matches(name, accepted, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{tool}() got an unknown argument {name!r}{hint}; it takes {', '.join(accepted)}"


def check_execute_code(arguments: Mapping[str, Any]) -> str | None:
    """Why `execute_code` refuses `arguments`, or None when they are valid.

    `code` must be a string; `timeout`, when given and not null, a positive, finite number of
    seconds (not a bool, not a string): the rule of `CodeMode.execute`, with its message.
    """
    if (unknown := _unknown("execute_code", arguments, EXECUTE_CODE_ARGUMENTS)) is not None:
        return unknown
    if "code" not in arguments:
        return "execute_code() needs the argument 'code': the Python program to run"
    code = arguments["code"]
    if not isinstance(code, str):
        return f"code must be a string, got {type(code).__name__}"
    timeout = arguments.get("timeout")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        return f"timeout must be a positive, finite number of seconds, got {type(timeout).__name__} {timeout!r}"
    if not 0 < timeout < math.inf:  # NaN fails this too
        return f"timeout must be a positive, finite number of seconds, got {timeout!r}"
    return None


def check_search_tools(arguments: Mapping[str, Any]) -> str | None:
    """Why `search_tools` refuses `arguments`, or None when they are valid (the rule of a program's
    `search_tools`, with its messages; the defaults are the MCP tool's)."""
    if (unknown := _unknown("search_tools", arguments, SEARCH_TOOLS_ARGUMENTS)) is not None:
        return unknown
    try:
        search_arguments(
            arguments.get("query", ""), arguments.get("detail_level", "descriptions"), arguments.get("limit", 10)
        )
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None


_CHECKS: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "execute_code": check_execute_code,
    "search_tools": check_search_tools,
}


def strict_arguments(server: MCPServer) -> None:
    """Check the arguments of `server`'s `execute_code` and `search_tools` calls before its own
    validation runs (see the module docstring); calls of other tools pass through unchanged."""
    lowlevel = server._lowlevel_server  # noqa: SLF001 - MCPServer does not expose its request handlers
    entry = lowlevel.get_request_handler("tools/call")
    if entry is None:
        raise ValueError("the server has no tools/call handler to wrap")
    handler = entry.handler

    async def call_tool(ctx: Any, params: CallToolRequestParams) -> Any:
        check = _CHECKS.get(params.name)
        if check is not None:
            arguments = {} if params.arguments is None else params.arguments
            problem = check(arguments)
            if problem is not None:
                return CallToolResult(content=[TextContent(type="text", text=f"error: {problem}")], is_error=True)
        return await handler(ctx, params)

    lowlevel.add_request_handler("tools/call", CallToolRequestParams, call_tool)
