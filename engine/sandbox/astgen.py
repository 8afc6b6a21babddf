"""Builders of the AST the policy inserts: guard calls, stop checks and inline fast paths.

The policy (`policy.SandboxPolicy`) decides where a guard goes; these functions build the nodes.
The inline forms test an operand's type in the program's own code (`x if _type_(x) is _int_ else
_guard_(x)`) so the common case skips a Python call: they read plain names twice, which is
harmless, and never evaluate any other expression twice.
"""

from __future__ import annotations

import ast
import copy

__all__ = [
    "COMPARE_INDEX",
    "bound_names",
    "names_bound_by",
    "duplicable",
    "guarded_comparison",
    "is_flat",
    "is_flat_constant",
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


def inline_product(node: ast.BinOp, known_ints: frozenset[str] = frozenset()) -> ast.expr | None:
    """`a * b` of two plain names stays native when both are ints or floats of at most 2048 bits
    (a product of at most 4096 bits: no allocation risk) and calls `_mul_` otherwise. Names are
    read more than once, which is harmless. `x * x` checks `x` once; a name in `known_ints`
    (`intloops`) needs only its size checked."""
    left, right = node.left, node.right
    if not (isinstance(node.op, ast.Mult) and isinstance(left, ast.Name) and isinstance(right, ast.Name)):
        return None
    names = [left.id] if left.id == right.id else [left.id, right.id]
    checks: list[ast.expr] = [is_number(load(name), load(name)) for name in names if name not in known_ints]
    # Floats pass the bound too (the largest float is about 2 ** 1024); inf and nan take the guard.
    checks += [within_big(name) for name in names]
    native = ast.BinOp(left=load(left.id), op=ast.Mult(), right=load(right.id))
    test = checks[0] if len(checks) == 1 else ast.BoolOp(op=ast.And(), values=checks)
    expr = ast.IfExp(test=test, body=native,
                     orelse=call("_mul_", load(left.id), load(right.id)))
    locate(expr, node)
    return expr


def inline_write(value: ast.expr, containers: frozenset[str] = frozenset()) -> ast.expr:
    """`_write_(x)` for a plain name `x` becomes `(x if _type_(x) in _writable_ else _write_(x))`:
    the common containers skip the Python call. A name in `containers` (surely a plain dict or
    list: `keys.sure_containers`) becomes just `x`."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "_write_"):
        return value
    target = value.args[0]
    if not isinstance(target, ast.Name):
        return value
    if target.id in containers:
        return ast.copy_location(ast.Name(id=target.id, ctx=ast.Load()), value)
    test = ast.Compare(
        left=call("_type_", ast.Name(id=target.id, ctx=ast.Load())), ops=[ast.In()], comparators=[load("_writable_")]
    )
    expr = ast.IfExp(test=test, body=ast.Name(id=target.id, ctx=ast.Load()), orelse=value)
    locate(expr, value)
    return expr


def header_of(node: ast.AST) -> list[ast.AST]:
    """The parts of a function, lambda or class definition that run in the enclosing scope when
    it is defined: decorators, defaults, annotations, bases and class keywords."""
    parts: list[ast.AST | None] = []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        parts += node.decorator_list
    if isinstance(node, ast.ClassDef):
        parts += node.bases
        parts += [keyword.value for keyword in node.keywords]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        parts += args.defaults
        parts += args.kw_defaults
        if not isinstance(node, ast.Lambda):
            parts.append(node.returns)
            every = [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg]
            parts += [arg.annotation for arg in every if arg is not None]
    return [part for part in parts if part is not None]


def names_bound_by(node: ast.AST) -> tuple[str, ...]:
    """The names `node` itself binds: a name stored or deleted, a parameter, a definition's name,
    an import's alias, `except ... as`, a `global`/`nonlocal` declaration, a match capture (a
    statement such as `x = 1` binds through its target, the `Name` node)."""
    if isinstance(node, ast.Name):
        return () if isinstance(node.ctx, ast.Load) else (node.id,)
    if isinstance(node, ast.arg):
        return (node.arg,)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return (node.name,)
    if isinstance(node, ast.alias):
        return ((node.asname or node.name).partition(".")[0],)
    if isinstance(node, ast.ExceptHandler):
        return (node.name,) if node.name else ()
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return tuple(node.names)
    if isinstance(node, (ast.MatchAs, ast.MatchStar)):
        return (node.name,) if node.name else ()
    if isinstance(node, ast.MatchMapping):
        return (node.rest,) if node.rest else ()
    return ()


def bound_names(tree: ast.AST) -> set[str]:
    """Every name `tree` binds anywhere (`names_bound_by` of each of its nodes): a builtin name in it
    may not mean the builtin somewhere."""
    names: set[str] = set()
    for node in ast.walk(tree):
        names.update(names_bound_by(node))
    return names


COMPARE_INDEX: dict[type[ast.cmpop], int] = {
    ast.Eq: 0, ast.NotEq: 1, ast.Lt: 2, ast.LtE: 3, ast.Gt: 4, ast.GtE: 5,
}
"""Each comparison operator's index in `ordering.COMPARISONS`, which `_compare_` takes."""


