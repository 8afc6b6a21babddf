"""`TypeChecker`: a warm `ty` language server that checks a program against the stubs in milliseconds.

`ty server` runs once per checker, in a private temporary workspace. The stubs are a module there
(`engine_tools.pyi`, on disk and open in the server, updated only when they change); each program
is one open document, replaced and checked with a pull-diagnostics request
(`textDocument/diagnostic`). The first check pays the server's start (a few hundred ms); later ones
cost about a millisecond. Checks are serialised (one document), which at that cost is no queue.

The check never stands in the way of a run it cannot judge: ty not installed, the server
crashing, a check over its deadline (the wait for another program's check included), a checker
busy with other programs for longer than `BUSY_WAIT`, a program whose check ran over its deadline
before (remembered by digest, so a program that makes ty spin costs its deadline once), a program
that does not parse or that the wrapper cannot express: the report says `skipped` and why; the
caller runs the program anyway. A server that died is started again at the next check.

The checker sees only the stubs and ty's bundled typeshed: its Python environment is an empty one
in the workspace (no site-packages of the host, no editable project, no user configuration), so a
program cannot learn the host's modules, constants or paths from what the check says.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..envelope import CheckFinding
from ..shapes import SHARED_NOTE
from .findings import StubNames, classify, diagnostic_parts, hidden, scrub
from .lsp import LanguageServer, ServerGone, clean_environment
from .source import MODULE, stubs_module, wrap

__all__ = ["CheckReport", "TypeChecker", "find_ty", "stub_names"]

DEFAULT_TIMEOUT = 3.0
"""Seconds one check may take, the server's start and the wait for another check included (then it
is skipped, the run goes ahead)."""

BUSY_WAIT = 1.0
"""Seconds a check waits while the checker checks other programs (checks are serialised); past
that it is skipped, so a queue of slow programs never holds up another agent's run."""

MAX_REMEMBERED = 256
"""Digests of programs whose check ran over its deadline, kept so they are not checked again."""

_TYPED_DICT = re.compile(r"^(?:class (\w+)\(TypedDict\)|(\w+) = TypedDict\()", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What one check found: `errors` (certain: refuse the run), `warnings`, or `skipped` and why."""

    status: Literal["ok", "skipped"]
    errors: list[CheckFinding] = field(default_factory=list)
    warnings: list[CheckFinding] = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0


def find_ty() -> str | None:
    """The `ty` executable: the one the `ty` package installed, else one on PATH."""
    try:
        from ty import find_ty_bin  # type: ignore[import-not-found,unused-ignore]

        found: Any = find_ty_bin()
        return str(found)
    except Exception:  # noqa: BLE001 - not installed, or installed without its binary
        return shutil.which("ty")


def stub_names(stubs: str, functions: dict[str, list[str]]) -> StubNames:
    """The names a finding is certain about: namespaces and their tools (`{namespace: [tool identifiers]}`)
    and the `TypedDict`s of `stubs` with their keys."""
    return StubNames(
        namespaces=frozenset(functions),
        functions=frozenset(f"{ns}.{tool}" for ns, tools in functions.items() for tool in tools),
        typed_dicts=_typed_dicts(stubs),
        shared=_shared(stubs),
    )


def _shared(stubs: str) -> frozenset[str]:
    """The stubs' TypedDicts learned only from the store: their docstring is `SHARED_NOTE`."""
    if SHARED_NOTE not in stubs:
        return frozenset()
    try:
        tree = ast.parse(stubs)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return frozenset()
    return frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef)
                     and (ast.get_docstring(node) or "").split() == SHARED_NOTE.split())


def _typed_dicts(stubs: str) -> dict[str, list[str]]:
    """`{name: keys}` of the stubs' `TypedDict`s, class form and functional form (keys as written)."""
    try:
        tree = ast.parse(stubs)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return {a or b: [] for a, b in _TYPED_DICT.findall(stubs)}
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == "TypedDict" for b in node.bases):
            found[node.name] = [item.target.id for item in node.body
                                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)]
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
              and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
              and node.value.func.id == "TypedDict"):
            fields = node.value.args[1] if len(node.value.args) > 1 else None
            keys = fields.keys if isinstance(fields, ast.Dict) else []
            names = [k.value for k in keys if isinstance(k, ast.Constant)]
            found[node.targets[0].id] = [name for name in names if isinstance(name, str)]
    return found


