"""The guest runtime: the small program that runs inside a sandbox process and talks to the host.

It is started once per sandbox (a local child process for the `process` executor, a process in an
E2B sandbox for `e2b`), reads link records from its stdin, runs each program it is sent, turns the
program's tool calls into bridge frames to the host, and ends each run with a `done` frame carrying
the envelope. Modules: `link` (records and their two encodings), `program` (compile with top-level
`await`/`return`, errors, plain results), `output` (captured output), `runner` (the full-Python
engine), `serve` (the main loop), `oslimits` (self-imposed OS limits), `restricted` (the restricted
engine, local child processes only), `bundle` (ship the guest as source), and `payload` (host side:
the envelope built from a run's `done` payload).

Everything but `restricted`, `bundle` and `payload` needs only the standard library, msgpack and the two
shippable engine modules `engine/bridge/protocol.py` and `engine/stubs/runtime.py` (+ `schema.py`),
which it imports relatively inside `engine` and as top-level modules when shipped (`bundle()`).
"""

from __future__ import annotations

GUEST_VERSION = "0.1.0"
"""The guest's wire version: the host refuses a guest that reports another one."""

__all__ = ["GUEST_VERSION"]
