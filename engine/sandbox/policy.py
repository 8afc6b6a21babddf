"""The compile-time policy: a RestrictedPython transformer that allows async code and instruments it.

`SandboxPolicy` keeps everything RestrictedPython forbids forbidden (`_` names and attributes,
frame/inspect attributes, `exec`/`eval`, unknown nodes) and changes four things:

- `async def`, `await`, `async for`, `async with` and async comprehensions are allowed;
- operators that can allocate without bound (`*`, `**`, `<<`, `%`, format specs) become calls to
  guards (`_mul_`, `_pow_`, `_lshift_`, `_mod_`, `_format_`);
- every loop body, comprehension, function entry, `except` and `finally` block starts with a
  check of the `_stop_` global, so a stopped program cannot keep running or swallow the stop;
  plain functions also count their depth (`_depth_`) against the recursion limit;
- RestrictedPython's per-item guards for iteration and unpacking are dropped: they only serve
  Zope's per-object permissions, which this sandbox does not have, and they cost a call per item.

`wrap_module` then moves the module body into `async def __agent_main__()` so top-level `await`
and `return` work; names bound at top level are declared `global` there, so they stay module
globals (code sessions keep them). Line numbers are the agent's own: nodes are moved, never
re-parsed from re-indented text.
"""

from __future__ import annotations

import ast
from typing import Any

from RestrictedPython.transformer import RestrictingNodeTransformer

__all__ = ["MAIN_NAME", "SandboxPolicy", "top_level_names", "wrap_module"]

MAIN_NAME = "__agent_main__"

_GUARDED_OPS: dict[type[ast.operator], str] = {
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}


def _name(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Load())


def _call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=_name(func), args=list(args), keywords=[])


def _stop_check() -> ast.stmt:
    """`if _stop_: _stopped_()`: one global lookup on the fast path."""
    return ast.If(test=_name("_stop_"), body=[ast.Expr(_call("_stopped_"))], orelse=[])


def _handler_checks() -> list[ast.stmt]:
    """For except/finally entries: the fast check, then `_guard_()`, which also stops code that
    runs on a thread that is not executing this program (a finalizer collected elsewhere)."""
    return [_stop_check(), ast.Expr(_call("_guard_"))]


def _locate(node: ast.AST, where: ast.AST) -> None:
    """Give generated nodes `where`'s position; nodes that already have one keep it."""
    for child in ast.walk(node):
        if "lineno" in child._attributes and not hasattr(child, "lineno"):
            ast.copy_location(child, where)


def _located(nodes: list[ast.stmt], where: ast.AST) -> list[ast.stmt]:
    for node in nodes:
        _locate(node, where)
    return nodes


def _is_small_const(node: ast.expr, limit: int) -> bool:
    value = node.value if isinstance(node, ast.Constant) else None
    return type(value) is int and 0 <= value <= limit


class _YieldFinder(ast.NodeVisitor):
    """Does a function body yield (is it a generator)? Nested scopes do not count."""

    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: ast.Yield) -> None:
        self.found = True

    def visit_YieldFrom(self, node: ast.YieldFrom) -> None:
        self.found = True

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        pass

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        pass

    def visit_Lambda(self, node: ast.Lambda) -> None:
        pass

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        pass


