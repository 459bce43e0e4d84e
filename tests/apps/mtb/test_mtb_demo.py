"""The demo's genomic reports, machine criteria and tumour board (all loaded by ``demo_load``):
deterministic, matching finds patients in the open precision trials, and past meetings carry
signed recommendations and referrals; the board creates nothing when there is no report.

One test loads the whole demo once (it takes a while) and checks all three."""

from __future__ import annotations

import random
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    from oncotrials.apps.matching.engine import reset_matching_cache

    reset_matching_cache()
    yield
    reset_matching_cache()


def test_demo_board_with_no_genomic_report_creates_nothing(db: Any) -> None:
    from oncotrials.apps.demo.board import demo_board_load
    from oncotrials.apps.mtb.models import MtbMeeting

    messages: list[str] = []
    assert demo_board_load(random.Random(3), messages.append) == 0
    assert not MtbMeeting.objects.exists()
    assert "no genomic report" in messages[0]


def test_demo_genomics_criteria_matches_and_board(db: Any) -> None:
    from oncotrials.apps.accounts.models import User
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.demo.portfolio import demo_load
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.mtb.models import MtbCase, MtbCaseReport, MtbMeeting, MtbRecommendation
    from oncotrials.apps.mtb.selectors import funnel, referrals_for_user
    from oncotrials.apps.mtb.services import signature_is_valid

    # demo_load loads the criteria, then the genomic reports, then the board's history.
    demo_load(seed=7)
    _check_genomics_and_matching()
    # Cases of held meetings carry a recommendation; the planned meeting's agenda does not yet.
    cases = MtbCase.objects.exclude(meeting__status="planned").count()
    assert cases >= 50
    closed = MtbMeeting.objects.filter(status="closed")
    assert closed.count() >= 20
    assert MtbMeeting.objects.filter(status="planned").exists()
    recs = list(MtbRecommendation.objects.all())
    assert len(recs) == cases
    assert all(signature_is_valid(r) for r in recs)
    kinds = {r.kind for r in recs}
    assert "trial_referral" in kinds
    assert len(kinds) >= 3
    # Every current report with a date is discussed exactly once.
    dated = GenomicReport.objects.filter(superseded=False, reported_on__isnull=False).count()
    assert MtbCaseReport.objects.count() == dated
    admin = User.objects.get(username="admin")
    states = {s.state for _r, s in referrals_for_user(user=admin)}
    assert len(states) >= 3
    assert states <= {
        "referred",
        "pre_screening",
        "screening",
        "included",
        "declined",
        "ineligible",
    }
    f = funnel(user=admin)
    assert f.total.screened >= f.total.actionable >= 1
    assert f.total.referred >= 1
    assert audit_verify().ok


def _check_genomics_and_matching() -> None:
    from oncotrials.apps.demo.genomics import demo_criteria_load, demo_report_documents
    from oncotrials.apps.genomics.models import GenomicReport, Sample
    from oncotrials.apps.matching.engine import SYSTEM, match_all
    from oncotrials.apps.trials.models import Trial

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
