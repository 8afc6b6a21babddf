"""Top-level `await` and `return`: the module body becomes the body of `async def __agent_main__()`.

The move is done on the AST (never by re-indenting source text), so every line number stays the
agent's. Names the module body binds are declared `global` in the new function, so they stay
module globals, which is what code sessions keep between executions.
"""

from __future__ import annotations

import ast

__all__ = ["MAIN_NAME", "top_level_names", "wrap_module"]

MAIN_NAME = "__agent_main__"


class _TopLevelNames(ast.NodeVisitor):
    """Names bound in the module's own scope (not in functions, classes or comprehensions)."""

    def __init__(self) -> None:
        self.names: dict[str, None] = {}

    def _add(self, name: str | None) -> None:
        if name and not name.startswith("_"):
            self.names[name] = None

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._add(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._add(node.name)
        for deco in node.decorator_list:
            self.visit(deco)
        self.visit(node.args)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._add(node.name)
        for deco in node.decorator_list:
            self.visit(deco)
        self.visit(node.args)

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
            self._add(alias.asname or alias.name)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._add(node.name)
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


def wrap_module(tree: ast.Module, names: list[str]) -> ast.Module:
    """Move the (already transformed) module body into `async def __agent_main__()`."""
    body = tree.body or [ast.Pass()]
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
    ast.copy_location(func, first)
    module = ast.Module(body=[func], type_ignores=[])
    ast.fix_missing_locations(module)
    return module
