"""The E2B template renders to a Dockerfile offline and pins what the executor expects."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from e2b import Template

from engine.executors.e2b import DEFAULT_TEMPLATE_GUEST_PATH
from engine.guest import GUEST_VERSION

HERE = Path(__file__).resolve().parents[2] / "sandbox_images" / "e2b"


def _template_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("engine_guest_template", HERE / "template.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_template_renders_to_a_dockerfile_that_installs_the_pinned_guest() -> None:
    module = _template_module()
    dockerfile = Template.to_dockerfile(module.make_template())
    lines = dockerfile.splitlines()
    assert lines[0] == "FROM python:3.11"
    assert f"RUN pip install msgpack=={importlib.metadata.version('msgpack')}" in lines
    assert f"COPY engine-guest {DEFAULT_TEMPLATE_GUEST_PATH}" in lines
    assert f"ENGINE_GUEST_VERSION={GUEST_VERSION}" in dockerfile
    assert any(line.startswith("RUN python3 -c") and "guest.serve" in line for line in lines)


def test_the_build_script_prints_the_dockerfile_and_writes_the_bundle_offline() -> None:
    done = subprocess.run(
        [sys.executable, str(HERE / "build.py"), "--dockerfile"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("FROM python:3.11")
    assert (HERE / "engine-guest" / "engine" / "guest" / "VERSION").read_text().strip() == GUEST_VERSION
