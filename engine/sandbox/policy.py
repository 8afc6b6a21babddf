"""The compile-time policy: a RestrictedPython transformer that allows async code and instruments it.

`SandboxPolicy` keeps everything RestrictedPython forbids forbidden (`_` names and attributes,
frame/inspect attributes, `exec`/`eval`, unknown nodes) and changes five things:

- `async def`, `await`, `async for`, `async with` and async comprehensions are allowed;
- operators that can allocate without bound (`*`, `**`, `<<`, `%`, format specs) become calls to
  guards (`_mul_`, `_pow_`, `_lshift_`, `_mod_`, `_format_`);
- every loop body, comprehension, function entry, `except` and `finally` block starts with a
  check of the `_stop_` global, so a stopped program cannot keep running or swallow the stop
  (recursion depth costs nothing per call: the worker thread runs the program so close to the
  interpreter's recursion limit that only `max_recursion_depth` frames are left, see `workers`);
- RestrictedPython's per-item guards for iteration and unpacking are dropped: they only serve
  Zope's per-object permissions, which this sandbox does not have, and they cost a call per item;
- reading `x.__name__` or `x.__qualname__` becomes `_name_of_(x, "__name__")`, a guard that returns
  the name of a class or function as a plain string (`guards.name_of`); every other `_` name stays
  refused, with a message that offers the supported alternative (`hints`).

`engine.kernel.program.wrap_module` then moves the module body into `async def __agent_main__()` so top-level
`await` and `return` work.
"""

from __future__ import annotations

import ast
from typing import Any

from RestrictedPython.transformer import ALLOWED_FUNC_NAMES, INSPECT_ATTRIBUTES, RestrictingNodeTransformer

from .astgen import (
    COMPARE_INDEX,
    bound_names,
    call,
    duplicable,
    guarded_comparison,
    handler_checks,
    inline_product,
    inline_write,
    is_flat_constant,
    is_number,
    is_small_const,
    is_small_number,
    load,
    locate,
    located,
    numeric_result,
    stop_check,
    within_big,
)
from .guards import BLOCKED_NAMES, VALUE_OVERRIDES
from .hints import NAME_ATTRIBUTES, attribute_hint, variable_hint
from .methods import OVERRIDE_NAMES

__all__ = ["SandboxPolicy"]

_GUARDED_OPS: dict[type[ast.operator], str] = {
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
    ast.FloorDiv: "_floordiv_",
}


_SCOPE_KINDS: dict[type[ast.AST], str] = {
    ast.FunctionDef: "header",
    ast.AsyncFunctionDef: "header",
    ast.Lambda: "header",
    ast.ClassDef: "class",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
}


_PASSING: dict[str, str] = {"_sized_": "_sized_types_", "_shown_": "_shown_types_", "_bounded_": "_flat_"}
"""Checks that pass some types unchanged, and the global naming those types: the policy tests the
type inline (`x if _type_(x) in _shown_types_ else _shown_(x)`), saving a call on the hot paths."""

MATERIALISERS: dict[str, str] = {
    "list": "_sized_", "tuple": "_sized_", "set": "_hashed_", "frozenset": "_hashed_", "dict": "_pairs_",
    "str": "_shown_",
}
"""The builtin classes whose facade checks its first argument (`kinds`), and that check
(`containers`, `shown`). Where the program calls one by its own name, the policy applies the check
to the argument and calls the real class (`_str_`, `_list_`...), saving the facade's Python frame;
`x.fromkeys(keys)` gets `_hashed_` too. Not where the program binds the name itself."""


