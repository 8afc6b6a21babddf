"""The Redis store against real redis-servers, and against hostile ones that send garbage or nothing.

A real server: passwords, databases, a restart under a kept connection, an unreachable port.
A hostile server (a TCP listener here that answers what the test scripts): each bad reply is a
StoreError, memory stays bounded, and the store works again once a good server answers.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import pytest
from anyio.abc import SocketStream

from engine import StoreError
from engine.store import RedisStore, open_store
from tests.redis_server import RedisServer, find_redis_server, free_port, on_ci

pytestmark = pytest.mark.anyio

# Like the `redis_url` fixture: skipped where redis-server is missing, except on CI, where that fails.
needs_redis = pytest.mark.skipif(
    find_redis_server() is None and not on_ci(), reason="redis-server is not installed: ./dev test installs it"
)


async def test_an_unreachable_server_is_a_store_error_naming_it() -> None:
    port = free_port()
    store = open_store(f"redis://127.0.0.1:{port}/0")
    expected = rf"^cannot reach the store at redis://127.0.0.1:{port}/0: connection refused$"
    with pytest.raises(StoreError, match=expected):
        await store.get("k")
    await store.aclose()


async def test_an_unknown_host_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot reach the store at redis://no-such-host.invalid:6379/0"):
        async with open_store("redis://no-such-host.invalid:6379/0?timeout=10"):
            pass


@needs_redis
async def test_a_password_is_sent_and_never_shown() -> None:
    secret = "correct-horse-battery"
    with RedisServer(password=secret) as server:
        async with open_store(server.url) as store:
            await store.put("k", b"v")
            assert await store.get("k") == b"v"
            assert secret not in repr(store)
        wrong = f"redis://:not-{secret}@127.0.0.1:{server.port}/0"
        with pytest.raises(StoreError, match="refused the password") as caught:
            await open_store(wrong).get("k")
        assert secret not in str(caught.value) and "***" in str(caught.value)
        with pytest.raises(StoreError, match="NOAUTH"):
            await open_store(f"redis://127.0.0.1:{server.port}/0").ping()


@needs_redis
async def test_databases_are_kept_apart(redis_url: str) -> None:
    base = redis_url.rsplit("/", 1)[0]
    async with open_store(f"{base}/1") as one, open_store(f"{base}/2") as two:
        await one.put("db-key", b"in one")
        assert await two.get("db-key") is None
        assert await one.delete("db-key")
    with pytest.raises(StoreError, match="refused SELECT"):
        await open_store(f"{base}/99999").ping()


@needs_redis
async def test_a_dropped_connection_is_reopened_once() -> None:
    with RedisServer() as server:
        async with open_store(server.url) as store:
            await store.put("k", b"v")
            server.restart()  # every connection drops; the data is gone (nothing is saved)
            assert await store.get("k") is None
            await store.put("k", b"again")
            assert await store.get("k") == b"again"
            server.stop()
            with pytest.raises(StoreError, match="cannot reach the store at .*: connection refused"):
                await store.get("k")
            server.start()
            assert await store.get("k") is None, "the store connects again once the server is back"


@needs_redis
async def test_many_tasks_share_one_store(redis_url: str) -> None:
    async with open_store(redis_url) as store:

        async def worker(index: int) -> None:
            for round_ in range(10):
                await store.put(f"shared-{index}", b"%d-%d" % (index, round_))
                assert await store.get(f"shared-{index}") == b"%d-%d" % (index, round_)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for index in range(30):
                    group.start_soon(worker, index)


# -- hostile servers ----------------------------------------------------------------------------

Handler = Callable[[SocketStream, int], Awaitable[None]]


@asynccontextmanager
async def _serve(handler: Handler) -> AsyncIterator[int]:
    """Run `handler(stream, connection_number)` for each connection to a port of 127.0.0.1; yield the port."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    connections = 0

    async def serve(stream: SocketStream) -> None:
        nonlocal connections
        connections += 1
        async with stream:
            try:
                await handler(stream, connections)
            except (anyio.BrokenResourceError, anyio.EndOfStream, anyio.ClosedResourceError):
                pass

    async with anyio.create_task_group() as group:
        group.start_soon(listener.serve, serve)
        yield port
        group.cancel_scope.cancel()


