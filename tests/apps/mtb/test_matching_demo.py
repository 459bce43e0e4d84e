"""The demo's genomic reports and machine criteria (loaded by ``demo_load``): deterministic,
and matching finds patients in the open precision trials."""

from __future__ import annotations

import random
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    from oncotrials.apps.mtb.matching import reset_matching_cache

    reset_matching_cache()
    yield
    reset_matching_cache()


def test_demo_genomics_and_criteria_make_matches(db: Any) -> None:
    from oncotrials.apps.demo.genomics import demo_criteria_load, demo_report_documents
    from oncotrials.apps.demo.portfolio import demo_load
    from oncotrials.apps.genomics.models import GenomicReport, Sample
    from oncotrials.apps.mtb.matching import SYSTEM, match_all
    from oncotrials.apps.trials.models import Trial

    demo_load(seed=7)  # loads the criteria, then the genomic reports
    assert demo_report_documents(random.Random(11)) == demo_report_documents(random.Random(11))
    demo_reports = GenomicReport.objects.filter(source_file__startswith="DEMO-")
    assert demo_reports.count() >= 120
    patients = Sample.objects.filter(reports__in=demo_reports).values("patient").distinct().count()
    assert 100 <= patients <= 130
    assert Sample.objects.filter(kind="cfdna").exists()
    assert Sample.objects.filter(timepoint="progression").exists()  # serial samples
    with_criteria = Trial.objects.exclude(match_criteria=None).count()
    assert with_criteria >= 3
    assert demo_criteria_load() == with_criteria  # again: same criteria, nothing changes
    summary = match_all(user=SYSTEM)
    assert summary.trials == with_criteria
    assert summary.problems == ()
    assert summary.open_matches >= 20
    # every match's explanation shows the whole tree met
    for m in summary.matches:
        assert m.explanation[0]["value"] == "met"
