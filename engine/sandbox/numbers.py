"""Bounded big numbers: integer division, `Decimal` and `Fraction` that cannot freeze the host.

Big-integer arithmetic runs in C and holds the GIL, so one slow operation freezes every thread of
the process (the host event loop included), where neither the stop flag nor the watchdog can
reach it. `operators` bounds the operators that make integers grow (`*`, `**`, `<<`); this module
bounds the ones whose *cost* is superlinear in operands a program can still make big cheaply
(`int.from_bytes`, `int(text, 16)`): `//`, `%`, `divmod`, `pow(a, b, m)`, `round(x, -n)`,
`math.gcd`, `math.isqrt`, and conversions between `int`, `Decimal` and `Fraction`.

`Decimal` and `Fraction` get facade classes whose constructors refuse exponents or sizes whose
conversion to an integer (`int(Decimal("1e100000000"))`, `Fraction("1e100000000")`) or to text
(`format(Decimal("1e300000000"), "f")`) would run for minutes; each run also gets a decimal
context whose `Emax`/`Emin` keep arithmetic results inside the same bound. The facade classes are
the only ones a program can name: `type()` of a real `Decimal` or `Fraction` answers the facade
class, and `mro` is a blocked attribute name.
"""

from __future__ import annotations

import abc
import decimal
import fractions
import math
import re
import statistics
from collections.abc import Callable
from typing import Any

from .containers import hashed
from .iterators import checked_iter
from .ordering import check_order
from .sizes import max_int_bits

__all__ = [
    "FACADE_TYPES",
    "BoundedFraction",
    "SafeDecimal",
    "SafeFraction",
    "check_power",
    "decimal_context",
    "guarded_divmod",
    "guarded_floordiv",
    "guarded_round",
    "int_division_check",
    "safe_gcd",
    "safe_isqrt",
    "statistics_names",
]

_SMALL = 1 << 2048


