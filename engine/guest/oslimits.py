"""OS limits a local guest process puts on itself before it runs anything (Linux).

`apply(memory_bytes=..., nofile=...)` caps the address space (`RLIMIT_AS`: allocation past it fails
with `MemoryError` instead of growing the host machine's memory), open files and core dumps, and
sets `PR_SET_NO_NEW_PRIVS` so nothing the process executes can gain privileges. `cpu_ceiling(s)`
moves the `RLIMIT_CPU` soft limit to `s` seconds past the CPU the process has used so far: a run
that burns through it in native code is killed by `SIGXCPU`, which the host reports and survives.

Standard library only.
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
from typing import Any

__all__ = ["apply", "cpu_ceiling", "address_space"]

_PR_SET_NO_NEW_PRIVS = 38
_CPU_LIFETIME = 3600
"""CPU seconds a guest process may use in all (the hard `RLIMIT_CPU`); then the OS ends it."""


def address_space() -> int:
    """The process's current virtual size in bytes (0 where unknown)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * (os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096)
    except (OSError, ValueError, IndexError):
        return 0


def _lower(limit: int, value: int) -> None:
    # The hard limit too: code that got past the sandbox must not be able to raise it again.
    soft, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(limit, (value, value))


_ceiling: tuple[int, int] | None = None
"""The `(soft, hard)` `RLIMIT_CPU` this module last set (only this process changes its own)."""


def apply(*, memory_bytes: int | None, nofile: int | None = 256) -> dict[str, Any]:
    """Apply the limits; returns what was set (for the hello record)."""
    global _ceiling
    applied: dict[str, Any] = {}
    if memory_bytes is not None:
        ceiling = address_space() + int(memory_bytes)
        _lower(resource.RLIMIT_AS, ceiling)
        applied["address_space"] = ceiling
    if nofile is not None:
        _lower(resource.RLIMIT_NOFILE, nofile)
        applied["nofile"] = nofile
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # A lifetime CPU ceiling (hard): `cpu_ceiling` moves the soft limit per run below it.
    soft_cpu, hard_cpu = resource.getrlimit(resource.RLIMIT_CPU)
    if hard_cpu == resource.RLIM_INFINITY:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        lifetime = int(usage.ru_utime + usage.ru_stime) + _CPU_LIFETIME
        soft_cpu = lifetime if soft_cpu == resource.RLIM_INFINITY else min(soft_cpu, lifetime)
        resource.setrlimit(resource.RLIMIT_CPU, (soft_cpu, lifetime))
        _ceiling = None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        applied["no_new_privs"] = libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        applied["no_new_privs"] = False
    return applied


def cpu_ceiling(seconds: float) -> None:
    """Let the process burn at most `seconds` more CPU (soft `RLIMIT_CPU`; `SIGXCPU` past it)."""
    global _ceiling
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    hard = _ceiling[1] if _ceiling is not None else resource.getrlimit(resource.RLIMIT_CPU)[1]
    target = int(math.ceil(used + seconds))
    if hard != resource.RLIM_INFINITY:
        target = min(target, hard)
    if _ceiling != (target, hard):  # short runs mostly land on the same whole second: no call
        resource.setrlimit(resource.RLIMIT_CPU, (target, hard))
        _ceiling = (target, hard)
