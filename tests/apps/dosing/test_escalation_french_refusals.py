"""The dose-escalation refusals and accrual gates are worded in the user's language."""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from oncotrials.apps.dosing.services import next_patient_doses, plan_create


def test_a_dlt_outcome_in_dosing_is_refused_in_french_and_in_english(journey, screen, client_for):
    from oncotrials.apps.subjects.services import registration_create

    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    url = f"/api/v1/registrations/{reg.pk}/dlt"
    body = {"outcome": "no_dlt", "assessed_on": "2026-11-19"}
    english = client_for("investigator").put(url, body, content_type="application/json")
    assert english.status_code == 409
    assert english.json()["message"].startswith(
        f"DLT outcomes are not entered in dosing: the outcome of registration {reg.pk} follows "
        "the DLT review."
    )
    c = client_for("investigator")
    c.cookies["django_language"] = "fr"
    french = c.put(url, body, content_type="application/json")
    assert french.status_code == 409
    message = french.json()["message"]
    assert message.startswith(
        "Les issues de DLT ne se saisissent pas dans l’escalade de dose : l’issue de l’inclusion "
        f"{reg.pk} découle de la revue des DLT."
    )
    assert "/api/v1/safety/dlt-cases/{case_id}/adjudicate" in message


def test_the_accrual_gate_of_an_escalation_reads_in_french(journey):
    plan_create(
        cohort=journey.cohort,
        design="3+3",
        start_level=journey.dose_level,
        by=journey.unit.users["investigator"],
    )
    english = next_patient_doses(journey.cohort)
    assert english is not None
    assert english.reason == (
        "The escalation of T-SHARED / ESC treats its current cohort at DL1 (0 of 3 registered)."
    )
    with translation.override("fr"):
        french = next_patient_doses(journey.cohort)
    assert french is not None
    assert french.reason == (
        "L’escalade de dose de T-SHARED / ESC traite sa cohorte en cours au palier DL1 "
        "(0 inclus sur 3)."
    )
    assert french.allowed == english.allowed


def test_the_design_engines_refusal_of_a_plan_is_worded_in_french(journey):
    """The core's coded refusal (no Django there) is worded by the app, the field kept."""
    import pytest

    from oncotrials.core.errors import ValidationError

    investigator = journey.unit.users["investigator"]
    plan = {"cohort": journey.cohort, "start_level": journey.dose_level, "by": investigator}
    with pytest.raises(ValidationError) as english:
        plan_create(design="boin", target=1.3, **plan)
    assert english.value.message == "The target DLT rate of boin must lie in (0, 1); got 1.3."
    with translation.override("fr"), pytest.raises(ValidationError) as french:
        plan_create(design="boin", target=1.3, **plan)
    assert french.value.message == (
        "Le taux de DLT cible de boin doit être compris dans ]0, 1[ ; reçu 1.3."
    )
    assert (french.value.code, french.value.extra["field"]) == ("design_target", "target")
    with translation.override("fr"), pytest.raises(ValidationError) as french:
        plan_create(design="crm", target=0.3, parameters={"skeleton": "abc"}, **plan)
    assert french.value.message == (
        "parameters.skeleton doit être une liste de nombres, un par palier de dose ; reçu 'abc'."
    )
    assert french.value.extra["field"] == "parameters.skeleton"
