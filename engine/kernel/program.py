"""A program's shape: top-level `await` and `return`, compiled so that tracebacks speak in its lines.

The module body becomes the body of `async def __agent_main__()`. The move is done on the AST (never
by re-indenting source text), so every line number stays the agent's. Names the module body binds
are declared `global` in the new function, so they stay module globals, which is what code sessions
keep between executions.

`parse` and `compile_wrapped` are the two halves every executor uses: the in-process sandbox runs its
policy between them (`engine.sandbox.compiler`); a guest with full Python calls `compile_program`.

Standard library only: ships to guests with the kernel.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from types import CodeType

__all__ = [
    "AGENT_FILENAME",
    "MAIN_NAME",
    "CompiledProgram",
    "ProgramSyntaxError",
    "compile_program",
    "compile_wrapped",
    "parse",
    "top_level_names",
    "wrap_module",
]

AGENT_FILENAME = "<agent>"
"""The filename of every frame that runs the agent's code: how tracebacks tell its frames apart."""

MAIN_NAME = "__agent_main__"

_CO_ASYNC_GENERATOR = 0x200


@dataclass(frozen=True)
class CompiledProgram:
    """A compiled program: executing `code` in a globals dict defines `__agent_main__` there."""

    code: CodeType
    source_lines: tuple[str, ...]


class ProgramSyntaxError(Exception):
    """The program does not compile (a syntax error, or a construct a policy forbids).

    `errors` are every message as `"Line N: ..."`; `line` and `message` describe the first.
    """

    def __init__(self, errors: tuple[str, ...], line: int | None, message: str) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.line = line
        self.message = message

    @classmethod
    def at(cls, line: int | None, message: str) -> ProgramSyntaxError:
        """One error at `line` (or at no line)."""
        return cls((f"Line {line}: {message}" if line is not None else message,), line, message)


class _TopLevelNames(ast.NodeVisitor):
    """Names bound in the module's own scope (not in functions, classes, lambdas or comprehensions)."""

    def __init__(self) -> None:
        self.names: dict[str, None] = {}

    def _add(self, name: str | None) -> None:
        if name:
            self.names[name] = None

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store | ast.Del):
            self._add(node.id)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._add(node.name)
        for deco in node.decorator_list:
            self.visit(deco)
        self.visit(node.args)  # defaults are evaluated here: a walrus in one binds at top level
        if node.returns is not None:
            self.visit(node.returns)  # and so is the return annotation

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._add(node.name)
        for expr in [*node.decorator_list, *node.bases]:
            self.visit(expr)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.args)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        # Only walrus targets inside a comprehension bind in the enclosing scope.
        for child in ast.walk(node):
            if isinstance(child, ast.NamedExpr) and isinstance(child.target, ast.Name):
                self._add(child.target.id)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self._add(alias.asname or alias.name)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self._add(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        self._add(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self._add(node.rest)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            self._add(name)


def top_level_names(tree: ast.Module) -> list[str]:
    """The names the module body binds at top level, in order of first appearance."""
    finder = _TopLevelNames()
    for stmt in tree.body:
        finder.visit(stmt)
    return list(finder.names)


def parse(source: str) -> ast.Module:
    """Parse the agent's source; raise `ProgramSyntaxError` with its line."""
    try:
        tree = ast.parse(source, AGENT_FILENAME, "exec")
    except SyntaxError as exc:
        raise ProgramSyntaxError.at(exc.lineno, exc.msg or "invalid syntax") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        raise ProgramSyntaxError((str(exc),), None, f"cannot parse program: {exc}") from None
    for node in tree.body:
        # Both would be legal at module level and are not inside the wrapper function.
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            raise ProgramSyntaxError.at(node.lineno, "from __future__ imports are not supported")
        if isinstance(node, ast.Nonlocal):
            raise ProgramSyntaxError.at(node.lineno, "nonlocal declaration not allowed at module level")
    return tree


def wrap_module(tree: ast.Module, names: list[str]) -> ast.Module:
    """Move the module body into `async def __agent_main__()`, declaring `names` global there."""
    body = tree.body or [ast.Pass(lineno=1, col_offset=0)]
    first = body[0]
    stmts: list[ast.stmt] = []
    if names:
        stmts.append(ast.copy_location(ast.Global(names=names), first))
    stmts.extend(body)
    func = ast.AsyncFunctionDef(
        name=MAIN_NAME,
        args=ast.arguments(
            posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
        ),
        body=stmts,
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    if "type_params" in ast.AsyncFunctionDef._fields:  # Python 3.12+ (a guest may run a newer one)
        setattr(func, "type_params", [])  # noqa: B010 - unknown to 3.11's stubs
    ast.copy_location(func, first)
    module = ast.Module(body=[func], type_ignores=[])
    ast.fix_missing_locations(module)
    return module


def compile_wrapped(tree: ast.Module, names: list[str], source: str) -> CompiledProgram:
    """Wrap `tree` (already checked or transformed by a policy) and compile it."""
    module = wrap_module(tree, names)
    try:
        code = compile(module, AGENT_FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ProgramSyntaxError.at(exc.lineno, exc.msg or "invalid syntax") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ProgramSyntaxError((str(exc),), None, f"cannot compile program: {exc}") from None
    for const in code.co_consts:
        if isinstance(const, CodeType) and const.co_name == MAIN_NAME and const.co_flags & _CO_ASYNC_GENERATOR:
            raise ProgramSyntaxError.at(None, "'yield' outside function")
    return CompiledProgram(code=code, source_lines=tuple(source.splitlines()))


def compile_program(source: str) -> CompiledProgram:
    """Compile a full-Python program (no policy); raise `ProgramSyntaxError`."""
    tree = parse(source)
    return compile_wrapped(tree, top_level_names(tree), source)
