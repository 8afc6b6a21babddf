"""Host side of a run's frames: the `run` frame sent, and the `Envelope` built from the `done` payload.

`RunFrames` encodes `run` frames for a guest; the limits and tool specs, the same run after run,
are encoded and checked once per distinct value and reused as bytes (msgpack maps concatenate).

The guest's payload is envelope-shaped plain data (`result`, `logs`, `error_info`, `truncated`,
`usage`), but a program with full Python can forge frames, so the host re-checks every field: types,
the output cap, the result's encoded size. When a run never sends `done` (a crash, a hard timeout),
the envelope is built from the `log` frames it streamed. The calls come from the execution's own
dispatcher (`host`), never from the guest. Host-side only; not shipped to guests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import msgpack

from ..envelope import Envelope, ErrorInfo, build_envelope
from ..guest.output import MARKER
from ..kernel.names import Names
from ..kernel.protocol import FrameError, encode, run_frame
from ..kernel.report import plain_error, to_plain
from ..limits import Limits
from .base import ExecutionRequest, Host

__all__ = ["RunFrames", "assemble", "envelope_from_payload", "failed_envelope"]

_RUN_TAIL = b"".join(msgpack.packb(part) for part in ("k", "run", "id"))
_RUN_HEAD = b"\x86" + _RUN_TAIL
_RUN_HEAD_SEEDED = b"\x87" + _RUN_TAIL  # one more field: the seed (approvals' recorded runs)
_CODE, _LIMITS, _SPECS, _SESSION, _SEED = (
    msgpack.packb(key) for key in ("code", "limits", "specs", "session_id", "seed")
)


class RunFrames:
    """Encodes `run` frames (the same bytes as `encode(run_frame(...))`), each distinct limits and
    tool specs encoded and checked once: a run's frame costs its code and little else."""

    _KEEP = 16

    def __init__(self) -> None:
        self._limits: dict[tuple[Any, ...], bytes] = {}
        self._last_limits: tuple[Limits | None, bytes] = (None, b"")
        """The last `Limits` seen (frozen: the same object is the same value) and its bytes."""
        self._specs: dict[int, tuple[Names, bytes]] = {}
        """By the identity of the names object (held, so its id is not reused while cached)."""

    def encode(self, run_id: int, request: ExecutionRequest) -> bytes:
        """The encoded `run` frame of `request`; raises `FrameError` for a program that cannot be sent."""
        last = self._last_limits
        if request.limits is last[0]:  # the common case: the client's one `Limits`
            packed_limits = last[1]
        else:
            packed_limits = self._packed_limits(request.limits)
            self._last_limits = (request.limits, packed_limits)
        names = request.names
        cached = self._specs.get(id(names)) if names is not None else None
        if names is None:
            packed_specs = b"\x80"
        elif cached is not None and cached[0] is names:
            packed_specs = cached[1]
        else:
            specs = {ns: [dict(spec) for spec in items] for ns, items in names.specs.items()}
            packed_specs = self._checked("specs", specs)
            if len(self._specs) >= self._KEEP:
                self._specs.clear()
            self._specs[id(names)] = (names, packed_specs)
        try:
            code = msgpack.packb(request.code, use_bin_type=True)
            session = msgpack.packb(request.session_id, use_bin_type=True)
            ident = msgpack.packb(run_id)
        except (TypeError, ValueError, OverflowError) as exc:
            raise FrameError(f"can't serialize frame: {exc}") from None
        head = _RUN_HEAD if request.seed is None else _RUN_HEAD_SEEDED
        parts = (head, ident, _CODE, code, _LIMITS, packed_limits, _SPECS, packed_specs, _SESSION, session)
        if request.seed is None:
            return b"".join(parts)
        try:
            seed = msgpack.packb(request.seed)
        except (TypeError, ValueError, OverflowError) as exc:
            raise FrameError(f"can't serialize frame: {exc}") from None
        return b"".join((*parts, _SEED, seed))

    def _packed_limits(self, limits: Limits) -> bytes:
        values = limits.as_dict()
        key = tuple(values.items())
        packed = self._limits.get(key)
        if packed is None:
            packed = self._checked("limits", values)
            if len(self._limits) >= self._KEEP:
                self._limits.clear()
            self._limits[key] = packed
        return packed

    @staticmethod
    def _checked(field: str, value: dict[str, Any]) -> bytes:
        # The whole frame's checks (fields, plain data), once; then the field's bytes alone.
        encode(run_frame(0, "", value if field == "limits" else {}, value if field == "specs" else {}))
        data: bytes = msgpack.packb(value, use_bin_type=True)
        return data


