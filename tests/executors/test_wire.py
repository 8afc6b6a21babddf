"""The process pool's local wire (`engine.executors._wire`): records survive any split of the
stream, and bytes that are not a record are refused rather than misread."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.executors import _wire
from engine.executors._fork import MAX_BACKLOG, WorkerTransport
from engine.executors._remote import TransportBroken

records = st.lists(
    st.tuples(
        st.sampled_from([_wire.FRAME, _wire.HELLO, _wire.QUIT]), st.integers(0, 2**64 - 1), st.binary(max_size=300)
    ),
    max_size=8,
)


@given(records, st.lists(st.integers(0, 400), max_size=20))
def test_records_split_anywhere_come_back_whole_and_in_order(
    items: list[tuple[bytes, int, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(_wire.encode(kind, run, body) for kind, run, body in items)
    reader = _wire.Reader()
    out: list[_wire.Record] = []
    position = 0
    for cut in cuts:
        out += reader.feed(stream[position : position + cut])
        position = min(position + cut, len(stream))
    out += reader.feed(stream[position:])
    assert out == items


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(_wire.WireError, match="unknown record kind"):
        _wire.Reader().feed(_wire.encode(b"f", 1, b"x").replace(b"f", b"z", 1))


@pytest.mark.parametrize("size", [0, 8, _wire.MAX_RECORD + 1, 2**32 - 1])
def test_a_length_out_of_range_is_refused_before_anything_is_buffered(size: int) -> None:
    reader = _wire.Reader()
    with pytest.raises(_wire.WireError, match="a record of"):
        reader.feed(struct.pack(">IcQ", size, b"f", 1))


def test_a_record_held_back_by_a_short_read_is_completed_by_the_next() -> None:
    record = _wire.encode(_wire.FRAME, 7, b"body")
    reader = _wire.Reader()
    assert reader.feed(record[:5]) == []
    assert reader.feed(record[5:] + record) == [(b"f", 7, b"body"), (b"f", 7, b"body")]


def test_after_a_bad_record_nothing_more_is_read_or_kept() -> None:
    reader = _wire.Reader()
    bad = struct.pack(">IcQ", 2**31, b"f", 1)
    assert reader.feed(_wire.encode(_wire.FRAME, 1, b"body") + bad[:9]) == [(b"f", 1, b"body")]  # part held back
    with pytest.raises(_wire.WireError):
        reader.feed(bad[9:] + b"x" * 1000)
    with pytest.raises(_wire.WireError):
        reader.feed(_wire.encode(_wire.FRAME, 1, b"a good record, too late"))
    assert not reader._buffer


@pytest.mark.anyio
async def test_a_worker_that_never_reads_is_cut_off_not_buffered_without_bound() -> None:
    host_end, worker_end = socket.socketpair()
    host_end.setblocking(False)
    transport = WorkerTransport(None, [], confine=False)  # type: ignore[arg-type] # no worker is started
    transport._sock, transport._loop = host_end, asyncio.get_running_loop()
    chunk = b"x" * (1 << 20)
    try:
        with pytest.raises(TransportBroken, match="unread"):
            for _ in range(4 * MAX_BACKLOG // len(chunk)):
                transport.send_now(chunk)
        assert len(transport._backlog) <= MAX_BACKLOG
    finally:
        transport._loop.remove_writer(host_end.fileno())
        host_end.close()
        worker_end.close()
