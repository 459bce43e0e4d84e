"""An investigator opens a trial's efficacy page: four server-rendered SVG plots load under the
Content-Security-Policy, and a screenshot is kept to look at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
START = dt.date(2026, 11, 13)
BASELINE = dt.date(2026, 11, 5)

LESIONS = [
    {"lesion_id": "T1", "organ": "liver", "role": "target", "diameter_mm": "42"},
    {"lesion_id": "T2", "organ": "lung", "role": "target", "diameter_mm": "28"},
    {"lesion_id": "NT1", "organ": "bone", "role": "non_target", "kind": "blastic_bone"},
]
# Per patient: (weeks after start, T1, T2, new lesion?) — responders, stable and progressing.
COURSES = [
    [
        (8, "30", "18", False),
        (16, "22", "12", False),
        (24, "14", "8", False),
        (40, "12", "7", False),
    ],
    [(8, "36", "24", False), (16, "33", "22", False), (24, "34", "22", True)],
    [(8, "44", "30", False), (16, "52", "34", False)],
    [(8, "28", "20", False), (16, "24", "16", False), (32, "25", "17", False)],
    [
        (8, "40", "27", False),
        (16, "38", "26", False),
        (24, "39", "27", False),
        (36, "41", "28", True),
    ],
    [(8, "0", "0", False), (16, "0", "0", False), (48, "0", "0", False)],
]


def _build(unit, monkeypatch):
    from django.utils import timezone

    from oncotrials.apps.subjects.services import (
        consent_form_create,
        consent_sign,
        patient_create,
        registration_change_status,
        registration_create,
        screening_close,
        screening_start,
    )
    from oncotrials.apps.trials.services import (
        cohort_create,
        dose_level_create,
        trial_change_status,
    )
    from oncotrials.apps.tumours.services import assessment_save, baseline_save

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 11, 20))
    admin, nurse = unit.users["admin"], unit.users["nurse"]
    trial = unit.trial_shared
    for status in ("set_up", "open"):
        trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
    cohort = cohort_create(trial=trial, code="ESC", name="Escalation", kind="escalation", by=admin)
    dl = dose_level_create(cohort=cohort, level=1, agent="Drug B", dose="50", unit="mg", by=admin)
    form = consent_form_create(
        kind="trial",
        trial=trial,
        version="1.0",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
        by=admin,
    )
    regs = []
    for i in range(len(COURSES)):
        patient = patient_create(
            site=unit.main,
            by=nurse,
            family_name=f"P{i}",
            given_name="Test",
            birth_date=dt.date(1960, 1, 1),
            hospital_number=f"H-E{i}",
            sex="F",
            referral_source="department",
            referral_date=dt.date(2026, 10, 1),
        )
        consent_sign(patient=patient, form=form, signed_on=dt.date(2026, 11, 2), by=nurse)
        episode = screening_start(
            patient=patient,
            trial=trial,
            kind="screening",
            started_on=dt.date(2026, 11, 2),
            by=nurse,
        )
        screening_close(
            episode=episode, outcome="eligible", closed_on=dt.date(2026, 11, 10), by=nurse
        )
        reg = registration_create(
            patient=patient,
            cohort=cohort,
            dose_level=dl,
            registered_on=dt.date(2026, 11, 12),
            by=nurse,
        )
        regs.append(
            registration_change_status(
                registration=reg, to_status="on_treatment", on=START, by=nurse
            )
        )
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2027, 12, 31))
    for reg, course in zip(regs, COURSES, strict=True):
        baseline_save(registration=reg, date=BASELINE, method="CT", lesions=LESIONS, by=nurse)
        for weeks, t1, t2, new in course:
            assessment_save(
                registration=reg,
                date=START + dt.timedelta(weeks=weeks),
                measurements=[
                    {"lesion_id": "T1", "diameter_mm": t1, "status": "absent" if t1 == "0" else ""},
                    {"lesion_id": "T2", "diameter_mm": t2, "status": "absent" if t2 == "0" else ""},
                    {"lesion_id": "NT1", "status": "absent" if t1 == "0" else "present"},
                ],
                new_lesions=[{"lesion_id": "N1", "organ": "liver"}] if new else [],
                by=nurse,
            )
        if course[-1][3]:
            end = START + dt.timedelta(weeks=course[-1][0], days=3)
            registration_change_status(
                registration=reg,
                to_status="end_of_treatment",
                on=end,
                by=nurse,
                reason="progression",
            )
    return trial


def test_investigator_sees_the_efficacy_plots(page, live_server, unit, monkeypatch):
    trial = _build(unit, monkeypatch)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "investigator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/trials/{trial.pk}/efficacy/")
    assert "Efficacy" in page.locator("h1").inner_text()
    for plot in ("waterfall", "spider", "swimmer", "pfs"):
        img = page.locator(f"[data-testid=plot-{plot}] img")
        img.wait_for()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=img.element_handle()
        )
        assert img.evaluate("img => img.naturalWidth") > 200
    assert "Median PFS" in page.locator("[data-testid=pfs-summary]").inner_text()
    assert page.locator("[data-testid=efficacy-table] tbody tr").count() == len(COURSES)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tumours-efficacy.png"), full_page=True)
    from oncotrials.apps.subjects.models import Registration

    second = Registration.objects.filter(trial=trial).order_by("pk")[1]
    page.goto(f"{live_server.url}/patients/{second.patient_id}/tumours/")
    assert "Table 1 row 9" in page.locator("[data-testid=timepoints]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "tumours-patient.png"), full_page=True)


def test_a_refused_baseline_comes_back_with_everything_typed(
    page, live_server, journey, screen, monkeypatch
):
    """A nurse types four lesions, forgets one organ and mistypes a diameter: the page comes
    back with the four rows as typed, each error beside its field; correcting two fields
    saves it."""
    from django.utils import timezone

    from oncotrials.apps.subjects.services import registration_create
    from oncotrials.apps.tumours.models import Lesion

    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 12, 1))
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "nurse")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/patients/{reg.patient_id}/tumours/")
    form = page.locator("[data-testid=baseline-form]")
    form.locator("[name=date]").fill("2026-11-05")
    form.locator("[name=method]").select_option("MRI")
    rows = [
        ("T1", "liver", "target", "42"),
        ("T2", "", "target", "28"),  # organ forgotten
        ("T3", "lung", "target", "1O"),  # a letter O typed for a zero
        ("NT1", "bone", "non_target", ""),
    ]
    for i, (lesion_id, organ, role, diameter) in enumerate(rows):
        form.locator(f"[name=lesion_id_{i}]").fill(lesion_id)
        form.locator(f"[name=organ_{i}]").fill(organ)
        form.locator(f"[name=role_{i}]").select_option(role)
        form.locator(f"[name=diameter_{i}]").fill(diameter)
    form.locator("[name=nodal_0]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    form = page.locator("[data-testid=baseline-form]")
    summary = form.locator("[data-testid=error-summary]").inner_text()
    assert "nothing was saved" in summary
    assert "organ or site of lesion T2" in summary
    assert form.locator("[name=date]").input_value() == "2026-11-05"
    assert form.locator("[name=method]").input_value() == "MRI"
    assert form.locator("[name=nodal_0]").is_checked()
    for i, (lesion_id, organ, role, diameter) in enumerate(rows):
        assert form.locator(f"[name=lesion_id_{i}]").input_value() == lesion_id
        assert form.locator(f"[name=organ_{i}]").input_value() == organ
        assert form.locator(f"[name=role_{i}]").input_value() == role
        assert form.locator(f"[name=diameter_{i}]").input_value() == diameter
    errors = form.locator("td .field-error")
    assert errors.count() == 2
    assert "organ or site of lesion T2" in form.locator(f"#r{reg.pk}-organ_1-error").inner_text()
    assert "1O is not a number" in form.locator(f"#r{reg.pk}-diameter_2-error").inner_text()
    organ = form.locator(f"#r{reg.pk}-organ_1")
    assert organ.get_attribute("aria-invalid") == "true"
    assert organ.get_attribute("aria-describedby") == f"r{reg.pk}-organ_1-error"
    assert not Lesion.objects.exists()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tumours-baseline-refused.png"), full_page=True)

    form.locator("[name=organ_1]").fill("lung")
    form.locator("[name=diameter_2]").fill("10")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=lesions] tbody tr").count() == 4
    assert set(Lesion.objects.values_list("lesion_id", flat=True)) == {"T1", "T2", "T3", "NT1"}
