"""Run-time guards for attribute access, writes, classes and `type()`.

The policy rewrites `getattr`-style access into `_getattr_(obj, name)` (dynamic names, and literal
names that have a checked replacement in `methods`), and stores into `_write_(obj)...`.

Attribute access denies `_` names (also after NFKC normalisation, which the parser applies to
identifiers but not to strings given to `getattr`), frame/inspect attributes, event-loop and task
internals, and values that are modules, frames, code objects, tracebacks or event loops; it swaps
the methods that amplify memory for their checked versions. Writes are allowed to containers and
to the program's own objects only; classes get the sandbox's `__metaclass__`.

The one exception to the `_` rule is `name_of`: `__name__` and `__qualname__` of classes and
functions, as a plain string (see its docstring for why nothing else can come out of it).
"""

from __future__ import annotations

import collections
import functools
import re
import types
import unicodedata
from typing import Any

from RestrictedPython.transformer import ALLOWED_FUNC_NAMES, INSPECT_ATTRIBUTES

from ..kernel.program import MAIN_NAME
from .containers import hashed, hashed_pairs, sized
from .hints import NAME_ATTRIBUTES, attribute_hint
from .kinds import BUILTIN_FACADES
from .methods import CLASS_METHODS, OVERRIDES, super_method
from .numbers import FACADE_TYPES
from .ordering import check_member, check_pair
from .regex import match_pattern

__all__ = [
    "BLOCKED_NAMES",
    "OpaqueType",
    "deny_value_type",
    "guarded_delattr",
    "guarded_dir",
    "guarded_getattr",
    "guarded_hasattr",
    "guarded_setattr",
    "guarded_write",
    "make_class",
    "name_of",
    "safe_type",
    "super_attr",
]

_BLOCKED_NAMES = frozenset(INSPECT_ATTRIBUTES) | {
    # asyncio tasks and futures: frames, the coroutine, the (host-thread-capable) loop.
    "get_stack",
    "print_stack",
    "get_coro",
    "get_loop",
    "format_map",
    # `C.mro()` lists the real classes behind the facades' number classes (see `numbers`).
    "mro",
}

BLOCKED_NAMES = _BLOCKED_NAMES
"""Attribute names the program may never read (frames, code, loops, task internals)."""

_DENIED_VALUE_TYPES: set[type] = {
    types.ModuleType,
    types.FrameType,
    types.CodeType,
    types.TracebackType,
}


def deny_value_type(cls: type) -> None:
    """Never hand out instances of `cls` through attribute access (event loops, for instance)."""
    _DENIED_VALUE_TYPES.add(cls)


# -- attribute access --------------------------------------------------------------------------


def _check_name(name: object) -> str:
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name.startswith("_"):
        raise AttributeError(f'"{name}" is a restricted attribute name; {attribute_hint(name)}')
    if name in _BLOCKED_NAMES:
        raise AttributeError(f'"{name}" is a restricted attribute name')
    if not name.isascii():
        normal = unicodedata.normalize("NFKC", name)
        if normal.startswith("_") or normal in _BLOCKED_NAMES:
            raise AttributeError(f'"{name}" is a restricted attribute name')
    return name


VALUE_OVERRIDES: dict[str, tuple[type, Any]] = {"re": (re.Match, match_pattern)}
"""Attributes whose *value* is replaced for one type: `Match.re` is the checked pattern."""

_NO_DEFAULT: Any = object()

_PLAIN_NAMES: set[str] = set()
"""Names already checked and known to have no override: the fast path is one set lookup."""


