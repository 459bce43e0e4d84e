"""ASTCT grades are monotone: a worse finding never lowers the CRS or ICANS grade (hypothesis)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrials.core.grading.astct import (
    _CONSCIOUSNESS_GRADE,
    _ICP_GRADE,
    _MOTOR_GRADE,
    _OXYGEN_GRADE,
    _SEIZURE_GRADE,
    CrsAssessment,
    IcansAssessment,
    grade_crs,
    grade_icans,
)
from oncotrials.core.grading.vasopressors import VASOPRESSORS

DEVICES = sorted(_OXYGEN_GRADE, key=lambda d: _OXYGEN_GRADE[d])
NAMES = [name for names in VASOPRESSORS.values() for name in names]

crs = st.builds(
    CrsAssessment,
    temperature_c=st.one_of(st.none(), st.integers(350, 420).map(lambda t: Decimal(t).scaleb(-1))),
    fever_other_cause=st.booleans(),
    antipyretic_or_anticytokine_given=st.booleans(),
    hypotension=st.booleans(),
    vasopressors=st.lists(st.sampled_from(NAMES), max_size=3).map(tuple),
    hypotension_other_cause=st.booleans(),
    oxygen_device=st.sampled_from(DEVICES),
    hypoxia_other_cause=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(crs, st.sampled_from(NAMES), st.integers(0, len(DEVICES) - 1), st.integers(0, 30))
def test_a_worse_crs_finding_never_lowers_the_grade(a, drug, device_step, warmer):
    grade = grade_crs(a).grade
    worse = [
        dataclasses.replace(a, vasopressors=(*a.vasopressors, drug)),
        dataclasses.replace(a, hypotension=True),
        dataclasses.replace(
            a, oxygen_device=max(a.oxygen_device, DEVICES[device_step], key=DEVICES.index)
        ),
        dataclasses.replace(
            a,
            temperature_c=min(
                (a.temperature_c or Decimal("36.5")) + Decimal(warmer).scaleb(-1), Decimal(45)
            ),
        ),
        dataclasses.replace(a, antipyretic_or_anticytokine_given=True),
    ]
    for b in worse:
        assert grade_crs(b).grade >= grade, (a, b)
    # the same drug under another of its names never raises the grade
    assert (
        grade_crs(dataclasses.replace(a, vasopressors=(*a.vasopressors, *a.vasopressors))).grade
        == grade
    )


def _levels(table):
    return sorted(table, key=lambda k: table[k])


icans = st.builds(
    IcansAssessment,
    ice=st.integers(0, 10),
    consciousness=st.sampled_from(_levels(_CONSCIOUSNESS_GRADE)),
    seizure=st.sampled_from(_levels(_SEIZURE_GRADE)),
    motor=st.sampled_from(_levels(_MOTOR_GRADE)),
    raised_icp=st.sampled_from(_levels(_ICP_GRADE)),
)


@settings(max_examples=300, deadline=None)
@given(icans, st.integers(0, 10), st.data())
def test_a_worse_icans_finding_never_lowers_the_grade(a, lower_by, data):
    grade = grade_icans(a).grade
    assert isinstance(a.ice, int)
    worse = [dataclasses.replace(a, ice=max(a.ice - lower_by, 0))]
    for name, table in (
        ("consciousness", _CONSCIOUSNESS_GRADE),
        ("seizure", _SEIZURE_GRADE),
        ("motor", _MOTOR_GRADE),
        ("raised_icp", _ICP_GRADE),
    ):
        current = getattr(a, name)
        choice = data.draw(st.sampled_from([v for v in table if table[v] >= table[current]]))
        worse.append(dataclasses.replace(a, **{name: choice}))
    for b in worse:
        assert grade_icans(b).grade >= grade, (a, b)