def max_digits() -> int:
    """Decimal digits a `Decimal` exponent (or a `Fraction` text exponent) may reach: converting
    10**digits to binary is quadratic, so this keeps it under a tenth of a second."""
    return max(max_int_bits() // 7, 1000)


def int_division_check(a: Any, b: Any) -> None:
    """Refuse `a // b`, `a % b` whose schoolbook cost (bits of a times bits of b) is over the limit."""
    if type(a) is int and type(b) is int and -_SMALL < a < _SMALL and -_SMALL < b < _SMALL:
        return
    if isinstance(a, int) and isinstance(b, int):
        limit = max_int_bits()
        if a.bit_length() * b.bit_length() > limit * limit:
            raise MemoryError(
                f"dividing a {a.bit_length()}-bit integer by a {b.bit_length()}-bit one is over the size limit"
            )
    elif isinstance(a, fractions.Fraction) or isinstance(b, fractions.Fraction):
        if fraction_bits(a) + fraction_bits(b) > max_int_bits():
            raise MemoryError("fraction arithmetic this large is over the size limit")


def guarded_floordiv(a: Any, b: Any) -> Any:
    """`a // b`: bounded cost for big integers."""
    int_division_check(a, b)
    return a // b


def guarded_divmod(a: Any, b: Any) -> tuple[Any, Any]:
    """`divmod()`: bounded cost for big integers."""
    int_division_check(a, b)
    result: tuple[Any, Any] = divmod(a, b)
    return result


def guarded_round(number: Any, ndigits: Any = None) -> Any:
    """`round()`: `round(5, -10**8)` computes 10**(10**8) in C first, and `round(x, -n)` divides
    `x` by 10**n, quadratic when `x` is a huge integer (parsed from hex text, say); refuse both for
    exact numbers (floats and Decimals round within their own precision)."""
    if ndigits is None:
        return round(number)
    if isinstance(ndigits, int) and not isinstance(number, (float, decimal.Decimal)):
        if abs(ndigits) > max_digits():
            raise MemoryError(f"round() to {ndigits} digits is over the size limit")
        shift_bits = abs(ndigits) * 10 // 3 + 1  # bits of 10**abs(ndigits)
        limit = max_int_bits()
        if isinstance(number, int):
            if ndigits < 0 and number.bit_length() * shift_bits > limit * limit:
                raise MemoryError(f"round() of a {number.bit_length()}-bit integer is over the size limit")
        elif isinstance(number, fractions.Fraction) and fraction_bits(number) + shift_bits > limit:
            raise MemoryError("round() of a fraction this large is over the size limit")
    return round(number, ndigits)


def fraction_bits(x: Any) -> int:
    """The size of an exact number in bits (0 for anything else)."""
    if isinstance(x, int):
        return x.bit_length()
    if isinstance(x, fractions.Fraction):
        return max(x.numerator.bit_length(), x.denominator.bit_length())
    return 0


def safe_gcd(*integers: int) -> int:
    for n in integers:
        if isinstance(n, int) and n.bit_length() > max_int_bits():
            raise MemoryError("gcd() of integers this large is over the size limit")
    return math.gcd(*integers)


def safe_isqrt(n: int) -> int:
    if isinstance(n, int) and n.bit_length() > 2 * max_int_bits():
        raise MemoryError("isqrt() of an integer this large is over the size limit")
    return math.isqrt(n)


# -- Decimal and Fraction -----------------------------------------------------------------------


class _FacadeClass(abc.ABCMeta):
    """Metaclass of the facade number classes: `isinstance(Decimal("1") + 1, decimal.Decimal)`
    holds although arithmetic returns the real class (subclasses the program defines keep the
    ordinary checks). An `ABCMeta`, because `Fraction`'s own metaclass is one."""

    _real: type

    def __instancecheck__(cls, obj: object) -> bool:
        if cls.__dict__.get("_real") is not None:
            # Nominal checks: the ABC machinery asks every subclass of `Fraction` (this one
            # included) about candidates, so deferring to it would recurse.
            return type.__instancecheck__(cls._real, obj)
        return super().__instancecheck__(obj)

    def __subclasscheck__(cls, sub: type) -> bool:
        if cls.__dict__.get("_real") is not None:
            return type.__subclasscheck__(cls._real, sub)
        return super().__subclasscheck__(sub)


def _check_decimal(value: decimal.Decimal) -> None:
    if not value.is_finite():
        return
    limit = max_digits()
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or abs(exponent) > limit or abs(value.adjusted()) > limit:
        raise MemoryError(f"Decimal exponents are limited to {limit} digits")


class SafeDecimal(decimal.Decimal, metaclass=_FacadeClass):
    """`decimal.Decimal` for the program: exponents and sizes bounded at construction."""

    _real = decimal.Decimal

    def __new__(cls, value: Any = "0", context: Any = None) -> Any:
        limit = max_digits()
        if isinstance(value, str) and len(value) > limit + 64:
            raise MemoryError(f"Decimal text is limited to {limit} digits")
        if isinstance(value, int) and value.bit_length() > max_int_bits() // 2:
            raise MemoryError("Decimal of an integer this large is over the size limit")
        if isinstance(value, (tuple, list)) and len(value) == 3 and len(value[1]) > limit:
            raise MemoryError(f"Decimal digits are limited to {limit}")
        made = decimal.Decimal.__new__(cls if cls is not SafeDecimal else decimal.Decimal, value, context)
        _check_decimal(made)
        return made


_EXPONENT = re.compile(r"[eE]\s*([-+]?[\d_]+)")


def exact_exponent(exponent: Any) -> int | None:
    """The integer an exponent raises an exact number to (`2`, `Fraction(2)`), else None (a
    non-integer exponent makes a float)."""
    if isinstance(exponent, int):
        return int(exponent)
    if isinstance(exponent, fractions.Fraction) and exponent.denominator == 1:
        return exponent.numerator
    return None


def check_power(base: Any, exponent: Any) -> None:
    """Refuse `base ** exponent` for an int or Fraction base whose result would be over the size
    limit: negative exponents too (`Fraction ** -n` inverts, then powers), and integral
    Fraction exponents (`2 ** Fraction(n)` is `2 ** n` through `Fraction.__rpow__`)."""
    e = exact_exponent(exponent)
    if e is None or -1 <= e <= 1:
        return
    if isinstance(base, int):
        if base in (0, 1, -1) or (e < 0 and not isinstance(exponent, fractions.Fraction)):
            return  # int ** -n is a float
    elif not isinstance(base, fractions.Fraction):
        return
    bits = fraction_bits(base) * abs(e)
    if bits > max_int_bits():
        raise MemoryError(f"a {fraction_bits(base)}-bit number to the power {e} is over the size limit")


def _check_operands(a: Any, b: Any) -> None:
    if fraction_bits(a) + fraction_bits(b) > max_int_bits():
        raise MemoryError("fraction arithmetic this large is over the size limit")


def _bounded(value: Any) -> Any:
    """A plain `Fraction` result as a `BoundedFraction` (whose own arithmetic stays checked)."""
    if type(value) is not fractions.Fraction:
        return value
    made = object.__new__(BoundedFraction)
    made._numerator = value.numerator  # type: ignore[attr-defined]
    made._denominator = value.denominator  # type: ignore[attr-defined]
    return made


def _binary(name: str) -> Callable[[Any, Any], Any]:
    method = getattr(fractions.Fraction, name)

    def checked(a: Any, b: Any) -> Any:
        if name.startswith(("__pow", "__rpow")):
            base, exponent = (b, a) if name == "__rpow__" else (a, b)
            check_power(base, exponent)
        else:
            _check_operands(a, b)
        if name == "__rpow__" and isinstance(b, (int, fractions.Fraction)) and not (
            a.denominator == 1 and a.numerator >= 0
        ):
            # `Fraction.__rpow__` computes `Fraction(base) ** self`, which Python hands back to
            # this subclass's `__rpow__`: call the forward operator directly instead.
            result = fractions.Fraction.__pow__(fractions.Fraction(b), a)
        else:
            result = method(a, b)
        if type(result) is tuple:  # divmod
            return tuple(_bounded(part) for part in result)
        return _bounded(result)

    checked.__name__ = checked.__qualname__ = name
    return checked


def _unary(name: str) -> Callable[..., Any]:
    method = getattr(fractions.Fraction, name)

    def checked(a: Any, *args: Any) -> Any:
        return _bounded(method(a, *args))

    checked.__name__ = checked.__qualname__ = name
    return checked


class BoundedFraction(fractions.Fraction):
    """What the program's Fractions are: every operator that can grow one (`+`, `-`, `/`, `//`,
    `%`, `divmod`, `**`, reflected ones included) checks its operands' size first, and results
    stay `BoundedFraction`s. `Fraction`'s own operators build plain Fractions, so without this
    `x / (1 / x)` or `f + 1 / f`, repeated, doubles the size each time with no guard called."""

    __slots__ = ()


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__divmod__", "__rdivmod__", "__pow__",
              "__rpow__"):
    setattr(BoundedFraction, _name, _binary(_name))
