"""Baseline rules of RECIST 1.1: measurability, and target / non-target selection.

References
----------
Eisenhauer EA et al. New response evaluation criteria in solid tumours: revised RECIST guideline
(version 1.1). Eur J Cancer 2009;45:228-247, sections 3.1-3.3 and 4.2.
EORTC RECIST clarifications: "Nodes are considered to be one organ".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist.model import (
    NON_MEASURABLE_KINDS,
    UNITS_PER_MM,
    BaselineLesion,
    LesionKind,
    LesionRole,
    Method,
    Millimetres,
)

MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2
NODE_ORGAN = "lymph nodes"

_MM10 = 10 * UNITS_PER_MM
_MM15 = 15 * UNITS_PER_MM
_MM20 = 20 * UNITS_PER_MM
_MM5 = 5 * UNITS_PER_MM


#: Largest diameter accepted (millimetres): larger is a unit or typing error, not a lesion.
MAX_DIAMETER_MM = 1000


class _UnitError(ValueError):
    """A diameter that is not a finite, non-negative millimetre value to 0.01 mm."""


# Measurements repeat a lot (0.1 mm steps over a few hundred mm): remember the conversions.
_UNITS: dict[Millimetres, int] = {}
_MM: dict[int, Decimal] = {}
_CACHE_LIMIT = 1 << 16


def to_units(value: Millimetres) -> int:
    """Millimetres as an exact integer number of hundredths of a millimetre.

    Raises ``ValueError`` (a private subclass) with a reason; callers add the record and field.
    """
    if type(value) is not bool:
        try:
            return _UNITS[value]
        except (KeyError, TypeError):
            pass
    units = _to_units(value)
    if len(_UNITS) >= _CACHE_LIMIT:
        _UNITS.clear()
    _UNITS[value] = units
    return units


def _to_units(value: Millimetres) -> int:
    kind = type(value)
    if kind is int:
        units = value * UNITS_PER_MM
    else:
        if kind is bool:
            raise _UnitError(f"expected a number of millimetres, got {value!r}")
        if isinstance(value, float):
            value = Decimal(repr(value))
        elif not isinstance(value, Decimal):
            raise _UnitError(f"expected a number of millimetres, got {value!r}")
        try:
            num, den = value.as_integer_ratio()
        except (ValueError, OverflowError, InvalidOperation):
            raise _UnitError(f"expected a finite number of millimetres, got {value}") from None
        scaled = num * UNITS_PER_MM
        if scaled % den:
            raise _UnitError(f"diameters are recorded to 0.01 mm at most, got {value}")
        units = scaled // den
    if units < 0:
        raise _UnitError(f"a diameter cannot be negative, got {value}")
    if units > MAX_DIAMETER_MM * UNITS_PER_MM:
        raise _UnitError(
            f"a diameter of {value} mm is more than {MAX_DIAMETER_MM} mm (1 m): not a plausible "
            f"lesion; diameters are in millimetres (check for micrometres or a typing error)"
        )
    return int(units)


def units_to_mm(units: int) -> Decimal:
    """Exact millimetres (a Decimal with two places) from hundredths of a millimetre."""
    try:
        return _MM[units]
    except KeyError:
        mm = Decimal(units).scaleb(-2)
        if len(_MM) >= _CACHE_LIMIT:
            _MM.clear()
        _MM[units] = mm
        return mm


def organ_key(lesion: BaselineLesion) -> str:
    """The organ a lesion counts against for the 2-per-organ cap (all nodes are one organ)."""
    return NODE_ORGAN if lesion.nodal else lesion.organ.strip().lower()


def minimum_measurable_units(method: Method, slice_thickness_units: int | None) -> int:
    """Smallest measurable longest diameter for a method (RECIST 1.1 section 3.1.1)."""
    if method is Method.CHEST_XRAY:
        return _MM20
    if method is Method.CALIPER:
        return _MM10
    if slice_thickness_units is not None and slice_thickness_units > _MM5:
        return max(_MM10, 2 * slice_thickness_units)
    return _MM10


@dataclass(frozen=True, slots=True)
class Measurability:
    """Whether a baseline lesion may be a target, and why."""

    measurable: bool
    reason: str
    #: for a lesion too small to be a target: its size and the minimum, in mm
    size_mm: Decimal | None = None
    minimum_mm: Decimal | None = None


_MEASURABLE = Measurability(True, "longest diameter at or above the minimum (RECIST 1.1 3.1.1)")
_MEASURABLE_NODE = Measurability(
    True, "node short axis at or above the minimum, 15 mm (RECIST 1.1 3.1.1)"
)


def measurability(lesion: BaselineLesion, *, where: str = "") -> Measurability:
    """Classify a baseline lesion as measurable or not (RECIST 1.1 section 3.1).

    Raises
    ------
    ValidationError
        For a diameter that is negative or not a number, or a lymph node with a short axis under
        10 mm (a normal node, which RECIST does not record).
    """
    prefix = where or f"Baseline lesion {lesion.lesion_id}"
    size = _units_or_none(lesion.diameter_mm, where=prefix, field="diameter_mm")
    slice_units = _units_or_none(
        lesion.slice_thickness_mm, where=prefix, field="slice_thickness_mm"
    )
    if lesion.nodal and size is not None and size < _MM10:
        raise ValidationError(
            f"{prefix}, field diameter_mm: a lymph node with short axis {units_to_mm(size)} mm "
            "(< 10 mm) is normal and is not recorded under RECIST 1.1; remove it.",
            code="recist_normal_node",
            lesion_id=lesion.lesion_id,
            short_axis_mm=str(units_to_mm(size)),
            field="diameter_mm",
        )
    if lesion.kind in NON_MEASURABLE_KINDS:
        return Measurability(False, f"{lesion.kind.value} is non-measurable (RECIST 1.1 3.1.2)")
    if (
        lesion.kind is LesionKind.PREVIOUSLY_IRRADIATED
        and not lesion.progressed_after_local_therapy
    ):
        return Measurability(
            False, "previously irradiated lesion without progression since (RECIST 1.1 3.1.3)"
        )
    if size is None:
        return Measurability(False, "no diameter recorded")
    minimum = minimum_measurable_units(lesion.method, slice_units)
    if lesion.nodal:
        minimum = max(minimum, _MM15)
        if size < minimum:
            return Measurability(
                False,
                f"pathological node, short axis {units_to_mm(size)} mm < "
                f"{units_to_mm(minimum)} mm: non-target (RECIST 1.1 3.1.1)",
                units_to_mm(size),
                units_to_mm(minimum),
            )
        return _MEASURABLE_NODE
    if size < minimum:
        return Measurability(
            False,
            f"longest diameter {units_to_mm(size)} mm < {units_to_mm(minimum)} mm "
            f"by {lesion.method.value}: non-measurable (RECIST 1.1 3.1.1)",
            units_to_mm(size),
            units_to_mm(minimum),
        )
    return _MEASURABLE


@dataclass(frozen=True, slots=True)
class Selection:
    """Targets and non-targets, in input order, with notes on automatic choices."""

    targets: tuple[BaselineLesion, ...]
    non_targets: tuple[BaselineLesion, ...]
    notes: tuple[str, ...] = ()


def select_targets(lesions: tuple[BaselineLesion, ...], *, patient_id: str = "") -> Selection:
    """Split baseline lesions into targets and non-targets (RECIST 1.1 section 3.3).

    When every lesion has an explicit ``role``, the choice is checked: targets must be measurable,
    at most 5 in all and at most 2 per organ (all lymph nodes are one organ). When no lesion has a
    role, targets are chosen automatically: measurable lesions by decreasing size (input order on
    ties) while the caps allow; everything else is non-target. Mixing the two is an error.
    """
    who = f"Patient {patient_id}, baseline" if patient_id else "Baseline"
    seen: set[str] = set()
    for lesion in lesions:
        if not lesion.lesion_id:
            raise ValidationError(f"{who}: a lesion has an empty lesion_id; give every lesion one.")
        if lesion.lesion_id in seen:
            raise ValidationError(
                f"{who} lesion {lesion.lesion_id}, field lesion_id: the id is used twice; "
                "every lesion needs its own id."
            )
        seen.add(lesion.lesion_id)
    if not lesions:
        raise ValidationError(
            f"{who}: no lesion recorded; RECIST needs baseline disease to assess response."
        )
    roles = {lesion.role for lesion in lesions}
    checks = {
        lesion.lesion_id: measurability(lesion, where=f"{who} lesion {lesion.lesion_id}")
        for lesion in lesions
    }
    if roles == {None}:
        return _auto_select(lesions, checks)
    if None in roles:
        missing = next(lesion.lesion_id for lesion in lesions if lesion.role is None)
        raise ValidationError(
            f"{who} lesion {missing}, field role: missing while other lesions have one; give "
            "every lesion a role (target or non_target), or none for automatic selection."
        )
    targets = tuple(lesion for lesion in lesions if lesion.role is LesionRole.TARGET)
    for lesion in targets:
        check = checks[lesion.lesion_id]
        if not check.measurable:
            small = check.size_mm is not None and check.minimum_mm is not None
            raise ValidationError(
                f"{who} lesion {lesion.lesion_id}, field role: a target must be measurable, but "
                f"{check.reason}; record it as non_target.",
                code=(
                    ("recist_target_node_too_small" if lesion.nodal else "recist_target_too_small")
                    if small
                    else "recist_target_not_measurable"
                ),
                lesion_id=lesion.lesion_id,
                size_mm=str(check.size_mm),
                minimum_mm=str(check.minimum_mm),
                method=lesion.method.value,
                field="role",
            )
    if len(targets) > MAX_TARGETS:
        raise ValidationError(
            f"{who}: {len(targets)} target lesions; RECIST 1.1 allows at most {MAX_TARGETS}. "
            "Record the others as non_target.",
            code="recist_too_many_targets",
            count=len(targets),
            maximum=MAX_TARGETS,
            lesion_id=targets[MAX_TARGETS].lesion_id,
            field="role",
        )
    per_organ: dict[str, list[str]] = {}
    for lesion in targets:
        per_organ.setdefault(organ_key(lesion), []).append(lesion.lesion_id)
    for organ, ids in per_organ.items():
        if len(ids) > MAX_TARGETS_PER_ORGAN:
            raise ValidationError(
                f"{who}: {len(ids)} target lesions in {organ} ({', '.join(ids)}); RECIST 1.1 "
                f"allows at most {MAX_TARGETS_PER_ORGAN} per organ (all lymph nodes count as one "
                "organ). Record the others as non_target.",
                code="recist_too_many_targets_in_organ",
                count=len(ids),
                organ=organ,
                lesion_ids=", ".join(ids),
                maximum=MAX_TARGETS_PER_ORGAN,
                lesion_id=ids[MAX_TARGETS_PER_ORGAN],
                field="role",
            )
    non_targets = tuple(lesion for lesion in lesions if lesion.role is LesionRole.NON_TARGET)
    return Selection(targets, non_targets)


def _auto_select(
    lesions: tuple[BaselineLesion, ...], checks: dict[str, Measurability]
) -> Selection:
    measurable = [lesion for lesion in lesions if checks[lesion.lesion_id].measurable]
    measurable.sort(key=lambda lesion: -to_units(lesion.diameter_mm or 0))
    chosen: set[str] = set()
    per_organ: dict[str, int] = {}
    notes: list[str] = []
    for lesion in measurable:
        organ = organ_key(lesion)
        if len(chosen) >= MAX_TARGETS:
            notes.append(f"{lesion.lesion_id}: non-target, {MAX_TARGETS} targets already chosen")
            continue
        if per_organ.get(organ, 0) >= MAX_TARGETS_PER_ORGAN:
            notes.append(f"{lesion.lesion_id}: non-target, 2 larger targets in {organ}")
            continue
        chosen.add(lesion.lesion_id)
        per_organ[organ] = per_organ.get(organ, 0) + 1
    for lesion in lesions:
        if lesion.lesion_id not in chosen and not checks[lesion.lesion_id].measurable:
            notes.append(f"{lesion.lesion_id}: non-target, {checks[lesion.lesion_id].reason}")
    targets = tuple(lesion for lesion in lesions if lesion.lesion_id in chosen)
    non_targets = tuple(lesion for lesion in lesions if lesion.lesion_id not in chosen)
    return Selection(targets, non_targets, tuple(notes))


def _units_or_none(value: Millimetres | None, *, where: str, field: str) -> int | None:
    if value is None:
        return None
    try:
        return to_units(value)
    except _UnitError as exc:
        raise ValidationError(f"{where}, field {field}: {exc}.") from None
