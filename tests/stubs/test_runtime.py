"""Callable namespaces: signatures, checks before sending, replies and errors, isolation, guest import."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types as pytypes
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.bridge.dispatcher import HostDispatcher
from engine.errors import ToolError
from engine.kernel import protocol
from engine.kernel import stubs as runtime
from engine.kernel.errors import ToolLimitError
from engine.kernel.stubs import Namespace, build_namespaces, make_search_tools
from engine.limits import Limits
from engine.stubs.spec import ToolSpec

pytestmark = pytest.mark.anyio

CREATE = ToolSpec(
    server="my-gh",
    name="create-issue",
    identifier="create_issue",
    description="Create an issue.",
    input_schema={
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "labels": {"type": "array", "items": {"type": "string"}},
            "state": {"type": "string", "default": "open"},
            "user-name": {"type": "string"},
        },
        "required": ["title"],
    },
)
PING = ToolSpec(server="my-gh", name="ping", identifier="ping", description="", input_schema={"type": "object"})


class Host:
    """A real `Send`: records each decoded frame and answers with the reply the test chose."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.reply: dict[str, Any] = {"k": "result", "value": "ok"}

    async def send(self, data: bytes) -> bytes:
        frame = protocol.decode(data)
        self.frames.append(frame)
        return protocol.encode({**self.reply, "id": frame["id"]})


def make(host: Host) -> Namespace:
    return build_namespaces({"my_gh": [CREATE, PING.to_dict()]}, host.send, tool_error=ToolError)["my_gh"]


def test_stubs_have_keyword_only_signatures_and_docstrings_from_the_schema() -> None:
    ns = make(Host())
    signature = inspect.signature(ns.create_issue)
    assert str(signature) == "(*, title: str, labels: list = None, state: str = 'open', user_name: str = None)"
    assert ns.create_issue.__doc__ == "Create an issue."
    assert ns.create_issue.__name__ == "create_issue"
    assert str(inspect.signature(ns.ping)) == "(**arguments)"
    assert ns.ping.__doc__ == "Tool 'ping' of server 'my-gh'."


async def test_a_call_sends_original_names_and_returns_the_value() -> None:
    host = Host()
    ns = make(host)
    with anyio.fail_after(5):
        assert await ns.create_issue(title="t", user_name="me") == "ok"
    (frame,) = host.frames
    assert frame["k"] == "call"
    assert (frame["namespace"], frame["tool"]) == ("my-gh", "create-issue")
    assert frame["arguments"] == {"title": "t", "user-name": "me"}


async def test_invalid_arguments_raise_before_any_frame_is_sent() -> None:
    host = Host()
    ns = make(host)
    with pytest.raises(TypeError, match="my_gh.create_issue\\(\\) missing required parameter: 'title'"):
        await ns.create_issue()
    with pytest.raises(TypeError, match="'labels'\\[0\\] must be str"):
        await ns.create_issue(title="t", labels=[1])
    with pytest.raises(TypeError, match="keyword arguments only"):
        await ns.create_issue("t")
    with pytest.raises(TypeError, match="plain data"):
        await ns.ping(x={1, 2})
    assert host.frames == []


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        ({"type": "PermissionError", "message": "server 'my-gh' is not allowed"}, PermissionError),
        ({"type": "ToolLimitError", "message": "tool call limit reached"}, ToolLimitError),
        ({"type": "TimeoutError", "message": "slow"}, TimeoutError),
        ({"type": "SomethingNew", "message": "odd"}, RuntimeError),
    ],
)
async def test_error_frames_raise_the_matching_exception(error: dict[str, Any], raised: type[Exception]) -> None:
    host = Host()
    host.reply = {"k": "error", "error": error}
    with anyio.fail_after(5), pytest.raises(raised) as caught:
        await make(host).ping()
    assert error["message"] in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


async def test_a_tool_error_frame_raises_the_given_tool_error_class() -> None:
    host = Host()
    host.reply = {"k": "error", "error": {"type": "ToolError", "message": "nope", "server": "my-gh", "tool": "ping"}}
    with anyio.fail_after(5), pytest.raises(ToolError) as caught:
        await make(host).ping()
    assert (caught.value.server, caught.value.tool, caught.value.message) == ("my-gh", "ping", "nope")


async def test_a_reply_for_another_call_is_refused() -> None:
    async def confused(data: bytes) -> bytes:
        return protocol.encode(protocol.result_frame(protocol.decode(data)["id"] + 1, None))

    ns = build_namespaces({"my_gh": [PING]}, confused, tool_error=ToolError)["my_gh"]
    with anyio.fail_after(5), pytest.raises(RuntimeError, match="arrived for call"):
        await ns.ping()


