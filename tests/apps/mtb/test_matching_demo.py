"""The demo's genomic reports and machine criteria: deterministic, and matching finds patients."""

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
    from oncotrials.apps.demo.genomics import (
        demo_criteria_load,
        demo_genomics_load,
        demo_report_documents,
    )
    from oncotrials.apps.demo.portfolio import demo_load
    from oncotrials.apps.genomics.models import GenomicReport, Sample
    from oncotrials.apps.mtb.matching import SYSTEM, match_all

    demo_load(seed=7)
    assert demo_report_documents(random.Random(11)) == demo_report_documents(random.Random(11))
    messages: list[str] = []
    created = demo_genomics_load(random.Random(11), messages.append)
    assert GenomicReport.objects.count() == created
    patients = Sample.objects.values("patient").distinct().count()
    assert 100 <= patients <= 130
    assert Sample.objects.filter(kind="cfdna").exists()
    assert Sample.objects.filter(timepoint="progression").exists()  # serial samples
    assert messages[-1] == "genomic reports"
    trials = demo_criteria_load()
    assert trials >= 3
    summary = match_all(user=SYSTEM)
    assert summary.trials == trials
    assert summary.problems == ()
    assert summary.open_matches >= 20
    # every match's explanation shows the molecular target met
    for m in summary.matches:
        assert m.explanation[0]["value"] == "met"
