"""The policy's rewrites of expressions: calls, comparisons, operators and f-string fields.

`ExpressionPolicy` is the half of `policy.SandboxPolicy` that puts guards into expressions:

- `set(x)`, `list(x)`, `str(x)`... call the real class on a checked argument (`MATERIALISERS`; the
  builtin names are facade classes that check under any other name, `kinds`), and `isinstance`
  tests against the real classes;
- `a == b`, `a < b`, `x in xs` stay native when an operand is flat, and are bounded otherwise
  (`_compare_`, `_contains_`, `ordering`);
- `*`, `**`, `<<`, `%`, `//` and format specs become guard calls, inlined for small numbers.
"""

from __future__ import annotations

import ast
import copy
from typing import Any

from RestrictedPython.transformer import RestrictingNodeTransformer

from .astgen import (
    COMPARE_INDEX,
    call,
    duplicable,
    guarded_comparison,
    inline_product,
    is_flat,
    is_flat_constant,
    is_number,
    is_small_const,
    is_small_number,
    load,
    locate,
    numeric_result,
    within_big,
)
from .keys import surely_flat
from .methods import HASH_METHODS

__all__ = ["GUARDED_OPS", "MATERIALISERS", "SET_OPS", "ExpressionPolicy"]

SET_OPS: dict[type[ast.operator], int] = {ast.BitOr: 0, ast.BitAnd: 1, ast.BitXor: 2, ast.Sub: 3}
"""Operators of sets (and dicts, dict views) and their index in `ordering.SET_OPERATORS`."""

GUARDED_OPS: dict[type[ast.operator], str] = {
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
    ast.FloorDiv: "_floordiv_",
}


_PASSING: dict[str, str] = {
    "_sized_": "_sized_types_", "_shown_": "_shown_types_", "_bounded_": "_flat_", "_key_": "_flat_",
}
"""Checks that pass some types unchanged, and the global naming those types: the policy tests the
type inline (`x if _type_(x) in _shown_types_ else _shown_(x)`), saving a call on the hot paths."""

MATERIALISERS: dict[str, str] = {
    "list": "_sized_", "tuple": "_sized_", "set": "_hashed_", "frozenset": "_hashed_", "dict": "_pairs_",
    "str": "_shown_",
}
"""The builtin classes whose facade checks its first argument (`kinds`), and that check
(`containers`, `shown`). Where the program calls one by its own name, the policy applies the check
to the argument and calls the real class (`_str_`, `_list_`...), saving the facade's Python frame.
Not where the program binds the name itself. (`x.fromkeys(keys)` is checked by `methods`.)"""



def _hash_method_read(func: ast.expr) -> tuple[ast.expr, str] | None:
    """`(obj, name)` when `func` is `_getattr_(obj, "name")` of a method in `methods.HASH_METHODS`."""
    if (
        isinstance(func, ast.Call)
        and isinstance(func.func, ast.Name)
        and func.func.id == "_getattr_"
        and len(func.args) == 2
        and isinstance(func.args[1], ast.Constant)
        and func.args[1].value in HASH_METHODS
    ):
        return func.args[0], func.args[1].value
    return None


