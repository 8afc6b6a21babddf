"""Which local names surely hold a value whose hash is cheap: the policy's shortcut for key checks.

A subscript (`d[k]`), a hashing method (`s.add(k)`, `d.get(k)`) or a display key hashes its key
natively, and a tuple built as a DAG makes that hash as long as the program likes (3.11 does not
cache tuple hashes), so the policy checks every such key (`ordering.hash_key`). The check is an
inline type test when the key is flat, but even that is a fifth of the cost of `d[k]` itself, on
the hottest operation of ordinary code. Where the key is a local name that can only ever hold a
string or a number, the test is left out.

A name qualifies in a function when the function itself assigns it (so it is the function's
local, never a global a code session or the host put there), every binding of it anywhere inside
the function (nested scopes included) is a plain `name = expr` (or `name op= expr`) with an `expr`
that surely makes a string or a number, or a `for name in range(...)`, and no `global` or
`nonlocal` inside the function names it (one elsewhere refers to another variable). "Surely" is
decided on the source: constants, f-strings, calls of `str` (which the policy rewrites to the real
class), and operators between such values. A program's classes cannot define operator methods
(the policy refuses those dunders), so `"k" + str(i)` is a string whatever `i` is. Anything else
takes the check. Functions nested more than two deep inherit what their enclosing ones found.

The same walk finds the local names that surely hold a plain `dict` or `list` (`sure_containers`:
every binding is a display or a comprehension of one): `counts[key] = v` on such a name needs no
`_write_` test, the other hot spot of ordinary loops.
"""

from __future__ import annotations

import ast

from .astgen import names_bound_by

__all__ = ["Followed", "calls_builtin_str", "followed", "is_range_loop", "sure_containers", "sure_names", "surely_flat"]

_FLAT_CONSTANTS = (str, bytes, int, float, complex, bool, type(None))


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def surely_flat(node: ast.expr, names: frozenset[str] | set[str], bound: set[str]) -> bool:
    """Whether `node` (source, not yet transformed) can only make a string or a number (or None):
    its hash visits nothing else. `names` are local names known to hold such values, `bound` the
    names the program binds anywhere (a builtin's name among them may mean something else)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, _FLAT_CONSTANTS)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.BinOp):
        return not isinstance(node.op, ast.MatMult) and surely_flat(node.left, names, bound) and surely_flat(
            node.right, names, bound)
    if isinstance(node, ast.UnaryOp):
        return surely_flat(node.operand, names, bound)
    if isinstance(node, ast.BoolOp):
        return all(surely_flat(value, names, bound) for value in node.values)
    if isinstance(node, ast.IfExp):
        return surely_flat(node.body, names, bound) and surely_flat(node.orelse, names, bound)
    if isinstance(node, ast.Call):
        return calls_builtin_str(node, bound)
    return False


def calls_builtin_str(node: ast.Call, bound: set[str]) -> bool:
    """`str(x)` that the policy rewrites to the real `str` (`expressions.MATERIALISERS`): not where
    the program binds `str`, and not `str(*a)` or `str(object=x)`, which keep the name. Other
    builtins are not trusted by name: a code session's earlier run may have bound the global."""
    func = node.func
    if not (isinstance(func, ast.Name) and func.id == "str" and func.id not in bound):
        return False
    if node.args and isinstance(node.args[0], ast.Starred):
        return False
    return bool(node.args) or not node.keywords


def is_range_loop(node: ast.For, bound: set[str]) -> bool:
    """`for name in range(...)` with the builtin `range` (the policy calls it by a hidden name,
    `_range_`, so a global of a code session's earlier run named `range` is not it)."""
    it = node.iter
    return (
        isinstance(node.target, ast.Name)
        and isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "range"
        and "range" not in bound
        and not any(isinstance(arg, ast.Starred) for arg in it.args)
        and not it.keywords
    )


