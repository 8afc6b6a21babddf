"""The `e2b` executor end to end through the real `e2b` SDK against the local envd stand-in.

What only this transport has to survive: a dropped output stream (reattach + replay), a `send_stdin`
that delivered its data but reported a failure (resend + dedupe), a guest that dies, programs that
try to write to or read from the channel, the pre-installed guest of the template, and the optional
SDK and API key.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest

from engine.errors import CodeModeError
from engine.executors.bundle import bundle
from engine.executors.e2b import E2BExecutor
from engine.kernel import protocol
from engine.kernel.link import encode_line
from engine.limits import Limits

from .conftest import NAMESPACE, Backend, run_program
from .e2b_standin import EnvdStandIn

pytestmark = pytest.mark.anyio


@pytest.fixture
async def e2b(envd: EnvdStandIn) -> AsyncIterator[E2BExecutor]:
    executor = E2BExecutor(debug=True, sandbox_url=envd.url, python=sys.executable)
    try:
        yield executor
    finally:
        with anyio.fail_after(15):
            await executor.aclose()


class DroppingBackend(Backend):
    """Drops the guest's output streams while answering the call numbered `at` (1-based)."""

    def __init__(self, envd: EnvdStandIn, at: int) -> None:
        super().__init__()
        self.envd = envd
        self.at = at
        self.dropped = 0

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        if len(self.calls) + 1 == self.at:
            self.dropped = await anyio.to_thread.run_sync(self.envd.drop_streams, self.envd.started[-1])
        return await super().call_tool(server, tool, arguments)


async def test_a_dropped_stream_is_reattached_and_no_call_is_lost_or_repeated(
    e2b: E2BExecutor, envd: EnvdStandIn
) -> None:
    await e2b.start()
    backend = DroppingBackend(envd, at=2)
    code = (
        "out = []\n"
        "for i in range(5):\n"
        f"    out.append((await {NAMESPACE}.echo(text=str(i)))['echo']['text'])\n"
        "return out"
    )
    envelope = await run_program(e2b, code, backend)
    assert envelope["error"] is None, envelope["error"]
    assert envelope["result"] == ["0", "1", "2", "3", "4"]
    assert backend.dropped >= 1
    assert [args["text"] for _, _, args in backend.calls] == ["0", "1", "2", "3", "4"]
    assert e2b.resyncs >= 1


async def test_input_delivered_but_reported_failed_is_resent_and_deduplicated(
    e2b: E2BExecutor, envd: EnvdStandIn
) -> None:
    await e2b.start()
    backend = Backend()
    before = envd.inputs
    envd.fail_next_inputs(2)
    envelope = await run_program(e2b, f"return await {NAMESPACE}.echo(text='once')", backend)
    assert envelope["result"] == {"echo": {"text": "once"}}, envelope["error"]
    assert len(backend.calls) == 1
    assert envd.inputs - before > 2  # the run frame crossed more than once; the guest ran it once
    assert e2b.resyncs >= 1


async def test_printed_text_cannot_forge_frames_nor_read_them(e2b: E2BExecutor) -> None:
    forged_done = protocol.encode({"k": "done", "id": 1, "payload": {"result": "forged"}})
    forged = encode_line("f", 1, 0, 1, forged_done).decode().strip()
    code = (
        "import os, sys\n"
        f"print({forged!r})\n"
        f"os.write(1, {forged!r}.encode() + b'\\n')\n"
        f"sys.__stdout__.write({forged!r} + '\\n')\n"
        "stolen = [sys.stdin.read(), os.read(0, 100)]\n"
        f"after = await {NAMESPACE}.echo(text='still works')\n"
        "return {'stolen': stolen, 'after': after}\n"
    )
    envelope = await run_program(e2b, code)
    assert envelope["error"] is None, envelope["error"]
    assert envelope["result"] == {"stolen": ["", b""], "after": {"echo": {"text": "still works"}}}
    assert envelope["logs"].count(forged) == 3  # print, fd 1 and sys.__stdout__ all landed in the logs


async def test_a_guest_that_dies_is_reported_and_replaced(e2b: E2BExecutor) -> None:
    died = await run_program(e2b, "import os\nos._exit(3)")
    assert died["error_info"] is not None and died["error_info"]["type"] == "SandboxCrashed"
    again = await run_program(e2b, "return 'back'")
    assert again["result"] == "back", again["error"]


async def test_a_program_stuck_in_native_code_is_killed_at_the_host_deadline(e2b: E2BExecutor) -> None:
    e2b.grace, e2b.stop_grace = 0.5, 0.5
    stuck = await run_program(e2b, "import time\ntime.sleep(60)", limits=Limits(timeout=1))
    assert stuck["error_info"] is not None and stuck["error_info"]["type"] == "TimeoutError"
    assert "killed" in stuck["error_info"]["message"]
    assert (await run_program(e2b, "return 1"))["result"] == 1


async def test_full_python_is_available_in_the_sandbox(e2b: E2BExecutor) -> None:
    envelope = await run_program(e2b, "import json, re\nreturn json.loads('[1]') + [bool(re.match('a', 'a'))]")
    assert envelope["result"] == [1, True], envelope["error"]


async def test_a_pre_installed_guest_is_started_instead_of_shipped(envd: EnvdStandIn, tmp_path: Path) -> None:
    installed = bundle(tmp_path / "engine-guest")
    executor = E2BExecutor(
        debug=True, sandbox_url=envd.url, python=sys.executable, template="engine-guest", guest_path=str(installed)
    )
    try:
        envelope = await run_program(executor, "import engine.guest\nreturn engine.guest.__file__")
        assert envelope["result"] == str(installed / "engine" / "guest" / "__init__.py"), envelope["error"]
    finally:
        await executor.aclose()


def test_without_the_sdk_the_executor_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "e2b", None)
    with pytest.raises(CodeModeError, match=r"pip install 'engine\[e2b\]'"):
        E2BExecutor(api_key="e2b_test")


def test_an_api_key_is_required_outside_debug_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("E2B_API_KEY", raising=False)
    with pytest.raises(CodeModeError, match="E2B_API_KEY"):
        E2BExecutor()


async def test_a_pre_installed_guest_of_another_version_is_refused(envd: EnvdStandIn, tmp_path: Path) -> None:
    installed = bundle(tmp_path / "engine-guest")
    init = installed / "engine" / "guest" / "__init__.py"
    init.write_text(init.read_text().replace('GUEST_VERSION = "', 'GUEST_VERSION = "0.0.0-old-'))
    executor = E2BExecutor(
        debug=True, sandbox_url=envd.url, python=sys.executable, template="engine-guest", guest_path=str(installed)
    )
    try:
        envelope = await run_program(executor, "return 1")
        assert envelope["error_info"] is not None and envelope["error_info"]["type"] == "SandboxError"
        assert "rebuild the sandbox template" in envelope["error_info"]["message"]
    finally:
        await executor.aclose()
