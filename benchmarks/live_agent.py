"""Optional: the token-economics tasks done by a real model, in both modes.

Runs only when `ANTHROPIC_API_KEY` or `OPENAI_API_KEY` is set (and not in quick mode); otherwise
the section says it was skipped and why. The model gets the user's request and the working
directory; in direct mode every tool of the five servers, in code mode `execute_code` and
`search_tools` plus the rendered stubs. It must finish with the answer alone, as JSON; a task
succeeds when that JSON equals the answer the scripted runs agreed on. The model's own usage
figures (as the API reports them) give the tokens. `BENCH_LIVE_MODEL` picks the model.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from engine import MCPClient
from engine.codemode import CODE_MODE_SYSTEM_PROMPT
from engine.stubs import namespace_identifier, render_all, specs_for_server

from .core import BenchmarkError, Section, Table
from .servers import prepare_workdir, third_party_config
from .tasks import TASKS

__all__ = ["bench_live"]

MAX_ROUND_TRIPS = 10
FINISH = "When you are done, reply with the final answer alone, as a JSON value, with no other text."


class _Model:
    """One chat API with tool use: Anthropic's Messages API or OpenAI's Chat Completions."""

    def __init__(self) -> None:
        self.anthropic = bool(os.environ.get("ANTHROPIC_API_KEY"))
        default = "claude-sonnet-4-5" if self.anthropic else "gpt-4.1-mini"
        self.model = os.environ.get("BENCH_LIVE_MODEL", default)
        self.http = httpx.AsyncClient(timeout=120)

    async def run(self, system: str, tools: list[dict[str, Any]], request: str, call: Any) -> dict[str, Any]:
        """Converse until the model answers; `call(name, arguments)` runs a tool and returns text."""
        usage = {"input_tokens": 0, "output_tokens": 0, "round_trips": 0, "tool_calls": 0}
        messages: list[dict[str, Any]] = [{"role": "user", "content": request}]
        if not self.anthropic:
            messages.insert(0, {"role": "system", "content": system})
        for _ in range(MAX_ROUND_TRIPS):
            usage["round_trips"] += 1
            if self.anthropic:
                reply = await self._post(
                    "https://api.anthropic.com/v1/messages",
                    {"x-api-key": os.environ["ANTHROPIC_API_KEY"], "anthropic-version": "2023-06-01"},
                    {"model": self.model, "max_tokens": 4096, "system": system, "tools": tools, "messages": messages},
                )
                usage["input_tokens"] += reply["usage"]["input_tokens"]
                usage["output_tokens"] += reply["usage"]["output_tokens"]
                messages.append({"role": "assistant", "content": reply["content"]})
                uses = [b for b in reply["content"] if b["type"] == "tool_use"]
                if not uses:
                    text = "".join(b.get("text", "") for b in reply["content"] if b["type"] == "text")
                    return {**usage, "answer": text}
                results = []
                for use in uses:
                    usage["tool_calls"] += 1
                    results.append(
                        {
                            "type": "tool_result",
                            "tool_use_id": use["id"],
                            "content": await call(use["name"], use["input"]),
                        }
                    )
                messages.append({"role": "user", "content": results})
            else:
                functions = [
                    {
                        "type": "function",
                        "function": {
                            "name": t["name"],
                            "description": t["description"],
                            "parameters": t["input_schema"],
                        },
                    }
                    for t in tools
                ]
                reply = await self._post(
                    "https://api.openai.com/v1/chat/completions",
                    {"authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"},
                    {"model": self.model, "messages": messages, "tools": functions},
                )
                usage["input_tokens"] += reply["usage"]["prompt_tokens"]
                usage["output_tokens"] += reply["usage"]["completion_tokens"]
                message = reply["choices"][0]["message"]
                messages.append(message)
                if not message.get("tool_calls"):
                    return {**usage, "answer": message.get("content") or ""}
                for tool_call in message["tool_calls"]:
                    usage["tool_calls"] += 1
                    arguments = json.loads(tool_call["function"]["arguments"] or "{}")
                    text = await call(tool_call["function"]["name"], arguments)
                    messages.append({"role": "tool", "tool_call_id": tool_call["id"], "content": text})
        return {**usage, "answer": ""}

    async def _post(self, url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(url, headers=headers, json=body)
        if response.status_code != 200:
            raise BenchmarkError(f"{url} answered {response.status_code}: {response.text[:500]}")
        data: dict[str, Any] = response.json()
        return data


def _parse_answer(text: str) -> Any:
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    try:
        return json.loads(text)
    except ValueError:
        return text


def _result_text(result: Any) -> str:
    texts = [item.text for item in result.content if getattr(item, "type", None) == "text"]
    return "\n".join(texts) if texts else json.dumps(result.structured_content)


async def _direct(model: _Model, workdir: Path) -> dict[str, dict[str, Any]]:
    async with MCPClient(third_party_config(workdir)) as client:
        await client.create_all_sessions()
        tools, where = [], {}
        for server, session in client.sessions.items():
            for tool in await session.list_tools():
                name = f"{server}__{tool.name}"
                where[name] = (server, tool.name)
                tools.append({"name": name, "description": tool.description or "", "input_schema": tool.input_schema})

        async def call(name: str, arguments: dict[str, Any]) -> str:
            if name not in where:
                return f"unknown tool {name}"
            server, tool = where[name]
            return _result_text(await client.get_session(server).call_tool(tool, arguments))

        system = "You are a helpful assistant. Use the tools to answer the user's request. " + FINISH
        return {task.name: await _timed(model, system, tools, _request(task.request, workdir), call) for task in TASKS}


async def _code(model: _Model, workdir: Path) -> dict[str, dict[str, Any]]:
    async with MCPClient(third_party_config(workdir), code_mode=True) as client:
        await client.search_tools("", detail_level="names")
        specs = {namespace_identifier(n): specs_for_server(n, await s.list_tools()) for n, s in client.sessions.items()}
        pseudo = client.get_all_active_sessions()["code_mode"]
        tools = [
            {"name": t.name, "description": t.description or "", "input_schema": t.input_schema}
            for t in await pseudo.list_tools()
        ]

        async def call(name: str, arguments: dict[str, Any]) -> str:
            return _result_text(await pseudo.call_tool(name, arguments))

        system = f"{CODE_MODE_SYSTEM_PROMPT}\nThe tools, as Python stubs:\n\n{render_all(specs)}\n{FINISH}"
        return {task.name: await _timed(model, system, tools, _request(task.request, workdir), call) for task in TASKS}


def _request(request: str, workdir: Path) -> str:
    return f"{request} The working directory is {workdir}; the git repository is {workdir}/repo."


async def _timed(model: _Model, system: str, tools: list[dict[str, Any]], request: str, call: Any) -> dict[str, Any]:
    started = time.perf_counter()
    outcome = await model.run(system, tools, request, call)
    return {**outcome, "wall_time": time.perf_counter() - started}


async def bench_live(quick: bool, expected: dict[str, Any] | None) -> Section:
    """Both modes with a real model, or a section that says why it was skipped."""
    section = Section("live_agent", "Live agent: a real model doing the tasks in both modes")
    if not (os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("OPENAI_API_KEY")):
        section.notes.append("Skipped: neither ANTHROPIC_API_KEY nor OPENAI_API_KEY is set.")
        section.data["skipped"] = "no API key"
        return section
    if quick or expected is None:
        section.notes.append("Skipped in quick mode.")
        section.data["skipped"] = "quick mode"
        return section
    model = _Model()
    with tempfile.TemporaryDirectory(prefix="engine-live-") as tmp:
        direct = await _direct(model, prepare_workdir(Path(tmp) / "direct"))
        code = await _code(model, prepare_workdir(Path(tmp) / "code-m"))
    await model.http.aclose()
    table = Table(
        f"{model.model}: success, tokens (as billed) and wall time",
        ["mode", "success", "input tokens", "output tokens", "round trips", "wall time"],
    )
    for mode, runs in (("direct tool calls", direct), ("code mode", code)):
        for name, run in runs.items():
            run["success"] = _parse_answer(run["answer"]) == expected.get(name)
        table.rows.append(
            [
                mode,
                f"{sum(r['success'] for r in runs.values())}/{len(runs)}",
                f"{sum(r['input_tokens'] for r in runs.values()):,}",
                f"{sum(r['output_tokens'] for r in runs.values()):,}",
                str(sum(r["round_trips"] for r in runs.values())),
                f"{sum(r['wall_time'] for r in runs.values()):.1f} s",
            ]
        )
    section.tables.append(table)
    section.data = {"model": model.model, "direct": direct, "code": code}
    section.notes.append("Success: the model's final JSON equals the answer both scripted modes produced.")
    return section
