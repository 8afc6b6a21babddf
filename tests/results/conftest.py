"""Executors for the results tests: the same client on `restricted` and `process` (and `e2b`
through the real e2b SDK against the local envd stand-in, where a test asks for it)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.executors.e2b_standin import EnvdStandIn


@pytest.fixture(scope="module")
def envd() -> Iterator[EnvdStandIn]:
    with EnvdStandIn() as server:
        yield server


@pytest.fixture(params=["restricted", "process"])
def executor_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """`MCPClient` keyword arguments choosing one executor."""
    return {"executor": request.param}


@pytest.fixture(params=["restricted", "process", "e2b"])
def every_executor(request: pytest.FixtureRequest) -> dict[str, Any]:
    """`MCPClient` keyword arguments choosing one executor, e2b included."""
    if request.param == "e2b":
        envd = request.getfixturevalue("envd")
        options = {"debug": True, "sandbox_url": envd.url, "python": sys.executable}
        return {"executor": "e2b", "executor_options": options}
    return {"executor": request.param}
