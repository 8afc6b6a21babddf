"""Code sessions: program globals that persist across executions, like a notebook.

Each session is its own globals dict; two sessions never share one. Executions in the same
session are serialised (one at a time), since they share state.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from .context import ABANDONED, DISCARDED
from .workers import start_with_deep_stack

__all__ = ["CodeSessions"]


class _Session:
    __slots__ = ("globals", "lock")

    def __init__(self) -> None:
        self.globals: dict[str, Any] = {}
        self.lock = asyncio.Lock()


class CodeSessions:
    """The code sessions of one executor, by id."""

    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}

    def get(self, session_id: str) -> tuple[dict[str, Any], asyncio.Lock]:
        """The session's globals and lock, created on first use. A session whose last program was
        abandoned (stuck in native code, its thread maybe still running with these globals) is
        discarded: the caller gets fresh globals, marked so that the run says so (`runner`)."""
        session = self._sessions.get(session_id)
        if session is not None and ABANDONED in session.globals:
            # Not freed here: the abandoned thread may still hold and use them.
            fresh = _Session()
            fresh.lock = session.lock  # a run waiting on the old lock still serialises with new ones
            fresh.globals[DISCARDED] = True
            session = self._sessions[session_id] = fresh
        if session is None:
            session = self._sessions[session_id] = _Session()
        return session.globals, session.lock

    def reset(self, session_id: str) -> bool:
        """Forget a session's state. Returns whether it existed."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            return False
        free_off_thread(session.globals)
        return True

    def clear(self) -> None:
        for session in self._sessions.values():
            free_off_thread(session.globals)
        self._sessions.clear()

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._sessions


def free_off_thread(program_globals: dict[str, Any]) -> None:
    """Empty a session's globals on a thread with a deep C stack (see `workers.WORKER_STACK_BYTES`):
    freeing what a program built can recurse deeper than the caller's stack allows."""
    snapshot = dict(program_globals)
    program_globals.clear()
    thread = threading.Thread(target=snapshot.clear, name="sandbox-free", daemon=True)
    try:
        start_with_deep_stack(thread)
    except RuntimeError:  # no thread can be started: free it here
        snapshot.clear()