def _is_generator(node: ast.FunctionDef) -> bool:
    finder = _YieldFinder()
    for stmt in node.body:
        finder.visit(stmt)
    return finder.found


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus async support, allocation guards and stop checks."""

    # -- names and print -------------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> Any:
        """Like RestrictedPython, but `print` stays a plain name: the sandbox's builtins
        supply a captured `print`, so there is no `printed`/`_print_` collector."""
        if isinstance(node.ctx, ast.Load):
            self.used_names[node.id] = True
            if node.id == "print":
                return node
        self.check_name(node, node.id)
        return node

    def inject_print_collector(self, node: Any, position: int = 0) -> None:
        """Not used: `print` is a captured builtin."""

    # -- functions ----------------------------------------------------------------------------

    def _instrument_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        body = node.body
        docstring: list[ast.stmt] = []
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            if isinstance(body[0].value.value, str):
                docstring, body = body[:1], body[1:]
        entry = [_stop_check()]
        if isinstance(node, ast.FunctionDef) and not _is_generator(node):
            # Depth of plain functions only: generators and coroutines may stay suspended, so
            # counting them would charge concurrency, not recursion. Those are still bounded by
            # the interpreter's own recursion limit.
            depth = ast.Subscript(value=_name("_depth_"), slice=ast.Constant(0), ctx=ast.Load())
            entry.append(
                ast.If(
                    test=ast.Compare(left=depth, ops=[ast.GtE()], comparators=[_name("_maxdepth_")]),
                    body=[ast.Expr(_call("_too_deep_"))],
                    orelse=[],
                )
            )
            store = ast.Subscript(value=_name("_depth_"), slice=ast.Constant(0), ctx=ast.Store())
            entry.append(ast.AugAssign(target=store, op=ast.Add(), value=ast.Constant(1)))
            store2 = ast.Subscript(value=_name("_depth_"), slice=ast.Constant(0), ctx=ast.Store())
            body = [
                ast.Try(
                    body=body or [ast.Pass()],
                    handlers=[],
                    orelse=[],
                    finalbody=[ast.AugAssign(target=store2, op=ast.Sub(), value=ast.Constant(1))],
                )
            ]
            _located(body, node)
        node.body = docstring + _located(entry, node) + (body or [ast.Pass()])

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        """Check names like RestrictedPython; add the entry check and the depth counter."""
        self.check_name(node, node.name, allow_magic_methods=True)
        self.check_function_argument_names(node)
        node = self.node_contents_visit(node)
        self._instrument_function(node)
        return node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> Any:
        """Allow `async def` under the same rules as `def`."""
        self.check_name(node, node.name)
        self.check_function_argument_names(node)
        node = self.node_contents_visit(node)
        self._instrument_function(node)
        return node

    def visit_Await(self, node: ast.Await) -> Any:
        """Allow `await`: what can be awaited is whatever the program can reach anyway."""
        return self.node_contents_visit(node)

    # -- loops and comprehensions -------------------------------------------------------------

    def guard_iter(self, node: Any) -> Any:
        """No `_getiter_` wrapping: iteration needs no per-item permission here."""
        return self.node_contents_visit(node)

    def _instrument_loop(self, node: ast.For | ast.AsyncFor | ast.While) -> Any:
        node.body[:0] = _located([_stop_check()], node)
        return node

    def visit_For(self, node: ast.For) -> Any:
        return self._instrument_loop(self.node_contents_visit(node))

    def visit_AsyncFor(self, node: ast.AsyncFor) -> Any:
        """Allow `async for`, with the loop check."""
        return self._instrument_loop(self.node_contents_visit(node))

    def visit_While(self, node: ast.While) -> Any:
        return self._instrument_loop(self.node_contents_visit(node))

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        """Allow sync and async comprehensions; prepend `not _stop_ or _stopped_()` to the ifs."""
        node = self.node_contents_visit(node)
        check = ast.BoolOp(
            op=ast.Or(), values=[ast.UnaryOp(op=ast.Not(), operand=_name("_stop_")), _call("_stopped_")]
        )
        _locate(check, node.iter)
        node.ifs.insert(0, check)
        return node

    # -- exceptions and context managers --------------------------------------------------------

    def visit_Try(self, node: ast.Try) -> Any:
        node = self.node_contents_visit(node)
        if node.finalbody:
            node.finalbody[:0] = _located(_handler_checks(), node.finalbody[0])
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        """Check the bound name; start the handler with the stop checks (no swallowing)."""
        node = self.node_contents_visit(node)
        self.check_name(node, node.name)
        node.body[:0] = _located(_handler_checks(), node)
        return node

    def visit_With(self, node: ast.With) -> Any:
        return self.node_contents_visit(node)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> Any:
        """Allow `async with`."""
        return self.node_contents_visit(node)

    # -- assignments ------------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> Any:
        """Plain assignment; unpacking needs no guard here (see the module docstring)."""
        return self.node_contents_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        """`x: T = v` becomes `x = v` (annotations are not evaluated); `x: T` becomes nothing."""
        if not isinstance(node.target, ast.Name):
            self.error(node, "Annotated assignment is only allowed for simple names.")
            return node
        if node.value is None:
            return ast.copy_location(ast.Pass(), node)
        assign = ast.Assign(targets=[node.target], value=node.value)
        ast.copy_location(assign, node)
        return self.visit_Assign(assign)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        """`x op= v` stays native unless `op` is guarded; `a.b op= v`, `a[k] op= v` write
        through `_write_`, and guarded operators use temporaries so each operand is evaluated once."""
        node = self.node_contents_visit(node)
        target = node.target
        guard = _GUARDED_OPS.get(type(node.op))
        if isinstance(target, ast.Name):
            if guard is None:
                return node
            load = ast.Name(id=target.id, ctx=ast.Load())
            return ast.copy_location(ast.Assign(targets=[target], value=_call(guard, load, node.value)), node)
        # node_contents_visit already turned the target's value into `_write_(obj)`.
        if guard is None:
            return node
        obj_tmp = self.gen_tmp_name()
        stmts: list[ast.stmt] = [ast.Assign(targets=[ast.Name(obj_tmp, ast.Store())], value=target.value)]
        if isinstance(target, ast.Subscript):
            key_tmp = self.gen_tmp_name()
            stmts.append(ast.Assign(targets=[ast.Name(key_tmp, ast.Store())], value=target.slice))
            current = ast.Call(
                func=_name("_getitem_"), args=[_name(obj_tmp), _name(key_tmp)], keywords=[]
            )
            new_target: ast.expr = ast.Subscript(value=_name(obj_tmp), slice=_name(key_tmp), ctx=ast.Store())
        else:
            current = _call("_getattr_", _name(obj_tmp), ast.Constant(target.attr))
            new_target = ast.Attribute(value=_name(obj_tmp), attr=target.attr, ctx=ast.Store())
        stmts.append(ast.Assign(targets=[new_target], value=_call(guard, current, node.value)))
        return _located(stmts, node)

    # -- operators and formatting ---------------------------------------------------------------

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        """`a * b`, `a ** b`, `a << b`, `a % b` become guard calls, except for cheap constants."""
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPS.get(type(node.op))
        if guard is None:
            return node
        left, right = node.left, node.right
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
            if type(left.value) in (int, float) and _is_small_const(right, 64):
                return node
        if isinstance(node.op, ast.Mult) and any(
            isinstance(side, ast.Constant) and type(side.value) is float for side in (left, right)
        ):
            return node
        if isinstance(node.op, ast.Pow) and _is_small_const(right, 2):
            return node
        if isinstance(node.op, ast.LShift) and _is_small_const(right, 64):
            return node
        if isinstance(node.op, ast.Mod) and isinstance(left, ast.Constant) and type(left.value) in (int, float):
            return node
        return ast.copy_location(_call(guard, left, right), node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        """`f"{x!r:>{w}}"` becomes `f"{_format_(x, 'r', f'>{w}')}"` so the width is checked."""
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            return node
        conversion = chr(node.conversion) if node.conversion != -1 else ""
        call = _call("_format_", node.value, ast.Constant(conversion), node.format_spec)
        _locate(call, node)
        return ast.copy_location(ast.FormattedValue(value=call, conversion=-1, format_spec=None), node)


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