class ExpressionPolicy(RestrictingNodeTransformer):
    """The expression rewrites of the sandbox's policy (see the module docstring)."""

    # The kind of scope being transformed: where `:=` temporaries are allowed (set by `SandboxPolicy.visit`).
    _scopes: list[str]

    # Names the program binds somewhere: a builtin name among them may not mean the builtin.
    _bound: set[str]

    # Local names that surely hold a string or a number where the policy is (`keys`), innermost last.
    _sure: list[frozenset[str]]

    # Local names that surely hold a plain dict or list (`keys.sure_containers`), innermost last.
    _lists: list[frozenset[str]]

    # The header parts of the functions and classes being visited (`astgen.header_of`), by id.
    _headers: dict[int, ast.AST]

    # Names known to hold an int here: the counters of `intloops.int_loops` loops, in their body.
    _known_ints: frozenset[str]

    def _is_int(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id in self._known_ints

    # -- calls ----------------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> Any:
        """RestrictedPython's rules; then `set(x)`, `list(x)`, `str(x)`... become `_set_(_hashed_(x))`
        and the like (`MATERIALISERS`): the iterable is checked before the C loop that consumes it
        starts, and the real class is called. `isinstance(x, str)` tests against the real class."""
        numeric = bool(node.args) and numeric_result(node.args[0])  # judged before it is rewritten
        cheap = [self._cheap_key(arg) for arg in node.args]
        cheap_keywords = [self._cheap_key(keyword.value) for keyword in node.keywords]
        new = super().visit_Call(node)
        if not isinstance(new, ast.Call):
            return new
        for keyword in new.keywords:
            if keyword.arg is None:  # `f(**m)`: CPython merges `m` natively, probing every key
                keyword.value = call("_kwargs_", keyword.value)
                locate(keyword.value, keyword)
        func = new.func
        if isinstance(func, ast.Name) and func.id in ("isinstance", "issubclass") and len(new.args) == 2:
            new.args[1] = self._real_classes(new.args[1])
            return new
        method = _hash_method_read(func)
        if method is not None:
            # `s.add(k)`, `d.get(k, 0)`: the method is read natively and its arguments are
            # checked inline (`_key_`), instead of a checked method made per call.
            new.func = ast.copy_location(ast.Attribute(value=method[0], attr=method[1], ctx=ast.Load()), func)
            new.args = [arg if ok else self._key_check(arg) for arg, ok in zip(new.args, cheap, strict=True)]
            for keyword, ok in zip(new.keywords, cheap_keywords, strict=True):
                if not ok:
                    keyword.value = self._key_check(keyword.value)
            return new
        starred = bool(new.args) and isinstance(new.args[0], ast.Starred)
        check = None
        if isinstance(func, ast.Name) and func.id in MATERIALISERS and func.id not in self._bound:
            if starred or (new.keywords and not new.args):
                return new  # the facade checks what the star unpacks to, or `str(object=x)`
            new.func = ast.copy_location(load(f"_{func.id}_"), func)
            check = MATERIALISERS[func.id] if new.args else None
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
        if passing == "_flat_" or check == "_shown_":
            if self._is_int(value):  # an int is flat and shown as it is: nothing to check
                return value
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
        through `_hashed_` (size and hash collisions checked); `{t}` hashes `t`, checked by
        `_key_` unless it is flat (`_hash_key`)."""
        new = super().visit_Set(node)
        if isinstance(new, ast.Set):
            for i, elt in enumerate(new.elts):
                if isinstance(elt, ast.Starred):
                    elt.value = call("_hashed_", elt.value)
                    locate(elt.value, elt)
                else:
                    new.elts[i] = self._hash_key(elt)
        return new

    def visit_Dict(self, node: ast.Dict) -> Any:
        """`{t: v}` hashes `t`: checked like a set display's items. `{**m}` copies `m`'s entries in
        one native call: `_mapping_` checks their keys first (`containers.mapping_source`)."""
        new = self.node_contents_visit(node)
        new.keys = [key if key is None else self._hash_key(key) for key in new.keys]
        for i, key in enumerate(new.keys):
            if key is None:
                new.values[i] = call("_mapping_", new.values[i])
                locate(new.values[i], node)
        return new

    def visit_SetComp(self, node: ast.SetComp) -> Any:
        new = super().visit_SetComp(node)
        if isinstance(new, ast.SetComp):
            new.elt = self._hash_key(new.elt)
        return new

    def visit_DictComp(self, node: ast.DictComp) -> Any:
        new = super().visit_DictComp(node)
        if isinstance(new, ast.DictComp):
            new.key = self._hash_key(new.key)
        return new

    def _cheap_key(self, node: ast.expr) -> bool:
        """Whether hashing `node` (source, before it is rewritten) surely costs nothing to check:
        a constant, a string or number (`keys.surely_flat`), a slice of such, a display or
        function that is not a tuple (hashed by identity, or not hashable), or a tuple of these."""
        if isinstance(node, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
                             ast.Lambda)):
            return True
        if isinstance(node, ast.Slice):  # hashable from 3.12 on, as the tuple of its parts
            return all(part is None or self._cheap_key(part) for part in (node.lower, node.upper, node.step))
        if isinstance(node, ast.Tuple):
            return all(self._cheap_key(elt) for elt in node.elts)
        if self._is_int(node):
            return True
        return surely_flat(node, self._sure_here(), self._bound)

    def _sure_here(self) -> frozenset[str]:
        """The names `keys` vouches for where the policy is: those of the innermost function or
        class whose body this is. (The policy visits a header, whose decorators, defaults and
        annotations run in the enclosing scope, with the enclosing scope's names; a lambda's body
        has its enclosing function's, whose analysis walked the lambda and spoiled its names.)"""
        return self._sure[-1] if self._sure else frozenset()

    def _lists_here(self) -> frozenset[str]:
        """The local names `keys` vouches hold a plain `dict` or `list`, where the policy is (as
        `_sure_here`)."""
        return self._lists[-1] if self._lists else frozenset()

    def _key_check(self, node: ast.expr) -> ast.expr:
        """`node` (rewritten) as a key native code hashes: `_key_` bounds its hash, after an inline
        type test where that is cheaper than the call (`_checked`); a tuple display always calls."""
        if isinstance(node, ast.Tuple):
            checked: ast.expr = call("_key_", node)
            locate(checked, node)
            return checked
        return self._unless_constant("_key_", node)

    def _hash_key(self, node: ast.expr) -> ast.expr:
        """A key a display or comprehension hashes: `_key_` bounds the hash of a tuple built as a
        DAG (3.11 does not cache tuple hashes); flat keys pass after one inline type test."""
        return self._unless_constant("_key_", node)

    def _unless_constant(self, guard: str, node: ast.expr) -> ast.expr:
        """`node` checked by `guard` (see `_checked`), or as it is when it is a flat constant."""
        if is_flat_constant(node):
            return node
        checked = self._checked(guard, node)
        locate(checked, node)
        return checked

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
        if is_flat_constant(left) or is_flat_constant(right) or self._is_int(left) or self._is_int(right):
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
        return self._unless_constant("_bounded_", node)

    # -- operators and formatting ---------------------------------------------------------------

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        """`a * b`, `a ** b`, `a << b`, `a % b` become guard calls, except for cheap constants;
        `a | b`, `a & b`, `a ^ b`, `a - b` call `_setop_` unless an operand is flat (`_set_op`)."""
        node = self.node_contents_visit(node)
        guard = GUARDED_OPS.get(type(node.op))
        if guard is None:
            return self._set_op(node)
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
        inline = self._inline_numeric(node, guard) or inline_product(node, self._known_ints)
        if inline is not None:
            return inline
        return ast.copy_location(call(guard, left, right), node)

    def _set_op(self, node: ast.BinOp) -> ast.expr:
        """`a | b` of sets looks every item of one up in a copy of the other, in one native call: a
        set filled key by key with colliding keys makes that quadratic. Natively when either
        operand is a constant or, at run time, the left one is flat (numbers: the common case)."""
        index = SET_OPS.get(type(node.op))
        left, right = node.left, node.right
        if index is None or isinstance(left, ast.Constant) or isinstance(right, ast.Constant):
            return node
        in_function = self._scopes[-1] == "function"
        if not (isinstance(right, ast.Name) or (in_function and duplicable(right))):
            expr: ast.expr = call("_setop_", left, right, ast.Constant(index))
        elif isinstance(left, ast.Name) or in_function:
            if isinstance(left, ast.Name):
                first: ast.expr = left
                name = left.id
            else:
                name = self.gen_tmp_name()
                first = ast.NamedExpr(target=ast.Name(id=name, ctx=ast.Store()), value=left)
            native = ast.BinOp(left=load(name), op=node.op, right=right)
            guarded = call("_setop_", load(name), copy.deepcopy(right), ast.Constant(index))
            expr = ast.IfExp(test=is_flat(first), body=native, orelse=guarded)
        else:
            expr = call("_setop_", left, right, ast.Constant(index))
        locate(expr, node)
        return expr

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
        if self._is_int(operand):
            assert isinstance(operand, ast.Name)
            if not isinstance(node.op, ast.Mult):
                return node  # an int `%` or `//` a number: bounded by the number
            native = ast.BinOp(left=node.left, op=node.op, right=node.right)
            expr = ast.IfExp(test=within_big(operand.id), body=native, orelse=call(guard, node.left, node.right))
            locate(expr, node)
            return expr
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
