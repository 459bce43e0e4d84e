"""``{% load numbers %}``: ``{{ dose|plain }}`` shows a decimal as written (``50``, not ``5E+1``)."""

from __future__ import annotations

from typing import Any

from django import template

from oncotrials.core.numbers import plain as plain_number

register = template.Library()


@register.filter
def plain(value: Any) -> str:
    """A decimal without exponent or trailing zeros; empty for None."""
    return plain_number(value)
