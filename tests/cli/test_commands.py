"""`codemode run`, `tools`, `stubs` and `check`, each run as a subprocess as a new user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from tests.cli.conftest import codemode, command_env, inventory_entry, write_config
from tests.conftest import toy_entry
from tests.servers.toy import server as toy_server

TWO_SERVERS = (
    "import asyncio\n"
    "total, stock = await asyncio.gather(toy.add(a=2, b=3), inventory.get_stock(sku='HAM-01'))\n"
    "print('stock', stock['on_hand'])\n"
    "return total\n"
)

TOY_TOOLS = len(anyio.run(toy_server.list_tools))
"""How many tools the toy server offers (counted from the server itself, not hard-coded)."""


def test_run_prints_output_and_result_and_exits_0(config: Path, tmp_path: Path) -> None:
    program = tmp_path / "program.py"
    program.write_text(TWO_SERVERS)
    done = codemode("run", str(program), "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "output:\n  stock 14\nresult: 5\n" in done.stdout
    assert "\x1b[" not in done.stdout  # not a terminal: no colour


def test_run_reads_the_program_from_stdin_and_prints_the_envelope_as_json(config: Path) -> None:
    done = codemode("run", "-", "--config", str(config), "--json", input=TWO_SERVERS)
    assert done.returncode == 0, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["result"] == 5 and envelope["logs"] == ["stock 14"] and envelope["error"] is None
    assert envelope["usage"]["tool_calls"] == 2


def test_run_shows_a_failing_programs_error_with_its_line_and_exits_1(config: Path) -> None:
    program = "x = 1\nprint('about to fail')\nawait toy.fail(message='out of stock')\n"
    done = codemode("run", "-", "--config", str(config), input=program)
    assert done.returncode == 1
    first = done.stdout.splitlines()[0]
    assert first.startswith("error: ToolError: toy.fail:") and first.endswith("out of stock (line 3)")
    assert "output:\n  about to fail" in done.stdout


def test_run_quiet_prints_only_the_result(config: Path) -> None:
    done = codemode("run", "-", "--config", str(config), "--quiet", input="return {'a': [1, 2]}")
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"a": [1, 2]}


def test_run_takes_limits_from_the_config_file_and_flags_override_them(tmp_path: Path) -> None:
    config = write_config(tmp_path / "limited.json", {"toy": toy_entry()}, codeMode={"limits": {"maxToolCalls": 1}})
    program = "a = await toy.add(a=1, b=1)\nb = await toy.add(a=a, b=1)\nreturn b\n"
    limited = codemode("run", "-", "--config", str(config), "--json", input=program)
    assert limited.returncode == 1
    assert json.loads(limited.stdout)["usage"]["limits"]["max_tool_calls"] == 1
    overridden = codemode("run", "-", "--config", str(config), "--max-tool-calls", "5", "--json", input=program)
    assert overridden.returncode == 0, overridden.stdout
    envelope = json.loads(overridden.stdout)
    assert envelope["result"] == 3 and envelope["usage"]["limits"]["max_tool_calls"] == 5


def test_run_with_a_timeout_flag_stops_a_long_program(config: Path) -> None:
    done = codemode("run", "-", "--config", str(config), "--timeout", "1", "--json",
                    input="await toy.sleep(seconds=30)\n")
    assert done.returncode == 1
    envelope = json.loads(done.stdout)
    assert envelope["error_info"]["type"] == "TimeoutError" and envelope["usage"]["limits"]["timeout"] == 1


def test_tools_lists_every_tool_of_every_server_as_a_table(config: Path) -> None:
    done = codemode("tools", "--config", str(config))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["TOOL", "DESCRIPTION"]
    assert any(line.startswith("inventory.get_stock ") and "Units on hand" in line for line in lines)
    assert any(line.startswith("toy.add ") and "Add two integers." in line for line in lines)
    total = TOY_TOOLS + 2  # the toy server's tools and the inventory's two
    assert lines[-1] == f"{total} of {total} tools from 2 servers"


def test_tools_with_a_query_ranks_the_best_match_first(config: Path) -> None:
    done = codemode("tools", "stock level of a product", "--config", str(config), "--quiet")
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == "inventory.get_stock"


def test_tools_json_is_the_search_result(config: Path) -> None:
    done = codemode("tools", "add", "--config", str(config), "--json", "--detail", "full", "--limit", "1")
    found = json.loads(done.stdout)
    assert found["meta"]["result_count"] == 1
    assert found["results"][0]["name"] == "add" and "input_schema" in found["results"][0]


def test_stubs_prints_the_python_stubs_of_one_server(config: Path) -> None:
    done = codemode("stubs", "inventory", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "class inventory:" in done.stdout and "async def get_stock(*, sku: str)" in done.stdout
    assert "class toy:" not in done.stdout
    compile(done.stdout, "stubs.py", "exec")  # valid Python


def test_check_reports_each_server_connected_with_its_tool_count(config: Path) -> None:
    done = codemode("check", "--config", str(config))
    assert done.returncode == 0, done.stdout
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:-1]}
    assert rows["toy"][1:3] == ["connected", str(TOY_TOOLS)] and rows["inventory"][1:3] == ["connected", "2"]
    assert rows["toy"][4] == "ms"  # a latency
    assert done.stdout.splitlines()[-1] == "2/2 servers connected"


def test_check_names_every_broken_server_in_one_go_and_exits_1(tmp_path: Path) -> None:
    config = write_config(tmp_path / "broken.json", {
        "good": inventory_entry(),
        "missing": {"command": str(tmp_path / "no-such-server")},
        "crashes": {"command": sys.executable, "args": ["-c", "import sys; sys.exit(3)"]},
        "off": {"command": "whatever", "disabled": True},
    })
    done = codemode("check", "--config", str(config), "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    states = {s["name"]: s["state"] for s in report["servers"]}
    assert report["ok"] is False
    assert states == {"good": "connected", "missing": "failed", "crashes": "failed", "off": "disabled"}
    errors = {s["name"]: s["error"] for s in report["servers"]}
    assert "no-such-server" in errors["missing"] and "server 'crashes'" in errors["crashes"]
    quiet = codemode("check", "--config", str(config), "--quiet")
    assert sorted(line.split(":")[0] for line in quiet.stdout.splitlines()) == ["crashes", "missing"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON at line 1"),
        ('{"mcpServers": {"x": {"args": []}}}', "server 'x': needs 'command' (stdio) or 'url'"),
        ('{"mcpServers": {"x": {"url": "ftp://host"}}}', "server 'x': field 'url'"),
        ('{"mcpServers": {}, "codeMode": {"executor": "nope"}}', "unknown executor 'nope'"),
        ('{"mcpServers": {}, "codeMode": {"limits": {"timeout": -1}}}', "limits: timeout:"),
        ('{"mcpServers": {}, "codeMode": {"limit": {}}}', "unknown key(s) in 'codeMode': limit"),
    ],
    ids=["json", "entry", "url", "executor", "limit", "codemode-key"],
)
def test_a_broken_config_is_a_clear_error_with_exit_code_2(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "servers.json"
    config.write_text(content)
    done = codemode("run", "-", "--config", str(config), input="return 1")
    assert done.returncode == 2
    assert done.stderr.startswith("codemode: error: ") and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["check", "tools", "stubs", "serve"])
def test_every_command_refuses_a_broken_config_before_starting_anything(tmp_path: Path, command: str) -> None:
    config = tmp_path / "servers.json"
    config.write_text('{"mcpServers": {"ok": {"command": "x"}, "bad": {"command": ""}}}')
    done = codemode(command, "--config", str(config))
    assert done.returncode == 2
    assert done.stderr.startswith("codemode: error: server 'bad': field 'command'"), done.stderr
    assert done.stdout == ""


def test_without_a_config_the_error_says_how_to_give_one() -> None:
    done = codemode("check")
    assert done.returncode == 2
    assert "pass --config servers.json (or set $CODEMODE_CONFIG)" in done.stderr


def test_the_config_can_come_from_the_environment(config: Path) -> None:
    done = codemode("check", env=command_env(CODEMODE_CONFIG=str(config)))
    assert done.returncode == 0 and "2/2 servers connected" in done.stdout


def test_an_unknown_server_for_run_is_a_usage_error(config: Path) -> None:
    done = codemode("run", "-", "--config", str(config), "--server", "nope", input="return 1")
    assert done.returncode == 2 and "--server: no server named 'nope'" in done.stderr


def test_a_missing_program_file_is_a_clear_error(config: Path, tmp_path: Path) -> None:
    done = codemode("run", str(tmp_path / "absent.py"), "--config", str(config))
    assert done.returncode == 2 and "absent.py" in done.stderr and "No such file" in done.stderr


def test_colour_follows_force_color_and_no_color(config: Path) -> None:
    forced = codemode("check", "--config", str(config), env=command_env(FORCE_COLOR="1"))
    assert "\x1b[32mconnected" in forced.stdout
    both = codemode("check", "--config", str(config), env=command_env(FORCE_COLOR="1", NO_COLOR="1"))
    assert "\x1b[" not in both.stdout
    flag = codemode("check", "--config", str(config), "--no-color", env=command_env(FORCE_COLOR="1"))
    assert "\x1b[" not in flag.stdout


def test_the_installed_entry_point_runs_the_same_command() -> None:
    script = Path(sys.executable).parent / "codemode"
    if not script.exists():
        pytest.skip("the codemode entry point is not installed in this environment")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for command in ("serve", "run", "tools", "stubs", "check"):
        assert command in done.stdout
