"""Builders of the AST the policy inserts: guard calls, stop checks and inline fast paths.

The policy (`policy.SandboxPolicy`) decides where a guard goes; these functions build the nodes.
The inline forms test an operand's type in the program's own code (`x if _type_(x) is _int_ else
_guard_(x)`) so the common case skips a Python call: they read plain names twice, which is
harmless, and never evaluate any other expression twice.
"""

from __future__ import annotations

import ast

__all__ = [
    "call",
    "handler_checks",
    "inline_product",
    "inline_write",
    "is_number",
    "is_small_const",
    "is_small_number",
    "locate",
    "located",
    "load",
    "numeric_result",
    "stop_check",
    "within_big",
]


def load(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Load())


def call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=load(func), args=list(args), keywords=[])


def stop_check() -> ast.stmt:
    """`if _stop_: _stopped_()`: one global lookup on the fast path."""
    return ast.If(test=load("_stop_"), body=[ast.Expr(call("_stopped_"))], orelse=[])


def handler_checks() -> list[ast.stmt]:
    """For except/finally entries: the fast check, then `_guard_()`, which also stops code that
    runs on a thread that is not executing this program (a finalizer collected elsewhere)."""
    return [stop_check(), ast.Expr(call("_guard_"))]


def locate(node: ast.AST, where: ast.AST) -> None:
    """Give generated nodes `where`'s position; nodes that already have one keep it."""
    for child in ast.walk(node):
        if "lineno" in child._attributes and not hasattr(child, "lineno"):
            ast.copy_location(child, where)


def located(nodes: list[ast.stmt], where: ast.AST) -> list[ast.stmt]:
    for node in nodes:
        locate(node, where)
    return nodes


def is_small_number(node: ast.expr) -> bool:
    """A numeric constant that cannot make `x * c` or `x % c` allocate much for a number `x`."""
    if not isinstance(node, ast.Constant):
        return False
    value = node.value
    return (type(value) is int and 0 <= value <= 1 << 16) or type(value) is float


def is_small_const(node: ast.expr, limit: int) -> bool:
    value = node.value if isinstance(node, ast.Constant) else None
    return type(value) is int and 0 <= value <= limit


def is_number(first: ast.expr, again: ast.expr) -> ast.expr:
    """`_type_(x) is _int_ or _type_(x) is _float_`, with `first` and `again` both reading `x`:
    two identity tests beat a set lookup on the hottest paths (ints first: loop counters)."""
    def exactly(value: ast.expr, kind: str) -> ast.expr:
        return ast.Compare(left=call("_type_", value), ops=[ast.Is()], comparators=[load(kind)])

    return ast.BoolOp(op=ast.Or(), values=[exactly(first, "_int_"), exactly(again, "_float_")])


def within_big(name: str) -> ast.expr:
    """`-_big_ < name < _big_`."""
    return ast.Compare(left=ast.UnaryOp(op=ast.USub(), operand=load("_big_")), ops=[ast.Lt(), ast.Lt()],
                       comparators=[load(name), load("_big_")])


def numeric_result(node: ast.expr) -> bool:
    """`x % 97`, `n - 1`, `t // 60`: arithmetic with a number constant on the right makes a number
    (or a `%`-formatted string) for the types that have these operators, so the text of the
    result needs no size check (`str(i % 97)` is on hot paths). A program class defining them can
    return anything, which is no more than `f = str; f(x)` already allows (docs/security.md)."""
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, (ast.Mod, ast.Sub, ast.FloorDiv, ast.Div, ast.Add))
        and isinstance(node.right, ast.Constant)
        and type(node.right.value) in (int, float)
    )


def inline_product(node: ast.BinOp) -> ast.expr | None:
    """`a * b` of two plain names stays native when both are ints or floats of at most 2048 bits
    (a product of at most 4096 bits: no allocation risk) and calls `_mul_` otherwise. Names are
    read more than once, which is harmless. `x * x` checks `x` once."""
    left, right = node.left, node.right
    if not (isinstance(node.op, ast.Mult) and isinstance(left, ast.Name) and isinstance(right, ast.Name)):
        return None
    names = [left.id] if left.id == right.id else [left.id, right.id]
    checks: list[ast.expr] = [is_number(load(name), load(name)) for name in names]
    # Floats pass the bound too (the largest float is about 2 ** 1024); inf and nan take the guard.
    checks += [within_big(name) for name in names]
    native = ast.BinOp(left=load(left.id), op=ast.Mult(), right=load(right.id))
    expr = ast.IfExp(test=ast.BoolOp(op=ast.And(), values=checks), body=native,
                     orelse=call("_mul_", load(left.id), load(right.id)))
    locate(expr, node)
    return expr


def inline_write(value: ast.expr) -> ast.expr:
    """`_write_(x)` for a plain name `x` becomes `(x if _type_(x) in _writable_ else _write_(x))`:
    the common containers skip the Python call."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "_write_"):
        return value
    target = value.args[0]
    if not isinstance(target, ast.Name):
        return value
    test = ast.Compare(
        left=call("_type_", ast.Name(id=target.id, ctx=ast.Load())), ops=[ast.In()], comparators=[load("_writable_")]
    )
    expr = ast.IfExp(test=test, body=ast.Name(id=target.id, ctx=ast.Load()), orelse=value)
    locate(expr, value)
    return expr
