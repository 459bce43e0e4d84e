"""Two people save the same trial at once: one wins, the other gets a conflict, nothing is lost."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from oncotrials.apps.audit.services import audit_verify
from oncotrials.apps.trials.models import Trial
from oncotrials.apps.trials.services import trial_update
from oncotrials.core.errors import ConflictError


@pytest.mark.django_db(transaction=True)
def test_simultaneous_saves_of_the_same_version(unit):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("in-memory SQLite test databases are not shared between threads")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(title: str) -> None:
        try:
            barrier.wait()
            trial_update(
                trial=unit.trial_main,
                changes={"title": title},
                by=unit.users["admin"],
                reason=f"set {title}",
                expected_version=1,
            )
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=save, args=(t,)) for t in ("Alpha", "Beta")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    trial = Trial.objects.get(pk=unit.trial_main.pk)
    assert trial.version == 2
    assert trial.title in {"Alpha", "Beta"}
    assert audit_verify().ok
