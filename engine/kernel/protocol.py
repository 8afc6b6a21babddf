"""The bridge wire format: a fixed table of msgpack frames, their codec, and stream framing.

A frame is a plain dict with a kind key `k`. The table below is the whole protocol; `FRAME_KINDS`
is the same table as data (fields, their types, and the direction each kind travels in), and each
kind has one constructor here (`call_frame`, `result_frame`, ...):

| kind     | direction     | fields                                                                |
| -------- | ------------- | --------------------------------------------------------------------- |
| `run`    | host -> guest | `id` of the run, `code`, `limits`, `specs`, `session_id`, `seed`      |
| `stop`   | host -> guest | `id` of a run the host gave up on (deadline, cancellation)            |
| `hold`   | host -> guest | `held` seconds the run has waited for approval, `on`: still waiting   |
| `call`   | guest -> host | `id` of the call, `namespace` (server name), `tool`, `arguments`      |
| `cancel` | guest -> host | `id` of a call the program no longer waits for                        |
| `result` | host -> guest | `id` of the call, `value`                                             |
| `error`  | host -> guest | `id` of the call, `error`: `{type, message, server?, tool?, line?}`   |
| `log`    | guest -> host | `text`, `stream` (`stdout`/`stderr`); `id` of the run, optional       |
| `done`   | guest -> host | `id` of the run, `payload` (the envelope as plain data)               |

`cancel` always names a call and `stop` always names a run: the two are never confused. The
`error` frame's `type` is one of `ERROR_KINDS` (what the program raises for it, see
`kernel.errors.raise_for`); an unknown kind arrives in the program as a `BridgeError`.

The codec only produces and accepts plain data (None, bool, int, float, str, bytes, list, dict):
msgpack extension types, timestamps and unknown objects are refused with `FrameError`, so a frame
can never smuggle an object across. Errors cross as data, never as exception objects.

This module imports only the standard library and msgpack: it ships to guests with the kernel.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import msgpack

__all__ = [
    "ENGINE_NAMESPACE",
    "ERROR_KINDS",
    "FRAME_KINDS",
    "LOG_STREAMS",
    "MAX_FRAME_SIZE",
    "FrameError",
    "FrameReader",
    "HostChannel",
    "Send",
    "call_frame",
    "cancel_frame",
    "decode",
    "done_frame",
    "encode",
    "error_frame",
    "hold_frame",
    "log_frame",
    "pack_stream_frame",
    "result_frame",
    "run_frame",
    "stop_frame",
]

Send = Callable[[bytes], Awaitable[bytes]]
"""Program side of the bridge: send one encoded `call` frame and await the encoded reply.

Awaited on the program's own event loop; cancelling the await cancels the call on the host."""

HostChannel = Callable[[bytes], Awaitable[bytes]]
"""Host side of the bridge: answer one encoded `call` frame with an encoded `result` or `error`."""

ENGINE_NAMESPACE = "__engine__"
"""The reserved call namespace for engine functions (`search_tools`); never a server name."""

LOG_STREAMS = ("stdout", "stderr")
"""The streams a `log` frame may name."""

MAX_FRAME_SIZE = 64 * 1024 * 1024
"""The largest encoded frame the stream helpers accept (bytes)."""

_ANY: tuple[type, ...] = ()
"""Field type marker: any plain value."""

_OPTIONAL_STR = (str, type(None))

TO_GUEST = "host -> guest"
TO_HOST = "guest -> host"

# kind -> (direction, required fields with accepted types, optional fields with accepted types).
# An empty type tuple accepts any plain value (the codec already guarantees plainness).
FRAME_KINDS: dict[str, tuple[str, dict[str, tuple[type, ...]], dict[str, tuple[type, ...]]]] = {
    "run": (
        TO_GUEST,
        {"id": (int,), "code": (str,), "limits": (dict,), "specs": (dict,)},
        {"session_id": _OPTIONAL_STR, "seed": (int, type(None))},
    ),
    "stop": (TO_GUEST, {"id": (int,)}, {}),
    "hold": (TO_GUEST, {"held": (int, float), "on": (bool,)}, {}),
    "call": (TO_HOST, {"id": (int,), "namespace": (str,), "tool": (str,), "arguments": (dict,)}, {}),
    "cancel": (TO_HOST, {"id": (int,)}, {}),
    "result": (TO_GUEST, {"id": (int,), "value": _ANY}, {}),
    "error": (TO_GUEST, {"id": (int,), "error": (dict,)}, {}),
    "log": (TO_HOST, {"text": (str,), "stream": (str,)}, {"id": (int,)}),
    "done": (TO_HOST, {"id": (int,), "payload": _ANY}, {}),
}

