"""The bridge wire format: a fixed table of msgpack frames, their codec, and stream framing.

A frame is a plain dict with a kind key `k` and, for every kind that belongs to a call, an integer
`id` that multiplexes concurrent calls over one channel. The table below is the whole protocol:

| kind     | direction     | fields                                                                |
| -------- | ------------- | --------------------------------------------------------------------- |
| `call`   | guest -> host | `id`, `namespace` (server name), `tool` (original name), `arguments`  |
| `result` | host -> guest | `id`, `value`                                                         |
| `error`  | host -> guest | `id`, `error`: `{type, message, server?, tool?}`                      |
| `cancel` | guest -> host | `id` of a call the guest no longer waits for                          |
| `log`    | guest -> host | `text`, `stream` (`stdout`/`stderr`); `id` optional                   |
| `done`   | guest -> host | `id` of the run, `payload` (the envelope or the result)               |
| `run`    | host -> guest | `id`, `code`, `limits`, `specs`, `session_id`                         |

The codec only produces and accepts plain data (None, bool, int, float, str, bytes, list, dict):
msgpack extension types, timestamps and unknown objects are refused with `FrameError`, so a frame
can never smuggle an object across. Errors cross as data, never as exception objects.

This module imports only the standard library and msgpack: it is shipped as source to remote guests.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from typing import Any

import msgpack

__all__ = [
    "FRAME_KINDS",
    "MAX_FRAME_SIZE",
    "ENGINE_NAMESPACE",
    "FrameError",
    "FrameReader",
    "call_frame",
    "decode",
    "encode",
    "error_frame",
    "pack_stream_frame",
    "result_frame",
]

ENGINE_NAMESPACE = "__engine__"
"""The reserved call namespace for engine functions (`search_tools`); never a server name."""

MAX_FRAME_SIZE = 64 * 1024 * 1024
"""The largest encoded frame the stream helpers accept (bytes)."""

_ANY: tuple[type, ...] = ()
"""Field type marker: any plain value."""

_OPTIONAL_STR = (str, type(None))

# kind -> (required fields with accepted types, optional fields with accepted types).
# An empty type tuple accepts any plain value (the codec already guarantees plainness).
FRAME_KINDS: dict[str, tuple[dict[str, tuple[type, ...]], dict[str, tuple[type, ...]]]] = {
    "call": ({"id": (int,), "namespace": (str,), "tool": (str,), "arguments": (dict,)}, {}),
    "result": ({"id": (int,), "value": _ANY}, {}),
    "error": ({"id": (int,), "error": (dict,)}, {}),
    "cancel": ({"id": (int,)}, {}),
    "log": ({"text": (str,), "stream": (str,)}, {"id": (int,)}),
    "done": ({"id": (int,), "payload": _ANY}, {}),
    "run": (
        {"id": (int,), "code": (str,), "limits": (dict,), "specs": (dict,)},
        {"session_id": _OPTIONAL_STR},
    ),
}

_ERROR_FIELDS: dict[str, tuple[type, ...]] = {"type": (str,), "message": (str,)}
_ERROR_OPTIONAL: dict[str, tuple[type, ...]] = {
    "server": _OPTIONAL_STR,
    "tool": _OPTIONAL_STR,
    "line": (int, type(None)),
}

# Bytes that start a msgpack ext (fixext 1..16, ext 8/16/32). They may also occur inside str/bin
# payloads, so a hit only triggers the full plain-data walk; a miss proves there is no ext at all.
_EXT_MARKER = re.compile(rb"[\xc7-\xc9\xd4-\xd8]")
_PLAIN_SCALARS = (type(None), bool, int, float, str, bytes)
_MAX_DEPTH = 512
_LENGTH = struct.Struct(">I")


class FrameError(ValueError):
    """A frame could not be encoded or decoded: malformed, unknown kind, missing field, not plain data."""


def _refuse_ext(code: int, data: bytes) -> Any:
    raise FrameError(f"msgpack extension type {code} is not plain data")


def _check_plain(value: Any, depth: int = 0) -> None:
    """Raise FrameError unless `value` is built only from plain data types (exact types)."""
    if depth > _MAX_DEPTH:
        raise FrameError("data nested too deeply")
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return
    if kind is list or kind is tuple:
        for item in value:
            _check_plain(item, depth + 1)
        return
    if kind is dict:
        for key, item in value.items():
            _check_plain(key, depth + 1)
            _check_plain(item, depth + 1)
        return
    raise FrameError(f"can't serialize {kind.__name__!s} object: not plain data")


def _check_fields(
    frame: dict[Any, Any], required: dict[str, tuple[type, ...]], optional: dict[str, tuple[type, ...]], what: str
) -> None:
    for name, types in required.items():
        if name not in frame:
            raise FrameError(f"{what} is missing field {name!r}")
        value = frame[name]
        # Exact type match is the common case (msgpack decodes to exact types); bools take the slow path.
        if types and type(value) not in types:
            _check_type(value, types, what, name)
    if len(frame) == len(required):
        return  # every key was checked above: nothing unknown, nothing optional
    for name in frame:
        if name in required:
            continue
        if name not in optional:
            raise FrameError(f"{what} has unknown field {name!r}")
        _check_type(frame[name], optional[name], what, name)


def _check_type(value: Any, types: tuple[type, ...], what: str, name: str) -> None:
    if not types:
        return
    # bool is an int subclass; an id or a line number must be a real integer.
    if type(value) is bool and bool not in types:
        raise FrameError(f"{what} field {name!r} must be {_names(types)}, not bool")
    if not isinstance(value, types):
        raise FrameError(f"{what} field {name!r} must be {_names(types)}, not {type(value).__name__}")


def _names(types: tuple[type, ...]) -> str:
    return " or ".join("None" if t is type(None) else t.__name__ for t in types)


# `k` is part of every frame: fold it into each kind's required fields once, not per frame.
_REQUIRED = {kind: ({"k": (str,), **required}, optional) for kind, (required, optional) in FRAME_KINDS.items()}


def validate(frame: Any) -> dict[str, Any]:
    """Check that `frame` is a well-formed frame of a known kind; return it unchanged."""
    if type(frame) is not dict:
        raise FrameError(f"a frame must be a dict, not {type(frame).__name__}")
    kind = frame.get("k")
    spec = _REQUIRED.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise FrameError(f"unknown frame kind {kind!r}")
    _check_fields(frame, spec[0], spec[1], f"{kind} frame")
    if kind == "error":
        _check_fields(frame["error"], _ERROR_FIELDS, _ERROR_OPTIONAL, "error frame's error")
    return frame


def encode(frame: dict[str, Any], *, check: bool = True) -> bytes:
    """Encode one frame. Raises FrameError for non-plain data, and (`check=True`) for a malformed frame.

    `check=False` skips the field validation for frames built by this module's constructors
    (`call_frame`, `result_frame`, `error_frame`) on the hot path; plainness is always enforced.
    """
    if check:
        validate(frame)
    try:
        data: bytes = msgpack.packb(frame, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise FrameError(f"can't serialize frame: {exc}") from None
    if _EXT_MARKER.search(data) is not None:
        _check_plain(frame)
    return data


def decode(data: bytes) -> dict[str, Any]:
    """Decode and validate one frame. Raises FrameError for anything malformed."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FrameError(f"a frame is bytes, not {type(data).__name__}")
    try:
        frame = msgpack.unpackb(data, raw=False, strict_map_key=False, ext_hook=_refuse_ext, use_list=True)
    except FrameError:
        raise
    except Exception as exc:  # msgpack raises ValueError, TypeError, ExtraData, FormatError, StackError...
        raise FrameError(f"malformed frame: {type(exc).__name__}: {exc}") from None
    if _EXT_MARKER.search(data) is not None:
        _check_plain(frame)
    return validate(frame)