def _answering(reply: bytes) -> Handler:
    async def handler(stream: SocketStream, number: int) -> None:
        await stream.receive()
        await stream.send(reply)
        await anyio.sleep_forever()

    return handler


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"$99999999999\r\n", "a bulk string of 99999999999 bytes"),
        (b"*100000000\r\n", "an array of 100000000 elements"),
        (b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "nested deeper"),
        (b"%1\r\n+a\r\n+b\r\n", "unknown reply type"),
        (b":12a\r\n", "malformed integer"),
        (b"$ 5\r\nhello\r\n", "malformed bulk length"),
        (b"$3\r\nhello\r\n", "not followed by CRLF"),
        (b"\r\n", "empty reply line"),
        (b":7\r\n", "unexpected reply to GET"),
    ],
)
async def test_a_garbled_reply_is_a_store_error(reply: bytes, message: str) -> None:
    async with _serve(_answering(reply)) as port:
        store = RedisStore(port=port, timeout=5)
        with anyio.fail_after(30), pytest.raises(StoreError, match=message):
            await store.get("k")
        await store.aclose()


async def test_an_endless_line_does_not_make_the_store_allocate_without_bound() -> None:
    async def handler(stream: SocketStream, number: int) -> None:
        await stream.receive()
        await stream.send(b"+")
        chunk = b"A" * 65536
        for _ in range(160):  # 10 MiB, and never a CRLF
            await stream.send(chunk)
        await anyio.sleep_forever()

    async with _serve(handler) as port:
        store = RedisStore(port=port, timeout=10)
        tracemalloc.start()
        try:
            with anyio.fail_after(30), pytest.raises(StoreError, match="longer than 65536 bytes"):
                await store.get("k")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 2 * 1024 * 1024, f"peak {peak} bytes while refusing a 10 MiB line"
        await store.aclose()


async def test_a_server_that_never_answers_is_a_store_error_after_the_timeout() -> None:
    async def handler(stream: SocketStream, number: int) -> None:
        await anyio.sleep_forever()

    async with _serve(handler) as port:
        store = open_store(f"redis://127.0.0.1:{port}/0?timeout=0.3")
        with anyio.fail_after(30), pytest.raises(StoreError, match="did not answer GET within 0.3 s"):
            await store.get("k")
        await store.aclose()


async def test_a_server_that_hangs_up_at_once_is_a_store_error() -> None:
    async def handler(stream: SocketStream, number: int) -> None:
        await stream.aclose()

    async with _serve(handler) as port:
        store = RedisStore(port=port)
        with anyio.fail_after(30), pytest.raises(StoreError, match="lost the connection to the store .* during GET"):
            await store.get("k")
        await store.aclose()


async def test_a_cancelled_call_never_leaves_a_stale_reply_for_the_next() -> None:
    release = anyio.Event()

    async def handler(stream: SocketStream, number: int) -> None:
        while True:
            await stream.receive()
            if number == 1:
                await release.wait()
                await stream.send(b"$5\r\nstale\r\n")
            else:
                await stream.send(b"$5\r\nfresh\r\n")

    async with _serve(handler) as port:
        store = RedisStore(port=port)
        with anyio.move_on_after(0.2) as scope:
            await store.get("k")
        assert scope.cancelled_caught
        release.set()
        with anyio.fail_after(30):
            assert await store.get("k") == b"fresh"
        await store.aclose()


async def test_a_reply_whose_bulk_strings_add_up_past_the_cap_is_refused_before_they_are_read() -> None:
    from engine.store._base import MAX_VALUE_BYTES

    half = MAX_VALUE_BYTES // 2 + 1
    # Three bulk strings of just over half the cap each: every one is under it, together they are not.
    # Only the lengths matter: the reader must refuse the third before reading any of its bytes.
    reply = b"*3\r\n" + (b"$%d\r\n" % half + b"x" * half + b"\r\n") * 2 + b"$%d\r\n" % half
    async with _serve(_answering(reply)) as port:
        store = RedisStore(port=port, timeout=30)
        with anyio.fail_after(60), pytest.raises(StoreError, match="in all"):
            await store.get("k")
        await store.aclose()
