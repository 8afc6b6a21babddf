"""Printed output over `max_output_chars`: cut to its first and last lines on the host, every line
kept as a handle that a later program pages through `results.open`, on the real executors."""

from __future__ import annotations

from typing import Any

import pytest

from engine import MCPClient
from engine.codemode.text import envelope_text
from engine.results.output import cut_lines, output_ceiling

from .crm import crm

pytestmark = pytest.mark.anyio

CAP = 50_000


def client(executor_kwargs: dict[str, Any], **limits: Any) -> MCPClient:
    return MCPClient({"mcpServers": {"crm": crm().server}}, code_mode=True,
                     limits={"timeout": 60, "max_output_chars": CAP, **limits}, **executor_kwargs)


async def test_two_hundred_thousand_printed_lines_are_cut_to_the_cap_and_paged_back_through_the_handle(
    executor_kwargs: dict[str, Any],
) -> None:
    relayed: list[str] = []
    async with client(executor_kwargs) as engine:
        envelope = await engine.execute_code(
            "for i in range(60000):\n    print(f'line {i}')\nreturn 'done'", session_id="s1",
            on_log=lambda text, stream: relayed.append(text),
        )
        assert envelope["status"] == "ok", envelope["error"]
        assert envelope["result"] == "done" and envelope["truncated"] is True
        assert envelope["usage"]["limits"]["max_output_chars"] == CAP
        logs = envelope["logs"]
        marker = next(line for line in logs if line.startswith("... [output cut:"))
        assert sum(len(line) for line in logs if line != marker) <= CAP
        assert logs[0] == "line 0" and logs[-1] == "line 59999"
        output = envelope["truncation"]["output"]
        assert output["lines"] == 60000 and output["limit"] == CAP and "result_bytes" not in envelope["truncation"]
        first, handle = output["first_cut_line"], output["handle"]
        assert logs[first - 1] == f"line {first - 1}" and logs[first] == marker
        assert output["cut_lines"] == output["tail_start"] - first
        assert f"results.open({handle!r}, start={first}, stop={first + 100})" in marker
        assert [entry["id"] for entry in envelope["handles"]] == [handle]
        assert "output cut: " in envelope_text(envelope) and "result cut" not in envelope_text(envelope)
        # Streaming still relayed every line printed (within the ceiling).
        assert "".join(relayed).splitlines() == [f"line {i}" for i in range(60000)]

        follow = f"""
part = await results.open({handle!r}, start={first}, stop={first + 100})
everything = await results.open({handle!r}, start=0, stop=60000)
return [part[0], part[-1], len(part), len(everything), everything[-1]]
"""
        nxt = await engine.execute_code(follow, session_id="s1")
        assert nxt["status"] == "ok", nxt["error"]
        assert nxt["result"] == [f"line {first}", f"line {first + 99}", 100, 60000, "line 59999"]
        assert nxt["truncated"] is False and "truncation" not in nxt

        # Another session cannot open it.
        other = await engine.execute_code(f"return await results.open({handle!r}, start=0, stop=1)",
                                          session_id="s2")
        assert other["status"] == "error"


async def test_output_within_the_cap_is_unchanged(executor_kwargs: dict[str, Any]) -> None:
    async with client(executor_kwargs) as engine:
        envelope = await engine.execute_code("for i in range(1000):\n    print('line', i)\nreturn 1")
        assert envelope["status"] == "ok", envelope["error"]
        assert envelope["logs"] == [f"line {i}" for i in range(1000)]
        assert envelope["truncated"] is False and "truncation" not in envelope and "handles" not in envelope
        assert envelope["usage"]["limits"]["max_output_chars"] == CAP


async def test_printing_past_the_ceiling_is_still_cut_by_the_executor(executor_kwargs: dict[str, Any]) -> None:
    cap = 1000
    ceiling = output_ceiling(cap)
    relayed: list[str] = []
    async with client(executor_kwargs, max_output_chars=cap) as engine:
        code = f"for i in range({ceiling // 99 + 100}):\n    print('x' * 99)\nreturn 1"
        envelope = await engine.execute_code(code, session_id="s", on_log=lambda text, stream: relayed.append(text))
        assert envelope["status"] == "ok", envelope["error"]
        assert envelope["truncated"] is True
        assert sum(len(text) for text in relayed) == ceiling  # the executor stopped at the ceiling
        logs = envelope["logs"]
        assert logs[-1] == f"... [output truncated: over {ceiling} characters]"
        assert sum(len(line) for line in logs if not line.startswith("...")) <= cap
        handle = envelope["truncation"]["output"]["handle"]
        nxt = await engine.execute_code(f"return len(await results.open({handle!r}, start=0, stop=1000000))",
                                        session_id="s")
        assert nxt["status"] == "ok", nxt["error"]
        assert nxt["result"] == envelope["truncation"]["output"]["lines"]


def test_cut_lines_keeps_the_head_and_the_tail_within_the_budget() -> None:
    lines = [str(i) * 3 for i in range(10)]  # 30 characters
    assert cut_lines(lines, 30) is None
    cut = cut_lines(lines, 12)
    assert cut is not None
    assert cut.head == ["000", "111"] and cut.tail == ["888", "999"] and cut.tail_start == 8
    assert cut.cut_lines == 6 and cut.kept_chars == 12 and not cut.partial
    long = cut_lines(["a" * 100, "b", "c"], 10)
    assert long is not None and long.head == ["a" * 5] and long.partial and long.tail == ["b", "c"]
    assert long.cut_lines == 1 and long.kept_chars == 7
    assert output_ceiling(50_000) == 4_000_000 and output_ceiling(10**9) == 10**9
    assert output_ceiling(500_000) == 8_000_000 and output_ceiling(5_000_000) == 16_000_000
