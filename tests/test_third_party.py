"""Pinned third-party MCP servers over stdio, each installed in its own environment (tests/servers/install.sh)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine import MCPClient
from tests.conftest import third_party_entry

pytestmark = pytest.mark.anyio


def text_of(result: Any) -> str:
    return "\n".join(item.text for item in result.content if getattr(item, "type", "") == "text")


async def open_client(name: str, workdir: Path) -> MCPClient:
    return MCPClient({"mcpServers": {name: third_party_entry(name, workdir)}})


async def test_server_everything(tmp_path: Path) -> None:
    async with await open_client("everything", tmp_path) as client:
        with anyio.fail_after(60):
            session = await client.create_session("everything")
            assert {"echo", "get-sum", "get-tiny-image"} <= {t.name for t in session.tools}
            assert "Echo: hello" in text_of(await session.call_tool("echo", {"message": "hello"}))
            assert "5" in text_of(await session.call_tool("get-sum", {"a": 2, "b": 3}))
            image = await session.call_tool("get-tiny-image", {})
            kinds = [item.type for item in image.content]
            assert "image" in kinds
            png = next(item for item in image.content if item.type == "image")
            assert png.mime_type == "image/png" and len(png.data) > 20  # type: ignore[union-attr]
            structured = await session.call_tool("get-structured-content", {"location": "New York"})
            assert isinstance(structured.structured_content, dict) and "temperature" in structured.structured_content


async def test_server_filesystem(tmp_path: Path) -> None:
    async with await open_client("filesystem", tmp_path) as client:
        with anyio.fail_after(60):
            session = await client.create_session("filesystem")
            target = tmp_path / "hello.txt"
            await session.call_tool("write_file", {"path": str(target), "content": "hi from engine"})
            assert target.read_text() == "hi from engine"
            read = await session.call_tool("read_text_file", {"path": str(target)})
            assert text_of(read) == "hi from engine"
            listing = await session.call_tool("list_directory", {"path": str(tmp_path)})
            assert "[FILE] hello.txt" in text_of(listing)
            outside = await session.call_tool("read_text_file", {"path": "/etc/hostname"})
            assert outside.is_error


async def test_server_memory(tmp_path: Path) -> None:
    async with await open_client("memory", tmp_path) as client:
        with anyio.fail_after(60):
            session = await client.create_session("memory")
            entities = [{"name": "Ada", "entityType": "person", "observations": ["wrote the first program"]}]
            await session.call_tool("create_entities", {"entities": entities})
            found = await session.call_tool("search_nodes", {"query": "Ada"})
            graph = found.structured_content or json.loads(text_of(found))
            assert [e["name"] for e in graph["entities"]] == ["Ada"]


async def test_mcp_server_time(tmp_path: Path) -> None:
    async with await open_client("time", tmp_path) as client:
        with anyio.fail_after(60):
            session = await client.create_session("time")
            now = await session.call_tool("get_current_time", {"timezone": "UTC"})
            data = now.structured_content or json.loads(text_of(now))
            assert data["timezone"] == "UTC" and data["datetime"].startswith("20")
            converted = await session.call_tool(
                "convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
            )
            data = converted.structured_content or json.loads(text_of(converted))
            assert data["target"]["datetime"][11:16] == "21:00"


async def test_mcp_server_git(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@e.st", "-c", "user.name=T", "commit", "-q", "--allow-empty", "-m", "first commit")
    (tmp_path / "new.txt").write_text("x")
    async with await open_client("git", tmp_path) as client:
        with anyio.fail_after(60):
            session = await client.create_session("git")
            log = await session.call_tool("git_log", {"repo_path": str(tmp_path)})
            assert "first commit" in text_of(log)
            status = await session.call_tool("git_status", {"repo_path": str(tmp_path)})
            assert "new.txt" in text_of(status)
