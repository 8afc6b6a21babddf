"""A guest may forge frames (full Python on a worker or in E2B): `open_result` calls with bad
arguments reach the host's real dispatcher and are refused there, and a program's hostile results
are cut within the cap on every executor."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from engine import Limits, MCPClient
from engine.bridge.dispatcher import HostDispatcher
from engine.kernel.protocol import ENGINE_NAMESPACE, call_frame, decode, encode

from .crm import crm

pytestmark = pytest.mark.anyio


async def test_forged_open_result_frames_are_refused_by_the_host() -> None:
    async with MCPClient({"mcpServers": {"crm": crm().server}}, code_mode=True,
                         limits={"max_result_bytes": 1_000}) as engine:
        mode = engine.code_mode_engine()
        out = await engine.execute_code("return list(range(5000))", session_id="s")
        handle = out["truncation"]["handle"]
        limits = Limits()
        dispatcher = HostDispatcher(mode, limits=limits, hooks=mode.safety.hooks("s", None, limits))

        async def forge(arguments: Any) -> dict[str, Any]:
            frame = encode(call_frame(1, ENGINE_NAMESPACE, "open_result", arguments), check=False)
            return decode(await dispatcher.handle(frame))

        for arguments, kind in [
            ({"handle": handle, "path": "orders"}, "TypeError"),
            ({"handle": handle, "path": [{"a": 1}]}, "TypeError"),
            ({"handle": [handle]}, "TypeError"),
            ({"handle": handle, "start": 1.5}, "TypeError"),
            ({"handle": "h_" + "x" * 22}, "ValueError"),
            ({"handle": "h_../../../../etc/passwd"}, "ValueError"),
            ({}, "TypeError"),
        ]:
            reply = await forge(arguments)
            assert reply["k"] == "error" and reply["error"]["type"] == kind, (arguments, reply)
        ok = await forge({"handle": handle, "path": [], "start": 4998, "stop": None})
        assert ok == {"k": "result", "id": 1, "value": [4998, 4999]}
        other = HostDispatcher(mode, limits=limits, hooks=mode.safety.hooks("intruder", None, limits))
        stolen = decode(await other.handle(encode(call_frame(2, ENGINE_NAMESPACE, "open_result", {"handle": handle}))))
        assert stolen["k"] == "error" and "unknown or expired" in stolen["error"]["message"]


HOSTILE = """
big = "x" * 9_000_000
deep = node = {}
for _ in range(90):
    node["a"] = {"pad": "y" * 1000}
    node = node["a"]
return {"big": big, "deep": deep, "many": list(range(200_000))}
"""


async def test_hostile_results_are_cut_within_the_cap(every_executor: dict[str, Any]) -> None:
    async with MCPClient({"mcpServers": {"crm": crm().server}}, code_mode=True,
                         limits={"timeout": 60, "max_result_bytes": 50_000}, **every_executor) as engine:
        out = await engine.execute_code(HOSTILE)
        assert out["status"] == "ok", out["error"]
        assert len(msgpack.packb(out["result"], use_bin_type=True)) <= 50_000
        kinds = {cut["kind"] for cut in out["truncation"]["cuts"]}
        assert {"string", "list", "nesting"} <= kinds
        cycle = await engine.execute_code("a = []\na.append(a)\nreturn a")
        assert cycle["status"] == "error" and "cycle" in cycle["error"]
        # The host is unharmed: the next program runs as usual.
        assert (await engine.execute_code("return 1 + 1"))["result"] == 2


async def test_a_guest_that_understates_its_result_size_is_still_cut() -> None:
    from engine.codemode.safety import ResultSafety
    from engine.envelope import build_envelope

    limits = Limits(max_result_bytes=1_000)
    # What `envelope_from_payload` builds from a forged `done` frame: the guest's own usage figures.
    envelope = build_envelope(result=list(range(10_000)), logs=[], error=None, elapsed=0.1,
                              limits=limits.as_dict(), result_bytes=3)
    out = await ResultSafety().finish(envelope, None, limits)
    assert len(msgpack.packb(out["result"], use_bin_type=True)) <= 1_000
    assert out["usage"]["result_bytes"] == len(msgpack.packb(list(range(10_000)), use_bin_type=True))
    assert out["truncation"]["handle"].startswith("h_")
