"""Loop counters the policy may treat as ints: `for i in range(...)` where nothing else binds `i`.

The policy's arithmetic guards test an operand's type at run time (`i % 97` becomes
`i % 97 if type(i) is int or type(i) is float else _mod_(i, 97)`), which costs the hottest loops
a call per operation. Where the program text proves the operand is an int, the test is dropped:

- the loop is a plain `for NAME in range(...)` (no `async for`, no starred or keyword arguments)
  in a function (not the module body, whose names are globals a code session keeps, nor a class
  body);
- the program never binds `range` and never names `globals`, `vars` or `locals`;
- in that function, including everything nested in it, every binding of `NAME` (assignment,
  augmented assignment, `:=`, `del`, another loop or comprehension target, `with`/`except ...
  as`, an import, a parameter, a definition) is the target of such a loop, and no `global` or
  `nonlocal` statement anywhere in the program names it.

So whenever the function holds `NAME`, it holds what a `range` produced. The policy calls the
builtin by a hidden name (`_range_`, `keys.is_range_loop`: a code session may keep a `range` an
earlier program bound), and the loop's iterable still goes through `_ints_` (`ints_only`) when the
loop starts, which passes the sandbox's own ranges and makes any other iterable's items prove they
are ints. The knowledge is used only directly in the loop's body (not its `else`, not nested
functions or comprehensions).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from typing import Any

from .astgen import names_bound_by
from .iterators import SafeRange
from .keys import is_range_loop

__all__ = ["int_loops", "ints_only"]

_REFLECTIVE = frozenset({"globals", "vars", "locals"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef)
_NONE_BOUND: set[str] = set()
"""What `keys.is_range_loop` is told the program binds: by then `int_loops` has made sure it binds no `range`."""


def _bindings(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """Every `(name, site)` that binds a name in `tree`, nested scopes included."""
    for node in ast.walk(tree):
        for name in names_bound_by(node):
            yield name, node


def int_loops(tree: ast.AST) -> set[int]:
    """The `id()`s of the `for` nodes in `tree` whose target is an int in their body (see the
    module docstring). Computed on the program as parsed, before the policy rewrites it."""
    declared: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in _REFLECTIVE:
            return set()
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
    if any(name == "range" for name, _ in _bindings(tree)):
        return set()
    found: set[int] = set()
    for scope in ast.walk(tree):
        if not isinstance(scope, _SCOPES):
            continue
        loops = [
            node for stmt in scope.body for node in _own_statements(stmt)
            if isinstance(node, ast.For) and is_range_loop(node, _NONE_BOUND)
        ]
        if not loops:
            continue
        targets = {id(loop.target) for loop in loops if isinstance(loop, ast.For)}
        # (The function's own name binds in the enclosing scope; its parameters bind here.)
        spoiled = {name for name, site in _bindings(scope) if site is not scope and id(site) not in targets}
        spoiled |= declared
        spoiled.update(arg.arg for arg in _parameters(scope.args))
        for loop in loops:
            assert isinstance(loop, ast.For) and isinstance(loop.target, ast.Name)
            if loop.target.id not in spoiled:
                found.add(id(loop))
    return found


def _parameters(args: ast.arguments) -> Iterable[ast.arg]:
    yield from args.posonlyargs
    yield from args.args
    yield from args.kwonlyargs
    if args.vararg is not None:
        yield args.vararg
    if args.kwarg is not None:
        yield args.kwarg


def _own_statements(stmt: ast.stmt) -> Iterator[ast.AST]:
    """`stmt` and the statements nested in it that belong to the same function (not in nested
    functions, lambdas or classes)."""
    yield stmt
    for child in ast.iter_child_nodes(stmt):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(child, ast.stmt):
            yield from _own_statements(child)
        elif isinstance(child, (ast.ExceptHandler, ast.match_case)):
            for inner in ast.iter_child_nodes(child):
                if isinstance(inner, ast.stmt):
                    yield from _own_statements(inner)


def _exact_ints(items: Iterable[Any]) -> Iterator[int]:
    for item in items:
        if type(item) is not int:
            raise TypeError(
                "this loop's counter must be an int: the name `range` means something else here (a code "
                "session kept a `range` an earlier program bound); `del range` restores the builtin"
            )
        yield item


def ints_only(iterable: Any) -> Any:
    """`_ints_`: the iterable of a loop the policy knows counts in ints (`int_loops`). The sandbox's
    own ranges pass as they are; anything else has each item checked to be an int."""
    kind = type(iterable)
    if kind is range or kind is SafeRange:
        return iterable
    return _exact_ints(iterable)
