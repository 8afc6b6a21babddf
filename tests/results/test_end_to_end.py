"""Truncation, handles and tokens through `MCPClient.execute_code`, on the real executors, against
a real MCP server (in process) that records what it received."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from engine import MCPClient

from .crm import ADDRESS, PHONE, crm

pytestmark = pytest.mark.anyio

CAP = 100_000

BIG = """
orders = [{"id": i, "customer": {"name": "c%d" % i, "tier": i % 3},
           "lines": [{"sku": "S%d" % j, "qty": j} for j in range(8)], "note": "n" * 110}
          for i in range(20000)]
return {"count": len(orders), "orders": orders}
"""


def client(book: Any, executor_kwargs: dict[str, Any], **options: Any) -> MCPClient:
    return MCPClient({"mcpServers": {"crm": book.server}}, code_mode=True,
                     limits={"timeout": 60, "max_result_bytes": CAP}, **executor_kwargs, **options)


async def test_a_five_megabyte_result_is_cut_to_the_cap_and_the_rest_is_fetched_through_its_handle(
    executor_kwargs: dict[str, Any],
) -> None:
    async with client(crm(), executor_kwargs) as engine:
        envelope = await engine.execute_code(BIG, session_id="s1")
        assert envelope["status"] == "ok", envelope["error"]
        assert envelope["usage"]["result_bytes"] > 5_000_000
        assert len(msgpack.packb(envelope["result"], use_bin_type=True)) <= CAP
        assert envelope["usage"]["limits"]["max_result_bytes"] == CAP
        result = envelope["result"]
        kept = [order for order in result["orders"] if isinstance(order, dict)]
        assert result["count"] == 20000 and result["orders"][-1] == f"… {20000 - len(kept)} more items"
        truncation = envelope["truncation"]
        assert truncation["cuts"][0]["keys"] == ["orders"] and truncation["cuts"][0]["kept"] == len(kept)
        handle = truncation["handle"]
        assert envelope["handles"][0]["id"] == handle and envelope["handles"][0]["bytes"] > 5_000_000
        assert f"results.open({handle!r}, path=['orders'], start={len(kept)}" in truncation["how_to_get_more"]

        # The agent follows the instruction: the next part, worked on in the sandbox.
        follow = f"""
part = await results.open({handle!r}, path=["orders"], start={len(kept)}, stop={len(kept) + 100})
whole = await results.open({handle!r})
return [len(part), part[0]["id"], sum(o["lines"][3]["qty"] for o in whole["orders"])]
"""
        nxt = await engine.execute_code(follow, session_id="s1")
        assert nxt["status"] == "ok", nxt["error"]
        assert nxt["result"] == [100, len(kept), 3 * 20000]


async def test_a_handle_of_another_session_a_forged_one_and_a_malformed_one_are_refused(
    executor_kwargs: dict[str, Any],
) -> None:
    async with client(crm(), executor_kwargs) as engine:
        envelope = await engine.execute_code(BIG, session_id="owner")
        handle = envelope["truncation"]["handle"]
        probe = """
out = []
for h in HANDLES:
    try:
        await results.open(h)
        out.append("opened")
    except Exception as exc:
        out.append(type(exc).__name__ + ": " + str(exc))
