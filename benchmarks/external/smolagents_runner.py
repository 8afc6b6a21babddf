"""Times smolagents' `LocalPythonExecutor` on a program; runs in `benchmarks/.envs/smolagents`.

Not part of engine and never imports it. One JSON request per line on stdin, one reply per line:

- `{"op": "run", "code": "...", "n": N}` runs the program N times in one executor (the way an agent
  reuses it) and replies with the durations (seconds) and the program's value;
- `{"op": "version"}`.
"""

from __future__ import annotations

import json
import sys
import time
from importlib import metadata
from typing import Any

from smolagents.local_python_executor import LocalPythonExecutor

_executor = LocalPythonExecutor(additional_authorized_imports=[])
_executor.send_tools({})


def handle(request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "version":
        return {"smolagents": metadata.version("smolagents")}
    if op == "run":
        durations = []
        value = None
        for _ in range(int(request["n"])):
            started = time.perf_counter()
            output = _executor(request["code"])
            durations.append(time.perf_counter() - started)
            value = output.output
        return {"durations": durations, "value": value}
    return {"error": f"unknown op {op!r}"}


def main() -> None:
    for line in sys.stdin:
        try:
            reply = handle(json.loads(line))
        except Exception as exc:  # report, keep serving: the harness decides what is fatal
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
