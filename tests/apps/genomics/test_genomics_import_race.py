"""Two imports of the same new samples at once: one writes, the other writes nothing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from genomics_helpers import LAML, identity_map, make_patients

from oncotrials.core.errors import ConflictError


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_the_same_file_store_each_report_once(unit, biologist):
    from django.db import connection

    from oncotrials.apps.genomics.models import GenomicReport, Mutation, Sample
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics import read_maf

    samples = read_maf(LAML).samples
    make_patients(unit.main, samples, diagnosis="AML")
    outcomes: list[Any] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            outcomes.append(
                genomics_import(path=LAML, by=biologist, patient_map=identity_map(samples))
            )
        except ConflictError as exc:  # the loser of a race on PostgreSQL
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == 2
    created = [o.reports_created for o in outcomes if not isinstance(o, ConflictError)]
    assert sorted(created)[-1] == 193  # one import wrote every report
    assert sum(created) == 193  # the other wrote none (or lost the race cleanly)
    assert GenomicReport.objects.count() == Sample.objects.count() == 193
    assert Mutation.objects.count() == 2207
