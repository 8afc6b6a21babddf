"""Kernel confinement a `process` worker puts on itself before it serves a run (Linux, x86_64).

Four layers, each applied where the kernel allows and reported either way (`confine()` returns
what took effect, and the executor says it in `ProcessExecutor.confinement`):

- **network**: a fresh network namespace (`unshare(CLONE_NEWNET)`): no interface but a loopback
  that is down, so nothing can be reached; and a fresh IPC namespace (no System V shared memory or
  queues shared with the host);
- **capabilities**: every one dropped, from the bounding set too (a host running as root gives its
  workers none of root's privileges);
- **filesystem**: Landlock: read (and map executable) only under the interpreter's own prefixes and
  the engine package; no write, create, remove or rename anywhere; other files (`/etc/passwd`,
  the host's home, the rest of a checkout) cannot be opened; from ABI 6, no signal to a process
  outside the worker and no abstract Unix socket;
- **syscalls**: a seccomp filter that refuses new processes (`fork`, `vfork`, `clone` without
  `CLONE_THREAD`; `clone3` answers ENOSYS so threads fall back to `clone`), `execve`, sockets,
  signals and limits or scheduling of other processes, ptrace, memory outside the address-space
  limit (`memfd_create`, System V IPC), namespaces, mounts, file watches, the clock, module
  loading, BPF and the like.

The worker's own channel (an inherited socket) and its threads keep working: a filter cannot take
away a descriptor that is already open, and thread creation is allowed. Standard library only.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["confine", "filesystem", "network", "syscalls"]

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _error() -> str:
    code = ctypes.get_errno()
    return f"{errno.errorcode.get(code, code)}"


# -- network -------------------------------------------------------------------------------------

_CLONE_NEWNET = 0x40000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000


def network() -> str:
    """Move into a new, empty network namespace (and IPC namespace: no System V shared memory or
    message queues shared with the host); returns how (or why not)."""
    if _libc.unshare(_CLONE_NEWNET | _CLONE_NEWIPC) == 0:
        return "namespace"
    # Without CAP_SYS_ADMIN, a user namespace grants it inside (where the kernel allows that).
    if _libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET | _CLONE_NEWIPC) == 0:
        return "user+network namespace"
    return f"unavailable ({_error()})"


# -- capabilities --------------------------------------------------------------------------------

_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_LAST_CAP = 63


def capabilities() -> str:
    """Drop every capability, from the bounding set too: a worker of a host that runs as root keeps
    no privilege of root's (fanotify, syslog, setting the clock or the hostname...)."""
    if platform.machine() != "x86_64":
        return f"unavailable (no capset number for {platform.machine()})"
    for cap in range(_LAST_CAP + 1):
        _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the kernel's last one: ignored
    _libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = ctypes.create_string_buffer(struct.pack("=Ii", _LINUX_CAPABILITY_VERSION_3, 0))
    data = ctypes.create_string_buffer(bytes(24))  # effective, permitted, inheritable: all zero (x2)
    if _libc.syscall(126, header, data) != 0:  # capset (x86_64 and aarch64 differ: see `syscalls`)
        return f"unavailable ({_error()})"
    return "none"


# -- filesystem (Landlock) -----------------------------------------------------------------------

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # the same on x86_64 and aarch64
_RULE_PATH_BENEATH = 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
"""Landlock ABI 6+: no signals to processes outside the domain (which also covers `F_SETOWN`), no
connecting to abstract Unix sockets outside it."""
_EXECUTE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 2, 1 << 3
_ALL_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
"""The filesystem rights each Landlock ABI knows: every one is handled (so denied unless a rule grants it)."""


def _readable_roots() -> list[str]:
    # The engine package only, not the folder it sits in (a checkout's .git, tests, servers).
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checkout = os.path.dirname(package)
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, package}
    roots |= {p for p in sys.path if p and os.path.isdir(p) and os.path.realpath(p) != os.path.realpath(checkout)}
    roots |= {"/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/share/zoneinfo", "/proc/self", "/dev/null"}
    return sorted(r for r in roots if os.path.exists(r))


def filesystem(readable: Iterable[str] | None = None) -> str:
    """Forbid writes everywhere and reads outside `readable` (default: the interpreter's files)."""
    abi = _libc.syscall(_SYS_CREATE_RULESET, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        return f"unavailable (Landlock: {_error()})"
    handled = _ALL_BY_ABI.get(abi, _ALL_BY_ABI[4])
    # ABI 6+ also scopes signals and abstract sockets; the struct grows with the ABI.
    attr = struct.pack("=QQQ", handled, 0, _SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX_SOCKET) if abi >= 6 else (
        struct.pack("=Q", handled)
    )
    ruleset = _libc.syscall(_SYS_CREATE_RULESET, ctypes.c_char_p(attr), len(attr), 0)
    if ruleset < 0:
        return f"unavailable (Landlock ruleset: {_error()})"
    try:
        for path in readable if readable is not None else _readable_roots():
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rights = _READ_FILE | _EXECUTE if not os.path.isdir(path) else _READ_FILE | _READ_DIR | _EXECUTE
                rule = struct.pack("=Qi", rights & handled, fd)
                if _libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.c_char_p(rule), 0) != 0:
                    return f"unavailable (Landlock rule for {path}: {_error()})"
            finally:
                os.close(fd)
        if _libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            return f"unavailable (Landlock restrict: {_error()})"
    finally:
        os.close(ruleset)
    return f"landlock (ABI {abi})"


