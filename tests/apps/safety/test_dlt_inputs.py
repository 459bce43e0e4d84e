"""The DLT review reads the lab series and the drug administrations, not only the AEs.

Protocol definitions modelled (clinical-rules reference, section 5, "typical phase I
definitions"): (a) the NCI-sponsored example (https://pmc.ncbi.nlm.nih.gov/articles/PMC3839288/
table/T1): "toxicity causing > 14-day delay", only events in cycle 1; (b) "G4 neutropenia
> 7 days" (test vectors D-1 and D-2: ANC 0.40 d10, 0.45 d14, 0.90 d17 lasts 7 days, not a DLT;
0.48 d17 then 0.90 d18 lasts 8 days, a DLT); and the evaluability and dose-intensity convention
of the same reference ("min_fraction_planned_dose: 0.75"), used by phase I protocols as "less
than 75 % of the planned cycle 1 dose because of toxicity" (Le Tourneau, Lee & Siu, J Natl
Cancer Inst 2009;101:708-720, typical DLT definitions).

The patient: first dose (C1D1) 2026-11-13 = day 1; 21-day cycles (the example visit schedule),
so the DLT window is days 1-21 (2026-11-13 .. 2026-12-03) and C2D1 is due on day 22.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.utils import timezone

from oncotrials.apps.crfs.services import (
    administration_record,
    administration_update,
    lab_result_create,
    lab_result_update,
)
from oncotrials.apps.safety.dlt_review import (
    dlt_case_adjudicate,
    dlt_evaluate,
    dlt_rules_save,
    dlt_status_for,
)
from oncotrials.apps.safety.models import DltCase
from oncotrials.apps.safety.services import adverse_event_create
from oncotrials.apps.subjects.selectors import registration_calendar
from oncotrials.core.errors import PermissionDeniedError

PASSWORD = "a-long-test-password-42"  # tests/conftest.py

C1D1 = dt.date(2026, 11, 13)
SCHEDULE = Path(__file__).resolve().parents[3] / "docs" / "formats" / "visit-schedule.example.yaml"


def day(n: int) -> dt.date:
    """The date of study day ``n`` (day 1 = first dose)."""
    return C1D1 + dt.timedelta(days=n - 1)


@pytest.fixture
def treated(safety, dlt_rules_doc, monkeypatch):
    """The safety patient on treatment from C1D1 with the example schedule, DLT rules extended
    with a dose-delay, a dose-intensity and a Hy's law rule; ``treated.today(date)`` moves the
    clock."""
    from oncotrials.apps.subjects.services import registration_change_status, visit_record
    from oncotrials.apps.trials.services import schedule_set

    users = safety.users
    trial = safety.registration.trial
    schedule_set(trial=trial, document=yaml.safe_load(SCHEDULE.read_text()), by=users["admin"])
    reg = registration_change_status(
        registration=safety.registration, to_status="on_treatment", on=C1D1, by=users["nurse"]
    )
    visit_record(registration=reg, code="C1D1", on=C1D1, by=users["nurse"])
    doc = copy.deepcopy(dlt_rules_doc)
    doc["dlt"]["rules"] += [
        {"id": "DOSE_DELAY", "dose_delay_days_gt": 14},
        {"id": "DOSE_INTENSITY", "dose_intensity_lt": 0.75},
        {"id": "HYS_LAW", "hys_law": {}},
    ]
    dlt_rules_save(trial=trial, document=doc, by=users["investigator"])
    safety.registration = reg

    def today(date: dt.date) -> None:
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date)

    safety.today = today  # type: ignore[attr-defined]
    today(dt.date(2026, 12, 20))  # the window has closed
    return safety


def _ae(s: Any, **values: Any):
    data = {
        "grade": 3,
        "attribution": {"Drug B": "probable"},
        "action_taken": "interrupted",
        "outcome": "not_recovered",
    } | values
    return adverse_event_create(
        registration=s.registration, data=data, by=s.users["nurse"], complete=True
    )


def _anc(s: Any, value: str, on: dt.date):
    return lab_result_create(
        registration=s.registration,
        analyte="ANC",
        value=value,
        unit="10^9/L",
        lln="1.8",
        sampled_on=on,
        by=s.users["nurse"],
    )


def _dose(s: Any, dose: str, on: dt.date, **kw: Any):
    return administration_record(
        registration=s.registration,
        agent="Drug B",
        unit="mg",
        dose=dose,
        administered_on=on,
        by=s.users["nurse"],
        **kw,
    )


def _cases() -> dict[str, DltCase]:
    return {c.event_key: c for c in DltCase.objects.order_by("pk")}


# ------------------------------------------------------------------------------ lab series


def test_grade_4_neutropenia_lasting_8_days_by_its_lab_values_is_a_dlt(treated):
    # D-2: ANC 0.40 d10, 0.45 d14, 0.48 d17, 0.90 d18: grade 4 (< 0.5 x 10^9/L, CTCAE v5.0)
    # from day 10 to the first value below grade 4 on day 18 = 8 days > 7.
    ae = _ae(treated, term="Neutrophil count decreased", grade=4, onset_date=day(10).isoformat())
    (case,) = _cases().values()
    assert (case.proposed_outcome, case.rule_id) == ("pending", "NEUT_G4_PROLONGED")  # no values
    for value, n in (("0.40", 10), ("0.45", 14), ("0.48", 17), ("0.90", 18)):
        _anc(treated, value, day(n))
    (case,) = _cases().values()
    assert case.adverse_event == ae  # the lab course measures the recorded event
    assert (case.proposed_outcome, case.rule_id, case.onset_day) == ("dlt", "NEUT_G4_PROLONGED", 10)
    assert "lasting 8 days" in case.reason


def test_grade_4_neutropenia_recovering_after_7_days_is_not_proposed_until_a_value_is_corrected(
    treated,
):
    # D-1: ANC 0.40 d10, 0.45 d14, 0.90 d17: grade 4 for 7 days, which is not "> 7 days".
    _ae(treated, term="Neutrophil count decreased", grade=4, onset_date=day(10).isoformat())
    _anc(treated, "0.40", day(10))
    _anc(treated, "0.45", day(14))
    recovery = _anc(treated, "0.90", day(17))
    assert _cases() == {}
    decision, _ = dlt_evaluate(registration=treated.registration, by=treated.users["nurse"])
    (event,) = decision.events
    assert event.reason == "NEUT_G4_PROLONGED: grade >= 4 lasted 7 days, needs >= 8 days"
    # The day-17 value was 0.48: correcting it re-runs the review (no recovery yet: pending) ...
    lab_result_update(
        lab=recovery,
        version=1,
        value="0.48",
        unit="10^9/L",
        lln="1.8",
        sampled_on=day(17),
        reason="transcription error",
        by=treated.users["nurse"],
    )
    (case,) = _cases().values()
    assert case.proposed_outcome == "pending"
    assert "no recovery observed" in case.reason
    # ... and the recovery on day 18 makes it 8 days: a DLT.
    _anc(treated, "0.90", day(18))
    (case,) = _cases().values()
    assert (case.proposed_outcome, case.rule_id) == ("dlt", "NEUT_G4_PROLONGED")


def test_a_lab_episode_without_its_adverse_event_is_pending_until_the_event_is_recorded(treated):
    for value, n in (("0.40", 10), ("0.45", 14), ("0.48", 17), ("0.90", 18)):
        _anc(treated, value, day(n))
    (case,) = _cases().values()
    assert case.event_key == "LAB-neutrophils:Neutrophil count decreased"
    assert case.adverse_event is None
    assert case.proposed_outcome == "pending"
    assert "attribution not recorded" in case.reason
    ae = _ae(treated, term="Neutrophil count decreased", grade=4, onset_date=day(10).isoformat())
    (case,) = _cases().values()  # the lab-only case gave way to the event's
    assert (case.event_key, case.adverse_event, case.proposed_outcome) == (
        f"AE-{ae.pk}",
        ae,
        "dlt",
    )


def test_an_event_graded_above_its_lab_values_keeps_its_own_course(treated):
    # The investigator recorded grade 4 (a value from another laboratory, say); the values
    # entered reach grade 3 only (0.7 x 10^9/L): the AE's own course (no resolution) stands.
    ae = _ae(treated, term="Neutrophil count decreased", grade=4, onset_date=day(10).isoformat())
    _anc(treated, "0.7", day(10))
    _anc(treated, "1.6", day(14))
    (case,) = _cases().values()
    assert (case.adverse_event, case.proposed_outcome) == (ae, "pending")
    assert "no recovery observed" in case.reason


def test_grade_4_neutropenia_beginning_after_the_window_is_not_proposed(treated):
    treated.today(dt.date(2027, 1, 10))
    onset = day(25)  # the window is days 1-21
    _ae(treated, term="Neutrophil count decreased", grade=4, onset_date=onset.isoformat())
    for value, n in (("0.30", 25), ("0.35", 30), ("0.90", 35)):
        _anc(treated, value, day(n))
    assert _cases() == {}
    decision, _ = dlt_evaluate(registration=treated.registration, by=treated.users["nurse"])
    assert "outside the DLT window" in decision.events[0].reason


def test_labs_are_graded_with_the_ctcae_version_of_the_rules(treated, dlt_rules_doc):
    # Platelets: CTCAE v5.0 "Platelet count decreased" grade 4 is < 25 x 10^9/L; CTCAE v6.0
    # names it "Thrombocytopenia", grade 3 < 50-10 and grade 4 < 10 x 10^9/L. Values are saved
    # graded with v5.0; a trial whose DLT rules follow v6.0 is evaluated with v6.0 grades.
    doc = copy.deepcopy(dlt_rules_doc)
    doc["dlt"]["ctcae_version"] = "6.0"
    doc["dlt"]["rules"].append({"id": "PLT_G4", "terms": ["Thrombocytopenia"], "min_grade": 4})
    dlt_rules_save(
        trial=treated.registration.trial,
        document=doc,
        version=1,
        reason="amendment 3: CTCAE v6.0",
        by=treated.users["investigator"],
    )

    def platelets(value: str, n: int):
        return lab_result_create(
            registration=treated.registration,
            analyte="platelets",
            value=value,
            unit="10^9/L",
            lln="150",
            sampled_on=day(n),
            by=treated.users["nurse"],
        )

    lab = platelets("20", 12)
    assert (lab.term, lab.grade, lab.ctcae_version) == ("Platelet count decreased", 4, "5.0")
    assert _cases() == {}  # grade 3 under v6.0
    platelets("8", 14)
    (case,) = _cases().values()
    assert case.event_key == "LAB-platelets:Thrombocytopenia"
    assert (case.term, case.rule_id, case.onset_day) == ("Thrombocytopenia", "PLT_G4", 14)
    assert case.proposed_outcome == "pending"  # no AE: attribution not recorded


def test_hys_law_from_the_liver_values_of_one_day(treated):
    # FDA DILI guidance (2009): ALT > 3 x ULN with total bilirubin > 2 x ULN and ALP < 2 x ULN.
    # ALT 160 U/L = 4 x ULN 40 is CTCAE v5.0 grade 2 (> 3-5 x ULN), below the NONHEME_G3 rule.
    on = day(12)
    ae = _ae(
        treated,
        term="Alanine aminotransferase increased",
        grade=2,
        onset_date=on.isoformat(),
        action_taken="none",
    )
    nurse = treated.users["nurse"]
    for analyte, value, unit, uln in (
        ("ALT", "160", "U/L", "40"),
        ("bilirubin", "30", "umol/L", "12"),
        ("ALP", "100", "U/L", "120"),
    ):
        lab_result_create(
            registration=treated.registration,
            analyte=analyte,
            value=value,
            unit=unit,
            uln=uln,
            sampled_on=on,
            by=nurse,
        )
    cases = _cases()
    hys = cases["HYS_LAW@day12"]
    assert (hys.proposed_outcome, hys.rule_id) == ("dlt", "HYS_LAW")
    assert "ALT 4 × ULN with bilirubin 2.5 × ULN" in hys.reason
    assert f"AE-{ae.pk}" not in cases  # grade 2 ALT alone is no DLT


def test_a_monitor_cannot_enter_labs_so_no_case_is_proposed(treated, unit):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    monitor = user_create(username="dlt_monitor", password="a-long-test-password-42")
    membership_grant(
        user=monitor,
        role=Role.SPONSOR_MONITOR,
        site=unit.main,
        trial=treated.registration.trial,
    )
    with pytest.raises(PermissionDeniedError):
        lab_result_create(
            registration=treated.registration,
            analyte="ANC",
            value="0.3",
            unit="10^9/L",
            sampled_on=day(10),
            by=monitor,
        )
    assert _cases() == {}


# ------------------------------------------------------------------------------ exposure


def _target(s: Any, code: str) -> dt.date:
    calendar = registration_calendar(registration=s.registration)
    return next(v.target for v in calendar.visits if v.code == code)


def test_a_delay_of_cycle_2_over_14_days_for_toxicity_is_a_dlt(treated):
    # NCI example: "toxicity causing > 14-day delay". Grade 2 diarrhoea (no DLT by itself) holds
    # Drug B back: C2D1, due on day 22, is given 16 days late.
    _dose(treated, "50", C1D1, visit_code="C1D1")
    ae = _ae(treated, term="Diarrhea", grade=2, onset_date=day(18).isoformat())
    due = _target(treated, "C2D1")
    assert due == day(22)
    given = _dose(
        treated,
        "50",
        due + dt.timedelta(days=16),
        visit_code="C2D1",
        modification="delay",
        modification_reason="diarrhoea not resolved",
    )
    cases = _cases()
    case = cases[f"DELAY-{given.pk}"]
    assert (case.proposed_outcome, case.rule_id, case.onset_day) == ("dlt", "DOSE_DELAY", 22)
    assert "dose delay of 16 days" in case.reason
    assert f"AE-{ae.pk}" not in cases
    # A correction to a 14-day delay (not "> 14 days") withdraws the proposal.
    administration_update(
        administration=given,
        version=1,
        agent="Drug B",
        unit="mg",
        dose="50",
        administered_on=due + dt.timedelta(days=14),
        modification="delay",
        modification_reason="diarrhoea not resolved",
        reason="date from the pharmacy log",
        by=treated.users["nurse"],
    )
    assert _cases() == {}


def test_a_long_delay_not_due_to_toxicity_or_outside_the_window_is_not_proposed(treated):
    treated.today(dt.date(2027, 2, 1))
    _dose(treated, "50", C1D1, visit_code="C1D1")
    due = _target(treated, "C2D1")
    _dose(
        treated,
        "50",
        due + dt.timedelta(days=20),
        visit_code="C2D1",
        modification="delay",
        modification_reason="patient on holiday",
    )
    assert _cases() == {}
    # C3D1 (planned after the window) held back 16 days by an ongoing toxicity: outside.
    due3 = _target(treated, "C3D1")
    _ae(treated, term="Diarrhea", grade=2, onset_date=(due3 - dt.timedelta(days=2)).isoformat())
    _dose(
        treated,
        "50",
        due3 + dt.timedelta(days=16),
        visit_code="C3D1",
        modification="delay",
        modification_reason="diarrhoea",
    )
    assert _cases() == {}
    decision, _ = dlt_evaluate(registration=treated.registration, by=treated.users["nurse"])
    reasons = sorted(e.reason for e in decision.events if e.rule_id == "DOSE_DELAY")
    assert any("not due to toxicity" in r for r in reasons)
    assert any("outside the DLT window" in r for r in reasons)


def test_less_than_75_percent_of_the_cycle_1_dose_because_of_toxicity_is_a_dlt(treated):
    treated.today(day(18))  # the window is still open
    _dose(treated, "50", day(1), visit_code="C1D1")
    ae = _ae(
        treated, term="Alanine aminotransferase increased", grade=2, onset_date=day(6).isoformat()
    )
    _dose(treated, "0", day(8), modification="interruption", modification_reason="ALT increased")
    _dose(treated, "0", day(15), modification="interruption", modification_reason="ALT increased")
    (case,) = _cases().values()
    assert case.event_key == "DOSE_INTENSITY:Drug B"
    assert (case.proposed_outcome, case.rule_id) == ("pending", "DOSE_INTENSITY")
    assert "33.3 %" in case.reason
    assert "window is open" in case.reason
    treated.today(dt.date(2026, 12, 10))  # day 28: the window has closed
    dlt_evaluate(registration=treated.registration, by=treated.users["nurse"])
    (case,) = _cases().values()
    assert (case.proposed_outcome, case.rule_id, case.onset_day) == ("dlt", "DOSE_INTENSITY", 8)
    assert "because of toxicity" in case.reason
    assert ae.attribution == {"Drug B": "probable"}


def test_doses_missed_for_other_reasons_do_not_count_against_dose_intensity(treated):
    _dose(treated, "50", day(1), visit_code="C1D1")
    _dose(treated, "0", day(8), modification="interruption", modification_reason="drug supply")
    _dose(treated, "25", day(15), modification="reduction", modification_reason="patient choice")
    assert _cases() == {}
    decision, _ = dlt_evaluate(registration=treated.registration, by=treated.users["nurse"])
    (event,) = [e for e in decision.events if e.rule_id == "DOSE_INTENSITY"]
    assert event.outcome.value == "not_dlt"
    assert "100 % of the planned dose" in event.reason
    assert "50 % received" in event.reason


def test_doses_missed_for_toxicity_after_the_window_are_not_proposed(treated):
    treated.today(dt.date(2027, 1, 10))
    _dose(treated, "50", day(1), visit_code="C1D1")
    _dose(treated, "50", day(8))
    _ae(treated, term="Alanine aminotransferase increased", grade=2, onset_date=day(24).isoformat())
    _dose(treated, "0", day(29), modification="interruption", modification_reason="ALT increased")
    _dose(treated, "0", day(36), modification="interruption", modification_reason="ALT increased")
    assert _cases() == {}
    decision, _ = dlt_evaluate(registration=treated.registration, by=treated.users["nurse"])
    (event,) = [e for e in decision.events if e.rule_id == "DOSE_INTENSITY"]
    assert event.outcome.value == "not_dlt"  # 100 % of the two doses planned in days 1-21


def test_a_reason_naming_a_toxicity_without_an_adverse_event_is_pending(treated):
    _dose(treated, "50", day(1), visit_code="C1D1")
    _dose(treated, "0", day(8), modification="interruption", modification_reason="G3 vomiting")
    _dose(treated, "0", day(15), modification="interruption", modification_reason="G3 vomiting")
    (case,) = _cases().values()
    assert case.proposed_outcome == "pending"
    assert "attribution of the toxicity not recorded" in case.reason


# ------------------------------------------------------------------------------ adjudication


def test_a_confirmed_lab_based_dlt_drives_the_dosing_state(treated):
    _ae(treated, term="Neutrophil count decreased", grade=4, onset_date=day(10).isoformat())
    for value, n in (("0.40", 10), ("0.45", 14), ("0.48", 17), ("0.90", 18)):
        _anc(treated, value, day(n))
    (case,) = _cases().values()
    with pytest.raises(PermissionDeniedError):
        dlt_case_adjudicate(
            case=case,
            decision="confirm",
            reason="x",
            password=PASSWORD,
            meaning="I confirm",
            version=case.version,
            by=treated.users["nurse"],
        )
    dlt_case_adjudicate(
        case=case,
        decision="confirm",
        reason="grade 4 neutropenia for 8 days",
        password=PASSWORD,
        meaning="I confirm this DLT assessment",
        version=case.version,
        by=treated.users["investigator"],
    )
    assert dlt_status_for(treated.registration).outcome == "dlt"


def test_registrations_read_with_their_rules_identity_are_reviewed_without_reading_the_rules(
    treated, django_assert_num_queries
):
    """The demo's casebooks read their registrations ``with_dlt_rules_key``: the DLT review of
    each value then takes the parsed rules from its cache by that identity (a plain
    registration reads the rule set each time), and the lab values give the same DLT case."""
    from oncotrials.apps.safety.dlt_review import _rules_of
    from oncotrials.apps.safety.models import DltRuleSet
    from oncotrials.apps.safety.selectors import with_dlt_rules_key
    from oncotrials.apps.subjects.models import Registration

    _ae(treated, term="Neutrophil count decreased", grade=4, onset_date=day(10).isoformat())
    plain = Registration.objects.select_related("trial").get(pk=treated.registration.pk)
    with django_assert_num_queries(1):
        _rules_of(plain)
    keyed = (
        with_dlt_rules_key(Registration.objects.filter(pk=plain.pk))
        .select_related("trial", "dose_level")
        .get()
    )
    _rules_of(keyed)  # the first read under this identity fills the cache
    with django_assert_num_queries(0):
        found = _rules_of(keyed)
    assert found is not None
    assert found[0] == DltRuleSet.objects.get(trial=plain.trial)
    treated.registration = keyed
    for value, n in (("0.40", 10), ("0.45", 14), ("0.48", 17), ("0.90", 18)):
        _anc(treated, value, day(n))
    (case,) = _cases().values()
    assert (case.proposed_outcome, case.rule_id, case.onset_day) == ("dlt", "NEUT_G4_PROLONGED", 10)
    assert "lasting 8 days" in case.reason


# ------------------------------------------------------------ one read of the review's inputs


def _separate_reads(registration_id: int) -> tuple[Any, Any, Any, Any]:
    from oncotrials.apps.safety.dlt_review import _ADMINISTRATIONS, _AE_ROWS, _LABS

    raw, convert = _AE_ROWS.raw_rows(registration=registration_id)
    return (
        raw,
        convert,
        _LABS.rows(registration=registration_id),
        _ADMINISTRATIONS.rows(registration=registration_id),
    )


@pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql",
    reason="one statement on PostgreSQL only; elsewhere it is the three reads themselves",
)
def test_the_one_read_of_a_review_gives_the_rows_of_the_three_reads(treated, monkeypatch):
    """On PostgreSQL the AEs, lab values and administrations of a review are read by one
    statement: after every record of a varied course (drafts, voided events, resolutions,
    limits or none, values of several scales, reduced and delayed doses, records saved out of
    date order), it gives the rows, the driver's values and their order that the three reads
    give, and the review decides the same."""
    import random

    from oncotrials.apps.safety import dlt_review
    from oncotrials.apps.safety.services import adverse_event_void
    from oncotrials.core.grading import dlt_rules_from_dict, evaluate_subject

    rng = random.Random(15)
    nurse = treated.users["nurse"]
    reg = treated.registration
    terms = [("Colitis", 3), ("Nausea", 2), ("Neutrophil count decreased", 4), ("Fatigue", 1)]
    labs = [
        ("ANC", "10^9/L", ["0.40", "0.9", "1.25", "3"], {"lln": "1.8"}),
        ("ALT", "U/L", ["45", "160.5", "400"], {"uln": "40"}),
        ("bilirubin", "umol/L", ["12", "45.25"], {"uln": "21", "lln": "3"}),
    ]
    doses = [
        ("50", {}),
        ("37.5", {"modification": "reduction", "modification_reason": "nausea grade 2"}),
        ("50", {"modification": "delay", "modification_reason": "Colitis"}),
    ]
    records = []
    for _ in range(24):
        kind = rng.choice(["ae", "lab", "dose"])
        on = day(rng.randint(1, 30))
        if kind == "ae":
            term, grade = rng.choice(terms)
            values: dict[str, Any] = {"term": term, "grade": grade, "onset_date": on.isoformat()}
            if rng.random() < 0.4:
                end = on + dt.timedelta(days=rng.randint(0, 5))
                values |= {"resolution_date": end.isoformat(), "outcome": "recovered"}
            if rng.random() < 0.3:
                values |= {"attribution": {"Drug B": rng.choice(["unrelated", "possible"])}}
            if rng.random() < 0.2:
                values |= {"supportive_care": True}
            ae = _ae(treated, **values)
            if rng.random() < 0.15:
                adverse_event_void(ae=ae, version=ae.version, by=nurse, reason="entered twice")
        elif kind == "lab":
            analyte, unit, values_, limits = rng.choice(labs)
            lab_result_create(
                registration=reg,
                analyte=analyte,
                value=rng.choice(values_),
                unit=unit,
                sampled_on=on,
                by=nurse,
                **limits,
            )
        else:
            dose, kw = rng.choice(doses)
            _dose(treated, dose, on, **kw)
        records.append(kind)
        one, three = dlt_review._review_rows(reg.pk), _separate_reads(reg.pk)
        assert (one[0], one[2], one[3]) == (three[0], three[2], three[3])
    # a draft is not read
    adverse_event_create(
        registration=reg, data={"term": "Nausea", "grade": 1}, by=nurse, complete=False
    )
    one = dlt_review._review_rows(reg.pk)
    three = _separate_reads(reg.pk)
    assert {"ae", "lab", "dose"} <= set(records)
    assert (one[0], one[2], one[3]) == (three[0], three[2], three[3])
    assert len(one[0]) >= 3
    assert one[2]
    assert one[3]
    assert [one[1](r) for r in one[0]] == [three[1](r) for r in three[0]]
    rules = dlt_rules_from_dict(dlt_review.dlt_rules_for(reg.trial)[0].document, source="t")
    decided = evaluate_subject(dlt_review.subject_data(reg, window_days=21), rules)
    monkeypatch.setattr(dlt_review, "_review_rows", _separate_reads)
    assert evaluate_subject(dlt_review.subject_data(reg, window_days=21), rules) == decided


@pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql",
    reason="one statement on PostgreSQL only; elsewhere the cases are read on their own",
)
def test_the_review_reads_and_locks_the_dlt_cases_with_its_inputs(treated):
    """On PostgreSQL the review of a save reads the patient's DLT cases, locked, in the
    statement of its inputs: the same rows and values as the locked read of the cases alone
    (proposed, adjudicated and signed cases alike), the inputs unchanged, and the rows locked."""
    from django.db import connection, transaction

    from oncotrials.apps.safety import dlt_review

    reg = treated.registration
    for term, grade, on in [("Colitis", 3, 3), ("Neutrophil count decreased", 4, 5)]:
        _ae(treated, term=term, grade=grade, onset_date=day(on).isoformat())
    _anc(treated, "0.40", day(6))
    cases = list(DltCase.objects.filter(registration=reg).order_by("pk"))
    assert len(cases) >= 2
    signed = cases[0]
    DltCase.objects.filter(pk=signed.pk).update(
        status="confirmed",
        adjudication_reason="Grade 3 colitis in the window",
        signed_by=treated.users["nurse"],
        signed_name="A Nurse",
        signed_at=timezone.now(),
        signature_meaning="approval",
    )
    with transaction.atomic():
        reads, rows = dlt_review._review_rows_and_cases(reg.pk)
        with connection.cursor() as cur:
            cur.execute(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND relation = 'safety_dltcase'::regclass"
            )
            modes = {m for (m,) in cur.fetchall()}
        alone = dlt_review._CASES_LOCKED.rows(registration=reg.pk)
    assert "RowShareLock" in modes  # what SELECT ... FOR UPDATE takes on the table
    assert rows == alone
    assert len(rows) == len(cases)
    assert any(r[dlt_review._CASE_COLUMNS.index("signed_at")] is not None for r in rows)
    three = _separate_reads(reg.pk)
    assert (reads[0], reads[2], reads[3]) == (three[0], three[2], three[3])
    with pytest.raises(TypeError):
        dlt_review._CASES_LOCKED.bound(registration=reg.pk)  # a locking read: not unasked
