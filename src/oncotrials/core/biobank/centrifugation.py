"""Centrifugation settings of a fluid specimen, as raw values with their units.

A fluid is spun once or twice before it is aliquoted (plasma for cfDNA is usually spun twice).
For each spin the laboratory records the centrifuge temperature (°C), the relative centrifugal
force (× g), the duration (minutes) and whether the rotor was braked. These raw values are what
the SPREC centrifugation elements are derived from (``sprec.py``); they are stored as given, in
fixed units, and a value is refused with the field named when its unit is not the field's or when
it is outside what a fluid pre-analytical spin can be.

Units accepted on input (a bare number is in the field's unit):

- temperature: ``°C`` (``C``, ``degC``); °F and kelvin are refused rather than converted, so a
  value typed in the wrong scale is caught instead of silently turned into a plausible one;
- force: ``g`` (``x g``, ``× g``, ``xg``, ``RCF``); ``rpm`` is refused: the force of a speed
  depends on the rotor radius, which is not recorded;
- duration: ``min`` (``minutes``), ``s`` or ``h``, stored in minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from oncotrials.core.errors import ValidationError

#: (lowest, highest) accepted, inclusive, in the stored unit. Below 0 °C the fluid freezes in the
#: tube; a blood-processing spin is tens of × g (platelet-rich plasma) up to a microcentrifuge's
#: ~ 25,000 × g for a second plasma spin; ultracentrifugation is not a pre-analytical step.
PLAUSIBLE: dict[str, tuple[Decimal, Decimal]] = {
    "temp_c": (Decimal(0), Decimal(40)),
    "g": (Decimal(10), Decimal(30000)),
    "min": (Decimal("0.5"), Decimal(180)),
}
UNIT_LABEL = {"temp_c": "°C", "g": "× g", "min": "min"}
BRAKING = ("on", "off")

_TEMP_UNITS = {"": 1, "°c": 1, "c": 1, "degc": 1, "ºc": 1}
_G_UNITS = {"": 1, "g": 1, "xg": 1, "×g": 1, "rcf": 1}
_MIN_UNITS = {"": Decimal(1), "min": Decimal(1), "mins": Decimal(1), "minutes": Decimal(1),
              "minute": Decimal(1), "s": Decimal(1) / Decimal(60), "sec": Decimal(1) / Decimal(60),
              "h": Decimal(60), "hours": Decimal(60), "hour": Decimal(60)}  # fmt: skip
_NUMBER = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*(.*?)\s*$")


def _split(value: Any, field: str) -> tuple[Decimal, str]:
    if isinstance(value, bool):
        raise ValidationError(
            f"{field} must be a number; got {value!r}.",
            code="biobank_not_a_number",
            value=repr(value),
            field=field,
        )
    if isinstance(value, int | float | Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise ValidationError(
            f"{field} must be a number; got {value!r}.",
            code="biobank_not_a_number",
            value=repr(value),
            field=field,
        )
    m = _NUMBER.match(text)
    if m is None:
        raise ValidationError(
            f"{field} must be a number, optionally with its unit; got {text!r}.",
            code="biobank_quantity_not_a_number",
            text=repr(text),
            field=field,
        )
    try:
        number = Decimal(m.group(1).replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        raise ValidationError(
            f"{field} must be a number; got {text!r}.",
            code="biobank_text_not_a_number",
            text=repr(text),
            field=field,
        ) from None
    unit = re.sub(r"\s+", "", m.group(2)).lower()
    return number, unit


def spin_value(kind: str, value: Any, field: str) -> Decimal:
    """One raw setting (``kind`` is ``temp_c``, ``g`` or ``min``) in its stored unit, checked
    against ``PLAUSIBLE``; the error names ``field``."""
    number, unit = _split(value, field)
    if kind == "temp_c":
        if unit not in _TEMP_UNITS:
            raise ValidationError(
                f"{field} is in °C; got {value!r} (give degrees Celsius, not °F or K).",
                code="biobank_temperature_celsius",
                value=repr(value),
                field=field,
            )
    elif kind == "g":
        if unit == "rpm":
            raise ValidationError(
                f"{field} is the relative centrifugal force in × g, not rpm: the force of a "
                f"speed depends on the rotor radius. Got {value!r}.",
                code="biobank_force_not_rpm",
                value=repr(value),
                field=field,
            )
        if unit not in _G_UNITS:
            raise ValidationError(
                f"{field} is in × g; got {value!r}.",
                code="biobank_force_in_g",
                value=repr(value),
                field=field,
            )
    elif kind == "min":
        if unit not in _MIN_UNITS:
            raise ValidationError(
                f"{field} is in minutes (min, s or h); got {value!r}.",
                code="biobank_duration_minutes",
                value=repr(value),
                field=field,
            )
        number = number * _MIN_UNITS[unit]
    else:  # pragma: no cover - a programming error
        raise ValueError(kind)
    number = number.quantize(Decimal("0.1"))
    lo, hi = PLAUSIBLE[kind]
    if not lo <= number <= hi:
        raise ValidationError(
            f"{field} {number.normalize():f} {UNIT_LABEL[kind]} is outside the plausible range "
            f"{lo:f}–{hi:f} {UNIT_LABEL[kind]}.",
            code="biobank_implausible_value",
            number=format(number.normalize(), "f"),
            unit_label=str(UNIT_LABEL[kind]),
            lo=format(lo, "f"),
            hi=format(hi, "f"),
            field=field,
        )
    return number


def braking_value(value: Any, field: str) -> str:
    """``on`` or ``off`` (also yes/no, true/false, braked/unbraked)."""
    text = str(value).strip().lower()
    if text in {"on", "yes", "true", "braked", "brake"}:
        return "on"
    if text in {"off", "no", "false", "unbraked", "none"}:
        return "off"
    raise ValidationError(
        f"{field} must be on or off; got {value!r}.",
        code="biobank_not_on_off",
        value=repr(value),
        field=field,
    )


@dataclass(frozen=True, slots=True)
class Spin:
    """One centrifugation as recorded (``None`` where a setting was not recorded)."""

    temp_c: float | None = None
    g: float | None = None
    minutes: float | None = None
    braking: bool | None = None

    @property
    def complete(self) -> bool:
        return None not in (self.temp_c, self.g, self.minutes, self.braking)

    def missing(self) -> list[str]:
        names = (("temperature", self.temp_c), ("force", self.g), ("duration", self.minutes))
        out = [n for n, v in names if v is None]
        return [*out, "braking"] if self.braking is None else out

    def describe(self) -> str:
        brake = {True: "braked", False: "no brake", None: "braking ?"}[self.braking]

        def num(v: float | None, unit: str) -> str:
            return "?" if v is None else f"{Decimal(str(v)).normalize():f} {unit}"

        return (
            f"{num(self.temp_c, '°C')}, {num(self.g, '× g')}, {num(self.minutes, 'min')}, {brake}"
        )
