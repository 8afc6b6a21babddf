"""Ship the guest as source: one flat directory, or a payload a tiny bootstrap unpacks from stdin.

The bundle is the `engine` package cut down to what ships: an empty `engine/__init__.py`, every
module of `engine/kernel/` and of `engine/guest/`, laid out as in the source tree so their relative
imports work unchanged. Optionally it carries the pure-Python part of the host's installed msgpack
under `_vendor/`, appended to `sys.path` so an installed msgpack wins.

```python
bundle(path)                        # write the bundle into a directory (the E2B template does this)
command = bootstrap_command()       # `python3 -u -c '<bootstrap>' --mode python`
payload = ship_payload()            # write this to the process's stdin first
```
"""

from __future__ import annotations

import json
import shlex
import struct
from pathlib import Path

from ..guest import GUEST_VERSION

__all__ = ["BOOTSTRAP", "bootstrap_command", "bundle", "bundle_files", "installed_command", "ship_payload"]

_ENGINE = Path(__file__).resolve().parent.parent
_SHIPPED = ("kernel", "guest")
"""The packages that ship, whole: every `.py` file in them (a test checks the folders hold nothing else)."""
_MSGPACK_MODULES = ("__init__", "exceptions", "ext", "fallback")

BOOTSTRAP = """\
import json, os, sys, tempfile
def read(n):
    data = b''
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            raise SystemExit('engine guest bootstrap: stdin closed')
        data += chunk
    return data
files = json.loads(read(int.from_bytes(read(4), 'big')))
root = tempfile.mkdtemp(prefix='engine-guest-')
for name, text in files.items():
    path = os.path.join(root, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
sys.path.insert(0, root)
sys.path.append(os.path.join(root, '_vendor'))
from engine.guest.main import main
main(sys.argv[1:])
"""
"""Reads a `ship_payload()` from stdin, writes it to a temporary directory and runs the guest."""


def bundle_files(*, include_msgpack: bool = True) -> dict[str, str]:
    """The bundle as `{relative path: source}`."""
    files = {
        "engine/__init__.py": '"""The parts of engine that ship to a guest."""\n',
        "engine/guest/VERSION": GUEST_VERSION + "\n",
    }
    for package in _SHIPPED:
        for path in sorted((_ENGINE / package).glob("*.py")):
            files[f"engine/{package}/{path.name}"] = path.read_text(encoding="utf-8")
    if include_msgpack:
        import msgpack

        where = Path(msgpack.__file__).resolve().parent
        for name in _MSGPACK_MODULES:
            files[f"_vendor/msgpack/{name}.py"] = (where / f"{name}.py").read_text(encoding="utf-8")
    return files


def bundle(directory: str | Path, *, include_msgpack: bool = False) -> Path:
    """Write the bundle into `directory` (created if needed); return it. Run with `python -m engine.guest`."""
    root = Path(directory)
    for name, text in bundle_files(include_msgpack=include_msgpack).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def ship_payload(*, include_msgpack: bool = True) -> bytes:
    """What the bootstrap reads from stdin: a 4-byte length, then the files as JSON."""
    body = json.dumps(bundle_files(include_msgpack=include_msgpack)).encode("utf-8")
    return struct.pack(">I", len(body)) + body


def bootstrap_command(python: str = "python3", *, mode: str = "python") -> str:
    """A shell command that starts a guest from a shipped payload."""
    return f"{shlex.quote(python)} -u -c {shlex.quote(BOOTSTRAP)} --mode {shlex.quote(mode)}"


def installed_command(path: str, python: str = "python3", *, mode: str = "python") -> str:
    """A shell command that starts a guest pre-installed at `path` (see `sandbox_images/e2b`)."""
    return f"cd / && PYTHONPATH={shlex.quote(path)} {shlex.quote(python)} -u -m engine.guest --mode {shlex.quote(mode)}"
