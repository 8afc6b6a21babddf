"""Every Python example in the README and in docs/ runs as written.

Each ```python block is parsed. Each block not marked `<!-- not run -->` on the line before it is
a complete program and is run in a fresh interpreter (top-level `await` allowed, as in
`python -m asyncio`) from a folder holding the README's `servers.json` (the two demo servers),
and must exit with status 0. Mark only fragments: output shown as Python, pieces of a larger
program, examples that need what a test cannot have (an E2B account).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NOT_RUN = "<!-- not run -->"

# Runs one snippet file like `python -m asyncio` would: top-level `await` allowed.
RUNNER = """
import ast, asyncio, sys
path = sys.argv[1]
code = compile(open(path, encoding="utf-8").read(), path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
outcome = eval(code, {"__name__": "__main__"})
if asyncio.iscoroutine(outcome):
    asyncio.run(outcome)
"""


@dataclass(frozen=True)
class Snippet:
    """One fenced Python block of a document."""

    path: Path
    line: int
    code: str
    run: bool

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _blocks(path: Path, language: str) -> list[tuple[int, str, bool]]:
    """`(line, code, marked not run)` of every ```language block of `path`."""
    found: list[tuple[int, str, bool]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    previous = ""
    index = 0
    while index < len(lines):
        text = lines[index]
        if text.strip() == f"```{language}":
            indent = text[: len(text) - len(text.lstrip())]
            start = index + 1
            end = start
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            body = [line.removeprefix(indent) for line in lines[start:end]]
            found.append((start, "\n".join(body) + "\n", previous.strip() == NOT_RUN))
            index = end + 1
            previous = ""
            continue
        if text.strip():
            previous = text
        index += 1
    return found


def snippets() -> list[Snippet]:
    return [
        Snippet(path, line, code, not marked)
        for path in DOCUMENTS
        for line, code, marked in _blocks(path, "python")
    ]


def servers_json() -> str:
    """The README's `servers.json`, with the venv's interpreter as it would be run from the root."""
    for _, text, _ in _blocks(ROOT / "README.md", "json"):
        if "mcpServers" in text and "engine.demo.servers" in text:
            config = json.loads(text)
            for entry in config["mcpServers"].values():
                if entry.get("command") == ".venv/bin/python":
                    entry["command"] = sys.executable
            return json.dumps(config)
    raise AssertionError("README.md has no servers.json block for the demo servers")


ALL = snippets()


def test_the_docs_have_examples_and_few_are_left_unrun() -> None:
    assert len([s for s in ALL if s.run]) >= 8
    unrun = [s.name for s in ALL if not s.run]
    assert len(unrun) <= 8, f"keep the list of fragments small: {unrun}"


@pytest.mark.parametrize("snippet", ALL, ids=[s.name for s in ALL])
def test_every_example_is_valid_python(snippet: Snippet) -> None:
    try:
        ast.parse(snippet.code, filename=snippet.name)
    except SyntaxError as exc:
        pytest.fail(f"{snippet.name}: {exc}")


RUNNABLE = [s for s in ALL if s.run]


@pytest.mark.parametrize("snippet", RUNNABLE, ids=[s.name for s in RUNNABLE])
def test_example_runs_as_written(snippet: Snippet, tmp_path: Path) -> None:
    (tmp_path / "servers.json").write_text(servers_json(), encoding="utf-8")
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code, encoding="utf-8")
    # As after `source .venv/bin/activate`: the venv's commands (`codemode`) are on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90,
    )
    assert done.returncode == 0, f"{snippet.name} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    # A program's warnings and tracebacks would land on stderr; an example prints none.
    assert not re.search(r"Traceback|Error|Warning", done.stderr), done.stderr[-4000:]
