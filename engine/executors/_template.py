"""The `process` pool's template: a warm Python process that forks workers in milliseconds.

Runs in its own process (`python -I -c <boot> ROOT FD`). It imports everything a worker needs
(the kernel, the sandbox, the guest) once, freezes those objects out of the collector (so their
pages stay shared with every worker, copy-on-write), then waits on its control socket (a
`SOCK_SEQPACKET` socket at fd FD) for requests:

- `{"argv": [...], "confine": bool}` with one descriptor attached (the worker's end of its channel):
  fork; the child makes itself a session leader, puts the channel on fd 0 and 1 and serves
  (`engine.executors._child.main`); the template answers `{"pid": N}`;
- it reports each worker's end as `{"exit": N, "status": S}` (a `waitpid` status).

The template itself runs no program and holds no channel; the host kills workers by process group
and the template by its pid. Not shipped to guests.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys
from typing import Any

__all__ = ["main"]


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        try:
            control.send(json.dumps({"exit": pid, "status": status}).encode())
        except OSError:
            return


def _worker(control: socket.socket, wake: tuple[int, int], channel: int, request: dict[str, Any]) -> None:
    """In the forked child: become the worker. Never returns."""
    code = 0
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        control.close()
        os.close(wake[0])
        os.close(wake[1])
        os.setsid()  # its own process group: a kill takes everything it could start
        os.nice(5)  # a program spinning in native code yields the CPU to the host first
        os.dup2(channel, 0)
        os.dup2(channel, 1)
        os.close(channel)
        # The template's objects stay frozen: a full collection would visit them all, and writing
        # their headers would copy every shared page into this worker.
        from engine.executors import _child

        argv = [str(a) for a in request.get("argv", [])]
        _child.main(argv, confine=bool(request.get("confine")))
    except BaseException as exc:  # noqa: BLE001 - the host reads the exit status and the template's stderr
        print(f"engine worker {os.getpid()}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        code = 70
    finally:
        os._exit(code)


def main(fd: int) -> None:
    """Serve fork requests on control socket `fd` until the host closes it."""
    from engine.executors import _child  # noqa: F401 - imported now so every worker shares it

    control = socket.socket(fileno=fd)
    wake = os.pipe()
    os.set_blocking(wake[1], False)
    signal.set_wakeup_fd(wake[1])
    signal.signal(signal.SIGCHLD, lambda *_: None)
    gc.collect()
    gc.freeze()
    while True:
        ready, _, _ = select.select([control.fileno(), wake[0]], [], [])
        if wake[0] in ready:
            os.read(wake[0], 4096)
            _reap(control)
        if control.fileno() not in ready:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, 65536, 4)
        except OSError:
            return
        if not message:
            return  # the host is gone
        request = json.loads(message)
        if not fds:
            continue
        pid = os.fork()
        if pid == 0:
            _worker(control, wake, fds[0], request)
        for extra in fds:
            os.close(extra)
        control.send(json.dumps({"pid": pid, "id": request.get("id")}).encode())
        _reap(control)