def guarded_getattr(obj: Any, name: str, default: Any = _NO_DEFAULT) -> Any:
    """`obj.name` for the program: `_getattr_`, also the sandbox's `getattr`."""
    if name not in _PLAIN_NAMES:
        if type(name) is str and name in NAME_ATTRIBUTES:
            try:
                return name_of(obj, name)
            except AttributeError:
                if default is _NO_DEFAULT:
                    raise
                return default
        _check_name(name)
        overrides = OVERRIDES.get(name)
        value_override = VALUE_OVERRIDES.get(name)
        if value_override is not None:
            if isinstance(obj, value_override[0]):
                return value_override[1](obj)
        elif overrides is not None:
            # `super().ljust` must not reach the unchecked method either.
            if type(obj) is super:
                checked = super_method(obj, name)
                if checked is not None:
                    return checked
            target = getattr(obj, "__self__", None) if type(obj) is super else obj
            for cls, unbound in overrides:
                if isinstance(target, cls):
                    return functools.partial(unbound, target)
                if isinstance(target, type) and issubclass(target, cls):
                    return functools.partial(unbound, target) if name in CLASS_METHODS else unbound
        elif len(_PLAIN_NAMES) < 50_000:
            _PLAIN_NAMES.add(name)
    if default is _NO_DEFAULT:
        value = getattr(obj, name)
    else:
        value = getattr(obj, name, default)
    if type(value) in _DENIED_VALUE_TYPES:
        raise AttributeError(f'"{name}" leads to an object the sandbox does not expose')
    return value


_INIT_GUARDS: dict[type, Any] = {set: hashed, dict: hashed_pairs, list: sized}
"""Builtin classes whose `__init__` consumes its first argument in one native call, and its check
(the same one the facade class applies when it is called: `kinds`)."""

_SUPER_SELF = vars(super)["__self__"]
_SUPER_THIS = vars(super)["__thisclass__"]
_SUPER_CLASS = vars(super)["__self_class__"]


def _native_owner(proxy: super, name: str) -> type | None:
    """The class whose `name` the `super` proxy resolves to, when that is native code (a builtin
    class's slot), else None (a Python method: the program's, or a facade's checked one)."""
    start, mro = _SUPER_THIS.__get__(proxy, super), _TYPE_MRO.__get__(_SUPER_CLASS.__get__(proxy, super), type)
    for cls in mro[mro.index(start) + 1:]:
        attr = _TYPE_DICT.__get__(cls, type).get(name)
        if attr is not None:
            return None if isinstance(attr, (types.FunctionType, classmethod, staticmethod)) else cls
    return None


def super_attr(proxy: Any, name: str) -> Any:
    """`super().__init__` and the other dunders a class may define, read from a real `super`.

    A builtin class's own `__init__`, `__contains__` and comparisons run natively on whatever the
    program passes: `super().__init__(keys)` in a `set` or `dict` subclass builds the container in
    one C call, `super().__contains__(t)` hashes `t`, `super().__eq__(o)` walks both sides. They
    come back checked as the builtin calls are (`containers`, `ordering`)."""
    if type(proxy) is not super or name not in ALLOWED_FUNC_NAMES:
        raise AttributeError(f'"{name}" may only be read from super()')
    value = getattr(proxy, name)
    owner = _native_owner(proxy, name)
    if owner is None:
        return value
    if name == "__init__":
        guard = next((check for real, check in _INIT_GUARDS.items() if issubclass(owner, real)), None)
        if guard is None:
            return value
        return functools.partial(_checked_init, value, guard)
    if name == "__contains__":
        return functools.partial(_checked_contains, value, _SUPER_SELF.__get__(proxy, super))
    return functools.partial(_checked_comparison, value, _SUPER_SELF.__get__(proxy, super))


def _checked_init(init: Any, guard: Any, *args: Any, **kwargs: Any) -> Any:
    if args:
        args = (guard(args[0]), *args[1:])
    return init(*args, **kwargs)


def _checked_contains(contains: Any, container: Any, item: Any) -> Any:
    check_member(item, container)
    return contains(item)


def _checked_comparison(compare: Any, left: Any, right: Any) -> Any:
    check_pair(left, right)
    return compare(right)


