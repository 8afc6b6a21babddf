"""`codemode check FILE` as a user runs it: the same check as `execute_code(check="types")`, with the
shapes learned by earlier runs (a SQLite store named in the config file), findings as FILE:LINE:COLUMN."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.cli.conftest import codemode, write_config
from tests.conftest import ROOT

FILES = {"command": sys.executable, "args": [str(ROOT / "tests" / "shapes" / "files.py")]}


def test_check_prints_findings_with_line_and_column_using_learned_shapes(tmp_path: Path) -> None:
    config = write_config(tmp_path / "servers.json", {"files": FILES},
                          codeMode={"store": f"sqlite:///{tmp_path / 'engine.db'}"})
    program = tmp_path / "program.py"
    program.write_text('info = await files.file_info(path="a.txt")\nprint(info["size"])\n'
                       'r = files.search_files(pattern="a")["content"]\nreturn seen_before\n')
    before = codemode("check", str(program), "--config", str(config))
    # Nothing learned yet: file_info returns Any, so only the missing await and the unknown name are found.
    assert before.returncode == 1, before.stdout + before.stderr
    assert f"{program}:2:" not in before.stdout
    learn = codemode("run", "-", "--config", str(config), input='return await files.file_info(path="a.txt")')
    assert learn.returncode == 0, learn.stdout + learn.stderr
    after = codemode("check", str(program), "--config", str(config))
    assert after.returncode == 1
    lines = after.stdout.splitlines()
    # Learned by another process (`codemode run`) and read from the store: another client's server of
    # that name could have written it, so a key it lacks is a warning, not a refusal.
    expected = (f"{program}:2:12: warning KeyError: Unknown key \"size\" for TypedDict `FilesFileInfoObserved`; "
                "its keys are 'info', 'lines', 'path'")
    assert any(line.startswith(expected) and ".get()" in line and "sharing the store" in line for line in lines), lines
    assert any(line.startswith(f"{program}:3:") and "did you forget `await`?" in line for line in lines)
    assert any(line.startswith(f"{program}:4:8: warning NameError:") for line in lines)
    assert lines[-1] == "1 errors, 2 warnings"
    as_json = json.loads(codemode("check", "-", "--config", str(config), "--json",
                                  input="return 1\n").stdout)
    assert as_json == {"status": "ok", "reason": "", "errors": [], "warnings": []}


def test_the_config_files_other_code_mode_keys_reach_the_command(tmp_path: Path) -> None:
    # codeMode.toolPolicy (and store, learnShapes, check) apply to codemode run/serve/check, as to MCPClient.
    config = write_config(tmp_path / "servers.json", {"files": FILES},
                          codeMode={"toolPolicy": {"files.write_file": "deny"}, "check": "types"})
    denied = codemode("run", "-", "--config", str(config), "--json",
                      input='return await files.write_file(path="x", content="y")')
    envelope = json.loads(denied.stdout)
    assert envelope["error_info"]["type"] == "ToolError" and "denied" in envelope["error"], envelope
    refused = codemode("run", "-", "--config", str(config), "--json", input="return await files.nope()")
    assert json.loads(refused.stdout)["error_info"]["type"] == "AttributeError"
    assert json.loads(refused.stdout)["tool_calls"] == []
