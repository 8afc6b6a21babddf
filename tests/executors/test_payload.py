"""The host trusts nothing in a guest's `done` payload: types, the output cap and the result size are re-checked."""

from __future__ import annotations

import time

from engine.envelope import OPTIONAL_KEYS, Envelope
from engine.executors._payload import envelope_from_payload, failed_envelope
from engine.limits import Limits

LIMITS = Limits(max_output_chars=20, max_result_bytes=50)


def test_a_payload_of_the_wrong_shape_still_gives_a_well_formed_envelope() -> None:
    envelope = envelope_from_payload(
        {"logs": "not a list", "usage": {"cpu_time": "fast", "output_chars": True}, "error_info": None, "result": 1},
        time.perf_counter(), LIMITS, ["streamed\n"],
    )
    assert set(envelope) == set(Envelope.__annotations__) - OPTIONAL_KEYS
    assert envelope["result"] == 1
    assert envelope["logs"] == ["streamed"]
    assert envelope["usage"]["cpu_time"] == 0.0 and envelope["usage"]["output_chars"] == 0


def test_forged_logs_over_the_cap_and_a_forged_oversized_result_are_refused() -> None:
    envelope = envelope_from_payload(
        {"logs": ["x" * 100, "y"], "result": "z" * 200, "truncated": False}, time.perf_counter(), LIMITS, []
    )
    assert envelope["truncated"] is True
    assert sum(len(line) for line in envelope["logs"][:-1]) <= 20
    assert envelope["result"] is None
    assert envelope["error_info"] is not None and envelope["error_info"]["type"] == "ValueError"


def test_a_run_without_done_reports_the_output_it_streamed() -> None:
    envelope = failed_envelope("SandboxCrashed", "gone", time.perf_counter(), LIMITS, ["one\ntw", "o\n"])
    assert envelope["logs"] == ["one", "two"]
    assert envelope["error"] == "SandboxCrashed: gone"
