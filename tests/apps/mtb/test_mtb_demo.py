"""The demo's tumour board: past meetings with signed recommendations and referrals built from
the demo's genomic reports, deterministic for a seed; nothing when there is no report."""

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


def test_demo_board_with_no_genomic_report_creates_nothing(db: Any) -> None:
    from oncotrials.apps.demo.board import demo_board_load
    from oncotrials.apps.mtb.models import MtbMeeting

    messages: list[str] = []
    assert demo_board_load(random.Random(3), messages.append) == 0
    assert not MtbMeeting.objects.exists()
    assert "no genomic report" in messages[0]


def test_demo_board_history(db: Any) -> None:
    from oncotrials.apps.accounts.models import User
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.demo.portfolio import demo_load
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.mtb.models import MtbCase, MtbCaseReport, MtbMeeting, MtbRecommendation
    from oncotrials.apps.mtb.selectors import funnel, referrals_for_user
    from oncotrials.apps.mtb.services import signature_is_valid

    # demo_load builds the board itself (after the genomic reports and criteria).
    demo_load(seed=7)
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
