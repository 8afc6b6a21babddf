"""The check's bounds against programs that make the checker slow (review of issue 16): a check's
wait for another program's check counts within its deadline and is short (past it the check is
skipped, the run goes ahead and the envelope says so), and a program whose check ran over its
deadline is remembered and not checked again. Real client, real `ty` server; no wall-clock
assertions (the lock is held by the test itself, the slow program is one ty spins on)."""

from __future__ import annotations

import pytest

from engine.typecheck import TypeChecker, stub_names
from tests.shapes.files import files
from tests.typecheck.test_precheck import client_for, learned

pytestmark = pytest.mark.anyio

# About 500 characters on which ty spins (each line doubles the union it infers for `x`).
SPIN = "x = 0\nk = 3\nfor i in range(10):\n" + "    x = [x] if i == k else (x, x)\n" * 14 + "return x\n"


async def test_a_check_does_not_queue_behind_a_busy_checker() -> None:
    state = files()
    async with client_for(state) as client:
        await learned(state, client)
        checker = client.code_mode_engine().typed.checker
        async with checker._lock:  # another program's check in progress, for as long as this one waits
            out = await client.execute_code('r = await files.search_files(pattern="a")\nreturn r["count"]')
        assert out["status"] == "ok" and out["result"] == 1, out
        (skipped,) = out["check_warnings"]
        assert skipped["type"] == "TypeCheckSkipped" and "busy" in skipped["message"], skipped
        out = await client.execute_code('r = await files.search_files(pattern="a")\nreturn r["size"]')
        assert out["error_info"]["type"] == "KeyError", out  # the checker is free again: checks as before
        assert not checker._lock.locked()


async def test_a_program_that_makes_the_checker_spin_costs_its_deadline_once() -> None:
    checker = TypeChecker(timeout=60.0)
    names = stub_names("", {})
    try:
        await checker.start()  # a slow start is not the program's fault: only its own check is timed
        checker.timeout = 1.0
        first = await checker.check(SPIN, "", names)
        assert first.status == "skipped" and "longer than 1 s" in first.reason, first
        again = await checker.check(SPIN, "", names)
        assert again.status == "skipped" and "not checked again" in again.reason, again
        assert checker.starts == 1  # the second was not sent to a server at all
        checker.timeout = 60.0
        ok = await checker.check("y: int = 'a'\nreturn y", "", names)  # another program is checked as before
        assert ok.status == "ok" and [w["rule"] for w in ok.warnings] == ["invalid-assignment"], ok
        assert checker.starts == 2 and not checker._lock.locked()
    finally:
        await checker.aclose()
