"""`codemode serve` checks every program by default (its warm check costs a few ms); the config file
can turn it off. Through the SDK's client over stdio, as a desktop client would."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.cli.conftest import write_config
from tests.cli.test_serve import serve_stdio
from tests.typecheck.test_cli_check import FILES

pytestmark = pytest.mark.anyio

FORGOT_AWAIT = 'n = files.search_files(pattern="a")\nreturn n["count"]\n'


@pytest.mark.parametrize("check", [None, "off"])
async def test_serve_refuses_a_forgotten_await_before_the_run_unless_the_file_turns_the_check_off(
    tmp_path: Path, check: str | None
) -> None:
    code_mode = {} if check is None else {"check": check}
    config = write_config(tmp_path / "servers.json", {"files": FILES}, codeMode=code_mode)
    with anyio.fail_after(90):
        async with serve_stdio(config) as served:
            result = await served.client.call_tool("execute_code", {"code": FORGOT_AWAIT})
    envelope = result.structured_content
    assert result.is_error and envelope is not None
    info = envelope["error_info"]
    assert info["type"] == "TypeError" and info["line"] == 2
    if check is None:
        assert "did you forget `await`?" in info["message"] and envelope["tool_calls"] == []
        assert info["column"] == 8 and "no tool was called" in info["traceback"]
    else:
        assert "check_warnings" not in envelope and "not subscriptable" in info["message"]
