"""The policy's rewrites of assignments: annotated, augmented, and in-place set operators.

`AssignmentPolicy` is the part of `policy.SandboxPolicy` that rewrites assignment statements:

- `x: T = v` becomes `x = v` (annotations are not evaluated);
- `x op= v` with a guarded operator (`*`, `**`, `<<`, `%`, `//`) calls the guard, with the target's
  object and key evaluated once;
- `s |= t`, `s &= t`, `s ^= t`, `s -= t` stay native for flat values (`n -= 1`) and otherwise call
  `_isetop_`, which checks both sides' hash collisions before the native in-place operator
  (`ordering.guarded_in_place`), whether `s` is a name, an attribute or an item.
"""

from __future__ import annotations

import ast
import copy
from typing import Any

from .astgen import call, duplicable, is_flat, load, locate, located
from .expressions import GUARDED_OPS, SET_OPS, ExpressionPolicy
from .guards import VALUE_OVERRIDES
from .methods import OVERRIDE_NAMES

__all__ = ["AssignmentPolicy"]


class AssignmentPolicy(ExpressionPolicy):
    """The assignment rewrites of the sandbox's policy (see the module docstring)."""

    # -- assignments ------------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> Any:
        """Plain assignment; unpacking needs no guard here (RestrictedPython's per-item guards are
        dropped: see `policy`'s module docstring)."""
        return self.node_contents_visit(node)

    def _in_place_set_op(self, node: ast.AugAssign, target: ast.Name) -> ast.stmt:
        """`s |= t`, `s &= t`, `s ^= t`, `s -= t` of a name: natively for a constant operand or a
        flat `s` (`n -= k`), else `s = _isetop_(s, t, i)`, which checks both sets' collisions and
        updates `s` in place (`ordering.guarded_in_place`)."""
        index = SET_OPS.get(type(node.op))
        if index is None or isinstance(node.value, ast.Constant):
            return node
        name = target.id
        if duplicable(node.value):
            native = ast.BinOp(left=load(name), op=node.op, right=node.value)
            guarded = call("_isetop_", load(name), copy.deepcopy(node.value), ast.Constant(index))
            value: ast.expr = ast.IfExp(test=is_flat(load(name)), body=native, orelse=guarded)
        else:
            value = call("_isetop_", load(name), node.value, ast.Constant(index))
        assign = ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value)
        locate(assign, node)
        return assign

    def _in_place_set_op_on_item(self, node: ast.AugAssign, target: ast.expr) -> Any:
        """`a.s |= t`, `d[k] -= t` (and `&=`, `^=`): as `_in_place_set_op`, with the object, the key,
        the current value and the operand each evaluated once, in Python's order:

            _o = a; _c = _o.s; _v = t; _o.s = (_c | _v) if _type_(_c) in _flat_ else _isetop_(_c, _v, 0)
        """
        index = SET_OPS.get(type(node.op))
        if index is None or isinstance(node.value, ast.Constant):
            return node
        if not isinstance(target, (ast.Attribute, ast.Subscript)):
            return node
        obj_tmp, current_tmp, value_tmp = self.gen_tmp_name(), self.gen_tmp_name(), self.gen_tmp_name()
        stmts: list[ast.stmt] = [ast.Assign(targets=[ast.Name(obj_tmp, ast.Store())], value=target.value)]
        current: ast.expr
        store: ast.expr
        if isinstance(target, ast.Subscript):
            key_tmp = self.gen_tmp_name()
            stmts.append(ast.Assign(targets=[ast.Name(key_tmp, ast.Store())], value=target.slice))
            current = ast.Subscript(value=load(obj_tmp), slice=load(key_tmp), ctx=ast.Load())
            store = ast.Subscript(value=load(obj_tmp), slice=load(key_tmp), ctx=ast.Store())
        else:
            if target.attr in OVERRIDE_NAMES or target.attr in VALUE_OVERRIDES:
                current = call("_getattr_", load(obj_tmp), ast.Constant(target.attr))
            else:
                current = ast.Attribute(value=load(obj_tmp), attr=target.attr, ctx=ast.Load())
            store = ast.Attribute(value=load(obj_tmp), attr=target.attr, ctx=ast.Store())
        stmts.append(ast.Assign(targets=[ast.Name(current_tmp, ast.Store())], value=current))
        stmts.append(ast.Assign(targets=[ast.Name(value_tmp, ast.Store())], value=node.value))
        native = ast.BinOp(left=load(current_tmp), op=node.op, right=load(value_tmp))
        guarded = call("_isetop_", load(current_tmp), load(value_tmp), ast.Constant(index))
        value = ast.IfExp(test=is_flat(load(current_tmp)), body=native, orelse=guarded)
        stmts.append(ast.Assign(targets=[store], value=value))
        return located(stmts, node)

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
        guard = GUARDED_OPS.get(type(node.op))
        if isinstance(target, ast.Name):
            if guard is None:
                return self._in_place_set_op(node, target)
            value = ast.Name(id=target.id, ctx=ast.Load())
            return ast.copy_location(ast.Assign(targets=[target], value=call(guard, value, node.value)), node)
        # node_contents_visit already turned the target's value into `_write_(obj)`.
        if guard is None:
            return self._in_place_set_op_on_item(node, target)
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