class TypeChecker:
    """A warm type checker; see the module docstring.

    Args:
        executable: the `ty` binary (default: `find_ty()`).
        timeout: seconds one check may take, the server's start included.
    """

    def __init__(self, executable: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.executable = executable
        self.timeout = timeout
        self._server: LanguageServer | None = None
        self._workspace: Path | None = None
        self._stubs: str | None = None
        self._stubs_version = 0
        self._program_version = 0
        self._lock = asyncio.Lock()
        self._slow: OrderedDict[str, None] = OrderedDict()
        self._checking = False
        self.starts = 0
        """How many times the server was started (a restart after a crash counts)."""

    async def check(self, code: str, stubs: str, names: StubNames) -> CheckReport:
        """Check `code` against `stubs` (rendered stubs source)."""
        started = time.perf_counter()

        def skipped(reason: str) -> CheckReport:
            return CheckReport("skipped", reason=reason, seconds=time.perf_counter() - started)

        wrapped = wrap(code)
        if wrapped is None:
            return skipped("the program does not parse (the run reports where)")
        module = stubs_module(stubs)
        digest = hashlib.sha256(
            f"{len(wrapped.source)}:{wrapped.source}{module}".encode("utf-8", "surrogatepass")
        ).hexdigest()
        if digest in self._slow:
            return skipped(f"checking this program took longer than {self.timeout:g} s before; it is not checked again")
        if not await self._acquire(min(BUSY_WAIT, self.timeout)):
            return skipped(f"the type checker was busy with other programs for {min(BUSY_WAIT, self.timeout):g} s")
        try:
            self._checking = False
            remaining = max(self.timeout - (time.perf_counter() - started), 0.01)
            diagnostics, encoding = await asyncio.wait_for(self._diagnostics(wrapped.source, module), remaining)
            workspace = self._workspace
        except TimeoutError:
            if self._checking:  # the server was up and the program itself was slow: not again
                self._slow[digest] = None
                while len(self._slow) > MAX_REMEMBERED:
                    self._slow.popitem(last=False)
            await self._stop(polite=False)  # a server spinning on a program would not answer `shutdown`
            return skipped(f"the type check took longer than {self.timeout:g} s")
        except (ServerGone, OSError) as exc:
            paths = self._paths()
            await self._stop()
            return skipped(scrub(str(exc)[:500], paths))
        finally:
            self._lock.release()
        paths = self._paths(workspace)
        errors: list[CheckFinding] = []
        warnings: list[CheckFinding] = []
        for diagnostic in diagnostics:
            parts = diagnostic_parts(diagnostic)
            if parts is None:
                continue
            rule, message, severity, line, character = parts
            if severity > 2 or hidden(rule, message):
                continue
            message = scrub(message, paths)
            where = wrapped.position(line, character, encoding)
            if rule == "invalid-syntax":
                return skipped(f"the checker could not read the wrapped program: {message}")
            if where is None:
                continue
            verdict = classify(rule, message, where[0], where[1], names)
            (errors if verdict.certain and severity == 1 else warnings).append(verdict.finding)
        errors.sort(key=lambda f: (f["line"] or 0, f["column"] or 0))
        warnings.sort(key=lambda f: (f["line"] or 0, f["column"] or 0))
        return CheckReport("ok", errors, warnings, seconds=time.perf_counter() - started)

    async def _acquire(self, wait: float) -> bool:
        """Take the checker's lock within `wait` seconds; False when another check holds it longer."""
        acquiring = asyncio.ensure_future(self._lock.acquire())
        try:
            await asyncio.wait({acquiring}, timeout=wait)
        finally:
            if not acquiring.done():
                acquiring.cancel()
                # Granted in the same moment it was given up: hand the lock back.
                acquiring.add_done_callback(
                    lambda task: None if task.cancelled() or task.exception() else self._lock.release())
        return acquiring.done() and not acquiring.cancelled() and acquiring.exception() is None

    def _paths(self, workspace: Path | None = None) -> list[str]:
        """The host paths a message of the checker may name (they are cut out of it)."""
        workspace = workspace or self._workspace
        if workspace is None:
            return []
        return [workspace.as_uri(), str(workspace), str(workspace.resolve())]

    async def start(self) -> None:
        """Start the server now (else the first check does)."""
        async with self._lock:
            await asyncio.wait_for(self._ensure(), self.timeout)

    async def aclose(self) -> None:
        await self._stop()

    # -- internals -----------------------------------------------------------------------------

    async def _ensure(self) -> LanguageServer:
        server = self._server
        if server is not None and server.alive:
            return server
        await self._stop()
        executable = self.executable or find_ty()
        if executable is None:
            raise ServerGone("the type checker ty is not installed (pip install 'engine[check]')")
        workspace = Path(tempfile.mkdtemp(prefix="engine-check-"))
        self._workspace = workspace
        _empty_environment(workspace)
        server = LanguageServer([executable, "server"], cwd=str(workspace), env=clean_environment(workspace))
        self._server = server
        self.starts += 1
        uri = workspace.as_uri()
        await server.start({
            "processId": os.getpid(),
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": "engine-check"}],
            "capabilities": {
                "general": {"positionEncodings": ["utf-32", "utf-16"]},
                "textDocument": {"diagnostic": {"dynamicRegistration": False}},
            },
        }, timeout=self.timeout)
        self._stubs = None
        self._program_version = 0
        return server

    async def _diagnostics(self, program: str, stubs: str) -> tuple[list[Any], str]:
        server = await self._ensure()
        self._checking = True
        assert self._workspace is not None
        stubs_uri = (self._workspace / f"{MODULE}.pyi").as_uri()
        program_uri = (self._workspace / "program.py").as_uri()
        if stubs != self._stubs:
            (self._workspace / f"{MODULE}.pyi").write_text(stubs, encoding="utf-8", errors="surrogatepass")
            self._stubs_version += 1
            if self._stubs is None:
                server.notify("textDocument/didOpen", {"textDocument": {
                    "uri": stubs_uri, "languageId": "python", "version": self._stubs_version, "text": stubs}})
            else:
                server.notify("textDocument/didChange", {
                    "textDocument": {"uri": stubs_uri, "version": self._stubs_version},
                    "contentChanges": [{"text": stubs}]})
            self._stubs = stubs
        self._program_version += 1
        if self._program_version == 1:
            server.notify("textDocument/didOpen", {"textDocument": {
                "uri": program_uri, "languageId": "python", "version": 1, "text": program}})
        else:
            server.notify("textDocument/didChange", {
                "textDocument": {"uri": program_uri, "version": self._program_version},
                "contentChanges": [{"text": program}]})
        answer = await server.request("textDocument/diagnostic", {"textDocument": {"uri": program_uri}},
                                      timeout=self.timeout)
        items = answer.get("items") if isinstance(answer, dict) else None
        encoding = server.capabilities.get("positionEncoding", "utf-16")
        return (items if isinstance(items, list) else []), str(encoding)

    async def _stop(self, *, polite: bool = True) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(Exception):
                await server.aclose(polite=polite)
        workspace, self._workspace = self._workspace, None
        if workspace is not None:
            shutil.rmtree(workspace, ignore_errors=True)
        self._stubs = None


def _empty_environment(workspace: Path) -> None:
    """The checker's project in `workspace`: its Python environment is an empty virtual environment
    there (`env`, no site-packages), with no extra search paths, so an import resolves only to the
    stubs module or ty's bundled typeshed, never to a module of the host."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    env = workspace / "env"
    (env / "bin").mkdir(parents=True)
    (env / "lib" / f"python{version}" / "site-packages").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text(f"home = {env / 'bin'}\ninclude-system-site-packages = false\n"
                                    f"version = {version}.0\n")
    (workspace / "pyproject.toml").write_text(
        '[project]\nname = "engine-check"\nversion = "0"\n\n[tool.ty.environment]\n'
        f'python-version = "{version}"\npython = "env"\nextra-paths = []\nroot = ["."]\n'
    )
