"""Which numbers cool holds, checked before a number is ever converted.

Python's ``int()`` refuses text of more than 4,300 digits and ``str()`` an
int of more than 4,300 digits, while YAML 1.1's hex, binary, octal and
sexagesimal literals become such ints without a check (and 60**100000 takes
seconds to compute). So cool holds whole numbers of at most
:data:`MAX_DIGITS` decimal digits (a double's range: every JSON parser can
read them, and ``float()`` of one is finite) and finite floats; a literal is
measured before it is converted. Pure: no I/O.
"""

from __future__ import annotations

import math
import re

MAX_DIGITS = 308  # the largest whole number a double holds has 309 digits
_LIMIT = 10**MAX_DIGITS
# No literal of a number cool holds is longer: binary needs 1,024 digits
# (plus a sign, 0b and underscores, which YAML allows anywhere).
MAX_LITERAL = 2_100
_DECIMAL = re.compile(r"[-+]?[0-9]+")


def fits(value: int) -> bool:
    """Can cool hold this whole number?"""
    return -_LIMIT < value < _LIMIT


def too_large(written: str) -> str:
    """The message for a number, as written, that cool cannot hold."""
    shown = written if len(written) <= 40 else f"{written[:20]}...{written[-10:]}"
    return (
        f"the number {shown} ({len(written)} characters) is too large: cool holds whole "
        f"numbers of up to {MAX_DIGITS} digits and finite decimals"
    )


def parse_number(text: str) -> int | float:
    """A number written as text (a parameter value, a constraint's bound), or ValueError.

    As ``int()`` then ``float()`` read it, but never past what cool holds.
    """
    text = text.strip()
    if _DECIMAL.fullmatch(text) and len(text.lstrip("+-").lstrip("0")) > MAX_DIGITS:
        raise ValueError(f"must be a number of at most {MAX_DIGITS} digits")
    if len(text) <= MAX_LITERAL:
        try:
            whole = int(text)
        except ValueError:
            pass
        else:
            if not fits(whole):
                raise ValueError(f"must be a number of at most {MAX_DIGITS} digits")
            return whole
    try:
        number = float(text)  # linear in the text, whatever its length
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def index(text: str) -> int | None:
    """A list index written as text ("-1", "3"), or None when it is not one.

    An index longer than any list is returned as an out-of-range sentinel
    without converting it.
    """
    if not re.fullmatch(r"-?[0-9]+", text):
        return None
    if len(text) > 19:
        return -(2**63) if text.startswith("-") else 2**63
    return int(text)
