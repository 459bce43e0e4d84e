"""A saved lab value or drug administration is announced to the listeners registered with
``crfs.hooks`` (the safety DLT review is one), inside the service's transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from oncotrials.apps.crfs import hooks
from oncotrials.apps.crfs.models import DrugAdministration, LabResult
from oncotrials.apps.crfs.services import (
    administration_record,
    administration_update,
    lab_result_create,
    lab_result_update,
)
from oncotrials.apps.safety.dlt_review import dlt_reevaluate_after_record

DAY = dt.date(2026, 11, 13)


@pytest.fixture
def heard(monkeypatch):
    changes: list[hooks.RecordChange] = []
    monkeypatch.setattr(hooks, "_LISTENERS", [*hooks.record_listeners(), changes.append])
    return changes


def test_safety_listens_to_crfs_records_from_start_up():
    assert dlt_reevaluate_after_record in hooks.record_listeners()


def test_registering_a_listener_twice_calls_it_once(monkeypatch):
    monkeypatch.setattr(hooks, "_LISTENERS", [])
    hooks.register_record_listener(print)
    hooks.register_record_listener(print)
    assert hooks.record_listeners() == (print,)


def test_a_lab_value_and_its_correction_are_announced(cb, heard):
    lab = lab_result_create(
        registration=cb.registration,
        analyte="ALT",
        value="200",
        unit="U/L",
        uln="40",
        sampled_on=DAY,
        by=cb.users["nurse"],
    )
    lab_result_update(
        lab=lab,
        version=lab.version,
        value="100",
        unit="U/L",
        uln="40",
        sampled_on=DAY + dt.timedelta(days=1),
        reason="transcription",
        by=cb.users["nurse"],
    )
    assert [(type(c.record), c.registration, c.on, c.before) for c in heard] == [
        (LabResult, cb.registration, DAY, None),
        (LabResult, cb.registration, DAY + dt.timedelta(days=1), DAY),
    ]
    assert heard[0].by == cb.users["nurse"]


def test_an_administration_and_its_delay_are_announced(cb, heard):
    admin = administration_record(
        registration=cb.registration,
        agent="Drug B",
        dose="50",
        unit="mg",
        administered_on=DAY,
        by=cb.users["nurse"],
    )
    administration_update(
        administration=admin,
        version=admin.version,
        agent="Drug B",
        dose="50",
        unit="mg",
        administered_on=DAY + dt.timedelta(days=2),
        modification="delay",
        modification_reason="G2 fatigue",
        reason="delayed",
        by=cb.users["nurse"],
    )
    assert [(type(c.record), c.on, c.before, c.delayed) for c in heard] == [
        (DrugAdministration, DAY, None, False),
        (DrugAdministration, DAY + dt.timedelta(days=2), DAY, True),
    ]


def test_a_failing_listener_rolls_the_record_back(cb, monkeypatch):
    def refuse(change: hooks.RecordChange) -> None:
        raise RuntimeError("listener failed")

    monkeypatch.setattr(hooks, "_LISTENERS", [refuse])
    with pytest.raises(RuntimeError):
        lab_result_create(
            registration=cb.registration,
            analyte="ALT",
            value="200",
            unit="U/L",
            uln="40",
            sampled_on=DAY,
            by=cb.users["nurse"],
        )
    assert not LabResult.objects.filter(registration=cb.registration).exists()
