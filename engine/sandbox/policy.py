"""The compile-time policy: a RestrictedPython transformer that allows async code and instruments it.

`SandboxPolicy` keeps everything RestrictedPython forbids forbidden (`_` names and attributes,
frame/inspect attributes, `exec`/`eval`, unknown nodes) and changes five things:

- `async def`, `await`, `async for`, `async with` and async comprehensions are allowed;
- expressions get their guards (`expressions.ExpressionPolicy`, and `assignments` for augmented
  assignments): operators that can allocate without bound, comparisons of containers, calls of
  the builtin classes, and keys that native code hashes (`keys`);
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

from RestrictedPython.transformer import ALLOWED_FUNC_NAMES, INSPECT_ATTRIBUTES

from .assignments import AssignmentPolicy
from .astgen import (
    bound_names,
    call,
    handler_checks,
    header_of,
    inline_write,
    load,
    locate,
    located,
    stop_check,
)
from .expressions import MATERIALISERS
from .guards import BLOCKED_NAMES, VALUE_OVERRIDES
from .hints import NAME_ATTRIBUTES, attribute_hint, variable_hint
from .intloops import int_loops
from .keys import followed, is_range_loop, sure_containers, sure_names
from .methods import OVERRIDE_NAMES

__all__ = ["MATERIALISERS", "READABLE_DUNDER_GLOBALS", "SandboxPolicy"]

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


_SURE_DEPTH = 2
"""Nesting levels of functions whose local string and number names are worked out (`keys`)."""

READABLE_DUNDER_GLOBALS = frozenset({"__tool_namespaces"})
"""`_`-prefixed globals a program may read (never bind or delete): mcp_use's `__tool_namespaces`,
the `{namespace: [tools]}` listing. Each holds only plain data the executor's caller injected."""


class SandboxPolicy(AssignmentPolicy):
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

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        """`a[k]` stays native (the sandbox's `_getitem_` is plain `operator.getitem`, so the call
        would only cost time); `a[k] = v` writes through `_write_(a)`, inlined for plain names.
        The key is hashed natively by a mapping: unless it is surely cheap to hash (a constant,
        a slice, a local string or number: `_cheap_key`), `_key_` bounds its hash first."""
        ctx = node.ctx
        cheap = self._cheap_key(node.slice)  # judged on the source, before it is rewritten
        new = super().visit_Subscript(node)
        if isinstance(ctx, ast.Load) and isinstance(new, ast.Call):
            key = new.args[1] if cheap else self._key_check(new.args[1])
            native = ast.Subscript(value=new.args[0], slice=key, ctx=ast.Load())
            return ast.copy_location(native, node)
        if isinstance(new, ast.Subscript):
            new.value = inline_write(new.value, self._lists_here())
            if not cheap:
                new.slice = self._key_check(new.slice)
        return new

    def visit(self, node: ast.AST) -> Any:
        if not hasattr(self, "_scopes"):
            self._scopes = ["function"]  # the module body becomes __agent_main__'s body
            self._bound = bound_names(node)
            self._int_loops = int_loops(node)
            self._known_ints = frozenset()
            self._sure = []
            self._lists = []
            self._headers = {}
        if self._headers.get(id(node)) is node:
            # A decorator, default, annotation or base: evaluated in the enclosing scope, before
            # the function or class exists. Nothing vouched for inside it holds here (a lambda or
            # comprehension in a default reads the enclosing scope's names, not the function's).
            del self._headers[id(node)]
            sure, lists = self._sure.pop(), self._lists.pop()
            try:
                return self.visit(node)
            finally:
                self._sure.append(sure)
                self._lists.append(lists)
        if type(node) in _SCOPE_KINDS and self._known_ints:
            # A nested function, class or comprehension: what is known holds in the loop body only.
            known, self._known_ints = self._known_ints, frozenset()
            try:
                return self.visit(node)
            finally:
                self._known_ints = known
        if isinstance(node, ast.ClassDef):
            # A class body reads a name it binds through its own namespace and the globals, never
            # the enclosing function's local: none of the names it binds is vouched for inside.
            own = bound_names(node)
            outer, lists = self._sure_here(), self._lists_here()
            return self._visit_vouched(node, outer - own, lists - own)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            # Judged on the source before its body is rewritten; names sure in an enclosing
            # function stay sure inside (see `keys`).
            # Each analysis walks the function's whole body: done for the outer two levels of
            # functions only, so the compile stays linear in the program (deeper ones inherit).
            outer, lists = self._sure_here(), self._lists_here()
            if len(self._sure) < _SURE_DEPTH:
                values = followed(node, self._bound)
                outer = outer | sure_names(values, self._bound)
                lists = lists | sure_containers(values)
            return self._visit_vouched(node, outer, lists)
        return self._visit_scoped(node)

    def _visit_vouched(self, node: ast.AST, sure: frozenset[str], lists: frozenset[str]) -> Any:
        """Visit a function or class with the names `keys` vouches for inside it (its header
        with those of the enclosing scope)."""
        for part in header_of(node):
            self._headers[id(part)] = part
        self._sure.append(sure)
        self._lists.append(lists)
        try:
            return self._visit_scoped(node)
        finally:
            self._sure.pop()
            self._lists.pop()

    def _visit_scoped(self, node: ast.AST) -> Any:
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
        """The loop check. A loop counting on `range` whose counter nothing else binds
        (`intloops`) wraps its iterable in `_ints_` and knows the counter is an int in its body;
        any other `for i in range(n)` calls the builtin by its hidden name, `_range_`, so `i` is
        surely an int wherever the key checks rely on it (`keys.is_range_loop`)."""
        if id(node) not in self._int_loops:
            range_loop = is_range_loop(node, self._bound)
            node = self.node_contents_visit(node)
            if range_loop and isinstance(node.iter, ast.Call):
                node.iter.func = ast.copy_location(load("_range_"), node.iter.func)
            return self._instrument_loop(node)
        # A loop counting on `range` (`intloops`): its counter is an int in the body.
        assert isinstance(node.target, ast.Name)
        counter = node.target.id
        node.target = self.visit(node.target)
        iterable = self.visit(node.iter)
        node.iter = call("_ints_", iterable)
        locate(node.iter, iterable)
        outer = self._known_ints
        self._known_ints = outer | {counter}
        try:
            node.body = self._block(node.body)
        finally:
            self._known_ints = outer
        node.orelse = self._block(node.orelse)
        return self._instrument_loop(node)

    def _block(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        """`statements` visited one by one, as `generic_visit` does a list field."""
        out: list[ast.stmt] = []
        for statement in statements:
            new = self.visit(statement)
            if new is None:
                continue
            if isinstance(new, ast.AST):
                out.append(new)  # type: ignore[arg-type]
            else:
                out.extend(new)
        return out

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
