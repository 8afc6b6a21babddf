"""`main()`: parse the guest's options, take stdio for the channel, apply OS limits, serve.

Standard library + the shipped guest modules (the `restricted` mode also imports `engine`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from . import oslimits
from .serve import Engine, Guest, take_stdio

__all__ = ["main"]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="engine-guest", description="the engine's sandbox guest runtime")
    parser.add_argument("--mode", choices=("python", "restricted"), default="python")
    parser.add_argument("--memory-bytes", type=int, default=None, help="cap the address space this much above now")
    parser.add_argument("--nofile", type=int, default=None, help="cap open files")
    parser.add_argument("--no-cpu-ceiling", action="store_true", help="do not move RLIMIT_CPU per run")
    return parser.parse_args(argv)


def _engine(options: argparse.Namespace) -> Engine:
    if options.mode == "restricted":
        # Only a local child process runs in this mode: `engine` is importable there.
        from .restricted import RestrictedEngine

        return RestrictedEngine(cpu_ceiling=not options.no_cpu_ceiling)
    from .runner import FullPythonEngine

    return FullPythonEngine()


def main(argv: list[str] | None = None) -> None:
    """Run the guest until the host closes its stdin."""
    options = _parse(sys.argv[1:] if argv is None else argv)
    engine: Any = _engine(options)
    channel_in, channel_out = take_stdio()
    if options.memory_bytes is not None or options.nofile is not None:
        oslimits.apply(memory_bytes=options.memory_bytes, nofile=options.nofile)
    guest = Guest(engine, channel_in, channel_out)
    asyncio.run(guest.serve())
