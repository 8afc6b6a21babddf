"""Language coverage: which of the feature programs (`coverage_programs`) each contender runs.

Contenders: engine's `restricted` and `process` executors, Monty (`pydantic-monty` directly),
FastMCP's CodeMode `execute` (Monty underneath, reached over stdio), pydantic-ai-harness's
`run_code` (Monty underneath, through an agent driven by a FunctionModel) and smolagents'
`LocalPythonExecutor`. A program passes when its value equals CPython's for the same source.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from engine.executors.base import ExecutionRequest
from engine.executors.process import ProcessExecutor
from engine.executors.restricted import RestrictedExecutor

from .bench_fastmcp import _session, _value, load_note
from .bench_overhead import SMOLAGENTS
from .contenders import MONTY, MONTY_VERSION_NOTE
from .core import BenchmarkError, Section, Table
from .coverage_programs import FEATURES, MODULES, expected, programs
from .envs import EXTERNAL, Worker
from .peers import FASTMCP, FASTMCP_NOTE, HARNESS, HARNESS_NOTE, peer_python
from .servers import TOY

__all__ = ["bench_language_coverage"]

Runner = Callable[[str], Awaitable[Any]]
PASS = "✓"


class ProgramFailed(Exception):
    """The contender reported an error for the program; the message is what it said."""


def _short(message: str) -> str:
    """A table cell's account of an error: the exception (or check) and the start of its reason."""
    check = re.search(r"Type error in code:\s*error\[([\w-]+)\]", message)
    if check:  # pydantic-ai-harness type-checks the program before Monty runs it
        return f"type check: {check.group(1)}"
    if "due to: InterpreterError: " in message:  # smolagents wraps its reason in two InterpreterErrors
        return "InterpreterError: " + _first_clause(message.rsplit("due to: InterpreterError: ", 1)[1])
    names = [n for n in re.findall(r"\b([A-Z]\w*(?:Error|Exception))\b", message) if not n.startswith("Monty")]
    names = [n for n in names if n != "RuntimeError"] or names  # the harness runner's wrapper
    if not names:
        return _first_clause(message)
    name = names[-1]
    return f"{name}: {_first_clause(message.rsplit(name + ': ', 1)[-1])}"


def _first_clause(text: str) -> str:
    text = text.replace("The monty syntax parser does not yet support ", "not yet supported: ")
    clause = re.split(r"[.(\n]", text.strip(), maxsplit=1)[0].strip()
    return clause if len(clause) <= 60 else clause[:57] + "..."


def _engine(executor: Any) -> Runner:
    async def run(source: str) -> Any:
        envelope = await executor.run(ExecutionRequest(source + "\nreturn result"))
        if envelope["error"] is not None:
            info = envelope.get("error_info") or {}
            raise ProgramFailed(f"{info.get('type', '')}: {envelope['error']}")
        return envelope["result"]

    return run


def _worker(worker: Worker, request: Callable[[str], dict[str, Any]], key: str) -> Runner:
    async def run(source: str) -> Any:
        try:
            reply = await worker.request(request(source), timeout=60)
        except BenchmarkError as exc:  # the runner reports the program's error and keeps serving
            if "exited" in str(exc):
                raise
            raise ProgramFailed(str(exc)) from exc
        return reply[key]

    return run