def test_tools_are_reachable_by_original_name_and_unknown_names_list_close_matches() -> None:
    ns = make(Host())
    assert ns["create-issue"] is ns.create_issue
    assert ns["create_issue"] is ns.create_issue
    with pytest.raises(
        AttributeError, match="no tool 'create_isue'. Did you mean 'create_issue'\\? Available: create_issue, ping"
    ):
        _ = ns.create_isue
    with pytest.raises(KeyError, match="no tool 'nope'"):
        ns["nope"]


def test_namespaces_are_read_only_and_describe_themselves() -> None:
    ns = make(Host())
    with pytest.raises(AttributeError, match="read-only"):
        ns.ping = None
    with pytest.raises(AttributeError, match="read-only"):
        del ns.ping
    assert dir(ns) == ["create_issue", "ping"]
    assert repr(ns) == "<namespace my_gh (server 'my-gh'): 2 tools: create_issue, ping>"


PLAIN = (type(None), bool, int, float, str, bytes)


def test_no_public_attribute_chain_reaches_anything_but_stubs_and_plain_data() -> None:
    host = Host()
    namespaces = build_namespaces({"my_gh": [CREATE, PING]}, host.send, tool_error=ToolError)
    search = make_search_tools(host.send)
    seen: set[int] = set()
    reached: list[object] = []

    def walk(obj: object, depth: int = 0) -> None:
        if id(obj) in seen or depth > 6:
            return
        seen.add(id(obj))
        reached.append(obj)
        for name in dir(obj):
            if name.startswith("_"):
                continue  # the sandbox refuses `_` attributes
            walk(getattr(obj, name), depth + 1)

    for ns in namespaces.values():
        walk(ns)
    walk(search)
    assert reached, "nothing walked"
    for obj in reached:
        assert isinstance(obj, (Namespace, pytypes.FunctionType, *PLAIN)), f"reached {obj!r}"
    assert host.send not in reached
    assert not any(isinstance(obj, pytypes.MethodType) for obj in reached)


def test_long_descriptions_are_capped() -> None:
    spec = ToolSpec(server="s", name="t", identifier="t", description="x" * 5000, input_schema={})
    stub = build_namespaces({"s": [spec]}, Host().send, tool_error=ToolError)["s"].t
    assert stub.__doc__ is not None and len(stub.__doc__) == runtime.DOC_LIMIT


async def test_search_tools_calls_the_engine_namespace_through_the_dispatcher() -> None:
    class Backend:
        async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> Any:
            raise AssertionError("search is not a tool call")

        async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
            return {"query": query, "detail_level": detail_level, "limit": limit}

    dispatcher = HostDispatcher(Backend(), limits=Limits())
    search = make_search_tools(dispatcher.handle)
    with anyio.fail_after(5):
        assert await search("pull request", detail_level="names", limit=3) == {
            "query": "pull request",
            "detail_level": "names",
            "limit": 3,
        }
    with pytest.raises(ValueError, match="detail_level"):
        await search(detail_level="all")
    with pytest.raises(TypeError, match="limit"):
        await search(limit="3")


def test_the_kernel_imports_standalone_and_builds_working_stubs(tmp_path: Path) -> None:
    # The kernel ships to guests as a folder of its own: it must need nothing else of engine.
    kernel = Path(runtime.__file__ or "").parent
    (tmp_path / "kernel").mkdir()
    for path in kernel.glob("*.py"):
        (tmp_path / "kernel" / path.name).write_text(path.read_text())
    script = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from kernel import protocol, stubs

class GuestToolError(Exception):
    def __init__(self, server, tool, message):
        super().__init__(message)

async def send(data):
    frame = protocol.decode(data)
    return protocol.encode(protocol.result_frame(frame["id"], frame["arguments"]))

spec = {"server": "s", "name": "t-1", "identifier": "t_1", "description": "",
        "input_schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
        "output_schema": None}
ns = stubs.build_namespaces({"s": [spec]}, send, tool_error=GuestToolError)["s"]
assert asyncio.run(ns.t_1(a=2)) == {"a": 2}
assert not any(m == "engine" or m.startswith("engine.") for m in sys.modules), "engine imported"
assert not [m for m in sys.modules if m.split(".")[0] in ("mcp", "pydantic", "anyio")], "a host package"
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
