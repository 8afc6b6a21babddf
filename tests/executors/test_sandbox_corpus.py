"""The restricted sandbox's attack corpus (`tests/sandbox/test_security.py`), run against the `process` executor.

The child runs programs under the same policy, so every attack must fail there too, with the same
kinds of error, and leave the host (and the child, which is reused) working. The corpus is imported,
not copied or edited; the tools namespace the attacks poke at is a real stub namespace here (built
in the child from plain specs), since host objects cannot cross into another process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import mcp.types as types
import pytest

from engine.codemode.request import build_request
from engine.executors.base import ExecutionRequest, Executor
from engine.limits import Limits
from engine.tools import ToolSet
from tests.sandbox.review_attacks import REFUSED
from tests.sandbox.test_security import ATTACKS
from tests.sandbox.test_security_review import REFUSED_TYPES

from .conftest import FACTORIES, SANDBOX_EXECUTORS, Backend
from .e2b_standin import EnvdStandIn

pytestmark = pytest.mark.anyio

TOOLS = ToolSet.build(["tools"], {"tools": [types.Tool(name="echo", input_schema={"type": "object"})]}, {})
ALLOWED = {
    "SyntaxError", "AttributeError", "TypeError", "ImportError", "NameError", "ValueError", "MemoryError",
    "NotImplementedError",
}
CHILD_FAILURES = {"SandboxCrashed", "SandboxError", "TimeoutError"}
"""What the host reports when an attack takes the child down (or it is killed at the host deadline)."""


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=SANDBOX_EXECUTORS)
async def sandboxed(request: pytest.FixtureRequest, envd: EnvdStandIn) -> AsyncIterator[Executor]:
    # One executor for the whole corpus: reusing the child is what the executor does in practice.
    executor = FACTORIES[request.param](envd)
    try:
        yield executor
    finally:
        await executor.aclose()


def _request(code: str) -> ExecutionRequest:
    return build_request(TOOLS, code, limits=Limits(timeout=5), backend=Backend())


@pytest.mark.parametrize("code", list(ATTACKS.values()), ids=list(ATTACKS))
async def test_attack_fails_in_the_child_too(sandboxed: Executor, tmp_path: Path, code: str) -> None:
    marker = tmp_path / "escaped"
    program = code.replace("{marker}", str(marker))
    with anyio.fail_after(20):
        out = await sandboxed.run(_request(program))
    assert out["error"] is not None, out["result"]
    assert out["result"] is None
    assert out["error_info"] is not None and out["error_info"]["type"] in ALLOWED, out["error"]
    assert not marker.exists()
    with anyio.fail_after(10):
        sanity = await sandboxed.run(_request("import json\nreturn json.dumps([1, 2])"))
    assert sanity["result"] == "[1, 2]"


@pytest.mark.parametrize("code", list(REFUSED.values()), ids=list(REFUSED))
async def test_review_attack_fails_in_the_child_too(sandboxed: Executor, tmp_path: Path, code: str) -> None:
    # The independent review's corpus (`tests/sandbox/review_attacks.py`): refused in the child too.
    marker = tmp_path / "escaped"
    with anyio.fail_after(30):
        out = await sandboxed.run(_request(code.replace("{marker}", str(marker))))
    assert out["result"] is None and out["error_info"] is not None, out["result"]
    assert out["error_info"]["type"] in REFUSED_TYPES | CHILD_FAILURES, out["error"]
    assert not marker.exists()
    with anyio.fail_after(30):
        sanity = await sandboxed.run(_request("import json\nreturn json.dumps([1, 2])"))
    assert sanity["result"] == "[1, 2]"
