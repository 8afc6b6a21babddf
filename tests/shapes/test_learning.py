"""Learned shapes through a real client: one call to a schema-less tool, and the stubs and
`search_tools(detail_level="full")` show its shape; a declared `outputSchema` wins; learning can be
turned off; shapes survive a restart with SQLite and are shared through a real Redis."""

from __future__ import annotations

import ast
import json
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine import MCPClient
from engine.shapes import ShapeRegistry, shape_key
from engine.store import open_store
from tests.conftest import free_port

from .files import Files, files

pytestmark = pytest.mark.anyio

ONE_CALL = 'return await files.search_files(pattern="a")'


def client_for(state: Files, **options: Any) -> MCPClient:
    # A memory store of its own: the default memory store is shared by every client of this process.
    options.setdefault("store", f"memory://{uuid.uuid4().hex}")
    return MCPClient({"mcpServers": {"files": state.server}}, code_mode=True, **options)


async def observed_output(client: MCPClient, tool: str) -> dict[str, Any] | None:
    found = await client.search_tools(tool, detail_level="full")
    entry = next(e for e in found["results"] if e["name"] == tool)
    return entry.get("observed_output")


async def test_after_one_call_the_stubs_and_search_show_the_learned_shape() -> None:
    state = files()
    async with client_for(state) as client:
        assert "FilesSearchFilesObserved" not in client.code_mode_engine().stubs()
        assert await observed_output(client, "search_files") is None
        out = await client.execute_code(ONE_CALL)
        assert out["status"] == "ok", out
        stubs = client.code_mode_engine().stubs()
        ast.parse(stubs)
        assert "class FilesSearchFilesObserved(TypedDict):" in stubs
        assert '"""Observed in 1 result; not declared by the server' in stubs
        assert "async def search_files(*, pattern: str) -> FilesSearchFilesObserved:" in stubs
        assert "    content: str\n    count: int\n" in stubs
        assert "async def read_text(*, path: str) -> Any:" in stubs  # never called: nothing learned
        seen = await observed_output(client, "search_files")
        assert seen is not None and seen["results"] == 1
        assert seen["schema"]["properties"] == {"content": {"type": "string"}, "count": {"type": "integer"}}
        await client.execute_code(ONE_CALL)
        assert "Observed in 2 results" in client.code_mode_engine().stubs()


async def test_optional_keys_and_unions_across_calls_and_the_values_stay_out() -> None:
    state = files()
    async with client_for(state) as client:
        out = await client.execute_code(
            'return [await files.file_info(path="a.txt"), await files.file_info(path="notes.md")]'
        )
        assert out["status"] == "ok", out
        stubs = client.code_mode_engine().stubs()
        assert "    title: NotRequired[str]\n" in stubs and "    lines: int\n" in stubs
        assert "size: 12" not in stubs and "# notes" not in stubs  # values never
        # A text result is learned as str.
        await client.execute_code('return await files.read_text(path="a.txt")')
        assert "async def read_text(*, path: str) -> str:" in client.code_mode_engine().stubs()


async def test_a_declared_output_schema_wins() -> None:
    state = files()
    async with client_for(state) as client:
        out = await client.execute_code('return await files.stat(path="a.txt")')
        assert out["status"] == "ok" and out["result"] == {"size": 11}, out
        stubs = client.code_mode_engine().stubs()
        assert "async def stat(*, path: str) -> dict[str, int]:" in stubs and "StatObserved" not in stubs
        assert client.code_mode_engine().typed.shapes.learned("files", "stat") is None
        assert "observed_output" not in json.dumps(await client.search_tools("stat", detail_level="full"))


@pytest.mark.parametrize("how", ["argument", "config"])
async def test_learning_can_be_turned_off(how: str) -> None:
    state = files()
    if how == "argument":
        client = client_for(state, learn_shapes=False)
    else:
        config = {"mcpServers": {"files": state.server},
                  "codeMode": {"learnShapes": False, "store": f"memory://{uuid.uuid4().hex}"}}
        client = MCPClient(config, code_mode=True)
    async with client:
        out = await client.execute_code(ONE_CALL)
        assert out["status"] == "ok" and state.calls == ["search_files"]
        assert "Observed" not in client.code_mode_engine().stubs()
        assert await observed_output(client, "search_files") is None


async def test_shapes_survive_a_restart_with_sqlite(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'engine.db'}"
    async with client_for(files(), store=store) as first:
        await first.execute_code(ONE_CALL)
    async with client_for(files(), store=store) as second:
        seen = await observed_output(second, "search_files")
        assert seen is not None and seen["results"] == 1, seen
        assert "-> FilesSearchFilesObserved:" in second.code_mode_engine().stubs()
        await second.execute_code(ONE_CALL)
    async with client_for(files(), store=store) as third:
        seen = await observed_output(third, "search_files")
        assert seen is not None and seen["results"] == 2, seen


