"""`main()`: parse the guest's options, take stdio for the channel, apply OS limits, serve.

`run(engine, ...)` is the same start-up for any engine: the full-Python one here, or the restricted
one a local worker process brings (`engine.executors._child`), which is not shipped.

Standard library + the shipped guest modules.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from . import oslimits
from .serve import Engine, Guest, take_stdio

__all__ = ["main", "parse", "run"]


def parse(argv: list[str]) -> argparse.Namespace:
    """The guest's options."""
    parser = argparse.ArgumentParser(prog="engine-guest", description="the engine's sandbox guest runtime")
    parser.add_argument("--mode", choices=("python", "restricted"), default="python")
    parser.add_argument("--memory-bytes", type=int, default=None, help="cap the address space this much above now")
    parser.add_argument("--nofile", type=int, default=None, help="cap open files")
    parser.add_argument("--no-cpu-ceiling", action="store_true", help="do not move RLIMIT_CPU per run")
    return parser.parse_args(argv)


def run(
    engine: Engine, options: argparse.Namespace, confine: Callable[[], dict[str, Any]] | None = None
) -> None:
    """Take stdio, cap the process, confine it (`confine`, if given), and serve `engine` until the
    host closes the channel. The hello record reports what `confine` says took effect."""
    channel_in, channel_out = take_stdio()
    if options.memory_bytes is not None or options.nofile is not None:
        oslimits.apply(memory_bytes=options.memory_bytes, nofile=options.nofile)
    # The loop first: it makes its self-pipe with socketpair(), which a confined process may not call.
    loop = asyncio.new_event_loop()
    try:
        report = confine() if confine is not None else {}
        guest = Guest(engine, channel_in, channel_out, hello={"confinement": report})
        loop.run_until_complete(guest.serve())
    finally:
        loop.close()


def main(argv: list[str] | None = None) -> None:
    """Run the full-Python guest until the host closes its stdin."""
    options = parse(sys.argv[1:] if argv is None else argv)
    if options.mode != "python":
        raise SystemExit(f"engine-guest: mode {options.mode!r} is not shipped here")
    from .runner import FullPythonEngine

    run(FullPythonEngine(), options)