# -- syscalls (seccomp) --------------------------------------------------------------------------

_AUDIT_ARCH_X86_64 = 0xC000003E
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL = 0x80000000
_CLONE_THREAD = 0x00010000
_X86_64_DENY = {
    # processes and programs
    "fork": 57, "vfork": 58, "execve": 59, "execveat": 322,
    # network
    "socket": 41, "connect": 42, "accept": 43, "bind": 49, "listen": 50, "socketpair": 53, "accept4": 288,
    # other processes
    "kill": 62, "tkill": 200, "tgkill": 234, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
    "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438, "rt_sigqueueinfo": 129,
    "rt_tgsigqueueinfo": 297, "setpriority": 141, "sched_setparam": 142, "sched_setscheduler": 144,
    "sched_setaffinity": 203, "sched_setattr": 314, "ioprio_set": 251, "migrate_pages": 256, "move_pages": 279,
    # memory outside the address-space limit, and state shared with the host
    "memfd_create": 319, "shmget": 29, "shmat": 30, "shmctl": 31, "msgget": 68, "semget": 64, "mq_open": 240,
    # watching or gating the host's files, the kernel log, the clock, the hostname, raw I/O
    "fanotify_init": 300, "inotify_init": 253, "inotify_init1": 294, "inotify_add_watch": 254, "syslog": 103,
    "sethostname": 170, "setdomainname": 171, "clock_settime": 227, "clock_adjtime": 305, "adjtimex": 159,
    "ioperm": 173, "iopl": 172, "kexec_file_load": 320, "personality": 135, "vhangup": 153,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "name_to_handle_at": 303, "open_by_handle_at": 304, "lookup_dcookie": 212,
    # the system
    "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246, "reboot": 169,
    "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "keyctl": 250, "add_key": 248, "request_key": 249,
    "io_uring_setup": 425, "swapon": 167, "swapoff": 168, "acct": 163, "settimeofday": 164,
}
_CLONE, _CLONE3, _PRLIMIT64 = 56, 435, 302


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _filter() -> bytes:
    ld_w_abs, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    eperm = _RET_ERRNO | errno.EPERM
    program = [
        _instruction(ld_w_abs, 0, 0, 4),  # arch
        _instruction(jeq, 1, 0, _AUDIT_ARCH_X86_64),
        _instruction(ret, 0, 0, _RET_KILL),
        _instruction(ld_w_abs, 0, 0, 0),  # syscall number
        _instruction(jge, 0, 1, 0x40000000),  # the x32 ABI: not ours
        _instruction(ret, 0, 0, eperm),
        _instruction(jeq, 0, 1, _CLONE3),
        _instruction(ret, 0, 0, _RET_ERRNO | errno.ENOSYS),  # glibc then creates threads with clone
        _instruction(jeq, 0, 4, _CLONE),
        _instruction(ld_w_abs, 0, 0, 16),  # clone's flags (low 32 bits of the first argument)
        _instruction(jset, 0, 1, _CLONE_THREAD),
        _instruction(ret, 0, 0, _RET_ALLOW),  # a thread
        _instruction(ret, 0, 0, eperm),  # a process
        _instruction(ld_w_abs, 0, 0, 0),  # the syscall number again
        _instruction(jeq, 0, 6, _PRLIMIT64),  # not prlimit64: on to the deny list below
        _instruction(ld_w_abs, 0, 0, 16),  # its pid (low 32 bits) ...
        _instruction(jeq, 0, 2, 0),
        _instruction(ld_w_abs, 0, 0, 20),  # ... and high 32 bits: 0 is this process
        _instruction(jeq, 1, 0, 0),
        _instruction(ret, 0, 0, eperm),  # another process's limits
        _instruction(ret, 0, 0, _RET_ALLOW),
    ]
    # Reached with the syscall number loaded (clone's path returned above).
    for number in sorted(_X86_64_DENY.values()):
        program.append(_instruction(jeq, 0, 1, number))
        program.append(_instruction(ret, 0, 0, eperm))
    program.append(_instruction(ret, 0, 0, _RET_ALLOW))
    return b"".join(program)


def syscalls() -> str:
    """Install the seccomp filter (needs `PR_SET_NO_NEW_PRIVS`, which `oslimits.apply` sets)."""
    if platform.machine() != "x86_64":
        return f"unavailable (no filter for {platform.machine()})"
    code = _filter()
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = struct.pack("=HxxxxxxQ", len(code) // 8, ctypes.addressof(buffer))
    pr_set_seccomp, seccomp_mode_filter = 22, 2
    if _libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.c_char_p(prog), 0, 0) != 0:
        return f"unavailable (seccomp: {_error()})"
    return "seccomp"


def confine(*, net: bool = True, files: bool = True, calls: bool = True) -> dict[str, Any]:
    """Apply the layers asked for: the namespaces first (they need the capabilities that are
    dropped next), the filter last (it refuses `unshare`)."""
    report: dict[str, Any] = {}
    if net:
        report["network"] = network()
    report["capabilities"] = capabilities()
    if files:
        report["filesystem"] = filesystem()
    if calls:
        report["syscalls"] = syscalls()
    return report
