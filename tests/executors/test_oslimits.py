"""`guest.oslimits.cpu_ceiling`, the OS backstop behind the watchdog: the soft `RLIMIT_CPU` always
sits at the process's CPU time so far plus the run's budget, moved by each run (and not re-set when
a short run lands on the same whole second), and a process that burns past it is killed by the OS.
Each check runs in a child interpreter: the limits are process-wide."""

from __future__ import annotations

import signal
import subprocess
import sys

CHECK = """
import math, resource
from engine.guest import oslimits

def used():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime

def burn(seconds):
    start = used()
    while used() - start < seconds:
        sum(range(10_000))

oslimits.apply(memory_bytes=None)
for budget in (3, 3, 2):
    burn(0.6)
    before = used()
    oslimits.cpu_ceiling(budget)
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    assert math.ceil(before + budget) <= soft <= math.ceil(used() + budget), (before, budget, soft)
    assert hard != resource.RLIM_INFINITY and soft <= hard
print("ok")
"""

KILLED = """
import resource
from engine.guest import oslimits
oslimits.cpu_ceiling(1)
oslimits.cpu_ceiling(1)  # the same second: nothing re-set, and still enforced
while True:
    pass
"""


def test_the_ceiling_follows_the_process_cpu_time_run_after_run() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_process_that_burns_past_the_ceiling_is_killed_by_the_os() -> None:
    done = subprocess.run([sys.executable, "-c", KILLED], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGXCPU
