"""Finding 3 of issue 14: a server that crashes again and again leaves nothing behind: every
replaced or failed session is closed (its owner task ended, its stderr capture file released)."""

from __future__ import annotations

import asyncio
import gc
import os

import anyio
import pytest

from engine import MCPClient
from tests.conftest import toy_entry

pytestmark = pytest.mark.anyio

CYCLES = 8
"""Enough to see a leak (before the fix, each crash left one fd and one task behind), few enough
that the test stays far from its time bound on a loaded machine (each cycle starts a Python server)."""


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def live_tasks() -> int:
    return len(asyncio.all_tasks())


async def test_repeated_crashes_leak_no_task_and_no_fd() -> None:
    async with MCPClient({"mcpServers": {"toy": toy_entry()}}, code_mode=True) as client:
        with anyio.fail_after(110):
            first = await client.execute_code("return await toy.add(a=1, b=1)")
            assert first["result"] == 2, first["error"]
            gc.collect()
            fds, tasks = open_fds(), live_tasks()
            for _ in range(CYCLES):
                crashed = await client.execute_code("return await toy.crash()")
                assert crashed["error_info"]["type"] == "ToolError", crashed["error"]
                again = await client.execute_code("return await toy.add(a=2, b=2)")
                assert again["result"] == 4, again["error"]
            gc.collect()
            # One live server again, as before the crashes: the same fds and tasks, give or take none.
            assert (open_fds(), live_tasks()) == (fds, tasks)
            await client.close_all_sessions()
            gc.collect()
            assert live_tasks() < tasks