async def test_shapes_are_shared_through_redis(redis_url: str) -> None:
    async with client_for(files(), store=redis_url) as here, client_for(files(), store=redis_url) as there:
        assert await observed_output(there, "file_info") is None
        await here.execute_code('return await files.file_info(path="notes.md")')
        await here.code_mode_engine().typed.shapes.flush()
        await there.code_mode_engine().typed.shapes.sync([("files", "file_info")], force=True)
        seen = await observed_output(there, "file_info")
        assert seen is not None and "title" in seen["schema"]["properties"], seen
        # What the other host learns is merged, not overwritten.
        await there.execute_code('return await files.file_info(path="a.txt")')
        await there.code_mode_engine().typed.shapes.flush()
        await here.code_mode_engine().typed.shapes.sync([("files", "file_info")], force=True)
        seen = await observed_output(here, "file_info")
        assert seen is not None and seen["results"] == 2 and seen["schema"]["required"] == ["info", "lines", "path"]


async def test_a_corrupt_or_foreign_record_in_the_store_is_ignored(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'engine.db'}")
    async with store:
        for bad in [b"not json", b'{"server": "files", "tool": "search_files", "results": 1, "shape": {"evil": 1}}',
                    json.dumps({"server": "other", "tool": "search_files", "results": 1,
                                "shape": {"str": 1}}).encode()]:
            await store.put(shape_key("files", "search_files"), bad)
            registry = ShapeRegistry(store)
            await registry.sync([("files", "search_files")])
            assert registry.learned("files", "search_files") is None
        # Learning then overwrites the bad record with a good one.
        registry.observe("files", "search_files", {"content": "x"})
        await registry.flush()
        again = ShapeRegistry(store)
        await again.sync([("files", "search_files")])
        learned = again.learned("files", "search_files")
        assert learned is not None and learned.results == 1


async def test_observe_only_queues_and_the_work_happens_after_the_reply() -> None:
    # Not a speed threshold (benchmarks/ measures it): on a loop, the hot path only queues.
    registry = ShapeRegistry()
    value = {"items": [{"id": i, "name": "x" * 10, "tags": ["a", "b"]} for i in range(1000)]}
    for _ in range(10):
        registry.observe("s", "t", value)
    assert len(registry._queue) == 10 and registry.version == 0
    learned = registry.learned("s", "t")  # a read drains first
    assert learned is not None and learned.results == 10 and registry.version >= 1
    registry.enabled = False
    registry.observe("s", "t", value)
    assert not registry._queue


async def test_the_checked_stubs_change_only_when_a_shape_does() -> None:
    state = files()
    async with client_for(state) as client:
        typed = client.code_mode_engine().typed
        await client.execute_code(ONE_CALL)
        toolset = client.code_mode_engine().tool_host.current()
        checked = typed.checked_stubs(toolset)
        assert "-> FilesSearchFilesObserved:" in checked and "Observed in" not in checked
        await client.execute_code(ONE_CALL)  # same shape, one more result
        assert typed.checked_stubs(toolset) is checked
        assert "Observed in 2 results" in client.code_mode_engine().stubs()
        await client.execute_code('return await files.file_info(path="a.txt")')  # a new shape
        assert "-> FilesFileInfoObserved:" in typed.checked_stubs(toolset)


async def test_an_unreachable_store_never_stops_a_program_or_the_check() -> None:
    port = free_port()  # nothing listens there
    async with client_for(files(), store=f"redis://127.0.0.1:{port}/0?timeout=1", check="types") as client:
        with anyio.fail_after(60):  # a bound on a hang, not a speed check
            out = await client.execute_code(ONE_CALL)
            assert out["status"] == "ok", out
            assert "-> FilesSearchFilesObserved:" in client.code_mode_engine().stubs()  # learned in memory
            out = await client.execute_code('r = await files.search_files(pattern="a")\nreturn r["nope"]')
            assert out["error_info"]["type"] == "KeyError" and out["tool_calls"] == [], out
            assert await observed_output(client, "search_files") is not None


async def test_programs_under_a_tool_policy_learn_too() -> None:
    # With a policy, programs run through the approvals gate (a request of its own): the hook is there as well.
    state = files()
    async with client_for(state, tool_policy={"files.write_file": "ask"}) as client:
        out = await client.execute_code(ONE_CALL)
        assert out["status"] == "ok", out
        assert "-> FilesSearchFilesObserved:" in client.code_mode_engine().stubs()