_BINDERS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For)

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _own_bindings(body: list[ast.stmt], accounted: set[int]) -> set[str]:
    """Names the accounted bindings among `body`'s statements (not inside a nested function or
    class: those bind elsewhere) bind in this scope. Only statements bind them, so only
    statements are visited."""
    own: set[str] = set()
    todo: list[ast.AST] = [stmt for stmt in body if not isinstance(stmt, _NESTED)]
    while todo:
        stmt = todo.pop()
        if isinstance(stmt, _BINDERS):
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else getattr(
                stmt, "target", None)
            if isinstance(target, ast.Name) and id(target) in accounted:
                own.add(target.id)
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, (ast.stmt, ast.ExceptHandler, ast.match_case)) and not isinstance(child, _NESTED):
                todo.append(child)
    return own


def _note_binding(node: ast.AST, bound: set[str], values: dict[str, list[ast.expr | None]],
                  accounted: set[int]) -> None:
    """If `node` binds a plain name in a way the analysis follows (`name = expr`, `name op= expr`,
    `for name in range(...)`), record the value and mark the target as accounted for."""
    target: ast.expr | None = None
    value: ast.expr | None = None
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    elif isinstance(node, ast.AugAssign):
        target = node.target
        if isinstance(target, ast.Name):
            value = ast.BinOp(left=ast.Name(id=target.id, ctx=ast.Load()), op=node.op, right=node.value)
    elif isinstance(node, ast.For) and is_range_loop(node, bound):
        target = node.target
    if isinstance(target, ast.Name):
        values.setdefault(target.id, []).append(value)
        accounted.add(id(target))


_Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


Followed = dict[str, list[ast.expr | None]]
"""Local names of a function with the values every binding of each gives it (`followed`)."""


def followed(func: _Function, bound: set[str]) -> Followed:
    """The local names of `func` whose every binding anywhere inside it is one `_note_binding`
    follows, each with the values it is bound to (None: a `for name in range(...)` counter). One
    walk of `func` serves both `sure_names` and `sure_containers`."""
    values: dict[str, list[ast.expr | None]] = {}
    accounted: set[int] = set()
    spoiled: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, _BINDERS):
            _note_binding(node, bound, values, accounted)
        elif id(node) not in accounted:  # (a target `_note_binding` follows is seen after its statement)
            spoiled.update(names_bound_by(node))
    own = set() if isinstance(func, ast.Lambda) else _own_bindings(func.body, accounted)
    return {name: found for name, found in values.items() if name in own and name not in spoiled}


_DISPLAYS = (ast.Dict, ast.List, ast.DictComp, ast.ListComp)


def sure_containers(values: Followed) -> frozenset[str]:
    """The local names (of the function `values` came from: `followed`) that surely hold a plain
    `dict` or `list`: every binding of the name anywhere inside the function is `name = <a dict or
    list display or comprehension>`, which always makes a new object of exactly that class
    (writing an item of it needs no `_write_`)."""
    return frozenset(name for name, found in values.items() if all(isinstance(v, _DISPLAYS) for v in found))


def sure_names(values: Followed, bound: set[str]) -> frozenset[str]:
    """The local names (of the function `values` came from: `followed`) that surely hold a string
    or a number (see the module docstring)."""
    names = set(values)
    # Drop the names with a value that is not surely flat; a dropped name drops the names assigned
    # from it in turn (each name is looked at again only when a name its values read is dropped).
    readers: dict[str, set[str]] = {}
    for name in names:
        for value in values[name]:
            for node in ast.walk(value) if value is not None else ():
                if isinstance(node, ast.Name):
                    readers.setdefault(node.id, set()).add(name)
    todo_names = list(names)
    while todo_names:
        name = todo_names.pop()
        if name in names and not all(value is None or surely_flat(value, names, bound) for value in values[name]):
            names.discard(name)
            todo_names.extend(readers.get(name, ()))
    return frozenset(names)