def call_frame(id: int, namespace: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A `call` frame."""
    return {"k": "call", "id": id, "namespace": namespace, "tool": tool, "arguments": arguments}


def result_frame(id: int, value: Any) -> dict[str, Any]:
    """A `result` frame."""
    return {"k": "result", "id": id, "value": value}


def error_frame(
    id: int, type: str, message: str, *, server: str | None = None, tool: str | None = None
) -> dict[str, Any]:
    """An `error` frame: the error as data `{type, message, server, tool}`."""
    return {"k": "error", "id": id, "error": {"type": type, "message": message, "server": server, "tool": tool}}


def pack_stream_frame(data: bytes, *, max_frame_size: int = MAX_FRAME_SIZE) -> bytes:
    """Prefix one encoded frame with its 4-byte big-endian length, for byte-stream transports."""
    if len(data) > max_frame_size:
        raise FrameError(f"frame of {len(data)} bytes exceeds the maximum of {max_frame_size}")
    return _LENGTH.pack(len(data)) + data


class FrameReader:
    """Reassembles length-prefixed frames from a byte stream fed in arbitrary chunks.

    ```python
    reader = FrameReader()
    for chunk in chunks:
        for frame_bytes in reader.feed(chunk):
            handle(decode(frame_bytes))
    reader.close()  # FrameError if the stream ended inside a frame
    ```
    """

    def __init__(self, *, max_frame_size: int = MAX_FRAME_SIZE) -> None:
        self._buffer = bytearray()
        self._max = max_frame_size

    @property
    def pending(self) -> int:
        """Bytes buffered that do not yet form a complete frame."""
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add a chunk; return every frame it completes, in order."""
        self._buffer += chunk
        return list(self._frames())

    def _frames(self) -> Iterator[bytes]:
        buffer = self._buffer
        start = 0
        while len(buffer) - start >= 4:
            (size,) = _LENGTH.unpack_from(buffer, start)
            if size > self._max:
                # The stream cannot be resynchronised after a bad length; refuse it.
                raise FrameError(f"frame of {size} bytes exceeds the maximum of {self._max}")
            end = start + 4 + size
            if end > len(buffer):
                break
            yield bytes(buffer[start + 4 : end])
            start = end
        del buffer[:start]

    def close(self) -> None:
        """Check that the stream ended on a frame boundary."""
        if self._buffer:
            raise FrameError(f"stream ended inside a frame ({len(self._buffer)} bytes pending)")
