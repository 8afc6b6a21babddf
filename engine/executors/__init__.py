"""Executors: run one program under limits and return the result envelope.

Backends are looked up lazily by name (`get_executor`), so optional ones (`e2b`) cost nothing
until used.
"""

from __future__ import annotations

from .base import ExecutionRequest, Executor, Host, HostChannel, Names, Send
from .registry import EXECUTORS, get_executor

__all__ = ["EXECUTORS", "ExecutionRequest", "Executor", "Host", "HostChannel", "Names", "Send", "get_executor"]
