"""Terminal rendering, settings merging and the code-mode server's instructions, tested in-process on plain data."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from engine import CodeModeError, ConfigError, Limits, ServerState, envelope_text
from engine.cli.render import Spinner, Style, table, wants_colour
from engine.cli.settings import add_settings_arguments, load_settings
from engine.codemode.instructions import build_instructions, prompt_text
from engine.envelope import ErrorInfo, error_envelope


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_table_aligns_columns_and_cuts_the_last_one_to_the_width() -> None:
    text = table(["NAME", "NOTE"], [["a", "short"], ["longer", "x" * 50]], max_width=30)
    lines = text.splitlines()
    assert lines[0] == "NAME    NOTE"
    assert lines[1] == "a       short"
    assert lines[2].startswith("longer  x") and lines[2].endswith("…") and len(lines[2]) == 30


def test_table_colours_cells_after_padding_so_columns_stay_aligned() -> None:
    style = Style(True)
    text = table(["A", "B"], [["x", "1"], ["yyy", "2"]], style=style,
                 cell_styles=lambda row, column: ("red",) if column == 0 else ())
    plain = [line.replace("\x1b[31m", "").replace("\x1b[1m", "").replace("\x1b[0m", "") for line in text.splitlines()]
    assert plain == ["A    B", "x    1", "yyy  2"]
    assert "\x1b[31mx  \x1b[0m" in text


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert wants_colour(FakeTTY()) is True
    assert wants_colour(io.StringIO()) is False
    assert wants_colour(FakeTTY(), disabled=True) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert wants_colour(FakeTTY()) is False


def test_the_spinner_draws_only_on_a_terminal() -> None:
    piped = io.StringIO()
    with Spinner(stream=piped).running("connecting"):
        pass
    assert piped.getvalue() == ""
    quiet = FakeTTY()
    with Spinner(stream=quiet, quiet=True).running("connecting"):
        pass
    assert quiet.getvalue() == ""
    tty = FakeTTY()
    spinner = Spinner(stream=tty)
    with spinner.running("connecting"):
        spinner._stop.wait(0.3)  # long enough for a few frames
    assert "connecting" in tty.getvalue() and tty.getvalue().endswith("\r\x1b[K")


def test_envelope_text_puts_the_error_and_its_line_first() -> None:
    info = ErrorInfo(type="NameError", message="name 'x' is not defined", line=2,
                     traceback="Traceback (most recent call last):\n  line 2, in <module>\n    return x\n"
                               "NameError: name 'x' is not defined")
    envelope = dict(error_envelope(info))
    envelope["logs"] = ["hello"]
    text = envelope_text(envelope)
    assert text.splitlines()[0] == "error: NameError: name 'x' is not defined (line 2)"
    assert text.splitlines()[1:3] == ["    line 2, in <module>", "      return x"]  # no header, no repeat
    assert "output:\n  hello" in text and "result:" not in text and "Traceback" not in text


def test_envelope_text_shows_a_result_as_json_and_cuts_huge_ones() -> None:
    envelope = {"result": {"a": [1, 2]}, "logs": [], "error": None, "tool_calls": [{}], "execution_time": 0.012}
    assert envelope_text(envelope) == 'result: {\n  "a": [\n    1,\n    2\n  ]\n}\n(1 tool call, 12 ms)'
    huge = envelope_text({**envelope, "result": "x" * 5000}, limit=1000)
    assert len(huge) < 1200 and "more characters]" in huge


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_settings_arguments(parser)
    return parser.parse_args(list(argv))


def test_settings_merge_flags_over_the_config_files_code_mode_key(tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({
        "mcpServers": {"a": {"command": "x"}},
        "codeMode": {"executor": "restricted", "limits": {"timeout": 5, "maxToolCalls": 7, "max_output_chars": 99}},
    }))
    settings = load_settings(_args("--config", str(path), "--timeout", "2", "--max-memory-mb", "64"))
    assert settings.limits == Limits(timeout=2, max_tool_calls=7, max_output_chars=99,
                                     max_memory_bytes=64 * 1024 * 1024)
    assert settings.executor == "restricted" and settings.servers == {"a": {"command": "x"}}


def test_settings_refuse_bad_limits_with_the_field_named(tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"mcpServers": {}, "codeMode": {"limits": {"maxToolCalls": -1, "bogus": 1}}}))
    expected = r"codeMode\.limits: maxToolCalls: .*greater than or equal to 0.*bogus: unknown"
    with pytest.raises(ConfigError, match=expected):
        load_settings(_args("--config", str(path)))


def test_settings_refuse_a_bad_flag_and_an_unknown_executor(tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"mcpServers": {}}))
    with pytest.raises(ConfigError, match="limits: timeout: Input should be greater than 0"):
        load_settings(_args("--config", str(path), "--timeout", "-1"))
    with pytest.raises(CodeModeError, match="unknown executor 'nope'"):
        load_settings(_args("--config", str(path), "--executor", "nope"))


@pytest.mark.parametrize(
    ("code_mode", "flags", "expected"),
    [
        ({}, [], "process"),
        ({"executor": "restricted"}, [], "restricted"),
        ({}, ["--executor", "restricted"], "restricted"),
        ({"executor": "e2b"}, ["--executor", "process"], "process"),
    ],
    ids=["neither says", "the file says", "the flag says", "the flag wins"],
)
def test_a_default_executor_applies_only_where_neither_the_file_nor_a_flag_names_one(
    tmp_path: Path, code_mode: dict[str, str], flags: list[str], expected: str
) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"mcpServers": {}, "codeMode": code_mode}))
    assert load_settings(_args("--config", str(path), *flags), default_executor="process").executor == expected
    assert load_settings(_args("--config", str(path), *flags)).executor == (
        "restricted" if expected == "process" and not flags else expected
    )


def test_executor_options_of_the_file_apply_only_to_the_files_executor(tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"mcpServers": {}, "codeMode": {"executor": "process", "executorOptions": {"x": 1}}}))
    assert load_settings(_args("--config", str(path))).executor_options == {"x": 1}
    other = load_settings(_args("--config", str(path), "--executor", "restricted"))
    assert other.executor == "restricted" and other.executor_options == {}


STATES = [
    ServerState("my-docs", "my_docs", "connected", ("search_pages", "get")),
    ServerState("down", None, "failed", error="it crashed"),
    ServerState("slow", None, "connecting"),
    ServerState("later", None, "pending"),
]
STUBS = "class my_docs:\n    async def search_pages(*, q: str) -> Any: ...\n"


def test_instructions_name_each_server_with_its_tools_or_its_state() -> None:
    text = build_instructions(STATES, STUBS, limits=Limits(timeout=7, max_tool_calls=9))
    assert "Limits per program: 7 s, 9 tool calls (8 at once), 50000 characters of output." in text
    assert "- my_docs (server 'my-docs', 2 tools): get, search_pages" in text
    assert "- down: unavailable: it crashed" in text
    assert "- slow: starting (a program that uses it waits for it" in text
    assert "- later: not connected yet" in text
    assert text.endswith(STUBS)


def test_instructions_leave_out_the_stubs_when_they_do_not_fit_and_the_prompt_keeps_them() -> None:
    many = [ServerState("big", "big", "connected", tuple(f"tool_{i}" for i in range(200)))]
    stubs = "class big:\n" + "".join(f"    async def tool_{i}() -> Any: ...\n" for i in range(200))
    text = build_instructions(many, stubs, limit=6000)
    assert len(text) <= 6000 and "class big:" not in text and "tool_199" in text
    cut = build_instructions(many, stubs, limit=2500)
    assert len(cut) <= 2500 and cut.endswith("- ... (more: use the search_tools tool)")
    assert prompt_text(many, stubs).endswith(stubs)
