"""Vetted stand-ins for the modules a program may import.

`import json` inside the sandbox gives a `ModuleFacade`, never the module: an object holding only
the listed names. It has no `__name__`, so `from json import decoder` cannot fall back to
`sys.modules["json.decoder"]`, and the program cannot write to it (facades are shared by every
execution). Functions that can allocate without bound (`math.factorial`, `random.getrandbits`,
`textwrap.indent`, infinite or combinatorial `itertools`) are wrapped with size checks or made to
iterate in Python, where the stop flag is checked.
"""

from __future__ import annotations

import base64
import collections
import collections.abc
import datetime
import decimal
import hashlib
import itertools
import json
import math
import random
import string
import textwrap
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .aio import build_asyncio_facade
from .context import current
from .iterators import checked_iter, flat_nesting
from .mappings import ChainMap, Counter, OrderedDict, defaultdict
from .numbers import SafeDecimal, SafeFraction, safe_gcd, safe_isqrt, statistics_names
from .operators import guarded_mul
from .ordering import bounded_keys
from .regex import re_names
from .sequences import deque
from .shown import check_shown, sized_hook, text_size
from .sizes import max_sequence, require_size

__all__ = ["ALLOWED_MODULES", "ModuleFacade", "facade_for"]


class ModuleFacade:
    """A read-only bag of names standing in for a module."""

    def __init__(self, label: str, names: dict[str, Any]) -> None:
        self.__dict__.update(names)
        object.__setattr__(self, "_ModuleFacade__label", label)

    def __repr__(self) -> str:
        return f"<sandboxed module {self.__dict__['_ModuleFacade__label']!r}>"

    def __getattr__(self, name: str) -> Any:
        # Only reached for missing names (also `__name__`, which `from x import y` falls back to:
        # raising here keeps that fallback away from `sys.modules`).
        raise AttributeError(f"module {self.__dict__['_ModuleFacade__label']!r} has no attribute {name!r}")


# -- json -----------------------------------------------------------------------------------


def _dumps(
    obj: Any,
    *,
    indent: int | str | None = None,
    sort_keys: bool = False,
    ensure_ascii: bool = True,
    separators: tuple[str, str] | None = None,
    default: Callable[[Any], Any] | None = None,
    skipkeys: bool = False,
    allow_nan: bool = True,
) -> str:
    if isinstance(indent, int) and indent > 64 or isinstance(indent, str) and len(indent) > 64:
        raise ValueError("indent is limited to 64")
    if separators is not None and sum(len(s) for s in separators) > 64:
        raise ValueError("separators are limited to 64 characters")
    check_shown(obj, "json.dumps() of this value")
    if default is not None:
        default = sized_hook(default, text_size(obj, max_sequence()))
    return json.dumps(
        obj, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii, separators=separators,
        default=default, skipkeys=skipkeys, allow_nan=allow_nan,
    )


def _loads(s: str | bytes | bytearray) -> Any:
    return json.loads(s)


# -- math -----------------------------------------------------------------------------------


def _bits_limit() -> int:
    return current().limits.max_sequence_length // 8


def _factorial(n: int) -> int:
    if isinstance(n, int) and n > 2 and n * math.log2(n) > _bits_limit():
        raise MemoryError(f"factorial({n}) is over the integer size limit")
    return math.factorial(n)


def _comb(n: int, k: int) -> int:
    if isinstance(n, int) and isinstance(k, int) and n > 2 and 0 < k < n:
        if min(k, n - k) * math.log2(n) > _bits_limit():
            raise MemoryError(f"comb({n}, {k}) is over the integer size limit")
    return math.comb(n, k)


def _perm(n: int, k: int | None = None) -> int:
    if isinstance(n, int) and n > 2 and (k is None or isinstance(k, int)):
        if min(n, k if k is not None else n) * math.log2(n) > _bits_limit():
            raise MemoryError(f"perm({n}, {k}) is over the integer size limit")
    return math.perm(n, k)


def _prod(iterable: Iterable[Any], *, start: Any = 1) -> Any:
    result = start
    for item in checked_iter(iterable):
        result = guarded_mul(result, item)
    return result


def _lcm(*integers: int) -> int:
    result = 1
    for n in integers:
        if result.bit_length() + int(n).bit_length() > _bits_limit():
            raise MemoryError("lcm() result is over the integer size limit")
        result = math.lcm(result, n)
    return result


def _math() -> dict[str, Any]:
    names = {n: getattr(math, n) for n in dir(math) if not n.startswith("_")}
    names.update(factorial=_factorial, comb=_comb, perm=_perm, prod=_prod, lcm=_lcm, gcd=safe_gcd, isqrt=safe_isqrt)
    return names


# -- random ---------------------------------------------------------------------------------


