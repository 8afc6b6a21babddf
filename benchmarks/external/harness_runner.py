"""pydantic-ai-harness's CodeMode `run_code` path, driven by a FunctionModel (no model, no API key).

Runs in `benchmarks/.envs/harness`; not part of engine and never imports it. One JSON request per
line on stdin, one reply per line on stdout; every figure is timed here.

The agent's tools are the toy server's, over stdio through pydantic-ai's `MCPToolset` (a FastMCP client). The
FunctionModel plays a model that answers in two turns: the first asks for one tool call (`run_code`
with the program, or the toy's `add` itself for the floor), the second ends the run with the tool's
return as text. So one `agent.run` is two model turns around one tool call, as a real run would be.

- `{"op": "version"}`;
- `{"op": "start", "command": PYTHON, "args": [TOY, "stdio"]}`: connects the toy server once
  (the agents share it) and checks that `run_code` and the native call both work;
- `{"op": "run", "variant": "run_code" | "native", "code": "...", "n": K}`: K agent
  runs; replies with each run's seconds and what the last tool call returned;
- `{"op": "program", "code": "..."}`: one `run_code` of `code` through the agent; replies with its
  value, or, as the reply's error, what the agent told the model when the code failed (for the
  language-coverage table).
"""

from __future__ import annotations

import asyncio
import json
import time
from importlib import metadata
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from lines import serve  # the runner loop beside this script (benchmarks/external/lines.py)
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai_harness import CodeMode

# How run_code's return says the program failed (its checks raise ModelRetry with these texts).
_FAILED = ("Syntax error in code:", "Type error in code:", "Runtime error:")
_toy: Any = None
_agents: dict[tuple[str, str], tuple[Any, _Turns]] = {}


class _Turns:
    """What the last run's tool call gave back: its return, or the error the agent was told about."""

    def __init__(self) -> None:
        self.returned: Any = None
        self.error: str | None = None


def _model(tool: str, arguments: dict[str, Any], turns: _Turns) -> FunctionModel:
    """A model that calls `tool` with `arguments`, then answers with what the tool returned."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        for part in messages[-1].parts:
            if isinstance(part, ToolReturnPart):
                if isinstance(part.content, str) and part.content.startswith(_FAILED):
                    turns.error = part.content  # run_code reports a failed program as its return
                turns.returned = part.content
                return ModelResponse(parts=[TextPart(json.dumps(part.content, default=str))])
            if isinstance(part, RetryPromptPart):  # the tool failed: the agent asks the model to retry
                turns.error = part.model_response()
                return ModelResponse(parts=[TextPart("gave up")])
        names = [t.name for t in info.function_tools]
        if tool not in names:
            raise RuntimeError(f"the agent offers {names}, not {tool!r}")
        return ModelResponse(parts=[ToolCallPart(tool, arguments)])

    return FunctionModel(respond)


async def _run(variant: str, code: str) -> _Turns:
    """One agent run; the agent for a (variant, program) is built once and reused, as an app would."""
    key = (variant, code)
    if key not in _agents:
        turns = _Turns()
        if variant == "run_code":
            agent = Agent(_model("run_code", {"code": code}, turns), toolsets=[_toy], capabilities=[CodeMode()])
        else:
            agent = Agent(_model("add", {"a": 1, "b": 2}, turns), toolsets=[_toy])
        _agents[key] = (agent, turns)
    agent, turns = _agents[key]
    turns.returned, turns.error = None, None
    await agent.run("add one and two")
    if turns.error is not None:
        raise RuntimeError(turns.error)
    return turns


async def handle(request: dict[str, Any]) -> dict[str, Any]:
    global _toy
    op = request["op"]
    if op == "version":
        names = ("pydantic-ai-harness", "pydantic-ai-slim", "pydantic-monty")
        return {name: metadata.version(name) for name in names}
    if op == "start":
        _toy = MCPToolset(Client(StdioTransport(command=request["command"], args=request["args"])))
        await _toy.__aenter__()
        return {
            "run_code": (await _run("run_code", "await add(a=1, b=2)")).returned,
            "native": (await _run("native", "")).returned,
        }
    if op == "run":
        durations = []
        returned = None
        for _ in range(int(request["n"])):
            started = time.perf_counter()
            returned = (await _run(request["variant"], request["code"])).returned
            durations.append(time.perf_counter() - started)
        return {"durations": durations, "returned": returned}
    if op == "program":
        return {"value": (await _run("run_code", request["code"])).returned}
    return {"error": f"unknown op {op!r}"}


async def _close() -> None:
    if _toy is not None:
        await _toy.__aexit__(None, None, None)


async def main() -> None:
    await serve(handle, _close)


if __name__ == "__main__":
    asyncio.run(main())
