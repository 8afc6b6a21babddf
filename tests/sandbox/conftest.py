"""Fixtures for the sandbox tests: real executors that are always closed.

`executor` is one per test; `shared_executor` (restricted) and `any_executor` (restricted, then
the process pool, whose workers run the same policy) one per module, for the attack tables: such a
module sets a module-scoped `anyio_backend`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from engine.executors.base import Executor
from engine.executors.process import ProcessExecutor
from engine.executors.restricted import RestrictedExecutor

from .helpers import ToolHost


@pytest.fixture
async def executor() -> AsyncIterator[RestrictedExecutor]:
    ex = RestrictedExecutor()
    try:
        yield ex
    finally:
        await ex.aclose()


@pytest.fixture
def tool_host() -> ToolHost:
    return ToolHost()


@pytest.fixture(scope="module")
async def shared_executor() -> AsyncIterator[RestrictedExecutor]:
    ex = RestrictedExecutor()
    try:
        yield ex
    finally:
        await ex.aclose()


@pytest.fixture(scope="module", params=["restricted", "process"])
async def any_executor(request: pytest.FixtureRequest) -> AsyncIterator[Executor]:
    """Each executor that runs programs under the sandbox's policy (the `process` worker does too)."""
    ex: Executor = RestrictedExecutor() if request.param == "restricted" else ProcessExecutor()
    try:
        yield ex
    finally:
        await ex.aclose()