def random_facade(initial: int | None = None) -> ModuleFacade:
    """A facade over a private `random.Random`: seeding it affects only this execution. `initial`
    is the execution's seed (approvals record it, so a replay draws the same numbers); None: from
    the OS."""
    rng = random.Random(initial)

    def getrandbits(k: int) -> int:
        require_size(k, "getrandbits()")
        return rng.getrandbits(k)

    def randbytes(n: int) -> bytes:
        require_size(n, "randbytes()")
        return rng.randbytes(n)

    def choices(population: Any, weights: Any = None, *, cum_weights: Any = None, k: int = 1) -> list[Any]:
        require_size(k, "choices()")
        return rng.choices(population, weights, cum_weights=cum_weights, k=k)

    def seed(a: int | float | str | bytes | None = None) -> None:
        rng.seed(a)

    names: dict[str, Any] = {
        n: getattr(rng, n)
        for n in ("random", "uniform", "randint", "randrange", "choice", "shuffle", "sample", "gauss",
                  "normalvariate", "triangular", "betavariate", "expovariate", "lognormvariate",
                  "vonmisesvariate", "gammavariate", "paretovariate", "weibullvariate")
    }
    names.update(getrandbits=getrandbits, randbytes=randbytes, choices=choices, seed=seed)
    return ModuleFacade("random", names)


# -- itertools ------------------------------------------------------------------------------


def _count(start: Any = 0, step: Any = 1) -> Iterator[Any]:
    return checked_iter(itertools.count(start, step))


def _cycle(iterable: Iterable[Any]) -> Iterator[Any]:
    return checked_iter(itertools.cycle(iterable))


def _repeat(obj: Any, times: int | None = None) -> Iterator[Any]:
    return checked_iter(itertools.repeat(obj) if times is None else itertools.repeat(obj, times))


def _pools(iterables: Iterable[Iterable[Any]]) -> list[tuple[Any, ...]]:
    pools = [tuple(checked_iter(it)) for it in iterables]
    require_size(sum(len(p) for p in pools), "itertools pools")
    return pools


def _product(*iterables: Iterable[Any], repeat: int = 1) -> Iterator[Any]:
    pools = _pools(iterables)
    require_size(sum(len(p) for p in pools) * max(repeat, 0), "product() pools")
    return checked_iter(itertools.product(*pools, repeat=repeat))


def _permutations(iterable: Iterable[Any], r: int | None = None) -> Iterator[Any]:
    return checked_iter(itertools.permutations(_pools([iterable])[0], r))


def _combinations(iterable: Iterable[Any], r: int) -> Iterator[Any]:
    return checked_iter(itertools.combinations(_pools([iterable])[0], r))


def _combinations_wr(iterable: Iterable[Any], r: int) -> Iterator[Any]:
    return checked_iter(itertools.combinations_with_replacement(_pools([iterable])[0], r))


def _tee(iterable: Iterable[Any], n: int = 2) -> tuple[Iterator[Any], ...]:
    if n > 1000:
        raise ValueError("tee() is limited to 1000 copies")
    return tuple(flat_nesting(iter)(it) for it in itertools.tee(flat_nesting(iter)(iterable), n))


def _itertools() -> dict[str, Any]:
    names: dict[str, Any] = {
        n: flat_nesting(getattr(itertools, n))
        for n in ("accumulate", "compress", "dropwhile", "filterfalse", "islice",
                  "pairwise", "starmap", "takewhile", "zip_longest")
    }
    chain: Any = flat_nesting(itertools.chain)
    # The iterables of `from_iterable` hide inside its argument: always one frame per level.
    from_iterable = itertools.chain.from_iterable

    def chain_from_iterable(iterables: Iterable[Iterable[Any]]) -> Iterator[Any]:
        yield from from_iterable(iterables)

    chain.from_iterable = chain_from_iterable
    groupby = flat_nesting(itertools.groupby)

    def bounded_groupby(iterable: Iterable[Any], key: Any = None) -> Iterator[Any]:
        # groupby compares consecutive keys in C: their nested cost is charged as they come.
        return groupby(iterable, bounded_keys(key))

    names.update(chain=chain, tee=_tee, groupby=bounded_groupby)
    names.update(
        count=_count, cycle=_cycle, repeat=_repeat, product=_product, permutations=_permutations,
        combinations=_combinations, combinations_with_replacement=_combinations_wr,
    )
    return names


# -- collections ----------------------------------------------------------------------------


def _namedtuple(typename: str, field_names: Any, **options: Any) -> type:
    """`collections.namedtuple` with at most 1000 fields: it compiles generated source in C, which
    holds the GIL for seconds with hundreds of thousands of fields."""
    names = field_names.replace(",", " ").split() if isinstance(field_names, str) else list(
        checked_iter(field_names))
    if len(names) > 1000 or sum(len(str(n)) for n in names) + len(str(typename)) > 50_000:
        raise ValueError("namedtuple() is limited to 1000 fields")
    options["module"] = "agent"  # the program's own class, as if defined in its code
    cls: type = collections.namedtuple(typename, names, **options)  # type: ignore[misc]
    return cls