def _lines(streamed: Sequence[str]) -> list[str]:
    text = "".join(streamed)
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n") if text else []


def failed_envelope(
    kind: str, message: str, started: float, limits: Limits, streamed: Sequence[str], host: Host | None = None
) -> Envelope:
    """An envelope for a run that ended without `done`, with the output it streamed."""
    logs, cut = _cap_logs(_lines(streamed), limits.max_output_chars)
    return assemble(None, logs, plain_error(kind, message), started, limits, {}, cut, host)


def _error_info(value: Any) -> ErrorInfo | None:
    if not isinstance(value, dict):
        return None
    line, column = value.get("line"), value.get("column")
    return ErrorInfo(
        type=str(value.get("type") or "Error")[:200],
        message=str(value.get("message") or "")[:4000],
        line=line if type(line) is int else None,
        traceback=str(value.get("traceback") or "")[:20000],
        column=column if type(column) is int else None,
    )


def envelope_from_payload(
    payload: Any, started: float, limits: Limits, streamed: Sequence[str], host: Host | None = None
) -> Envelope:
    """Build the envelope from a guest's `done` payload (a payload that is not a dict is a `BridgeError`)."""
    if not isinstance(payload, dict):
        message = f"the guest's done payload is a {type(payload).__name__}, not a dict"
        return failed_envelope("BridgeError", message, started, limits, streamed, host)
    body = payload
    info = _error_info(body.get("error_info"))
    logs = body.get("logs")
    truncated = bool(body.get("truncated"))
    if not (isinstance(logs, list) and all(isinstance(line, str) for line in logs)):
        logs, truncated = _lines(streamed), False
    logs, cut = _cap_logs(logs, limits.max_output_chars)
    result = body.get("result") if info is None else None
    if info is None:
        try:
            # Plain data again (string keys, bounded depth, within the byte budget): a program with
            # full Python can send any msgpack value here.
            result = to_plain(result, limits.max_result_bytes)
        except (TypeError, ValueError) as exc:
            info, result = plain_error(type(exc).__name__, str(exc)), None
    if info is None:
        size = len(msgpack.packb(result, use_bin_type=True))
        if size > limits.max_result_bytes:
            message = f"the result is {size} bytes encoded, over the limit of {limits.max_result_bytes}"
            info = plain_error("ValueError", message)
            result = None
    raw_usage = body.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    return assemble(result, logs, info, started, limits, usage, truncated or cut, host)


def _cap_logs(logs: list[str], limit: int) -> tuple[list[str], bool]:
    if not logs:
        return logs, False
    marker = MARKER.format(limit=limit)
    body = [line for line in logs if line != marker]
    if sum(len(line) for line in body) <= limit:
        return logs, False
    kept: list[str] = []
    used = 0
    for line in body:
        if used + len(line) > limit:
            kept.append(line[: max(limit - used, 0)])
            break
        kept.append(line)
        used += len(line)
    return [*kept, marker], True


def _number(usage: dict[str, Any], key: str, kind: type[int] | type[float]) -> Any:
    # Only finite, non-negative numbers: `inf` made int() raise out of the executor, NaN poisons sums.
    value = usage.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return kind(value)
    return kind(0)


def assemble(
    result: Any,
    logs: list[str],
    info: ErrorInfo | None,
    started: float,
    limits: Limits,
    usage: dict[str, Any],
    truncated: bool,
    host: Host | None = None,
) -> Envelope:
    """The envelope; wall time is the host's, measured from `started` (`time.perf_counter()`)."""
    return build_envelope(
        result=result,
        logs=logs,
        error=info,
        elapsed=time.perf_counter() - started,
        limits=limits.as_dict(),
        cpu_time=_number(usage, "cpu_time", float),
        output_chars=_number(usage, "output_chars", int),
        result_bytes=_number(usage, "result_bytes", int),
        peak_memory_bytes=_number(usage, "peak_memory_bytes", int),
        truncated=truncated,
        tool_calls=host.trace if host is not None else (),
        calls=host.calls if host is not None else 0,
    )
