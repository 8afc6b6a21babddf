"""Entry point: `python -m engine.guest [--memory-bytes N] [--nofile N]` (the full-Python guest).

The shipped copy is laid out as `engine/kernel/` and `engine/guest/` and starts the same way.
"""

from __future__ import annotations

from .main import main

main()