# -- re -------------------------------------------------------------------------------------


# -- textwrap -------------------------------------------------------------------------------

_TEXTWRAP_OPTIONS = ("width", "expand_tabs", "tabsize", "replace_whitespace", "drop_whitespace",
                     "break_long_words", "break_on_hyphens", "max_lines", "placeholder",
                     "initial_indent", "subsequent_indent", "fix_sentence_endings")


def _check_wrap_options(text: str, options: dict[str, Any]) -> None:
    for key in options:
        if key not in _TEXTWRAP_OPTIONS:
            raise TypeError(f"unexpected option {key!r}")
    indent = max(len(options.get("initial_indent", "")), len(options.get("subsequent_indent", "")))
    tabs = text.count("\t") * int(options.get("tabsize", 8))
    require_size(len(text) + tabs + (len(text) + 1) * indent, "textwrap result")


def _wrap(text: str, width: int = 70, **options: Any) -> list[str]:
    _check_wrap_options(text, options)
    return textwrap.wrap(text, width, **options)


def _fill(text: str, width: int = 70, **options: Any) -> str:
    _check_wrap_options(text, options)
    return textwrap.fill(text, width, **options)


def _shorten(text: str, width: int, **options: Any) -> str:
    _check_wrap_options(text, options)
    return textwrap.shorten(text, width, **options)


def _indent(text: str, prefix: str, predicate: Callable[[str], bool] | None = None) -> str:
    require_size(len(text) + (text.count("\n") + 1) * len(prefix), "indent() result")
    return textwrap.indent(text, prefix, predicate)


# -- the table ------------------------------------------------------------------------------


def _pick(module: Any, names: Iterable[str]) -> dict[str, Any]:
    return {n: getattr(module, n) for n in names}


def _build() -> dict[str, ModuleFacade]:
    tables: dict[str, dict[str, Any]] = {
        "json": {"dumps": _dumps, "loads": _loads, "JSONDecodeError": json.JSONDecodeError},
        "math": _math(),
        "re": re_names(),
        "datetime": _pick(datetime, ("date", "time", "datetime", "timedelta", "timezone", "MINYEAR",
                                     "MAXYEAR", "UTC")),
        "itertools": _itertools(),
        "collections": {"deque": deque, "ChainMap": ChainMap, "OrderedDict": OrderedDict,
                        "defaultdict": defaultdict, "Counter": Counter, "namedtuple": _namedtuple},
        "statistics": statistics_names(),
        "base64": _pick(base64, ("b64encode", "b64decode", "standard_b64encode", "standard_b64decode",
                                 "urlsafe_b64encode", "urlsafe_b64decode", "b32encode", "b32decode",
                                 "b16encode", "b16decode", "b85encode", "b85decode", "a85encode",
                                 "a85decode")),
        "hashlib": _pick(hashlib, ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b",
                                   "blake2s", "sha3_224", "sha3_256", "sha3_384", "sha3_512")),
        "uuid": _pick(uuid, ("UUID", "uuid3", "uuid4", "uuid5", "NAMESPACE_DNS", "NAMESPACE_URL",
                             "NAMESPACE_OID", "NAMESPACE_X500")),
        "decimal": {"Decimal": SafeDecimal, **_pick(decimal, ("InvalidOperation", "DivisionByZero", "ROUND_UP",
                                   "ROUND_DOWN", "ROUND_CEILING", "ROUND_FLOOR", "ROUND_HALF_UP",
                                   "ROUND_HALF_DOWN", "ROUND_HALF_EVEN", "ROUND_05UP"))},
        "fractions": {"Fraction": SafeFraction},
        "textwrap": {"wrap": _wrap, "fill": _fill, "shorten": _shorten, "dedent": textwrap.dedent,
                     "indent": _indent},
        "string": {**_pick(string, ("ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits",
                                    "hexdigits", "octdigits", "punctuation", "printable", "whitespace")),
                   "capwords": string.capwords},
        "asyncio": build_asyncio_facade(),
    }
    return {name: ModuleFacade(name, names) for name, names in tables.items()}


_FACADES = _build()

ALLOWED_MODULES: tuple[str, ...] = tuple(sorted([*_FACADES, "random"]))


def facade_for(name: str) -> ModuleFacade:
    """The facade for `name` (a fresh private `random` per execution), or `ImportError`."""
    if name == "random":
        run = current()
        rnd: ModuleFacade | None = run.extras.get("random")
        if rnd is None:
            rnd = run.extras["random"] = random_facade(run.seed)
        return rnd
    facade = _FACADES.get(name)
    if facade is None:
        raise ImportError(
            f"import of {name!r} is not allowed; the sandbox provides: {', '.join(ALLOWED_MODULES)}"
        )
    return facade
