"""Code mode end to end: programs calling real MCP servers through stubs, the bridge and the sandbox."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine import CodeModeError, MCPClient, MetricsMiddleware
from engine.middleware import CallNext, MiddlewareRequest
from tests.conftest import third_party_entry, toy_server

pytestmark = pytest.mark.anyio


def client_for(tmp_path: Path, *names: str, **kwargs: Any) -> MCPClient:
    """A code-mode client of the named servers: third-party ones over stdio, the toy in this process."""
    servers: dict[str, Any] = {name: third_party_entry(name, tmp_path) for name in names if name != "toy"}
    if "toy" in names:
        servers["toy"] = toy_server()
    return MCPClient({"mcpServers": servers}, code_mode=True, **kwargs)


async def run(client: MCPClient, code: str, timeout: float = 30.0) -> dict[str, Any]:
    with anyio.fail_after(timeout + 30):
        return await client.execute_code(code, timeout=timeout)


async def test_a_program_chains_tools_of_two_servers_and_filters_in_code(tmp_path: Path) -> None:
    for name, text in {"a.txt": "alpha", "b.md": "beta", "c.txt": "gamma"}.items():
        (tmp_path / name).write_text(text)
    async with client_for(tmp_path, "filesystem", "memory") as client:
        out = await run(client, f'''
listing = (await filesystem.list_directory(path={str(tmp_path)!r}))["content"]
names = [line.split(" ", 1)[1] for line in listing.splitlines() if line.startswith("[FILE]") and line.endswith(".txt")]
contents = {{}}
for name in sorted(names):
    read = await filesystem.read_text_file(path={str(tmp_path)!r} + "/" + name)
    contents[name] = read["content"]
await memory.create_entities(entities=[
    {{"name": n, "entityType": "file", "observations": [c]}} for n, c in contents.items()
])
graph = await memory.search_nodes(query="gamma")
print("stored", len(contents))
return {{"files": contents, "found": [e["name"] for e in graph["entities"]]}}
''')
    assert out["error"] is None, out["error"]
    assert out["result"] == {"files": {"a.txt": "alpha", "c.txt": "gamma"}, "found": ["c.txt"]}
    assert out["logs"] == ["stored 2"]
    tools = [call["tool"] for call in out["tool_calls"]]
    assert tools[0] == "filesystem.list_directory" and tools.count("filesystem.read_text_file") == 2
    assert tools[-2:] == ["memory.create_entities", "memory.search_nodes"]
    assert all(call["outcome"] == "ok" for call in out["tool_calls"]) and out["usage"]["tool_calls"] == 5


async def test_tool_errors_are_catchable_and_uncaught_ones_name_the_line(tmp_path: Path) -> None:
    async with client_for(tmp_path, "toy") as client:
        caught = await run(client, '''
try:
    await toy.fail(message="disk on fire")
except ToolError as error:
    return [error.server, error.tool, error.message]
''')
        assert caught["error"] is None
        assert caught["result"][:2] == ["toy", "fail"] and "disk on fire" in caught["result"][2]
        uncaught = await run(client, 'x = 1\n\nawait toy.fail(message="no")\nreturn x\n')
        assert uncaught["error_info"]["type"] == "ToolError"
        assert uncaught["error_info"]["line"] == 3 and "no" in uncaught["error_info"]["message"]
        assert uncaught["tool_calls"][0]["outcome"] == "error"


async def test_structured_images_and_multi_item_results_become_plain_values(tmp_path: Path) -> None:
    async with client_for(tmp_path, "everything", "toy") as client:
        out = await run(client, '''
weather = await everything["get-structured-content"](location="New York")
image = await everything["get-tiny-image"]()
items = await toy.two_items()
total = await toy.summarize(numbers=[1, 2, 3])
return {"weather": weather, "image": image, "items": items, "total": total}
''')
    assert out["error"] is None, out["error"]
    result = out["result"]
    assert isinstance(result["weather"]["temperature"], int | float)
    images = [item for item in result["image"] if isinstance(item, dict) and item.get("type") == "image"]
    assert images and images[0]["mime_type"] == "image/png" and len(images[0]["data"]) > 20
    assert result["items"] == ["first", "second"]
    assert result["total"] == {"total": 6, "count": 3}


def gather_meet(n: int, linger: float = 0.0) -> str:
    """A program that gathers 20 `toy.meet` calls: each waits until `n` of them wait at once, then
    `linger` seconds more. It returns whether they met and the most that waited together. (Its own
    group: the toy server may live in this process, beside other tests' meetings.)"""
    return f'''
import asyncio
results = await asyncio.gather(*[toy.meet(n={n}, group={uuid.uuid4().hex!r}, linger={linger}) for _ in range(20)])
return [all(r["met"] for r in results), max(r["most_waiting"] for r in results)]
'''


async def test_gather_runs_tool_calls_concurrently(tmp_path: Path) -> None:
    async with client_for(tmp_path, "toy", limits={"max_concurrent_tool_calls": 20}) as client:
        out = await run(client, gather_meet(20))
    # All 20 calls met at the server: they were in flight together. (How long that takes is
    # `bench_concurrency`'s figure.)
    assert out["error"] is None, out["error"]
    assert out["result"] == [True, 20]


async def test_the_default_concurrency_limit_of_eight_is_enforced(tmp_path: Path) -> None:
    async with client_for(tmp_path, "toy") as client:
        out = await run(client, gather_meet(8, linger=0.2))
    # Eight calls were in flight together, and never more: each of the eight holds its slot until
    # all eight wait, then a while longer, in which the other twelve would arrive if nothing held
    # them back. (The linger only gives a broken limit the chance to show; nothing here depends on
    # how fast the machine is.)
    assert out["error"] is None, out["error"]
    assert out["result"] == [True, 8]


async def test_servers_connect_lazily_and_tool_lists_are_cached(tmp_path: Path) -> None:
    metrics = MetricsMiddleware()
    async with client_for(tmp_path, "toy", middleware=[metrics]) as client:
        assert client.sessions == {}
        for i in range(3):
            out = await run(client, f"return await toy.add(a={i}, b=1)")
            assert out["result"] == i + 1 or out["result"] == {"result": i + 1}
        assert client.get_session("toy").is_connected
    lists = metrics.snapshot()[("toy", "tools/list", "")]
    assert lists.requests == 1


async def test_a_tool_list_change_is_picked_up_by_the_next_program(tmp_path: Path) -> None:
    async with client_for(tmp_path, "toy") as client:
        first = await run(client, 'await toy.add_tool(name="fresh")\nreturn sorted(tool_namespaces["toy"])')
        assert "fresh" not in first["result"]
        with anyio.fail_after(10):
            # The change notice drops the session's copy of the list (the code-mode listing stays
            # until a new one replaces it); the next program that names the server lists it again.
            while client.get_session("toy").tools:
                await anyio.sleep(0.01)
        second = await run(client, "return await toy.fresh()")
        assert second["error"] is None and "I am fresh" in json.dumps(second["result"])


async def test_only_allowed_servers_are_reachable_and_no_session_leaks_through_stubs(tmp_path: Path) -> None:
    config = {"mcpServers": {"toy": toy_server(), "secret": toy_server()}}
    async with MCPClient(config, code_mode=True, allowed_servers=["toy"]) as client:
        hidden = await run(client, "return await secret.add(a=1, b=2)")
        assert hidden["error_info"]["type"] == "NameError" and "secret" not in client.sessions
        found = await client.search_tools("add")
        assert found["meta"]["namespaces"] == ["toy"]
        probes = [
            "return toy.add.__closure__",
            "return toy._send",
            "return getattr(toy.add, '__globals__')",
            "return toy.add.__wrapped__",
            "return [type(v).__name__ for v in vars(toy)]",
            "return toy.__dict__",
            "return getattr(toy, '_tools')",
        ]
        for probe in probes:
            out = await run(client, probe)
            assert out["error"] is not None, probe
            assert "MCPSession" not in json.dumps(out["result"]), probe
        walk = await run(client, '''
seen = []
for name in dir(toy):
    value = getattr(toy, name)
    seen.append(type(value).__name__)
    for attr in dir(value):
        seen.append(type(getattr(value, attr, None)).__name__)
return sorted(set(seen))
''')
        kinds = set(walk["result"] or [])
        assert not kinds & {"MCPSession", "MCPClient", "CodeMode", "HostDispatcher", "Client", "module"}


async def test_code_mode_presents_exactly_two_tools_as_the_code_mode_session(tmp_path: Path) -> None:
    async with client_for(tmp_path, "toy") as client:
        sessions = client.get_all_active_sessions()
        assert list(sessions) == ["code_mode"]
        session = sessions["code_mode"]
        with anyio.fail_after(60):
            assert sorted(t.name for t in await session.list_tools()) == ["execute_code", "search_tools"]
            result = await session.call_tool("execute_code", {"code": "return await toy.echo(text='via mcp')"})
            assert result.structured_content is not None
            assert result.structured_content["result"] == "via mcp"
            searched = await session.call_tool("search_tools", {"query": "echo text", "detail_level": "names"})
            assert searched.structured_content is not None
            assert searched.structured_content["results"][0]["name"] == "echo"
        assert "code_mode" not in client.get_server_names()


async def test_search_tools_inside_programs_and_on_the_client(tmp_path: Path) -> None:
    async with client_for(tmp_path, "toy", "time") as client:
        direct = await client.search_tools("current time in a timezone", detail_level="names", limit=3)
        assert direct["results"][0]["name"] == "get_current_time"
        assert direct["meta"]["namespaces"] == ["time", "toy"]
        out = await run(client, '''
found = await search_tools("add two integers", detail_level="descriptions", limit=2)
return [found["meta"]["result_count"], found["results"][0]["name"], "description" in found["results"][0]]
''')
        assert out["error"] is None and out["result"] == [2, "add", True]


async def test_tool_namespaces_are_listed_under_mcp_uses_name_too(tmp_path: Path) -> None:
    async with client_for(tmp_path, "toy") as client:
        out = await run(client, 'return [sorted(__tool_namespaces), "add" in __tool_namespaces["toy"]]')
        assert out["error"] is None and out["result"] == [["toy"], True]
        rebind = await run(client, "__tool_namespaces = {}\nreturn 1")
        assert rebind["error_info"]["type"] == "SyntaxError"


class FinishedCalls:
    """A middleware that notes in `events` each tool call as its server's answer arrives."""

    def __init__(self, events: list[tuple[str, str]]) -> None:
        self.events = events

    async def __call__(self, request: MiddlewareRequest, call_next: CallNext) -> Any:
        result = await call_next(request)
        if request.method == "tools/call":
            self.events.append(("finished", request.params["name"]))
        return result


async def test_printed_lines_stream_while_the_program_runs_and_code_sessions_keep_state(tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    async with client_for(tmp_path, "toy", middleware=[FinishedCalls(events)]) as client:
        with anyio.fail_after(60):
            out = await client.execute_code(
                'print("before")\nawait toy.echo(text="between")\nprint("after")\nreturn 1',
                on_log=lambda text, stream: events.append(("log", text)),
            )
        assert out["logs"] == ["before", "after"]
        assert "".join(text for kind, text in events if kind == "log").split() == ["before", "after"]
        # The order of arrival, not a time: the first line reached `on_log` before the tool call
        # made after it had finished.
        order = [text.strip() if kind == "log" else f"{text} finished" for kind, text in events if text.strip()]
        assert order == ["before", "echo finished", "after"], events
        await client.execute_code("counter = 41", session_id="notebook")
        kept = await client.execute_code("counter += 1\nreturn counter", session_id="notebook")
        fresh = await client.execute_code("return counter")
        assert kept["result"] == 42 and fresh["error_info"]["type"] == "NameError"


async def test_clashing_tool_names_are_an_error_by_identifier_and_reachable_by_original_name(tmp_path: Path) -> None:
    async with client_for(tmp_path, "toy") as client:
        ambiguous = await run(client, "return await toy.clash_name()")
        assert ambiguous["error_info"]["type"] == "AttributeError"
        message = ambiguous["error_info"]["message"]
        assert "ambiguous" in message and "'clash-name'" in message and "'clash_name'" in message
        both = await run(client, 'return [await toy["clash-name"](), await toy["clash_name"]()]')
        assert both["error"] is None and both["result"] == ["dash", "underscore"]
        others = await run(client, "return await toy.add(a=2, b=2)")
        assert others["result"] == 4


async def test_a_broken_server_is_left_out_and_not_retried_on_every_execution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine import MCPSession

    attempts: list[str] = []
    original = MCPSession.connect

    async def counting_connect(self: MCPSession) -> None:
        attempts.append(self.name)
        await original(self)

    monkeypatch.setattr(MCPSession, "connect", counting_connect)
    config = {"mcpServers": {"toy": toy_server(), "ghost": {"command": str(tmp_path / "no-such-server")}}}
    async with MCPClient(config, code_mode=True) as client:
        for _ in range(3):
            out = await run(client, "return await toy.add(a=1, b=1)")
            assert out["error"] is None and out["result"] == 2
        missing = await run(client, "return await ghost.anything()")
        assert missing["error_info"]["type"] == "ToolError"
        assert "server 'ghost' is unavailable: could not connect" in missing["error"]
        assert "ghost" in client._code_mode.unavailable  # type: ignore[union-attr]
    assert attempts.count("ghost") == 1, attempts


async def test_a_bad_timeout_is_a_clear_error_and_a_good_one_is_reported(tmp_path: Path) -> None:
    async with client_for(tmp_path, "toy") as client:
        # NaN would never expire: a program given it would run without a time limit.
        for bad in (0, -1, float("nan"), float("inf"), True, "5"):
            with pytest.raises(CodeModeError, match="timeout must be a positive, finite number"):
                await client.execute_code("return 1", timeout=bad)  # type: ignore[arg-type]
        first = await run(client, "return 1", timeout=2.5)
        second = await run(client, "return 2", timeout=2.5)
        default = await run(client, "return 3")
    assert (first["result"], second["result"], default["result"]) == (1, 2, 3)
    assert first["usage"]["limits"]["timeout"] == 2.5
    assert default["usage"]["limits"]["timeout"] == 30.0
    # Each envelope owns its limits: changing one changes no other.
    first["usage"]["limits"]["timeout"] = 99
    assert second["usage"]["limits"]["timeout"] == 2.5


async def test_the_clients_limits_are_the_defaults_of_every_execution(tmp_path: Path) -> None:
    # A configured time limit is the program's limit (it was replaced by execute_code's default of 30 s).
    async with client_for(tmp_path, "toy", limits={"timeout": 2, "maxToolCalls": 3}) as client:
        with anyio.fail_after(30):
            await client.execute_code("return await toy.add(a=1, b=2)")  # the server is loaded now
            spun = await client.execute_code("while True:\n    pass")
            overridden = await client.execute_code("return 1", timeout=7)
    assert spun["error_info"] is not None and spun["error_info"]["type"] == "TimeoutError"
    assert "2 s" in spun["error_info"]["message"]
    assert spun["usage"]["limits"]["timeout"] == 2.0
    assert overridden["usage"]["limits"]["timeout"] == 7.0
    assert overridden["usage"]["limits"]["max_tool_calls"] == 3  # only the timeout was overridden
