"""What a process holds, read from Linux's /proc: memory of its own, open files, threads, descendants."""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["adopting_orphans", "alive", "descendants", "memory", "open_fds", "own_rss", "reap", "threads"]

_PAGE = os.sysconf("SC_PAGE_SIZE")


def memory(pid: int) -> dict[str, int]:
    """Rss, Pss and Uss (private clean + private dirty) of `pid`, in bytes, from `smaps_rollup`.

    USS is what the process holds alone (what killing it frees); PSS splits each shared page among
    the processes that map it, so pages a worker shares with its template and siblings count once
    in all.
    """
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name] = int(parts[0]) * 1024
    return {
        "rss": fields["Rss"],
        "pss": fields["Pss"],
        "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0),
    }


def own_rss() -> int:
    """This process's resident memory in bytes."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE


def open_fds() -> int:
    """Descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


def threads() -> int:
    """Threads of this process (the OS's count, not only Python's)."""
    return len(os.listdir("/proc/self/task"))


def descendants(pid: int | None = None) -> list[int]:
    """Every live process below `pid` (default: this one), at any depth; zombies are counted too,
    since an unreaped child is a leak as well."""
    root = os.getpid() if pid is None else pid
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the fields start after the last ')'.
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return sorted(found)


def alive(pids: list[int]) -> list[int]:
    """Those of `pids` still running (a zombie, dead but not reaped, does not count)."""
    running = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            running.append(pid)
    return running


_PR_SET_CHILD_SUBREAPER = 36


@contextlib.contextmanager
def adopting_orphans() -> Iterator[bool]:
    """Within the block, this process reaps its orphaned descendants (Linux `PR_SET_CHILD_SUBREAPER`);
    yields whether the kernel agreed.

    A pool's workers are children of its template; once the template is killed, a worker still
    running would be reparented to init and vanish from `descendants()`. Within the block it is
    reparented here instead, where a leak check sees it. Turned off again after the block, so the
    other sections' processes are orphaned as usual."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        adopted = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        yield False
        return
    try:
        yield bool(adopted)
    finally:
        if adopted:
            libc.prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def reap(pids: list[int]) -> None:
    """Collect the exit status of those of `pids` that are dead children of this process (adopted
    orphans nobody else waits for), so they do not stay zombies."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
