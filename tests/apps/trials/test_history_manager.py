"""The history manager of trials and subjects: its class is built once, and it still reads the
history of the instance it was reached from."""

from __future__ import annotations

import pytest

from oncotrials.apps.subjects.models import Patient, Registration
from oncotrials.apps.trials.history import HistoryManager
from oncotrials.apps.trials.models import Trial

pytestmark = pytest.mark.django_db


def test_the_manager_class_is_built_once_per_model() -> None:
    assert type(Registration(pk=1).history) is type(Registration(pk=2).history)
    assert type(Trial.history) is type(Trial(pk=3).history)
    assert isinstance(Patient.history, HistoryManager)


def test_each_instance_reads_its_own_history(unit) -> None:
    trial = unit.trial_main
    trial.title = "Renamed"
    trial._history_user = unit.users["admin"]  # type: ignore[attr-defined]
    trial.save()
    assert [h.title for h in trial.history.all()] == ["Renamed", "Trial T-MAIN"]
    assert [h.protocol_code for h in unit.trial_other.history.all()] == ["T-OTHER"]
    assert Trial.history.count() == 5  # four created, one renamed
    assert trial.history.instance == trial
    assert Trial.history.instance is None
