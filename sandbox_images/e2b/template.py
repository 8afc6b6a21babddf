"""The E2B sandbox template that pre-installs the engine's guest runtime at a pinned version.

The image is Python 3.11 with msgpack pinned, plus the guest bundle (`engine.executors.bundle.bundle()`)
copied to `/opt/engine-guest`; `build.py` writes the bundle next to this file before building.
`E2BExecutor(template="engine-guest")` then starts `python3 -m engine.guest` from there instead of
shipping the source on every sandbox start.
"""

from __future__ import annotations

from pathlib import Path

from e2b import Template

from engine.guest import GUEST_VERSION

HERE = Path(__file__).resolve().parent
NAME = "engine-guest"
"""The template's name on E2B."""
GUEST_DIR = "/opt/engine-guest"
"""Where the guest is installed in the sandbox (the executor's `guest_path` default)."""
BUNDLE = "engine-guest"
"""The bundle directory, relative to this folder (written by `build.py`)."""
PYTHON_IMAGE = "3.11"
MSGPACK = "msgpack==1.2.4"
"""The one third-party package the guest needs, pinned."""


def make_template() -> object:
    """The template: Python, msgpack, the guest at `GUEST_DIR`, and a smoke import at build time."""
    check = f"import sys; sys.path.insert(0, '{GUEST_DIR}'); import engine.guest.serve, engine.guest.runner, engine.kernel.names"
    return (
        Template(file_context_path=HERE)
        .from_python_image(PYTHON_IMAGE)
        .pip_install([MSGPACK])
        .copy(BUNDLE, GUEST_DIR)
        .set_envs({"ENGINE_GUEST_VERSION": GUEST_VERSION, "ENGINE_GUEST_PATH": GUEST_DIR})
        .run_cmd(f'python3 -c "{check}"')
    )
