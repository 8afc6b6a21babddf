"""Finding 4 of issue 14: the record of calls is exact and ordered, whatever ends the run. A call
in flight when the program times out is listed (outcome `unknown` or `cancelled`: it reached the
server), and calls are listed in the order they left the dispatcher, not the order they finished."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from engine import MCPClient
from tests.conftest import toy_server

pytestmark = pytest.mark.anyio

# Three calls linger at the server (confirmed there by the fourth meeting them), a fifth call
# finishes, and the program then runs out of time with the three still in flight.
PROGRAM = """
import asyncio
await toy.add(a=1, b=1)
lingering = [asyncio.create_task(toy.meet(n=4, group="record", linger=600)) for _ in range(3)]
met = await toy.meet(n=4, group="record")
assert met["met"], met
await toy.echo(text="after")
await asyncio.sleep(600)
"""


@pytest.mark.parametrize("executor", ["restricted", "process"])
async def test_calls_in_flight_when_the_program_times_out_are_recorded_in_departure_order(executor: str) -> None:
    config: dict[str, Any] = {"mcpServers": {"toy": toy_server()}}
    async with MCPClient(config, code_mode=True, executor=executor) as client:
        with anyio.fail_after(60):
            await client.execute_code("return await toy.add(a=0, b=0)")  # the server is loaded
            out = await client.execute_code(PROGRAM, timeout=6)
    assert out["error_info"]["type"] == "TimeoutError", out["error"]
    calls = out["tool_calls"]
    assert [call["tool"] for call in calls] == ["toy.add", *["toy.meet"] * 4, "toy.echo"]
    assert calls[0]["outcome"] == calls[-1]["outcome"] == "ok"
    meets = [call["outcome"] for call in calls[1:5]]
    assert meets.count("ok") == 1 and meets.count("unknown") + meets.count("cancelled") == 3, meets
    assert out["usage"]["tool_calls"] == 6
