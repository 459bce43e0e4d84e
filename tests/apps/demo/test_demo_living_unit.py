"""The demo is a living unit dated from today (``demo_load``): the work list is usable (a few
visits overdue, not a thousand), every screen has data (forms, labs, doses, queries in every
state, source-data verification, signatures, DLT cases under DLT rules in every state, a
toxicity board), slots are open today, some confirmed for patients in screening, a waitlist
exists, and patients not yet registered have their ECOG and labs.

One test loads the whole demo once (it takes a while) and checks it all."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    from oncotrials.apps.matching.engine import reset_matching_cache

    reset_matching_cache()
    yield
    reset_matching_cache()


def test_demo_is_a_living_unit_dated_from_today(db: Any) -> None:
    from django.db.models import Q
    from django.utils import timezone

    from oncotrials.apps.accounts.models import User
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.crfs.models import (
        DataQuery,
        DrugAdministration,
        FormInstance,
        LabResult,
        Signature,
        SourceVerification,
    )
    from oncotrials.apps.crfs.services import signature_is_valid
    from oncotrials.apps.demo import demo_load
    from oncotrials.apps.dosing.models import EscalationPlan
    from oncotrials.apps.safety.models import (
        DltCase,
        DltRuleSet,
        SaeReport,
        ToxicityBoardCase,
        ToxicityBoardMeeting,
    )
    from oncotrials.apps.subjects.models import (
        BaselineObservation,
        Registration,
        SlotAllocation,
        SlotBooking,
        WaitlistEntry,
    )
    from oncotrials.apps.subjects.selectors import (
        calendars_for,
        registrations_visible_to,
        registrations_with_calendar,
        visits_due,
    )
    from oncotrials.core.schedule import VisitStatus

    demo_load(seed=7)
    today = timezone.localdate()
    admin = User.objects.get(username="admin")

    # The work list: the visits that have passed are done, a handful are overdue.
    active = (
        registrations_visible_to(admin)
        .filter(trial__visit_schedule__isnull=False)
        .exclude(status="off_study")
    )
    statuses: Counter[VisitStatus] = Counter(
        v.status
        for _reg, calendar in calendars_for(registrations_with_calendar(active), today=today)
        for v in calendar.visits
    )
    expected = sum(n for s, n in statuses.items() if s is not VisitStatus.UPCOMING)
    rows = visits_due(user=admin, today=today)
    overdue = sum(1 for r in rows if r["visit"].status is VisitStatus.OVERDUE)
    assert expected > 300
    assert 0 < overdue < 0.05 * expected
    assert statuses[VisitStatus.DONE] > 0.8 * expected
    assert statuses[VisitStatus.UPCOMING] > 0  # patients on treatment today
    assert Registration.objects.filter(
        status="on_treatment", trial__visit_schedule__isnull=False
    ).exists()

    # Case report forms, labs and doses.
    forms = Counter(FormInstance.objects.values_list("form_name", flat=True))
    for name in (
        "ecog",
        "vital_signs",
        "medical_history",
        "eligibility",
        "demographics",
        "end_of_treatment",
        "survival_status",
    ):
        assert forms[name] > 0, name
    assert LabResult.objects.count() > 500
    assert DrugAdministration.objects.count() > 300
    assert DrugAdministration.objects.exclude(modification="none").exists()

    # Data cleaning: queries in every state, source-data verification, valid signatures.
    queries = Counter(DataQuery.objects.values_list("status", flat=True))
    assert all(queries[s] > 0 for s in ("open", "answered", "closed")), queries
    assert DataQuery.objects.filter(origin="edit_check").exists()
    assert SourceVerification.objects.count() > 20
    signatures = list(Signature.objects.all())
    assert signatures
    assert all(signature_is_valid(s) for s in signatures)

    # Safety: DLT rules for every escalation, cases in every state, SAE reports, the board.
    escalating = EscalationPlan.objects.values_list("cohort__trial_id", flat=True).distinct()
    assert DltRuleSet.objects.filter(trial_id__in=escalating).count() == len(set(escalating))
    cases = Counter(DltCase.objects.values_list("status", flat=True))
    assert all(cases[s] > 0 for s in ("proposed", "confirmed", "rejected")), cases
    assert SaeReport.objects.exists()
    assert ToxicityBoardMeeting.objects.filter(held_on__lt=today).exists()
    assert ToxicityBoardMeeting.objects.filter(held_on__gt=today).exists()
    assert ToxicityBoardCase.objects.exclude(recommendation="").exists()

    # Slots open today, and patients waiting for one.
    open_today = SlotAllocation.objects.filter(open_from__lte=today).filter(
        Q(open_until__isnull=True) | Q(open_until__gte=today)
    )
    assert open_today.exists()
    assert WaitlistEntry.objects.filter(active=True).exists()
    # Slots offered to patients in screening and confirmed by the investigator.
    confirmed = SlotBooking.objects.filter(status="held", confirmed_at__isnull=False)
    assert confirmed.exists()
    assert not confirmed.filter(patient__registrations__isnull=False).exists()
    assert all(b.confirmed_by.username == "investigator" for b in confirmed)

    # The work-up of referred patients and patients in screening, before any registration:
    # ECOG and labs, read by the matching and the tumour-board summary.
    observed = BaselineObservation.objects.filter(patient__registrations__isnull=True)
    assert observed.filter(kind="ecog").exists()
    assert {"neutrophils", "platelets", "creatinine"} <= set(
        observed.filter(kind="lab").values_list("analyte", flat=True)
    )
    assert not BaselineObservation.objects.filter(observed_on__gt=today).exists()

    # Nothing is dated after today.
    assert not LabResult.objects.filter(sampled_on__gt=today).exists()
    assert not DrugAdministration.objects.filter(administered_on__gt=today).exists()
    assert not Registration.objects.filter(registered_on__gt=today).exists()
    assert audit_verify().ok