for _name in ("__pos__", "__neg__", "__abs__", "__round__", "limit_denominator"):
    setattr(BoundedFraction, _name, _unary(_name))
BoundedFraction.__name__ = BoundedFraction.__qualname__ = "Fraction"  # its repr says Fraction(1, 3)


class SafeFraction(BoundedFraction, metaclass=_FacadeClass):
    """`fractions.Fraction` for the program: text exponents and integer sizes bounded, and
    arithmetic on what it makes bounded too (`BoundedFraction`)."""

    _real = fractions.Fraction

    def __new__(cls, numerator: Any = 0, denominator: Any = None) -> Any:
        limit = max_digits()
        if isinstance(numerator, str):
            if len(numerator) > limit + 64:
                raise MemoryError(f"Fraction text is limited to {limit} digits")
            for match in _EXPONENT.finditer(numerator):
                digits = match.group(1).replace("_", "")
                if len(digits) > 12 or abs(int(digits or "0")) > limit:
                    raise MemoryError(f"Fraction exponents are limited to {limit} digits")
        bits = max_int_bits()
        for part in (numerator, denominator):
            if fraction_bits(part) > bits:
                raise MemoryError("Fraction of integers this large is over the size limit")
        real = cls if cls is not SafeFraction else BoundedFraction
        return fractions.Fraction.__new__(real, numerator, denominator)


FACADE_TYPES: dict[type, type] = {
    decimal.Decimal: SafeDecimal, fractions.Fraction: SafeFraction, BoundedFraction: SafeFraction,
}
"""What `type()` answers for the real classes: the facade class the program can call."""


def decimal_context() -> decimal.Context:
    """A fresh decimal context for one run: default precision, exponents within `max_digits()`."""
    limit = max_digits()
    return decimal.Context(Emax=limit, Emin=-limit)


# -- statistics ---------------------------------------------------------------------------------


def _checked_data(data: Any) -> list[Any]:
    values = list(checked_iter(data))
    check_order(values, "statistics on these values")  # they sort and compare their data in C
    limit = max_int_bits()
    for value in values:
        if fraction_bits(value) > limit:
            raise MemoryError("statistics on numbers this large are over the size limit")
    return values


def _statistic(func: Callable[..., Any]) -> Callable[..., Any]:
    counts = func in (statistics.mode, statistics.multimode)  # they count the data in a hashed Counter

    def wrapper(data: Any, *args: Any, **kwargs: Any) -> Any:
        checked = _checked_data(data)
        return func(hashed(checked) if counts else checked, *args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def statistics_names() -> dict[str, Any]:
    """The `statistics` facade: every function first checks the size of its data's numbers (exact
    sums of huge integers are quadratic in C)."""
    names: dict[str, Any] = {
        n: _statistic(getattr(statistics, n))
        for n in ("mean", "fmean", "geometric_mean", "harmonic_mean", "median", "median_low", "median_high",
                  "median_grouped", "mode", "multimode", "pstdev", "pvariance", "stdev", "variance", "quantiles")
    }
    names["StatisticsError"] = statistics.StatisticsError
    return names

# What the program sees of the facade classes is the real classes' names (`repr(type(x))`).
for _facade, _real in ((SafeDecimal, decimal.Decimal), (SafeFraction, fractions.Fraction), (BoundedFraction,
                                                                                            fractions.Fraction)):
    _facade.__module__ = _real.__module__
    _facade.__name__ = _facade.__qualname__ = _real.__name__
