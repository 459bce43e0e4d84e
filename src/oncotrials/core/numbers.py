"""Numbers as people write them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def plain(value: Decimal | int | float | str | None) -> str:
    """A decimal as written: no exponent, no trailing zeros (``50``, ``160``, ``0.5``, ``12.25``).

    ``Decimal("50").normalize()`` prints ``5E+1``; a dose must never read like that. ``None``
    and values that are not numbers give an empty string.

    >>> plain(Decimal("50.0000")), plain(Decimal("1.6E+2")), plain(Decimal("0.500"))
    ('50', '160', '0.5')
    """
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    if not number.is_finite():
        return str(number)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text
