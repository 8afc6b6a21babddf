"""The builtin classes a program can name (`str`, `list`, `tuple`, `set`, `frozenset`, `dict`),
each carrying its own guard.

A guard applied where the program writes `str(x)` is skipped by `f = str; f(x)`, `map(str, xs)`,
`sorted(xs, key=str)` or `defaultdict(set)`: the name moves, the guard does not. So the object
behind the name is the guard: a subclass of the real class whose metaclass checks the first
argument of every call (`str` sizes the text it would make, `set`/`frozenset`/`dict` check their
keys' hash collisions and hash cost, `list`/`tuple` the size of a sized iterable) and then calls
the real class, whose instances the program gets. Classes the program derives from one of them
are checked the same way.

To the program they are the builtin classes: `isinstance(x, str)`, `issubclass`, `type(x) is
dict` (`type()` answers the facade for the real class), `str.join`, `dict.fromkeys` (checked
too), `repr(str)` and `str.__name__` behave as usual. The policy calls the real class directly
where the program calls the builtin by its own name (the argument is checked there), so the common
`str(i)` costs no extra Python frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .containers import hashed, hashed_pairs, sized
from .shown import shown

__all__ = ["BUILTIN_FACADES", "FACADE_BY_NAME"]


class _GuardedClass(type):
    """Metaclass of the facade classes and of the program's classes derived from them."""

    _guard: Callable[[Any], Any]
    _real: type
    _keyword = ""
    """The name the guarded argument may also be passed by (`str(object=x)`)."""

    def __instancecheck__(cls, obj: object) -> bool:
        real = cls.__dict__.get("_real")
        if real is not None:
            return isinstance(obj, real)
        return type.__instancecheck__(cls, obj)

    def __subclasscheck__(cls, sub: type) -> bool:
        real = cls.__dict__.get("_real")
        if real is not None:
            return issubclass(sub, real)
        return type.__subclasscheck__(cls, sub)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        real = cls.__dict__.get("_real")
        if real is None and (cls.__init__ is not cls._real.__init__ or cls.__new__ is not cls._real.__new__):  # type: ignore[misc]
            # A derived class with its own `__init__` or `__new__` takes arguments of its own...
            if cls.__new__ is not cls._real.__new__ or cls._real not in _NEW_CONSUMES:
                return type.__call__(cls, *args, **kwargs)
            # ...but `str.__new__`, `frozenset.__new__`, `tuple.__new__` still consume the first one
            # in one native call: guarded for `__new__`, given as written to the program's `__init__`.
            return _construct(cls, args, kwargs)
        if args:
            args = (cls._guard(args[0]), *args[1:])
        elif cls._keyword in kwargs:  # `str(object=x)`
            kwargs[cls._keyword] = cls._guard(kwargs[cls._keyword])
        if real is not None:
            return real(*args, **kwargs)
        return type.__call__(cls, *args, **kwargs)


_NEW_CONSUMES = frozenset({str, frozenset, tuple})
"""Real classes whose `__new__` (not `__init__`) reads the argument."""


def _construct(cls: _GuardedClass, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`type.__call__(cls, *args, **kwargs)` with the guarded argument passed to `__new__` only."""
    new_args, new_kwargs = args, kwargs
    if args:
        new_args = (cls._guard(args[0]), *args[1:])
    elif cls._keyword in kwargs:
        new_kwargs = {**kwargs, cls._keyword: cls._guard(kwargs[cls._keyword])}
    new: Any = cls._real.__new__
    obj: Any = new(cls, *new_args, **new_kwargs)
    kind: type = cls
    if isinstance(obj, kind):  # as `type.__call__` does: no `__init__` for another class's object
        init: Any = type(obj).__init__
        init(obj, *args, **kwargs)
    return obj


def _text(value: Any) -> Any:
    return shown(value)


class SafeStr(str, metaclass=_GuardedClass):
    _real = str
    _guard = staticmethod(_text)
    _keyword = "object"


class SafeList(list, metaclass=_GuardedClass):  # type: ignore[type-arg]
    _real = list
    _guard = staticmethod(sized)


class SafeTuple(tuple, metaclass=_GuardedClass):  # type: ignore[type-arg]
    _real = tuple
    _guard = staticmethod(sized)


class SafeSet(set, metaclass=_GuardedClass):  # type: ignore[type-arg]
    _real = set
    _guard = staticmethod(hashed)


class SafeFrozenset(frozenset, metaclass=_GuardedClass):  # type: ignore[type-arg]
    _real = frozenset
    _guard = staticmethod(hashed)


_FROMKEYS = vars(dict)["fromkeys"]


class SafeDict(dict, metaclass=_GuardedClass):  # type: ignore[type-arg]
    _real = dict
    _guard = staticmethod(hashed_pairs)

    @classmethod
    def fromkeys(cls, iterable: Any, value: Any = None) -> Any:
        """`dict.fromkeys`: the keys' hash collisions and hash cost checked first."""
        target = cls.__dict__.get("_real", cls)
        return _FROMKEYS.__get__(None, target)(hashed(iterable), value)


BUILTIN_FACADES: dict[type, type] = {
    str: SafeStr, list: SafeList, tuple: SafeTuple, set: SafeSet, frozenset: SafeFrozenset, dict: SafeDict,
}
"""What `type()` answers for the real classes: the facade class the program can name."""

FACADE_BY_NAME: dict[str, type] = {real.__name__: facade for real, facade in BUILTIN_FACADES.items()}

for _real_class, _facade in BUILTIN_FACADES.items():
    _facade.__module__ = "builtins"
    _facade.__name__ = _facade.__qualname__ = _real_class.__name__
    _facade.__doc__ = _real_class.__doc__
