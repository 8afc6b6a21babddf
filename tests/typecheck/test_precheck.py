"""The pre-run type check through a real client and a real `ty` server: certain errors refuse the
run before any tool is called (the server counts its calls), with the agent's line and column;
uncertain findings are warnings; a correct program runs unchanged; a checker that is missing,
crashes or hangs lets the run go ahead and says so."""

from __future__ import annotations

import os
import signal
import stat
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from engine import MCPClient
from engine.errors import CodeModeError, ConfigError
from engine.typecheck import AWAIT_HINT
from tests.shapes.files import Files, files

pytestmark = pytest.mark.anyio

LEARN = 'return [await files.search_files(pattern="a"), await files.file_info(path="notes.md")]'


def client_for(state: Files, **options: Any) -> MCPClient:
    options.setdefault("store", f"memory://{uuid.uuid4().hex}")
    options.setdefault("check", "types")
    return MCPClient({"mcpServers": {"files": state.server}}, code_mode=True, **options)


async def learned(state: Files, client: MCPClient) -> None:
    out = await client.execute_code(LEARN, check="off")
    assert out["status"] == "ok", out
    state.calls.clear()


REFUSED = [
    # (program, error type, line, column, words in the message)
    ('await files.write_file(path="x", content="y")\nr = await files.search_files(pattern="a")\n'
     "for name in r.splitlines():\n    print(name)", "AttributeError", 3, 13, ["splitlines"]),
    ('await files.write_file(path="x", content="y")\ninfo = await files.file_info(path="a.txt")\n'
     'return info["size"]', "KeyError", 3, 13, ['"size"', "FilesFileInfoObserved"]),
    ('await files.write_file(path="x", content="y")\nr = files.search_files(pattern="a")\nreturn r["content"]',
     "TypeError", 3, 8, [AWAIT_HINT]),
    ('await files.write_file(path="x", content="y")\nawait files.serch_files(pattern="a")',
     "AttributeError", 2, 7, ["serch_files", "no tool"]),
    ('await files.write_file(path="x", contents="y")', "TypeError", 1, 7, ["content"]),
    ('await files.write_file(path="x", content=3)', "TypeError", 1, 34, ["Expected `str`"]),
    ('x = 1\nif x:\n\tawait files.write_file(path="x", content="y")\n\tawait files.search_files(patern="a")',
     "TypeError", 4, 8, ["files.search_files"]),
]


@pytest.mark.parametrize(("program", "kind", "line", "column", "words"), REFUSED)
async def test_a_certain_error_is_refused_before_any_tool_is_called(
    program: str, kind: str, line: int, column: int, words: list[str]
) -> None:
    state = files()
    async with client_for(state) as client:
        await learned(state, client)
        out = await client.execute_code(program)
        assert out["status"] == "error", out
        info = out["error_info"]
        assert (info["type"], info["line"], info["column"]) == (kind, line, column), info
        assert all(word in info["message"] for word in words), info
        assert out["tool_calls"] == [] and out["usage"]["tool_calls"] == 0
        assert state.calls == [] and "x" not in state.entries  # not even the write on line 1
        assert out["error"] == f"{kind}: {info['message']} (line {line})"
        assert "no tool was called" in info["traceback"]


async def test_a_correct_program_runs_unchanged_and_uncertain_findings_are_warnings() -> None:
    state = files()
    async with client_for(state) as client:
        await learned(state, client)
        program = 'r = await files.search_files(pattern="a")\ninfo = await files.file_info(path="notes.md")\n' \
                  'return r["content"].splitlines(), info.get("title"), info["lines"]'
        checked = await client.execute_code(program)
        unchecked = await client.execute_code(program, check="off")
        assert checked["status"] == "ok" and "check_warnings" not in checked, checked
        assert checked["result"] == unchecked["result"] == [["a.txt"], "# notes", 1]
        # A name the checker cannot resolve (a code session's global, say) is only a warning.
        out = await client.execute_code('try:\n    return seen_before\nexcept NameError:\n    return 1')
        assert out["status"] == "ok" and out["result"] == 1, out
        (warning,) = out["check_warnings"]
        assert warning["type"] == "NameError" and (warning["line"], warning["column"]) == (2, 12), warning
        assert warning["rule"] == "unresolved-reference"


