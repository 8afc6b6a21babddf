"""Fixtures for the sandbox tests: a real executor that is always closed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

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
