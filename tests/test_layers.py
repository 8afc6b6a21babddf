"""The layers of `engine` point one way: no package import cycle, a shippable kernel, one definition each.

Read from the source (no import needed): every `import` and `from ... import` in `engine/`, at any
depth (a lazy import inside a function is a dependency too), except those under `if TYPE_CHECKING:`,
which exist for the type checker only.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import engine

ENGINE = Path(engine.__file__).resolve().parent

SHIPPABLE = ("kernel", "guest")
"""Packages that ship to guests: standard library and msgpack only, nothing of engine but each other."""


def _unit(module: str) -> str:
    """The layer a module belongs to: `engine.kernel.protocol` -> `kernel`, `engine.client` -> `client`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    relative = path.relative_to(ENGINE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    def walk(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                yield from (n for stmt in child.orelse for n in walk_stmt(stmt))
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            yield from walk(child)

    def walk_stmt(stmt: ast.stmt) -> Iterator[ast.Import | ast.ImportFrom]:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            yield stmt
        yield from walk(stmt)

    yield from walk(tree)


def _imports(path: Path) -> Iterator[str]:
    """Absolute names of the modules `path` imports at run time."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif node.level == 0:
            yield node.module or ""
        else:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            target = ".".join([*base, node.module] if node.module else base)
            yield target
            for alias in node.names:  # `from . import protocol` names a module, `from .. import X` may not
                name = f"{target}.{alias.name}"
                if _is_module(name):
                    yield name


def _is_module(name: str) -> bool:
    where = ENGINE.parent.joinpath(*name.split("."))
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


def _engine_files() -> list[Path]:
    return sorted(p for p in ENGINE.rglob("*.py") if "__pycache__" not in p.parts)


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in _engine_files():
        source = _unit(_module_name(path))
        for target in _imports(path):
            if target == "engine" or target.startswith("engine."):
                unit = _unit(target)
                if unit != source:
                    graph.setdefault(source, set()).add(unit)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_engine_has_no_package_import_cycle() -> None:
    cycles = _cycles(_graph())
    assert cycles == [], "import cycles between engine's packages: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle() -> None:
    # The check above cannot pass vacuously.
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_the_known_dependencies() -> None:
    graph = _graph()
    assert "kernel" in graph["sandbox"]
    assert "kernel" in graph["guest"]
    assert "tools" in graph["codemode"]
    assert "codemode" in graph["client"]  # composed lazily, inside a method: still a dependency


def test_the_shippable_packages_import_only_the_standard_library_msgpack_and_each_other() -> None:
    allowed = set(sys.stdlib_module_names) | {"msgpack"}
    for package in SHIPPABLE:
        for path in (ENGINE / package).glob("*.py"):
            for target in _imports(path):
                top = target.split(".")[0]
                if top == "engine":
                    assert _unit(target) in SHIPPABLE, f"{path.name} imports {target}"
                else:
                    assert top in allowed, f"{package}/{path.name} imports {target}"


def test_nothing_below_the_client_imports_it_or_code_mode() -> None:
    graph = _graph()
    for layer in ("kernel", "sandbox", "guest", "executors", "bridge", "tools", "stubs", "catalog", "session"):
        assert not {"client", "codemode", "cli"} & graph.get(layer, set()), f"{layer} imports upward"
    assert "client" not in graph.get("codemode", set())


def test_the_cli_imports_only_the_public_api() -> None:
    for path in (ENGINE / "cli").glob("*.py"):
        for target in _imports(path):
            if target.startswith("engine"):
                assert target == "engine" or target.startswith("engine.cli"), f"cli/{path.name} imports {target}"


_SINGLE = {
    r"^Send = ": "Send",
    r"^HostChannel = ": "HostChannel",
    r"^def error_info\(": "error_info",
    r"^def to_plain\(": "to_plain",
    r"^FRAME_KINDS\b": "the frame table",
    r"^ERROR_KINDS\b": "the error kinds",
    r"^class ErrorInfo\(": "ErrorInfo",
    r"^def wrap_module\(": "the top-level wrap",
    r"^class ProgramNames\b": "the program's names",
    r"^def build_code_mode_server\(": "the code-mode MCP server",
}


def test_each_concept_is_defined_once() -> None:
    for pattern, concept in _SINGLE.items():
        where = [
            path.relative_to(ENGINE).as_posix()
            for path in _engine_files()
            if re.search(pattern, path.read_text(encoding="utf-8"), re.MULTILINE)
        ]
        assert len(where) == 1, f"{concept} is defined in {where}"