def guarded_hasattr(obj: Any, name: str) -> bool:
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def guarded_dir(obj: Any) -> list[str]:
    """`dir(obj)` without private names (one argument only)."""
    return [n for n in dir(obj) if not n.startswith("_") and n not in _BLOCKED_NAMES]


# -- writes and classes ------------------------------------------------------------------------

_WRITABLE = {dict, list, set, bytearray, collections.deque, collections.Counter, collections.OrderedDict,
             collections.defaultdict}
_CLASS_MARK = "__agent_class__"


def guarded_write(ob: Any) -> Any:
    """`_write_`: programs may write only to containers and to objects of their own classes."""
    t = type(ob)
    if t in _WRITABLE or getattr(t, _CLASS_MARK, False):
        return ob
    if isinstance(ob, type) and getattr(ob, _CLASS_MARK, False):
        return ob
    if isinstance(ob, (dict, list, set, bytearray, collections.deque)):
        return ob
    raise TypeError(f"cannot modify an object of type {t.__name__!r} (only your own objects and containers)")


def guarded_setattr(obj: Any, name: str, value: Any) -> None:
    setattr(guarded_write(obj), _check_name(name), value)


def guarded_delattr(obj: Any, name: str) -> None:
    delattr(guarded_write(obj), _check_name(name))


_CLASS_DUNDERS = frozenset(
    {"__module__", "__qualname__", "__doc__", "__classcell__", "__static_attributes__", "__firstlineno__"}
) | ALLOWED_FUNC_NAMES


def make_class(name: str, bases: tuple[Any, ...], namespace: dict[str, Any], **kwargs: Any) -> type:
    """The `__metaclass__` of every `class` statement in the program.

    No metaclasses (bases that are themselves `type` subclasses), no keywords (so no
    `__init_subclass__` arguments), no private names in the body. The class is marked as the
    program's own, which is what lets the program write to it and to its instances.
    """
    if kwargs:
        raise TypeError("class keywords are not allowed")
    for base in bases:
        if not isinstance(base, type) or issubclass(base, type):
            raise TypeError("classes may only derive from ordinary classes")
    for key in namespace:
        if key.startswith("_") and key not in _CLASS_DUNDERS:
            raise TypeError(f"class attribute {key!r} is not allowed")
    namespace[_CLASS_MARK] = True
    return type(name, bases, namespace)


_OPEN_MODULES = frozenset({
    "builtins", "datetime", "decimal", "fractions", "collections", "re", "uuid", "itertools", "json",
    "json.decoder", "_hashlib", "hashlib", "_sha256", "_sha512", "_md5", "_sha1", "_sha3", "_blake2",
    "statistics", "asyncio.locks", "asyncio.queues", "asyncio.exceptions", "enum", "agent",
})


class OpaqueType:
    """What `type()` returns for a class the program was not given (an engine or tool class):
    it prints and compares like the class, but cannot be called or looked into."""

    __slots__ = ("_cls",)

    def __init__(self, cls: type) -> None:
        self._cls = cls

    def __repr__(self) -> str:
        return repr(self._cls)

    def __eq__(self, other: object) -> bool:
        return other is self._cls or (isinstance(other, OpaqueType) and other._cls is self._cls)

    def __hash__(self) -> int:
        return hash(self._cls)


def safe_type(obj: Any) -> Any:
    """One-argument `type()`. The type of a class is this function, so the real `type` (and its
    three-argument form) is never reachable; classes the program was not handed (engine and tool
    classes) come back opaque, so their constructors cannot be called with chosen arguments."""
    t = type(obj)
    if issubclass(t, type):
        return safe_type
    # By identity and through `type`'s own descriptors: a host class's metaclass `__hash__`,
    # `__eq__` or `__getattribute__` never runs.
    facade = next((f for real, f in _FACADE_TYPES if t is real), None)
    if facade is not None:
        return facade
    if _TYPE_MODULE.__get__(t, type) in _OPEN_MODULES or _class_marked(t):
        return t
    return OpaqueType(t)


