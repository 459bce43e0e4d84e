"""Builders that keep RECIST test cases short: a patient is baseline lesions plus visits by day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

import pytest

from oncotrials.core.recist import (
    Assessment,
    Baseline,
    BaselineLesion,
    LesionObservation,
    LesionRole,
    LesionStatus,
    NewLesion,
    PatientRecord,
)

START = dt.date(2024, 1, 1)
Value = int | float | Decimal | str


def target(lesion_id: str, mm: Value, organ: str = "", *, nodal: bool = False) -> BaselineLesion:
    return BaselineLesion(
        lesion_id,
        organ or f"organ-{lesion_id}",
        _mm(mm),
        nodal=nodal,
        role=LesionRole.TARGET,
    )


def non_target(lesion_id: str, organ: str = "", *, nodal: bool = False, mm: Value | None = None):
    return BaselineLesion(
        lesion_id,
        organ or f"organ-{lesion_id}",
        None if mm is None else _mm(mm),
        nodal=nodal,
        role=LesionRole.NON_TARGET,
    )


def new(lesion_id: str, mm: Value | None = None, **kwargs: object) -> NewLesion:
    if isinstance(kwargs.get("status"), str):
        kwargs["status"] = LesionStatus(kwargs["status"])
    return NewLesion(lesion_id, diameter_mm=None if mm is None else _mm(mm), **kwargs)  # type: ignore[arg-type]


def _mm(value: Value) -> Decimal | int | float:
    return Decimal(value) if isinstance(value, str) else value


def observation(lesion_id: str, value: Value | tuple[str, Value]) -> LesionObservation:
    if isinstance(value, tuple):  # (status, diameter)
        return LesionObservation(lesion_id, _mm(value[1]), LesionStatus(value[0]))
    if isinstance(value, str) and value in LesionStatus._value2member_map_:
        return LesionObservation(lesion_id, status=LesionStatus(value))
    return LesionObservation(lesion_id, diameter_mm=_mm(value))


def visit(
    day: int,
    values: Mapping[str, Value | tuple[str, Value]],
    new_lesions: Sequence[NewLesion] = (),
    **kwargs: object,
) -> Assessment:
    return Assessment(
        START + dt.timedelta(days=day),
        tuple(observation(k, v) for k, v in values.items()),
        tuple(new_lesions),
        **kwargs,  # type: ignore[arg-type]
    )


def patient(
    lesions: Sequence[BaselineLesion],
    visits: Sequence[Assessment],
    *,
    patient_id: str = "P1",
    new_therapy_day: int | None = None,
) -> PatientRecord:
    return PatientRecord(
        patient_id,
        START,
        Baseline(START - dt.timedelta(days=7), tuple(lesions)),
        tuple(visits),
        None if new_therapy_day is None else START + dt.timedelta(days=new_therapy_day),
    )


class Builders:
    START = START
    target = staticmethod(target)
    non_target = staticmethod(non_target)
    new = staticmethod(new)
    visit = staticmethod(visit)
    patient = staticmethod(patient)

    @staticmethod
    def day(n: int) -> dt.date:
        return START + dt.timedelta(days=n)


@pytest.fixture(scope="session")
def b() -> type[Builders]:
    return Builders
