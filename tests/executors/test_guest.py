"""The guest runtime on its own: shipped standalone, the link encoding, and the top-level rewrite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine
from engine.executors.bundle import BOOTSTRAP, bundle, bundle_files, ship_payload
from engine.kernel import protocol
from engine.kernel.link import LineDecoder, encode_line, encode_record
from engine.kernel.program import ProgramSyntaxError, compile_program
from engine.limits import Limits

ENGINE = Path(engine.__file__).resolve().parent


def test_the_bundle_imports_standalone_with_only_the_kernel_and_the_guest(tmp_path: Path) -> None:
    root = bundle(tmp_path / "bundle")
    script = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import engine.guest.main, engine.guest.runner, engine.guest.serve, engine.guest.output\n"
        "import engine.kernel.names, engine.kernel.link, engine.kernel.report, engine.kernel.program\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('engine.'))\n"
        "assert all(m.startswith(('engine.guest', 'engine.kernel')) for m in loaded), loaded\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('mcp', 'pydantic', 'anyio')], 'a host package'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-I", "-c", script, str(root)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_guest_folder_holds_exactly_what_ships() -> None:
    shipped = {name for name in bundle_files(include_msgpack=False) if name.endswith(".py")}
    on_disk = {
        f"engine/{package}/{path.name}" for package in ("guest", "kernel") for path in (ENGINE / package).glob("*.py")
    }
    assert shipped == on_disk | {"engine/__init__.py"}
    # Nothing in the shipped folders imports the rest of engine (so the bundle is complete).
    for name in on_disk:
        source = (ENGINE.parent / name).read_text(encoding="utf-8")
        for line in source.splitlines():
            if line.startswith(("from ..", "import engine", "from engine")):
                assert line.startswith(("from ..kernel", "from ..guest")), f"{name}: {line}"


def _guest_round_trip(command: list[str], preamble: bytes, code: str) -> dict[str, object]:
    run = protocol.encode(protocol.run_frame(7, code, Limits(timeout=10).as_dict(), {}))
    stdin = preamble + encode_record("f", 1, 0, 7, run)
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(stdin)
    process.stdin.flush()
    decoder = LineDecoder()
    try:
        while True:
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else "no output"
            for kind, _, _, _, data in decoder.feed(line):
                if kind == "f":
                    frame = protocol.decode(data)
                    if frame["k"] == "done":
                        return dict(frame["payload"])
    finally:
        process.kill()
        process.wait(10)


def test_the_shipped_guest_runs_on_a_bare_interpreter_with_its_own_msgpack() -> None:
    # `-S`: no site-packages, so msgpack can only come from the payload's pure-Python copy.
    payload = _guest_round_trip(
        [sys.executable, "-I", "-S", "-c", BOOTSTRAP, "--mode", "python"],
        ship_payload(include_msgpack=True),
        "import msgpack\nprint('shipped')\nreturn msgpack.__file__.split('/')[-3]",
    )
    assert payload["result"] == "_vendor"
    assert payload["logs"] == ["shipped"]


def test_the_rewrite_keeps_the_agents_line_numbers_and_binds_globals() -> None:
    program = compile_program("a = 1\n\n\nfor i in range(2):\n    b = i\nreturn 1 / 0\n")
    state: dict[str, object] = {}
    exec(program.code, state)
    main = state.pop("__agent_main__")
    with pytest.raises(ZeroDivisionError) as raised:
        main().send(None)  # type: ignore[operator]
    tb = raised.tb
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_lineno == 6
    assert state["a"] == 1 and state["b"] == 1 and state["i"] == 1


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("yield 1", "'yield' outside function"),
        ("nonlocal x", "nonlocal"),
        ("from __future__ import annotations", "__future__"),
    ],
)
def test_programs_that_cannot_be_a_function_body_are_refused(source: str, message: str) -> None:
    with pytest.raises(ProgramSyntaxError, match=message):
        compile_program(source)


records = st.lists(
    st.tuples(st.integers(1, 2**31), st.integers(0, 2**31), st.integers(0, 50), st.binary(max_size=300)),
    max_size=8,
)


@given(records, st.lists(st.integers(1, 400), max_size=20), st.booleans())
def test_lines_split_anywhere_decode_to_the_same_records(
    items: list[tuple[int, int, int, bytes]], cuts: list[int], as_text: bool
) -> None:
    stream = b"".join(encode_line("f", seq, ack, run, data) for seq, ack, run, data in items)
    decoder = LineDecoder()
    out = []
    position = 0
    for cut in [*cuts, len(stream)]:
        chunk = stream[position : position + cut]
        position += len(chunk)
        out += decoder.feed(chunk.decode() if as_text else chunk)
    out += decoder.feed(stream[position:])
    assert [(seq, ack, run, data) for _, seq, ack, run, data in out] == items


def test_fragments_and_corrupted_lines_are_dropped_not_misread() -> None:
    good = encode_line("f", 1, 0, 3, b"frame")
    corrupted = bytearray(encode_line("f", 2, 0, 3, b"other"))
    corrupted[5] ^= 1
    decoder = LineDecoder()
    out = decoder.feed(good[7:] + bytes(corrupted) + b"plain text\n" + good)
    assert [record[1] for record in out] == [1]
    assert decoder.dropped == 3
