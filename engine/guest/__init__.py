"""The guest runtime: the small program that runs inside a sandbox process and talks to the host.

It is started once per sandbox (an E2B sandbox, or a local worker process that brings the
restricted engine), reads link records from its stdin, runs each program it is sent, turns the
program's tool calls into bridge frames to the host, and ends each run with a `done` frame carrying
the envelope. Modules: `serve` (the main loop), `runner` (the full-Python engine), `output`
(captured output), `oslimits` (self-imposed OS limits) and `main` (start-up).

This folder holds only what ships: with `engine/kernel/` it is everything a guest needs, standard
library and msgpack besides (`engine.executors.bundle` ships exactly these files; a test checks
it). What the host does with a guest lives in `engine.executors`.
"""

from __future__ import annotations

GUEST_VERSION = "0.2.0"
"""The guest's wire version: the host refuses a guest that reports another one."""

__all__ = ["GUEST_VERSION"]