def is_flat_constant(node: ast.expr) -> bool:
    """A constant, or a display of constants (`("a", "b")`): comparing anything with one, or
    looking anything up in one, is bounded by the constant's size."""
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, (ast.Tuple, ast.List, ast.Set)) and all(isinstance(e, ast.Constant) for e in node.elts)


def is_flat(value: ast.expr) -> ast.expr:
    """`_type_(value) in _flat_`."""
    return ast.Compare(left=call("_type_", value), ops=[ast.In()], comparators=[load("_flat_")])


def duplicable(node: ast.expr) -> bool:
    """Whether `node` may appear twice in the generated code (in two branches, of which one runs):
    a small expression with no generated branches in it, so copies cannot nest and multiply."""
    nodes = list(ast.walk(node))
    return len(nodes) <= 24 and not any(
        isinstance(n, (ast.IfExp, ast.NamedExpr, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                       ast.GeneratorExp, ast.Await, ast.Yield, ast.YieldFrom))
        for n in nodes
    )


def guarded_comparison(op: ast.cmpop, left: ast.expr, left_name: str, right: ast.expr, right_tmp: str) -> ast.expr:
    """`left OP right`, natively when either operand is flat, each evaluated once and in order:

        (L op R) if _type_(L) in _flat_ else ((L op t) if _type_(t := R) in _flat_ else _compare_(L, t, i))

    `left` first evaluates the left operand (its name, or `tmp := expr`) and `left_name` reads it
    again; `right` is `duplicable` (it appears in both branches; one of them runs), bound to
    `right_tmp` unless it is a name. `in` and `not in` need only the left operand's type:
    `_contains_(L, R)` checks the rest."""
    if isinstance(op, (ast.In, ast.NotIn)):
        contains: ast.expr = call("_contains_", load(left_name), copy.deepcopy(right))
        if isinstance(op, ast.NotIn):
            contains = ast.UnaryOp(op=ast.Not(), operand=contains)
        native = ast.Compare(left=load(left_name), ops=[op], comparators=[right])
        return ast.IfExp(test=is_flat(left), body=native, orelse=contains)
    if isinstance(right, ast.Name):
        right_first: ast.expr = load(right.id)
        right_name = right.id
    else:
        right_name = right_tmp
        right_first = ast.NamedExpr(target=ast.Name(id=right_name, ctx=ast.Store()), value=copy.deepcopy(right))
    guard = call("_compare_", load(left_name), load(right_name), ast.Constant(COMPARE_INDEX[type(op)]))
    inner = ast.IfExp(
        test=is_flat(right_first),
        body=ast.Compare(left=load(left_name), ops=[op], comparators=[load(right_name)]),
        orelse=guard,
    )
    native = ast.Compare(left=load(left_name), ops=[op], comparators=[right])
    return ast.IfExp(test=is_flat(left), body=native, orelse=inner)