return out
"""
        forged = "h_" + "A" * 22
        code = probe.replace("HANDLES", repr([handle, forged, "not-a-handle", 42]))
        other = await engine.execute_code(code, session_id="intruder")
        assert other["status"] == "ok", other["error"]
        first, second, third, fourth = other["result"]
        assert first.startswith("ValueError: unknown or expired result handle")
        assert second.startswith("ValueError: unknown or expired result handle")  # the same answer: nothing leaks
        assert third.startswith("ValueError: results.open(): 'not-a-handle' is not a result handle")
        assert fourth.startswith("TypeError: results.open() handle must be a str")
        mine = await engine.execute_code(code.replace("out.append(\"opened\")", "out.append('opened')"),
                                         session_id="owner")
        assert mine["result"][0] == "opened"


async def test_an_expired_handle_is_refused(executor_kwargs: dict[str, Any]) -> None:
    async with client(crm(), executor_kwargs) as engine:
        mode = engine.code_mode_engine()
        mode.safety.handles.ttl = 0.0  # every handle made from now on is expired when next looked at
        envelope = await engine.execute_code(BIG)
        handle = envelope["truncation"]["handle"]
        again = await engine.execute_code(f"return await results.open({handle!r})")
        assert again["status"] == "error" and "unknown or expired result handle" in again["error"]
        assert mode.safety.handles.stats()["handles"] == 0


async def test_a_result_over_the_ceiling_is_still_refused(executor_kwargs: dict[str, Any]) -> None:
    async with client(crm(), executor_kwargs) as engine:
        envelope = await engine.execute_code("return 'x' * 20_000_000")  # over the 16 MiB ceiling
        assert envelope["status"] == "error" and "over the limit" in envelope["error"]
        assert "truncation" not in envelope


async def test_an_address_reaches_the_envelope_only_as_a_token_and_the_server_gets_the_real_one(
    executor_kwargs: dict[str, Any],
) -> None:
    book = crm()
    async with client(book, executor_kwargs, tokenize=True) as engine:
        first = await engine.execute_code(
            "c = await crm.customer(customer_id=7)\nprint('found', c['email'])\nreturn c", session_id="s1"
        )
        assert first["status"] == "ok", first["error"]
        text = repr(first)
        assert ADDRESS not in text and PHONE not in text
        token = first["result"]["email"]
        assert token.startswith("[EMAIL_1:") and first["logs"] == [f"found {token}"]
        assert first["result"]["phone"].startswith("[PHONE_1:")
        assert first["result"]["name"] == "Ann Lee"

        # The model writes the token into its next program; the server receives the address.
        second = await engine.execute_code(
            f"return await crm.send(to={token!r}, body='hello')", session_id="s1"
        )
        assert second["status"] == "ok", second["error"]
        assert book.sent == [{"to": ADDRESS, "body": "hello"}]
        assert second["result"] == f"sent to {len(ADDRESS)}-character address"  # the program saw the real one

        # Inside one program the value is real, and whatever the program returns is tokenized.
        third = await engine.execute_code(
            "c = await crm.customer(customer_id=1)\nreturn {'domain': c['email'].split('@')[1], 'raw': c['email']}",
            session_id="s1",
        )
        assert third["result"] == {"domain": "example.com", "raw": token}


async def test_a_token_from_another_session_does_not_resolve(executor_kwargs: dict[str, Any]) -> None:
    book = crm()
    async with client(book, executor_kwargs, tokenize=True) as engine:
        first = await engine.execute_code("return (await crm.customer(customer_id=7))['email']", session_id="a")
        token = first["result"]
        other = await engine.execute_code(f"return await crm.send(to={token!r}, body='x')", session_id="b")
        assert other["status"] == "error"
        assert "is not a token of this code session" in other["error"]
        assert book.sent == []
        made_up = token.replace("[EMAIL_1:", "[EMAIL_2:")
        same = await engine.execute_code(f"return await crm.send(to={made_up!r}, body='x')", session_id="a")
        assert same["status"] == "error" and book.sent == []


async def test_errors_are_tokenized_too(executor_kwargs: dict[str, Any]) -> None:
    async with client(crm(), executor_kwargs, tokenize=["email"]) as engine:
        envelope = await engine.execute_code(
            "c = await crm.customer(customer_id=7)\nraise ValueError('bad address ' + c['email'])"
        )
        assert envelope["status"] == "error"
        assert ADDRESS not in repr(envelope) and "[EMAIL_1:" in envelope["error"]
        assert PHONE in repr(await engine.execute_code("return (await crm.customer(customer_id=1))['phone']"))


async def test_printed_lines_are_relayed_tokenized_even_when_a_value_is_printed_in_pieces(
    executor_kwargs: dict[str, Any],
) -> None:
    relayed: list[str] = []
    async with client(crm(), executor_kwargs, tokenize=True) as engine:
        envelope = await engine.execute_code(
            "c = await crm.customer(customer_id=7)\nprint(c['email'][:6], end='')\nprint(c['email'][6:])\n"
            "print('tail', end='')",
            on_log=lambda text, stream: relayed.append(text),
        )
    assert envelope["status"] == "ok", envelope["error"]
    streamed = "".join(relayed)
    assert ADDRESS not in streamed and streamed.startswith("[EMAIL_1:") and streamed.endswith("tail")
    assert envelope["logs"][0].startswith("[EMAIL_1:")
