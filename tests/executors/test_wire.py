"""The process pool's local wire (`engine.executors._wire`): records survive any split of the
stream, and bytes that are not a record are refused rather than misread."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.executors import _wire

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
