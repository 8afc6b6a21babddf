"""Approvals in front of a real third-party server: the pinned server-filesystem, `write_file` asked.

The files on disk are the server's record of what it received: a rejected write leaves no file,
an approved one exactly the content approved, and a dry run none at all.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from engine import MCPClient
from tests.conftest import third_party_entry

pytestmark = pytest.mark.anyio

PROGRAM = """
import asyncio
listing = await filesystem.list_directory(path={root!r})
results = await asyncio.gather(
    filesystem.write_file(path={root!r} + "/approved.txt", content="yes"),
    filesystem.write_file(path={root!r} + "/rejected.txt", content="no"),
    return_exceptions=True,
)
return [listing, [r if isinstance(r, (str, dict)) else f"{{type(r).__name__}}: {{r}}" for r in results]]
"""


async def test_server_filesystem_writes_only_what_a_person_approved(tmp_path: Path) -> None:
    (tmp_path / "seed.txt").write_text("here before")
    config = {"mcpServers": {"filesystem": third_party_entry("filesystem", tmp_path)}}
    async with MCPClient(config, code_mode=True, tool_policy={"filesystem.write_file": "ask"}) as client:
        with anyio.fail_after(120):
            out = await client.execute_code(PROGRAM.format(root=str(tmp_path)), timeout=60)
            assert out["status"] == "paused", out
            pending = {Path(p["arguments"]["path"]).name: p["id"] for p in out["pending"]}
            assert set(pending) == {"approved.txt", "rejected.txt"}
            assert sorted(path.name for path in tmp_path.iterdir()) == ["seed.txt"]  # nothing written yet
            done = await client.resume_execution(
                out["execution_id"], approve=[pending["approved.txt"]], reject=[pending["rejected.txt"]]
            )
    assert done["status"] == "ok", done
    assert (tmp_path / "approved.txt").read_text() == "yes"
    assert not (tmp_path / "rejected.txt").exists()
    assert "seed.txt" in str(done["result"][0])
    assert "rejected by a person" in done["result"][1][1]


async def test_server_filesystem_dry_run_plans_the_writes_and_makes_none(tmp_path: Path) -> None:
    config = {"mcpServers": {"filesystem": third_party_entry("filesystem", tmp_path)}}
    async with MCPClient(config, code_mode=True) as client:
        with anyio.fail_after(120):
            out = await client.execute_code(PROGRAM.format(root=str(tmp_path)), timeout=60, dry_run=True)
    assert out["status"] == "ok", out
    assert [call["tool"] for call in out["planned_calls"]] == ["filesystem.write_file"] * 2
    assert list(tmp_path.iterdir()) == []