_FACADE_TYPES = (*BUILTIN_FACADES.items(), *FACADE_TYPES.items())
"""Real classes and the facade class the program names them by (`kinds`, `numbers`)."""
_TYPE_MODULE = vars(type)["__module__"]
_TYPE_MRO = vars(type)["__mro__"]
_TYPE_DICT = vars(type)["__dict__"]


def _class_marked(t: type) -> bool:
    """Whether `t` or a base is a class the program made (`make_class` marks them)."""
    return any(_TYPE_DICT.__get__(base, type).get(_CLASS_MARK, False) for base in _TYPE_MRO.__get__(t, type))


# -- names of classes and functions ----------------------------------------------------------------

# The kinds of callables whose name is readable. Matched by exact type: none can be subclassed.
_FUNCTION_KINDS = frozenset({
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.MethodWrapperType,
    types.ClassMethodDescriptorType,
})
# Each kind's own C-level `__name__`/`__qualname__` descriptor (and `type`'s, for classes).
_NAME_DESCRIPTORS: dict[tuple[type, str], Any] = {
    (kind, attr): vars(kind)[attr] for kind in (type, *_FUNCTION_KINDS) for attr in NAME_ATTRIBUTES
}
_METHOD_FUNC = vars(types.MethodType)["__func__"]
_OPAQUE_CLASS = vars(OpaqueType)["_cls"]
_FACADE_CLASSES = tuple((facade, real) for real, facade in _FACADE_TYPES)
_PROGRAM_QUALNAME = f"{MAIN_NAME}.<locals>."
"""A program's body runs inside `__agent_main__`; the qualnames of its functions should not say so."""


def _plain_str(value: object) -> str:
    """An exact `str` (a `str` subclass could carry methods of its own)."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    raise AttributeError("the name is not a string")


def name_of(obj: Any, attr: str) -> str:
    """`obj.__name__` / `obj.__qualname__` of a class or a function, as a plain `str`: `_name_of_`.

    The name is read through the C-level descriptor of the object's kind (`type.__name__` for any
    class, the function type's own for a function), never with `getattr`: a metaclass, a class
    attribute named `__name__` or a `__getattr__` is never consulted, so no code of the program
    or of a host object runs and nothing but a string comes back. A bound method is named after
    its function; an opaque host class (`OpaqueType`) and a facade class after the real class.

    Raises:
        AttributeError: `obj` is not a class or a function; the message says what to write.
    """
    if attr not in NAME_ATTRIBUTES:
        raise AttributeError(f'"{attr}" is a restricted attribute name')
    kind = type(obj)
    for _ in range(3):  # a method of a method of a function, at most
        if kind is not types.MethodType:
            break
        obj = _METHOD_FUNC.__get__(obj, kind)
        kind = type(obj)
    if kind is OpaqueType:
        obj = _OPAQUE_CLASS.__get__(obj, kind)
        kind = type(obj)
    if issubclass(kind, type):
        # By identity: a dict lookup would call the class's metaclass `__hash__`/`__eq__`.
        obj = next((real for facade, real in _FACADE_CLASSES if obj is facade), obj)
        kind = type
    elif not any(kind is known for known in _FUNCTION_KINDS):  # by identity: no metaclass `__hash__` runs
        kind_name = _plain_str(_NAME_DESCRIPTORS[type, "__name__"].__get__(kind, type))
        raise AttributeError(
            f"'{kind_name}' object has no attribute '{attr}' (the sandbox reads {attr} of classes and "
            f"functions only; for the class of an object write type(x).{attr})"
        )
    name = _plain_str(_NAME_DESCRIPTORS[kind, attr].__get__(obj, kind))
    if attr == "__qualname__" and name.startswith(_PROGRAM_QUALNAME):
        name = name[len(_PROGRAM_QUALNAME):]
    return name
