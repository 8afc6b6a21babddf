"""The dispatcher's hooks: `observe` sees each successful result, `rewrite` changes arguments just
before the backend, `functions` adds engine functions — each through a real dispatcher and a real
backend (the contract suite's), with the program side of the frames built by the kernel."""

from __future__ import annotations

from typing import Any

import pytest

from engine.bridge.dispatcher import HostDispatcher
from engine.bridge.hooks import Hooks
from engine.kernel.protocol import ENGINE_NAMESPACE, call_frame, decode, encode
from engine.limits import Limits
from tests.executors.conftest import SERVER, Backend

pytestmark = pytest.mark.anyio


async def ask(dispatcher: HostDispatcher, namespace: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return decode(await dispatcher.handle(encode(call_frame(1, namespace, tool, arguments))))


async def test_observe_sees_successful_results_only_and_rewrite_changes_what_the_backend_gets() -> None:
    seen: list[tuple[str, str, Any]] = []
    backend = Backend()

    def rewrite(server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        if "text" not in arguments:
            return arguments
        return {**arguments, "text": arguments["text"].replace("[EMAIL_1]", "a@example.com")}

    hooks = Hooks(observe=lambda server, tool, value: seen.append((server, tool, value)), rewrite=rewrite)
    dispatcher = HostDispatcher(backend, limits=Limits(), hooks=hooks)
    reply = await ask(dispatcher, SERVER, "echo", {"text": "to [EMAIL_1]"})
    assert reply["value"] == {"echo": {"text": "to a@example.com"}}
    assert backend.calls == [(SERVER, "echo", {"text": "to a@example.com"})]
    failed = await ask(dispatcher, SERVER, "fail", {})
    assert failed["k"] == "error"
    assert seen == [(SERVER, "echo", {"echo": {"text": "to a@example.com"}})]


async def test_engine_functions_answer_in_the_reserved_namespace_and_their_errors_cross_as_data() -> None:
    async def double(arguments: dict[str, Any]) -> Any:
        if not isinstance(arguments.get("n"), int):
            raise TypeError("n must be an integer")
        if arguments["n"] < 0:
            raise KeyError("no such handle: h_x")
        if arguments["n"] == 13:
            raise OSError("disk on fire")
        return arguments["n"] * 2

    dispatcher = HostDispatcher(Backend(), limits=Limits(), hooks=Hooks(functions={"double": double}))
    assert (await ask(dispatcher, ENGINE_NAMESPACE, "double", {"n": 21}))["value"] == 42
    wrong = await ask(dispatcher, ENGINE_NAMESPACE, "double", {"n": "x"})
    assert wrong["error"]["type"] == "TypeError" and wrong["error"]["message"] == "n must be an integer"
    missing = await ask(dispatcher, ENGINE_NAMESPACE, "double", {"n": -1})
    assert missing["error"]["type"] == "ValueError" and missing["error"]["message"] == "no such handle: h_x"
    broken = await ask(dispatcher, ENGINE_NAMESPACE, "double", {"n": 13})
    assert broken["error"]["type"] == "RuntimeError" and "double() failed" in broken["error"]["message"]
    unknown = await ask(dispatcher, ENGINE_NAMESPACE, "triple", {})
    assert unknown["error"]["type"] == "AttributeError"
