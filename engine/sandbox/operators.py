"""Guards for the operators the policy rewrites: `*`, `**`, `<<`, `%` and format specs.

`a * b` becomes `_mul_(a, b)` (sequence repetition and integer products bounded), `a ** b`
`_pow_` (integer and fraction powers bounded; `pow(a, b, m)` bounded by cost), `a << b` `_lshift_`,
`a % b` `_mod_` (`%`-format widths bounded), and an f-string field with a spec `_format_`.
"""

from __future__ import annotations

import collections
import datetime
import re
from fractions import Fraction
from typing import Any

from .numbers import check_power, int_division_check
from .shown import Text, check_shown, format_arg
from .sizes import max_int_bits, max_sequence, require_size

__all__ = ["SMALL_INT", "check_spec", "checked_strftime", "guarded_format", "guarded_lshift", "guarded_mod",
           "guarded_mul", "guarded_pow", "safe_format_builtin"]


_SEQUENCES = (str, bytes, bytearray, list, tuple, collections.deque)


SMALL_INT = _SMALL = 1 << 2048
"""Ints below this in magnitude multiply without a size check: the product has at most 4096 bits."""


def guarded_mul(a: Any, b: Any) -> Any:
    """`a * b`: bounded sequence repetition and integer size."""
    ta = type(a)
    tb = type(b)
    if ta is float or tb is float:
        return a * b
    if ta is int and tb is int:
        if not (-_SMALL < a < _SMALL and -_SMALL < b < _SMALL):
            bits = a.bit_length() + b.bit_length()
            if bits > max_int_bits():
                raise MemoryError(f"integer product of {bits} bits is over the limit of {max_int_bits()}")
        return a * b
    if isinstance(a, Fraction) or isinstance(b, Fraction):
        if _exact_bits(a) + _exact_bits(b) > max_int_bits():
            raise MemoryError("fraction product over the size limit")
    elif isinstance(a, int) and isinstance(b, int):
        if a.bit_length() + b.bit_length() > max_int_bits():
            raise MemoryError("integer product over the size limit")
    elif isinstance(a, int) and isinstance(b, _SEQUENCES):
        if a > 0:
            require_size(len(b) * a, "sequence repetition")
    elif isinstance(b, int) and isinstance(a, _SEQUENCES):
        if b > 0:
            require_size(len(a) * b, "sequence repetition")
    return a * b


def guarded_pow(a: Any, b: Any, mod: Any = None) -> Any:
    """`a ** b` and `pow()`: bounded integer and fraction size, for negative and integral
    `Fraction` exponents too (see `numbers.check_power`)."""
    if mod is not None:
        if isinstance(b, int) and isinstance(mod, int) and b.bit_length() * max(mod.bit_length(), 64) > 1 << 26:
            raise MemoryError("modular exponentiation this large is over the size limit")
        # Reducing `a` and inverting (`b < 0`) are divisions by `mod`.
        if isinstance(mod, int) and mod.bit_length() > max_int_bits():
            raise MemoryError("modular arithmetic with a modulus this large is over the size limit")
        int_division_check(a, mod)
        return pow(a, b, mod)
    if type(a) is int and type(b) is int and (b <= 1 or -_SMALL < a < _SMALL and b <= 8):
        return a**b  # the common case, cheap: a float for b < 0, at most 16 kbits otherwise
    check_power(a, b)
    return a**b


def guarded_lshift(a: Any, b: Any) -> Any:
    """`a << b`: bounded integer size."""
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        if a.bit_length() + b > max_int_bits():
            raise MemoryError(f"shift by {b} bits is over the size limit")
    return a << b


def _exact_bits(x: Any) -> int:
    if isinstance(x, int):
        return x.bit_length()
    if isinstance(x, Fraction):
        return max(x.numerator.bit_length(), x.denominator.bit_length())
    return 0


_DIGITS = re.compile(r"\d+")


def check_spec(spec: str, what: str = "format width or precision") -> None:
    limit = max_sequence()
    for match in _DIGITS.finditer(spec):
        digits = match.group()
        if len(digits) > 9 or int(digits) > limit:
            raise MemoryError(f"{what} {digits} is over the limit of {limit}")


_DIRECTIVE = re.compile(r"%.", re.DOTALL)
_DIRECTIVE_CHARS = 32
"""The longest text one strftime directive other than `%Z` makes (`%c` is 24 characters)."""


def checked_strftime(self: Any, fmt: str) -> str:
    """`strftime` with the size of its result bounded before it is built: a format of many
    directives (`"%c" * n`, `"%Z" * n` with a long zone name) expands each one."""
    if not isinstance(fmt, str):
        raise TypeError("strftime() format must be a string")
    check_spec(fmt, "strftime width")
    directives = _DIRECTIVE.findall(fmt)
    if directives:
        zone = self.tzname() if "%Z" in directives and hasattr(self, "tzname") else None
        if zone is not None:
            # One zone name for every %Z (what C does too), checked, substituted here.
            zone = str(zone).replace("%", "%%")
            fmt = _DIRECTIVE.sub(lambda m: zone if m.group() == "%Z" else m.group(), fmt)
            directives = _DIRECTIVE.findall(fmt)
        require_size(len(fmt) + len(directives) * _DIRECTIVE_CHARS, "strftime() result")
    return type(self).strftime(self, fmt)  # type: ignore[no-any-return]


def guarded_format(value: Any, conversion: str = "", spec: str = "") -> str:
    """f-string fields with a format spec, and the sandbox's `format()`."""
    if not check_shown(value, "formatting this value"):
        value = Text(value)
    if conversion == "r":
        value = repr(value)
    elif conversion == "s":
        value = str(value)
    elif conversion == "a":
        value = ascii(value)
    if type(spec) is not str:
        raise TypeError("format spec must be a string")
    if spec:
        check_spec(spec)
        if isinstance(value, (datetime.date, datetime.time)):
            return checked_strftime(value, spec)  # what their __format__ does, bounded
    return format(value, spec)


def safe_format_builtin(value: Any, spec: str = "") -> str:
    return guarded_format(value, "", spec)


_PERCENT = re.compile(rb"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_PERCENT_S = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def guarded_mod(a: Any, b: Any) -> Any:
    """`a % b`: for `%`-formatting, bounded widths and precisions."""
    if type(a) is float:
        return a % b
    if type(a) is int:
        if not -_SMALL < a < _SMALL or isinstance(b, Fraction):
            int_division_check(a, b)
        return a % b
    if isinstance(a, (str, bytes, bytearray)):
        pattern: Any = _PERCENT_S if isinstance(a, str) else _PERCENT
        limit = max_sequence()
        star = False
        for match in pattern.finditer(a):
            for group in match.groups():
                if not group:
                    continue
                if group in ("*", b"*"):
                    star = True
                elif len(group) > 9 or int(group) > limit:
                    raise MemoryError(f"%-format width or precision over the limit of {limit}")
        what = "%-formatting this value"
        if isinstance(b, dict):
            b = {key: format_arg(value, what) for key, value in b.items()}
        elif isinstance(b, tuple):
            b = tuple(format_arg(arg, what) for arg in b)
        else:
            b = format_arg(b, what)
        if star:
            args = b if isinstance(b, tuple) else (b,)
            for arg in args:
                if isinstance(arg, int) and abs(arg) > limit:
                    raise MemoryError(f"%-format width or precision over the limit of {limit}")
    return a % b
