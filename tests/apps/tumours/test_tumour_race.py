"""Two users correct the same completed assessment at the same moment, both from version 1:
exactly one correction is saved, the other is told of the conflict (no lost update)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections

from oncotrials.apps.tumours.models import Assessment, TimepointResponse
from oncotrials.apps.tumours.services import assessment_save, baseline_save
from oncotrials.core.errors import ConflictError


@pytest.mark.django_db(transaction=True)
def test_simultaneous_corrections_one_wins_the_other_is_told(registered, tm):
    c = registered(1)
    nurse, investigator = c.journey.unit.users["nurse"], c.journey.unit.users["investigator"]
    baseline_save(registration=c.reg, date=tm.BASELINE, method="CT", lesions=tm.lesions(), by=nurse)
    first = assessment_save(
        registration=c.reg, date=dt.date(2027, 1, 8), measurements=tm.visit("25", "18"), by=nurse
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def correct(user, t1):
        try:
            barrier.wait()
            assessment_save(
                registration=c.reg,
                assessment=first,
                version=1,
                date=first.date,
                measurements=tm.visit(t1, "18"),
                reason=f"correction by {user.username}",
                by=user,
            )
            outcomes.append(f"saved {t1}")
        except ConflictError as exc:
            outcomes.append(f"conflict: {exc.message}")
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=correct, args=(nurse, "24")),
        threading.Thread(target=correct, args=(investigator, "30")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split(" ")[0] for o in outcomes) == ["conflict:", "saved"]
    assert any("version 2" in o for o in outcomes)
    saved = next(o for o in outcomes if o.startswith("saved")).split(" ")[1]
    assert Assessment.objects.get(pk=first.pk).version == 2
    # The stored response reads the winner's measurement (T2 stays 18 mm).
    assert TimepointResponse.objects.get().sum_mm == int(saved) + 18