@contextlib.asynccontextmanager
async def _contenders(quick: bool, section: Section) -> AsyncIterator[dict[str, Runner]]:
    async with contextlib.AsyncExitStack() as stack:
        pool = ProcessExecutor()
        await pool.start()
        stack.push_async_callback(pool.aclose)
        restricted = RestrictedExecutor()
        stack.push_async_callback(restricted.aclose)
        runners: dict[str, Runner] = {"engine restricted": _engine(restricted), "engine process": _engine(pool)}
        monty = peer_python(quick, "monty", MONTY, section, "Monty")
        if monty is not None:
            worker = await stack.enter_async_context(Worker(monty, "monty_runner.py"))
            await worker.request({"op": "start", "min_processes": 1}, timeout=60)
            runners["Monty 1.4.0"] = _worker(worker, lambda s: {"op": "program", "code": s + "\nresult"}, "value")
            section.notes.append(MONTY_VERSION_NOTE)
        fastmcp = peer_python(quick, "fastmcp", FASTMCP, section, "FastMCP CodeMode")
        if fastmcp is not None:
            session = await stack.enter_async_context(
                _session(str(fastmcp), [str(EXTERNAL / "fastmcp_codemode_server.py"), sys.executable, str(TOY)])
            )

            async def fastmcp_run(source: str) -> Any:
                # In a list: FastMCP sends a string result as bare text, which would read as JSON ("3.30" as 3.3).
                result = await session.call_tool("execute", {"code": source + "\nreturn [result]"})
                if result.is_error:
                    raise ProgramFailed(" ".join(getattr(block, "text", "") for block in result.content))
                return _value(result, False)[0]

            runners["FastMCP CodeMode execute"] = fastmcp_run
            section.notes.append(FASTMCP_NOTE)
        harness = peer_python(quick, "harness", HARNESS, section, "pydantic-ai-harness CodeMode")
        if harness is not None:
            agent = await stack.enter_async_context(Worker(harness, "harness_runner.py"))
            await agent.request({"op": "start", "command": sys.executable, "args": [str(TOY), "stdio"]}, timeout=120)
            runners["pydantic-ai-harness run_code"] = _worker(
                agent, lambda s: {"op": "program", "code": s + "\nresult"}, "value"
            )
            section.notes.append(HARNESS_NOTE)
        smol = peer_python(quick, "smolagents", SMOLAGENTS, section, "smolagents")
        if smol is not None:
            executor = await stack.enter_async_context(Worker(smol, "smolagents_runner.py"))
            runners["smolagents LocalPythonExecutor"] = _worker(
                executor, lambda s: {"op": "run", "code": s + "\nresult", "n": 1}, "value"
            )
        yield runners


async def bench_language_coverage(quick: bool) -> Section:
    """A table of feature programs by contender: ✓ when the value is CPython's, else what went wrong."""
    section = Section("language_coverage", "Language coverage: which programs each contender runs")
    section.notes.append(load_note())
    sources = programs()
    wanted = {name: await expected(source) for name, source in sources.items()}
    outcomes: dict[str, dict[str, dict[str, Any]]] = {}
    async with _contenders(quick, section) as runners:
        for contender, run in runners.items():
            for name, source in sources.items():
                try:
                    value = await run(source)
                except ProgramFailed as exc:
                    outcomes.setdefault(contender, {})[name] = {"ok": False, "error": str(exc)[:500]}
                    continue
                ok = value == wanted[name]
                outcomes.setdefault(contender, {})[name] = {"ok": ok, "value": value}
    section.data["outcomes"] = outcomes
    section.data["expected"] = wanted
    names = list(runners)
    for title, group in (("Language features", FEATURES), ("Imports of the modules engine provides", MODULES)):
        table = Table(title, ["program", *names])
        for name in group:
            table.rows.append([name, *(_cell(outcomes[contender][name]) for contender in names)])
        table.rows.append(
            ["**passed**", *(f"{sum(outcomes[c][n]['ok'] for n in group)} of {len(group)}" for c in names)]
        )
        section.tables.append(table)
    section.notes.append(
        "✓ = the program's value equals CPython's for the same source; otherwise the exception the contender "
        "raised and the start of its reason (the full messages are in latest.json). Each program ends with "
        "`return result` on engine and `return [result]` on FastMCP's `execute` (its dialect; the list keeps a "
        "string from being read as JSON), and with the expression `result` on Monty, pydantic-ai-harness and "
        "smolagents. Engine's `process` executor runs the same compiled program as `restricted`, in a worker process."
    )
    return section


def _cell(outcome: dict[str, Any]) -> str:
    if outcome["ok"]:
        return PASS
    text = _short(outcome["error"]) if "error" in outcome else f"wrong value `{str(outcome['value'])[:40]}`"
    return "✗ " + text.replace("|", "\\|")  # a bare | would end the Markdown cell
