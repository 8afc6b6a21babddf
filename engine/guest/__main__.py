"""Entry point: `python -m engine.guest [--mode python|restricted] [--memory-bytes N] [--nofile N]`.

The shipped copy runs the same `main()` as `python -m guest` from the bundle directory.
"""

from __future__ import annotations

from .main import main

main()
