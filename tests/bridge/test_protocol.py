"""The frame codec: round trips, every malformed case, stream framing, and standalone import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.kernel import protocol
from engine.kernel.protocol import FrameError, FrameReader, decode, encode, pack_stream_frame

plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)

EXAMPLES: list[dict[str, Any]] = [
    protocol.call_frame(1, "my-github", "list-issues", {"owner": "acme", "n": 3}),
    protocol.result_frame(2, {"rows": [1, 2.5, None, True, b"\x00"]}),
    protocol.error_frame(3, "ToolError", "boom", server="s", tool="t"),
    {"k": "error", "id": 4, "error": {"type": "NameError", "message": "x", "line": 3}},
    {"k": "cancel", "id": 5},
    {"k": "log", "text": "hello\n", "stream": "stdout"},
    {"k": "log", "text": "hello\n", "stream": "stderr", "id": 9},
    {"k": "done", "id": 6, "payload": {"result": 42, "logs": []}},
    {"k": "run", "id": 7, "code": "return 1", "limits": {"timeout": 5.0}, "specs": {}, "session_id": None},
    {"k": "run", "id": 8, "code": "return 1", "limits": {}, "specs": {"gh": [{"name": "x"}]}, "session_id": "abc"},
]


@pytest.mark.parametrize("frame", EXAMPLES, ids=lambda f: f["k"])
def test_every_frame_kind_round_trips(frame: dict[str, Any]) -> None:
    assert decode(encode(frame)) == frame


@given(plain)
def test_any_plain_value_round_trips_inside_a_result_frame(value: Any) -> None:
    frame = protocol.result_frame(1, value)
    assert decode(encode(frame)) == frame


@given(st.dictionaries(st.text(), plain, max_size=5), st.integers(0, 2**62))
def test_call_frames_round_trip(arguments: dict[str, Any], call_id: int) -> None:
    frame = protocol.call_frame(call_id, "ns", "tool", arguments)
    assert decode(encode(frame)) == frame


def _raw(obj: Any) -> bytes:
    return bytes(msgpack.packb(obj, use_bin_type=True))


MALFORMED: dict[str, bytes] = {
    "not a dict": _raw([1, 2]),
    "unknown kind": _raw({"k": "shout", "id": 1}),
    "kind missing": _raw({"id": 1}),
    "kind not a string": _raw({"k": 1, "id": 1}),
    "missing field": _raw({"k": "call", "id": 1, "namespace": "a", "tool": "b"}),
    "id of wrong type": _raw({"k": "cancel", "id": "1"}),
    "id is a bool": _raw({"k": "cancel", "id": True}),
    "arguments not a dict": _raw({"k": "call", "id": 1, "namespace": "a", "tool": "b", "arguments": [1]}),
    "unknown field": _raw({"k": "cancel", "id": 1, "extra": 0}),
    "error without message": _raw({"k": "error", "id": 1, "error": {"type": "X"}}),
    "error with odd field": _raw({"k": "error", "id": 1, "error": {"type": "X", "message": "m", "obj": 1}}),
    "error line not int": _raw({"k": "error", "id": 1, "error": {"type": "X", "message": "m", "line": "3"}}),
    "trailing bytes": _raw({"k": "cancel", "id": 1}) + b"\x00",
    "truncated": _raw({"k": "log", "text": "hello", "stream": "stdout"})[:-2],
    "empty": b"",
    "ext type": _raw({"k": "result", "id": 1, "value": msgpack.ExtType(5, b"obj")}),
    "timestamp": _raw({"k": "result", "id": 1, "value": msgpack.Timestamp(1, 0)}),
    # The timestamp extension (-1) in the encodings msgpack does not pick itself but decodes all the same.
    "timestamp in ext 8": _raw({"k": "result", "id": 1, "value": 0})[:-1] + b"\xc7\x08\xff" + bytes(8),
    "timestamp in ext 16": _raw({"k": "result", "id": 1, "value": 0})[:-1] + b"\xc8\x00\x0c\xff" + bytes(12),
    "timestamp in ext 32": _raw({"k": "result", "id": 1, "value": 0})[:-1] + b"\xc9\x00\x00\x00\x04\xff" + bytes(4),
    "timestamp as a key": _raw({"k": "call", "id": 1, "namespace": "a", "tool": "b", "arguments": {}})[:-1]
    + b"\x81\xc7\x08\xff" + bytes(8) + b"\x01",
    "invalid utf-8": b"\x81\xa1k\xa2\xff\xfe",
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_decode_refuses_malformed_frames(data: bytes) -> None:
    with pytest.raises(FrameError):
        decode(data)


def test_decode_refuses_non_bytes() -> None:
    with pytest.raises(FrameError, match="bytes"):
        decode({"k": "cancel", "id": 1})  # type: ignore[arg-type]


def test_a_string_containing_ext_marker_bytes_is_still_accepted() -> None:
    # 0xd4..0xd8 occur inside this payload; the fallback walk must not mistake them for ext types.
    frame = protocol.result_frame(1, {"b": bytes(range(0xC0, 0xE0)), "s": "\u00d4\u00d8"})
    assert decode(encode(frame)) == frame


class Opaque:
    pass


@pytest.mark.parametrize(
    "value",
    [Opaque(), {1, 2}, 2**70, msgpack.ExtType(1, b"x"), msgpack.Timestamp(5, 0), [object()], {"k": Opaque()}],
    ids=["object", "set", "huge int", "ext", "timestamp", "nested object", "object in dict"],
)
def test_encode_refuses_values_that_are_not_plain_data(value: Any) -> None:
    with pytest.raises(FrameError, match="can't serialize"):
        encode(protocol.result_frame(1, value))


def test_unchecked_encode_still_refuses_values_that_are_not_plain_data() -> None:
    with pytest.raises(FrameError, match="can't serialize"):
        encode(protocol.result_frame(1, Opaque()), check=False)
    with pytest.raises(FrameError, match="can't serialize"):
        encode(protocol.result_frame(1, [msgpack.ExtType(1, b"x")]), check=False)


def test_encode_validates_the_frame() -> None:
    with pytest.raises(FrameError, match="missing field 'arguments'"):
        encode({"k": "call", "id": 1, "namespace": "a", "tool": "b"})


def test_frame_error_is_a_value_error() -> None:
    assert issubclass(FrameError, ValueError)


@given(st.lists(plain, min_size=1, max_size=6), st.lists(st.integers(1, 40), min_size=1, max_size=50))
def test_frame_reader_reassembles_frames_from_arbitrary_chunks(values: list[Any], cuts: list[int]) -> None:
    frames = [encode(protocol.result_frame(i, v)) for i, v in enumerate(values)]
    stream = b"".join(pack_stream_frame(f) for f in frames)
    reader = FrameReader()
    received: list[bytes] = []
    position = 0
    for size in cuts * (len(stream) // max(1, sum(cuts)) + 1):
        received += reader.feed(stream[position : position + size])
        position += size
        if position >= len(stream):
            break
    received += reader.feed(stream[position:])
    reader.close()
    assert received == frames
    assert [decode(f)["value"] for f in received] == [decode(f)["value"] for f in frames]


def test_frame_reader_refuses_an_oversized_length() -> None:
    reader = FrameReader(max_frame_size=10)
    with pytest.raises(FrameError, match="exceeds"):
        reader.feed((11).to_bytes(4, "big") + b"x")


def test_pack_stream_frame_refuses_an_oversized_frame() -> None:
    with pytest.raises(FrameError, match="exceeds"):
        pack_stream_frame(b"x" * 11, max_frame_size=10)


def test_frame_reader_close_reports_a_partial_frame() -> None:
    reader = FrameReader()
    assert reader.feed(pack_stream_frame(b"abc")[:5]) == []
    assert reader.pending == 5
    with pytest.raises(FrameError, match="inside a frame"):
        reader.close()


def test_protocol_imports_standalone_in_a_fresh_interpreter(tmp_path: Path) -> None:
    source = Path(protocol.__file__).read_text()
    (tmp_path / "protocol.py").write_text(source)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import protocol\n"
        "frame = protocol.call_frame(1, 'a', 'b', {'x': 1})\n"
        "assert protocol.decode(protocol.encode(frame)) == frame\n"
        "assert not any(m == 'engine' or m.startswith('engine.') for m in sys.modules), 'engine imported'\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_log_frame_names_stdout_or_stderr_only() -> None:
    # The stream name is forwarded to MCP clients as a logger name: anything else is refused.
    assert protocol.decode(protocol.encode(protocol.log_frame("x", "stderr", 1)))["stream"] == "stderr"
    with pytest.raises(FrameError, match="stream"):
        protocol.encode(protocol.log_frame("x", "s" * 1000, 1))