async def test_check_off_and_bad_values() -> None:
    state = files()
    async with client_for(state, check="off") as client:
        await learned(state, client)
        out = await client.execute_code('r = await files.search_files(pattern="a")\nreturn r["size"]')
        assert out["error_info"]["type"] == "KeyError" and state.calls == ["search_files"]  # ran, failed at run time
        assert out["error_info"]["column"] == 8
        with pytest.raises(CodeModeError, match="check must be"):
            await client.execute_code("return 1", check="mypy")
    with pytest.raises(CodeModeError, match="check must be"):
        client_for(files(), check="strict")
    for bad in ({"check": "strict"}, {"learnShapes": "sometimes"}):
        with pytest.raises(ConfigError, match="codeMode"):
            MCPClient({"mcpServers": {}, "codeMode": bad}, code_mode=True)
    config = {"mcpServers": {"files": files().server}, "codeMode": {"check": "types"}}
    async with MCPClient(config, code_mode=True) as client:
        out = await client.execute_code("await files.nope()")
        assert out["error_info"]["type"] == "AttributeError" and out["tool_calls"] == []


async def test_a_program_that_does_not_parse_is_reported_by_the_run() -> None:
    async with client_for(files()) as client:
        out = await client.execute_code("return (1,")
        assert out["error_info"]["type"] == "SyntaxError", out
        assert "check_warnings" in out and out["check_warnings"][0]["type"] == "TypeCheckSkipped"


def fake_checker(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-ty"
    path.write_text(f"#!{sys.executable}\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.parametrize("how", ["missing", "crashes", "hangs", "garbage"])
async def test_a_checker_that_cannot_check_lets_the_run_go_ahead_and_says_so(tmp_path: Path, how: str) -> None:
    state = files()
    async with client_for(state) as client:
        checker = client.code_mode_engine().typed.checker
        checker.timeout = 2.0
        if how == "missing":
            checker.executable = str(tmp_path / "no-such-ty")
        elif how == "crashes":
            checker.executable = fake_checker(tmp_path, "import sys; sys.stderr.write('boom'); sys.exit(3)")
        elif how == "hangs":
            checker.executable = fake_checker(tmp_path, "import time; time.sleep(60)")
        else:
            checker.executable = fake_checker(tmp_path, "import sys; sys.stdout.write('Content-Length: x\\r\\n\\r\\n')")
        out = await client.execute_code('r = await files.search_files(pattern="a")\nreturn r["count"]')
        assert out["status"] == "ok" and out["result"] == 1, out
        (skipped,) = out["check_warnings"]
        assert skipped["type"] == "TypeCheckSkipped" and "did not run" in skipped["message"], skipped
        if how == "crashes":
            assert "code 3" in skipped["message"] and "boom" in skipped["message"]
        if how == "hangs":
            assert "longer than 2 s" in skipped["message"]
        assert state.calls == ["search_files"]


async def test_a_checker_killed_between_checks_is_started_again() -> None:
    state = files()
    async with client_for(state) as client:
        await learned(state, client)
        checker = client.code_mode_engine().typed.checker
        out = await client.execute_code('return await files.nope()')
        assert out["error_info"]["type"] == "AttributeError"
        server = checker._server
        assert server is not None and server.pid() is not None
        os.kill(server.pid(), signal.SIGKILL)
        out = await client.execute_code('return await files.nope()')  # this one may be skipped
        out = await client.execute_code('return await files.nope()')
        assert out["error_info"]["type"] == "AttributeError" and checker.starts == 2, out
        assert state.calls == []


@pytest.mark.parametrize("executor", ["restricted", "process"])
async def test_a_run_time_error_has_the_same_shape_with_its_column(executor: str) -> None:
    state = files()
    async with client_for(state, check="off", executor=executor) as client:
        program = 'def pick(r):\n    return r["size"]\n\nr = await files.search_files(pattern="a")\nreturn pick(r)'
        out = await client.execute_code(program)
        info = out["error_info"]
        assert (info["type"], info["line"], info["column"]) == ("KeyError", 2, 12), info
        assert set(info) == {"type", "message", "line", "column", "traceback"}
