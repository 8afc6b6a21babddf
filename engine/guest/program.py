"""Full-Python programs for the guest: compile with top-level `await`/`return`, describe errors, plain results.

`compile_program(source)` wraps the agent's module body in `async def __agent_main__()` by an AST
rewrite (never by re-indenting text), so statements keep the agent's own line numbers. Names the
body binds at top level are declared `global` in the wrapper: they land in the globals dict the
program runs in, which is what makes a code session's state persist from one run to the next.

`error_info` reports an exception with only the frames compiled from the agent's source, and
`to_plain` copies a return value into plain data (or refuses it with a `TypeError` naming the path).

Standard library only: shipped to guests.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import traceback
from types import CodeType, TracebackType
from typing import Any

__all__ = ["AGENT_FILENAME", "MAIN_NAME", "Program", "ProgramSyntaxError", "compile_program", "error_info", "to_plain"]

AGENT_FILENAME = "<agent>"
MAIN_NAME = "__agent_main__"
_MAX_MESSAGE = 2000
_MAX_DEPTH = 100
_CO_ASYNC_GENERATOR = 0x200


class ProgramSyntaxError(Exception):
    """The program does not compile."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class Program:
    """A compiled program: executing `code` in a globals dict defines `__agent_main__` there."""

    __slots__ = ("code", "lines")

    def __init__(self, code: CodeType, lines: tuple[str, ...]) -> None:
        self.code = code
        self.lines = lines


class _Bindings(ast.NodeVisitor):
    """Names bound in the module's own scope (not inside functions, classes, lambdas or comprehensions)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store | ast.Del):
            self.names.add(node.id)

    def _scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.names.add(node.name)
        for decorator in node.decorator_list:
            self.visit(decorator)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def visit_Lambda(self, node: ast.Lambda) -> None:
        pass

    def _comprehension(self, node: ast.AST) -> None:
        # Only a walrus inside a comprehension binds in the enclosing scope.
        for child in ast.walk(node):
            if isinstance(child, ast.NamedExpr) and isinstance(child.target, ast.Name):
                self.names.add(child.target.id)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.names.add((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.names.add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self.names.add(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.names.add(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.names.add(node.rest)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self.names.update(node.names)


def _syntax_error(exc: SyntaxError) -> ProgramSyntaxError:
    return ProgramSyntaxError(exc.msg or "invalid syntax", exc.lineno)


def compile_program(source: str) -> Program:
    """Compile `source` as the body of an async function; raise `ProgramSyntaxError`."""
    try:
        tree = ast.parse(source, AGENT_FILENAME, "exec")
    except SyntaxError as exc:
        raise _syntax_error(exc) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ProgramSyntaxError(f"cannot parse program: {exc}", None) from None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            raise ProgramSyntaxError("from __future__ imports are not supported", node.lineno)
        if isinstance(node, ast.Nonlocal):
            raise ProgramSyntaxError("nonlocal declaration not allowed at module level", node.lineno)
    bindings = _Bindings()
    for node in tree.body:
        bindings.visit(node)
    body: list[ast.stmt] = []
    if bindings.names:
        body.append(ast.Global(names=sorted(bindings.names), lineno=1, col_offset=0))
    body.extend(tree.body or [ast.Pass(lineno=1, col_offset=0)])
    no_args = ast.arguments(
        posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
    )
    main = ast.AsyncFunctionDef(
        name=MAIN_NAME, args=no_args, body=body, decorator_list=[], returns=None, lineno=1, col_offset=0
    )
    if "type_params" in ast.AsyncFunctionDef._fields:  # Python 3.12+ (the guest may run on a newer one)
        setattr(main, "type_params", [])  # noqa: B010 - the attribute is unknown to 3.11's stubs
    module = ast.Module(body=[main], type_ignores=[])
    ast.fix_missing_locations(module)
    try:
        code = compile(module, AGENT_FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise _syntax_error(exc) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ProgramSyntaxError(f"cannot compile program: {exc}", None) from None
    for const in code.co_consts:
        if isinstance(const, CodeType) and const.co_name == MAIN_NAME and const.co_flags & _CO_ASYNC_GENERATOR:
            raise ProgramSyntaxError("'yield' outside function", None)
    return Program(code, tuple(source.splitlines()))


def _agent_frames(tb: TracebackType | None) -> list[tuple[int, str]]:
    frames: list[tuple[int, str]] = []
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == AGENT_FILENAME:
            name = frame.f_code.co_name
            frames.append((lineno, "<module>" if name == MAIN_NAME else name))
    return frames


def error_info(
    exc: BaseException, lines: tuple[str, ...], *, type_name: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """`{type, message, line, traceback}` with only the agent's frames."""
    name = type_name or type(exc).__name__
    if message is None:
        try:
            message = str(exc)
        except Exception:  # a broken __str__ must not break error reporting
            message = "<unprintable message>"
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    frames = _agent_frames(exc.__traceback__)
    out = ["Traceback (most recent call last):"]
    for lineno, func in frames[-30:]:
        out.append(f"  line {lineno}, in {func}")
        if 0 < lineno <= len(lines) and lines[lineno - 1].strip():
            out.append(f"    {lines[lineno - 1].strip()[:200]}")
    out.append(f"{name}: {message}" if message else name)
    return {"type": name, "message": message, "line": frames[-1][0] if frames else None, "traceback": "\n".join(out)}


def plain_error(type_name: str, message: str, line: int | None = None) -> dict[str, Any]:
    """An error description without a traceback."""
    return {"type": type_name, "message": message, "line": line, "traceback": f"{type_name}: {message}"}


def to_plain(value: Any, path: str = "result", depth: int = 0) -> Any:
    """A plain-data copy of `value` (None, bool, int, float, str, bytes, list, dict with str keys)."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str, bytes):
        return value
    if depth > _MAX_DEPTH:
        raise TypeError(f"{path}: nested more than {_MAX_DEPTH} levels deep")
    if isinstance(value, bool | int | float | str):
        return _builtin_copy(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {_key(key, path): to_plain(item, f"{path}[{key!r}]"[:200], depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_plain(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
        if isinstance(value, set | frozenset):
            try:
                items.sort()
            except TypeError:
                pass
        return items
    raise TypeError(
        f"{path}: a value of type {kind.__name__!r} is not plain data (return None, bool, int, float, str, bytes, "
        "lists and dicts)"
    )


def _builtin_copy(value: bool | int | float | str) -> Any:
    for base in (bool, int, float, str):
        if isinstance(value, base):
            return base(value)
    return value  # unreachable: the caller checked the type


def _key(key: Any, path: str) -> str:
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, bool | int | float):
        return str(key)
    raise TypeError(f"{path}: dict key of type {type(key).__name__!r} is not a string")
