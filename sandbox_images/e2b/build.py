"""Build the `engine-guest` E2B template, or print its Dockerfile offline.

```
python sandbox_images/e2b/build.py --dockerfile      # no network: render the Dockerfile
python sandbox_images/e2b/build.py                   # build on E2B (needs E2B_API_KEY)
python sandbox_images/e2b/build.py --name my-guest --cpu 2 --memory-mb 1024
```
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from e2b import Template, default_build_logger  # noqa: E402
from template import BUNDLE, NAME, make_template  # noqa: E402

from engine.executors.bundle import bundle  # noqa: E402


def write_bundle() -> Path:
    """(Re)write the guest bundle next to the template, at this engine's version."""
    target = HERE / BUNDLE
    if target.exists():
        shutil.rmtree(target)
    return bundle(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default=NAME)
    parser.add_argument("--dockerfile", action="store_true", help="print the Dockerfile and exit (offline)")
    parser.add_argument("--cpu", type=int, default=None)
    parser.add_argument("--memory-mb", type=int, default=None)
    options = parser.parse_args(argv)
    write_bundle()
    template = make_template()
    if options.dockerfile:
        print(Template.to_dockerfile(template), end="")  # type: ignore[arg-type]
        return 0
    info = Template.build(
        template,  # type: ignore[arg-type]
        options.name,
        cpu_count=options.cpu,
        memory_mb=options.memory_mb,
        on_build_logs=default_build_logger(),
    )
    print(f"built template {options.name!r}: {info}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