ERROR_KINDS: dict[str, str] = {
    "ToolError": "the tool failed (the server said isError, or the call could not be made)",
    "ToolLimitError": "the execution used up its tool-call budget (max_tool_calls)",
    "BridgeError": "a malformed or unexpected frame crossed the bridge",
    "PermissionError": "the server is not allowed for this execution",
    "TimeoutError": "the call did not answer in time",
    "TypeError": "an argument has the wrong type",
    "ValueError": "an argument has a wrong value",
    "AttributeError": "no such engine function",
    "KeyError": "a key is missing",
    "LookupError": "a lookup failed",
    "RuntimeError": "the host could not answer the call",
}
"""The `type` an `error` frame may carry, with what it means. The program raises the class of the
same name (`kernel.errors.raise_for`); any other `type` arrives as a `BridgeError`."""

_ERROR_FIELDS: dict[str, tuple[type, ...]] = {"type": (str,), "message": (str,)}
_ERROR_OPTIONAL: dict[str, tuple[type, ...]] = {
    "server": _OPTIONAL_STR,
    "tool": _OPTIONAL_STR,
    "line": (int, type(None)),
}

# Bytes that start a msgpack ext (fixext 1..16, ext 8/16/32). They may also occur inside str/bin
# payloads, so a hit only triggers the full plain-data walk; a miss proves there is no ext at all.
_EXT_MARKER = re.compile(rb"[\xc7-\xc9\xd4-\xd8]")
# The timestamp extension (type -1 = 0xff) in any encoding msgpack has for an extension: fixext 1 to
# 16, ext 8, ext 16, ext 32 (each with any length: which lengths the decoder accepts is its business).
_TIMESTAMP_MARKER = re.compile(rb"[\xd4-\xd8]\xff|\xc7.\xff|\xc8..\xff|\xc9....\xff", re.DOTALL)
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
_REQUIRED = {kind: ({"k": (str,), **required}, optional) for kind, (_, required, optional) in FRAME_KINDS.items()}


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
    elif kind == "log" and frame["stream"] not in LOG_STREAMS:
        raise FrameError(f"log frame field 'stream' must be one of {LOG_STREAMS}, not {frame['stream'][:40]!r}")
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
    # `_refuse_ext` refused every extension type while unpacking but the timestamp (-1), which
    # msgpack decodes itself: only bytes that could hold one trigger the plain-data walk.
    if _TIMESTAMP_MARKER.search(data) is not None:
        _check_plain(frame)
    return validate(frame)


def run_frame(
    id: int,
    code: str,
    limits: dict[str, Any],
    specs: dict[str, Any],
    session_id: str | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """A `run` frame: one program for the guest to run (`seed`: of its `random`, None for any)."""
    frame = {"k": "run", "id": id, "code": code, "limits": limits, "specs": specs, "session_id": session_id}
    if seed is not None:
        frame["seed"] = seed
    return frame


def stop_frame(id: int) -> dict[str, Any]:
    """A `stop` frame: the host gave up on run `id`."""
    return {"k": "stop", "id": id}


def hold_frame(held: float, on: bool) -> dict[str, Any]:
    """A `hold` frame: the run it travels with has waited `held` seconds for approval, `on` while
    it still waits. The guest moves the run's wall-clock deadline by them (`kernel.hold`)."""
    return {"k": "hold", "held": held, "on": on}


def call_frame(id: int, namespace: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A `call` frame."""
    return {"k": "call", "id": id, "namespace": namespace, "tool": tool, "arguments": arguments}


def cancel_frame(id: int) -> dict[str, Any]:
    """A `cancel` frame: the program no longer waits for call `id`."""
    return {"k": "cancel", "id": id}


def log_frame(text: str, stream: str, run: int | None = None) -> dict[str, Any]:
    """A `log` frame: output the program printed, as it prints it."""
    frame: dict[str, Any] = {"k": "log", "text": text, "stream": stream}
    if run is not None:
        frame["id"] = run
    return frame


def done_frame(id: int, payload: Any) -> dict[str, Any]:
    """A `done` frame: run `id` is over; `payload` is its envelope as plain data."""
    return {"k": "done", "id": id, "payload": payload}


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