READABLE_DUNDER_GLOBALS = frozenset({"__tool_namespaces"})
"""`_`-prefixed globals a program may read (never bind or delete): mcp_use's `__tool_namespaces`,
the `{namespace: [tools]}` listing. Each holds only plain data the executor's caller injected."""


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus async support, allocation guards and stop checks."""

    # -- names and print -------------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> Any:
        """Like RestrictedPython, but `print` stays a plain name: the sandbox's builtins
        supply a captured `print`, so there is no `printed`/`_print_` collector."""
        if isinstance(node.ctx, ast.Load):
            self.used_names[node.id] = True
            if node.id == "print" or node.id in READABLE_DUNDER_GLOBALS:
                return node
        self.check_name(node, node.id)
        return node

    def inject_print_collector(self, node: Any, position: int = 0) -> None:
        """Not used: `print` is a captured builtin."""

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        """RestrictedPython's check, with the alternative to a refused `_` name in the message."""
        if (
            name is not None
            and name.startswith("_")
            and name != "_"
            and not (allow_magic_methods and name in ALLOWED_FUNC_NAMES and node.col_offset != 0)
        ):
            self.error(node, f'"{name}" is an invalid variable name because it starts with "_"; {variable_hint(name)}')
            return
        super().check_name(node, name, allow_magic_methods)

    # -- attributes -------------------------------------------------------------------------

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        """`a.b` with a literal name: RestrictedPython's compile-time checks (no `_` names, no
        frame/inspect attributes) plus the sandbox's blocked names. Loads stay native unless the
        name has a checked replacement (`join`, `format`, `ljust`...): the name is known here, so
        the run-time name check `_getattr_` would repeat is already done. Dynamic access
        (`getattr(x, name)`) always goes through the guard."""
        if (
            node.attr in ALLOWED_FUNC_NAMES
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "super"
        ):
            # `super().__init__(...)`: the one dunder a program may read, checked at run time to
            # really be read from a `super` object.
            value = self.visit(node.value)
            return ast.copy_location(call("_superattr_", value, ast.Constant(node.attr)), node)
        if node.attr in NAME_ATTRIBUTES:
            node = self.node_contents_visit(node)
            if not isinstance(node.ctx, ast.Load):
                self.error(node, f'"{node.attr}" can be read, but not assigned or deleted.')
                return node
            return ast.copy_location(call("_name_of_", node.value, ast.Constant(node.attr)), node)
        if node.attr.startswith("_") and node.attr != "_":
            self.error(
                node,
                f'"{node.attr}" is an invalid attribute name because it starts with "_"; {attribute_hint(node.attr)}',
            )
            return self.node_contents_visit(node)
        if node.attr in BLOCKED_NAMES and node.attr not in INSPECT_ATTRIBUTES:
            self.error(node, f'"{node.attr}" is a restricted attribute name.')
        if node.attr.isascii() is False:  # the parser normalises identifiers (NFKC) already
            self.error(node, f'"{node.attr}" is not an allowed attribute name.')
        new = super().visit_Attribute(node)
        if (
            isinstance(node.ctx, ast.Load)
            and node.attr not in OVERRIDE_NAMES
            and node.attr not in VALUE_OVERRIDES
            and isinstance(new, ast.Call)
            and len(new.args) == 2
        ):
            native = ast.Attribute(value=new.args[0], attr=node.attr, ctx=ast.Load())
            return ast.copy_location(native, node)
        return new

    def visit_Call(self, node: ast.Call) -> Any:
        """RestrictedPython's rules; then `set(x)`, `list(x)`, `str(x)`... become `_set_(_hashed_(x))`
        and the like (`MATERIALISERS`): the iterable is checked before the C loop that consumes it
        starts, and the real class is called. `isinstance(x, str)` tests against the real class."""
        numeric = bool(node.args) and numeric_result(node.args[0])  # judged before it is rewritten
        new = super().visit_Call(node)
        if not isinstance(new, ast.Call):
            return new
        func = new.func
        if isinstance(func, ast.Name) and func.id in ("isinstance", "issubclass") and len(new.args) == 2:
            new.args[1] = self._real_classes(new.args[1])
            return new
        starred = bool(new.args) and isinstance(new.args[0], ast.Starred)
        check = None
        if isinstance(func, ast.Name) and func.id in MATERIALISERS and func.id not in self._bound:
            if starred:
                return new  # the facade checks what the star unpacks to
            new.func = ast.copy_location(load(f"_{func.id}_"), func)
            check = MATERIALISERS[func.id] if new.args else None
        elif isinstance(func, ast.Attribute) and func.attr == "fromkeys" and new.args and not starred:
            check = "_hashed_"
        if check is not None and not (numeric and check == "_shown_"):
            new.args[0] = self._checked(check, new.args[0])
            locate(new.args[0], node)
        return new

    def _real_classes(self, node: ast.expr) -> ast.expr:
        """The second argument of `isinstance`/`issubclass`, with the facade classes named by the
        builtin names replaced by the real ones (the answer is the same, without a Python frame)."""
        if isinstance(node, ast.Name) and node.id in MATERIALISERS and node.id not in self._bound:
            return ast.copy_location(load(f"_{node.id}_"), node)
        if isinstance(node, ast.Tuple):
            node.elts = [self._real_classes(elt) for elt in node.elts]
        return node

    def _checked(self, check: str, value: ast.expr) -> ast.expr:
        """`check(value)`, with the type test inlined for checks in `_PASSING` where `value` can be
        read twice (a name) or bound to a temporary (in a function scope, as `_inline_numeric`)."""
        passing = _PASSING.get(check)
        if passing is None:
            return call(check, value)
        if isinstance(value, ast.Name):
            first: ast.expr = load(value.id)
            again = value.id
        elif self._scopes[-1] == "function":
            again = self.gen_tmp_name()
            first = ast.NamedExpr(target=ast.Name(id=again, ctx=ast.Store()), value=value)
        else:
            return call(check, value)
        test = ast.Compare(left=call("_type_", first), ops=[ast.In()], comparators=[load(passing)])
        return ast.IfExp(test=test, body=load(again), orelse=call(check, load(again)))

    def visit_Set(self, node: ast.Set) -> Any:
        """`{*keys}` builds the set in one C call, like `set(keys)`: each unpacked iterable goes
        through `_hashed_` (size and hash collisions checked)."""
        new = super().visit_Set(node)
        if isinstance(new, ast.Set):
            for elt in new.elts:
                if isinstance(elt, ast.Starred):
                    elt.value = call("_hashed_", elt.value)
                    locate(elt.value, elt)
        return new

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        """`a[k]` stays native (the sandbox's `_getitem_` is plain `operator.getitem`, so the call
        would only cost time); `a[k] = v` writes through `_write_(a)`, inlined for plain names."""
        ctx = node.ctx
        new = super().visit_Subscript(node)
        if isinstance(ctx, ast.Load) and isinstance(new, ast.Call):
            native = ast.Subscript(value=new.args[0], slice=new.args[1], ctx=ast.Load())
            return ast.copy_location(native, node)
        if isinstance(new, ast.Subscript):
            new.value = inline_write(new.value)
        return new

    # The kind of scope being transformed: where `:=` temporaries are allowed (see _inline_numeric).
    _scopes: list[str]

    # Names the program binds somewhere: a builtin name among them may not mean the builtin.
    _bound: set[str]

    def visit(self, node: ast.AST) -> Any:
        if not hasattr(self, "_scopes"):
            self._scopes = ["function"]  # the module body becomes __agent_main__'s body
            self._bound = bound_names(node)
        kind = _SCOPE_KINDS.get(type(node))
        if kind is None and isinstance(node, ast.stmt) and self._scopes[-1] == "header":
            # A statement directly under a def: its body. (Decorators, defaults and annotations
            # are expressions of the header and run in the enclosing scope.)
            kind = "function"
        if kind is None:
            return super().visit(node)
        self._scopes.append(kind)
        try:
            return super().visit(node)
        finally:
            self._scopes.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        """RestrictedPython's rules (every class gets the sandbox's `__metaclass__`), and class
        keywords are an error rather than silently dropped."""
        for keyword in node.keywords:
            if keyword.arg != "metaclass":
                self.error(node, "Class keyword arguments are not allowed.")
        return super().visit_ClassDef(node)

    # -- functions ----------------------------------------------------------------------------

    def _instrument_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        body = node.body
        docstring: list[ast.stmt] = []
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            if isinstance(body[0].value.value, str):
                docstring, body = body[:1], body[1:]
        entry = [stop_check()]
        node.body = docstring + located(entry, node) + (body or [ast.Pass()])

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        """Check names like RestrictedPython; add the entry check."""
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
        node.body[:0] = located([stop_check()], node)
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
            op=ast.Or(), values=[ast.UnaryOp(op=ast.Not(), operand=load("_stop_")), call("_stopped_")]
        )
        locate(check, node.iter)
        node.ifs.insert(0, check)
        return node

    # -- exceptions and context managers --------------------------------------------------------

    def visit_Try(self, node: ast.Try) -> Any:
        node = self.node_contents_visit(node)
        if node.finalbody:
            node.finalbody[:0] = located(handler_checks(), node.finalbody[0])
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        """Check the bound name; start the handler with the stop checks (no swallowing)."""
        node = self.node_contents_visit(node)
        self.check_name(node, node.name)
        node.body[:0] = located(handler_checks(), node)
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
            value = ast.Name(id=target.id, ctx=ast.Load())
            return ast.copy_location(ast.Assign(targets=[target], value=call(guard, value, node.value)), node)
        # node_contents_visit already turned the target's value into `_write_(obj)`.
        if guard is None:
            return node
        obj_tmp = self.gen_tmp_name()
        stmts: list[ast.stmt] = [ast.Assign(targets=[ast.Name(obj_tmp, ast.Store())], value=target.value)]
        if isinstance(target, ast.Subscript):
            key_tmp = self.gen_tmp_name()
            stmts.append(ast.Assign(targets=[ast.Name(key_tmp, ast.Store())], value=target.slice))
            current = ast.Call(
                func=load("_getitem_"), args=[load(obj_tmp), load(key_tmp)], keywords=[]
            )
            new_target: ast.expr = ast.Subscript(value=load(obj_tmp), slice=load(key_tmp), ctx=ast.Store())
        else:
            current = call("_getattr_", load(obj_tmp), ast.Constant(target.attr))
            new_target = ast.Attribute(value=load(obj_tmp), attr=target.attr, ctx=ast.Store())
        stmts.append(ast.Assign(targets=[new_target], value=call(guard, current, node.value)))
        return located(stmts, node)

    # -- comparisons ---------------------------------------------------------------------------

    def visit_Compare(self, node: ast.Compare) -> Any:
        """`a == b`, `a < b`, `x in xs` stay native when an operand is a constant or, at run time,
        of a flat type (`ordering.FLAT`); otherwise `_compare_`/`_contains_` bound the native walk
        first (`ordering`). `is` is never rewritten; each operand of a chain (`a < b < c`) is
        checked on its own (`_bounded_`)."""
        node = self.node_contents_visit(node)
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return node
        if len(node.ops) > 1:
            node.left = self._bounded_operand(node.left)
            node.comparators = [self._bounded_operand(c) for c in node.comparators]
            return node
        op, left, right = node.ops[0], node.left, node.comparators[0]
        if is_flat_constant(left) or is_flat_constant(right):
            return node
        index = COMPARE_INDEX.get(type(op))
        in_function = self._scopes[-1] == "function"  # where `:=` temporaries may go
        right_ok = isinstance(right, ast.Name) or (in_function and duplicable(right))
        if right_ok and (isinstance(left, ast.Name) or in_function):
            if isinstance(left, ast.Name):
                first: ast.expr = left
                left_name = left.id
            else:
                left_name = self.gen_tmp_name()
                first = ast.NamedExpr(target=ast.Name(id=left_name, ctx=ast.Store()), value=left)
            expr = guarded_comparison(op, first, left_name, right, self.gen_tmp_name())
        elif index is None:  # `in`, `not in`
            expr = call("_contains_", left, right)
            if isinstance(op, ast.NotIn):
                expr = ast.UnaryOp(op=ast.Not(), operand=expr)
        else:
            expr = call("_compare_", left, right, ast.Constant(index))
        locate(expr, node)
        return expr

    def _bounded_operand(self, node: ast.expr) -> ast.expr:
        if is_flat_constant(node):
            return node
        checked = self._checked("_bounded_", node)
        locate(checked, node)
        return checked

    # -- operators and formatting ---------------------------------------------------------------

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        """`a * b`, `a ** b`, `a << b`, `a % b` become guard calls, except for cheap constants."""
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPS.get(type(node.op))
        if guard is None:
            return node
        left, right = node.left, node.right
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
            if type(left.value) in (int, float) and is_small_const(right, 64):
                return node
        if isinstance(node.op, ast.Mult) and any(
            isinstance(side, ast.Constant) and type(side.value) is float for side in (left, right)
        ):
            return node
        if isinstance(node.op, ast.LShift) and is_small_const(right, 64):
            return node
        inline = self._inline_numeric(node, guard) or inline_product(node)
        if inline is not None:
            return inline
        return ast.copy_location(call(guard, left, right), node)

    def _inline_numeric(self, node: ast.BinOp, guard: str) -> ast.expr | None:
        """`x * 3`, `3 * x`, `x % 7` with a small constant stay native when `x` is an int or a
        float (no allocation risk), and call the guard otherwise: saves a Python call on the
        hottest arithmetic. A plain name is read twice (harmless); any other operand is bound
        once to a temporary with `:=`, where a function scope allows it (not in class bodies or
        comprehensions, where `:=` would bind elsewhere or is not allowed)."""
        if not isinstance(node.op, (ast.Mult, ast.Mod, ast.FloorDiv)):
            return None
        operand: ast.expr | None = None
        if is_small_number(node.right):
            operand, const, const_right = node.left, node.right, True
        elif isinstance(node.op, ast.Mult) and is_small_number(node.left):
            operand, const, const_right = node.right, node.left, False
        if operand is None:
            return None
        if isinstance(operand, ast.Name):
            first: ast.expr = load(operand.id)
            again = operand.id
        elif self._scopes[-1] == "function":
            again = self.gen_tmp_name()
            first = ast.NamedExpr(target=ast.Name(id=again, ctx=ast.Store()), value=operand)
        else:
            return None

        def pair(a: ast.expr, b: ast.expr) -> tuple[ast.expr, ast.expr]:
            return (a, b) if const_right else (b, a)

        native_left, native_right = pair(load(again), const)
        native = ast.BinOp(left=native_left, op=node.op, right=native_right)
        guard_left, guard_right = pair(load(again), const)
        test = is_number(first, load(again))
        if isinstance(node.op, ast.Mult):
            # Repeated `x = x * c` would grow an int past the size limit without ever calling
            # the guard: the native path takes only ints of at most 2048 bits.
            test = ast.BoolOp(op=ast.And(), values=[test, within_big(again)])
        expr = ast.IfExp(test=test, body=native, orelse=call(guard, guard_left, guard_right))
        locate(expr, node)
        return expr

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        """`f"{x!r:>{w}}"` becomes `f"{_format_(x, 'r', f'>{w}')}"` so the width is checked."""
        numeric = numeric_result(node.value)  # judged before it is rewritten
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            if not isinstance(node.value, ast.Constant) and not numeric:
                node.value = self._checked("_shown_", node.value)
                locate(node.value, node)
            return node
        conversion = chr(node.conversion) if node.conversion != -1 else ""
        formatted = call("_format_", node.value, ast.Constant(conversion), node.format_spec)
        locate(formatted, node)
        return ast.copy_location(ast.FormattedValue(value=formatted, conversion=-1, format_spec=None), node)
