"""The dose-escalation refusals and accrual gates are worded in the user's language."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import translation

from oncotrials.apps.dosing.services import next_patient_doses, plan_create
from oncotrials.core.designs.phase2 import basket_monitoring
from oncotrials.core.designs.simulate import parse_scenarios


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


# ------------------------------------------- the design engine's refusals, page and API


@pytest.fixture
def esc_cohort(unit):
    """The escalation cohort of T-MAIN with three dose levels and no plan yet."""
    from oncotrials.apps.trials.models import Cohort
    from oncotrials.apps.trials.services import dose_level_create

    cohort = Cohort.objects.get(trial=unit.trial_main, code="ESC")
    for level, dose in [(2, "20"), (3, "40")]:
        dose_level_create(
            cohort=cohort, level=level, agent="Drug A", dose=dose, unit="mg", by=unit.users["admin"]
        )
    return cohort


def _post_plan(client, cohort, french: bool, **changes):
    if french:
        client.cookies["django_language"] = "fr"
    else:
        client.cookies.pop("django_language", None)
    data = {
        "design": "keyboard",
        "target": "0.3",
        "cohort_size": "3",
        "max_sample_size": "36",
        "start_level": cohort.dose_levels.get(level=1).pk,
        **changes,
    }
    return client.post(f"/cohorts/{cohort.pk}/escalation/plan/", data)


@pytest.mark.parametrize(
    ("changes", "field", "english", "french"),
    [
        (
            {"param_margin_l": "0.5"},
            "param_margin_l",
            "Keyboard margin_l must lie in (0, target=0.3); got 0.5.",
            "margin_l de Keyboard doit être compris dans ]0, cible=0.3[ ; reçu 0.5.",
        ),
        (
            {"design": "crm"},
            "param_skeleton",
            "crm needs parameters.skeleton (prior DLT guesses per dose level).",
            "crm demande parameters.skeleton (probabilités de DLT a priori par palier de dose).",
        ),
        (
            {"design": "crm", "param_skeleton": "0.3, 0.2, 0.1"},
            "param_skeleton",
            "skeleton must be strictly increasing; got 0.3 at dose 0 then 0.2 at dose 1 in "
            "[0.3, 0.2, 0.1].",
            "skeleton doit être strictement croissant ; reçu 0.3 à la dose 0 puis 0.2 à la dose 1 "
            "dans [0.3, 0.2, 0.1].",
        ),
        (
            {"target": "0.7"},
            "target",
            "The target DLT rate of Keyboard must lie in [0.05, 0.6]; got 0.7.",
            "Le taux de DLT cible de Keyboard doit être compris dans [0.05, 0.6] ; reçu 0.7.",
        ),
    ],
    ids=["interval-margin", "missing-parameter", "crm-skeleton", "interval-target"],
)
def test_the_plan_form_words_the_design_engines_refusal_beside_its_field(
    esc_cohort, client_for, changes, field, english, french
):
    """422, the refusal next to the setting it names, in English without a language choice and
    in French with it; nothing is saved."""
    from form_markup import form_html
    from oncotrials.apps.dosing.models import EscalationPlan

    client = client_for("investigator")
    for language, text, other in ((False, english, french), (True, french, english)):
        r = _post_plan(client, esc_cohort, language, **changes)
        assert r.status_code == 422
        errors = r.context["form"].errors
        assert errors.get(field) == [text], errors
        form = form_html(r.content.decode(), "plan-form")
        assert f'href="#id_{field}"' in form  # the error summary links to the field
        tag = re.search(rf'<(?:input|select|textarea)[^>]*id="id_{field}"[^>]*>', form)
        assert tag is not None
        assert 'aria-invalid="true"' in tag.group(0)
        assert f'id="id_{field}-error"' in form
        assert other not in form
    assert not EscalationPlan.objects.filter(cohort=esc_cohort).exists()


def test_the_plan_forms_parameter_help_reads_in_french(esc_cohort, client_for):
    client = client_for("investigator")
    url = f"/cohorts/{esc_cohort.pk}/escalation/plan/"
    assert "prior DLT guesses per dose level" in client.get(url).content.decode()
    client.cookies["django_language"] = "fr"
    page = client.get(url).content.decode()
    assert "probabilités de DLT a priori par palier de dose" in page
    assert "prior DLT guesses" not in page


def _corrupt_target(plan, target: str) -> None:
    """A plan saved under an older rule that the engine now refuses (written past the service,
    as a migration of old data would)."""
    from decimal import Decimal

    from oncotrials.apps.dosing.models import EscalationPlan

    EscalationPlan.objects.filter(pk=plan.pk).update(target=Decimal(target))


def test_the_api_answers_the_engines_refusal_in_french(esc_cohort, client_for, unit):
    """A time-to-event design refuses to decide on a plan it cannot run: the API answers 422
    with the engine's code, worded in the caller's language."""
    plan = plan_create(
        cohort=esc_cohort,
        design="tite-boin",
        target=0.3,
        parameters={"dlt_window_days": 28},
        start_level=esc_cohort.dose_levels.get(level=1),
        by=unit.users["admin"],
    )
    _corrupt_target(plan, "0.9")
    client = client_for("investigator")
    url = f"/api/v1/cohorts/{esc_cohort.pk}/escalation"
    english = client.get(url)
    assert english.status_code == 422
    assert english.json()["code"] == "design_interval_target"
    assert english.json()["message"] == (
        "The target DLT rate of BOIN must lie in [0.05, 0.6]; got 0.9."
    )
    client.cookies["django_language"] = "fr"
    french = client.get(url)
    assert french.status_code == 422
    assert french.json()["code"] == "design_interval_target"
    assert french.json()["message"] == (
        "Le taux de DLT cible de BOIN doit être compris dans [0.05, 0.6] ; reçu 0.9."
    )
    assert french.json()["extra"]["field"] == "target"


def test_a_recommendation_the_engine_refuses_says_why_in_french(esc_cohort, client_for, unit):
    """A rule-based design that cannot decide gives no recommendation; the API and the page say
    why, in the caller's language, and the committee still decides."""
    plan = plan_create(
        cohort=esc_cohort,
        design="boin",
        target=0.3,
        start_level=esc_cohort.dose_levels.get(level=1),
        by=unit.users["admin"],
    )
    _corrupt_target(plan, "0.9")
    client = client_for("investigator")
    url = f"/api/v1/cohorts/{esc_cohort.pk}/escalation"
    english = client.get(url).json()["recommendation"]
    assert english["action"] == "suspend"
    assert english["reason"] == (
        "The design cannot recommend on these counts: The target DLT rate of BOIN must lie in "
        "[0.05, 0.6]; got 0.9. The committee decides, with its reason."
    )
    assert english["rule"] == "no design rule for these counts"
    client.cookies["django_language"] = "fr"
    french = client.get(url).json()["recommendation"]
    assert french["action"] == "suspend"
    assert french["reason"] == (
        "Le schéma ne peut pas recommander sur ces effectifs : Le taux de DLT cible de BOIN doit "
        "être compris dans [0.05, 0.6] ; reçu 0.9. Le comité décide, avec sa justification."
    )
    assert french["rule"] == "pas de règle du schéma pour ces effectifs"
    page = client.get(f"/cohorts/{esc_cohort.pk}/escalation/").content.decode()
    assert "Le taux de DLT cible de BOIN doit être compris dans [0.05, 0.6]" in page
    assert "cannot recommend" not in page


def test_a_decision_signed_in_french_keeps_the_designs_reason_in_english(journey):
    """The page words the reason and the rule for its reader; the signed record keeps the
    engine's words."""
    from oncotrials.apps.dosing.services import escalation_decide, escalation_recommend

    investigator = journey.unit.users["investigator"]
    plan = plan_create(
        cohort=journey.cohort, design="3+3", start_level=journey.dose_level, by=investigator
    )
    with translation.override("fr"):
        _state, shown = escalation_recommend(plan=plan)
        decision = escalation_decide(
            plan=plan,
            action="stay",
            next_dose_level=journey.dose_level,
            by=investigator,
            password="a-long-test-password-42",
            meaning="SRC",
        )
    assert shown.reason == "Aucun patient à ce jour à la DL1 ; y traiter 3 patients."
    assert decision.recommended_reason == "No patient yet at DL1; treat 3 there."
    assert shown.rule == "n=0 : traiter 3 patients"
    assert decision.rule == "n=0: treat 3"


@pytest.mark.parametrize(
    ("refuse", "english", "french"),
    [
        (
            lambda: basket_monitoring({"A": (4, 3)}, nmax=10, p0=0.2, theta_t=0.9, theta_l=0.05),
            "Cohort 'A': x=4 responses exceed the n=3 patients observed.",
            "Cohorte 'A' : x=4 réponses dépassent les n=3 patients observés.",
        ),
        (
            lambda: parse_scenarios({"scenarios": [{"truth": []}]}, source="s.yaml"),
            "s.yaml: scenarios[0]: truth must be a non-empty list of DLT probabilities, one per "
            "dose; got [].",
            "s.yaml: scenarios[0] : truth doit être une liste non vide de probabilités de DLT, "
            "une par dose ; reçu [].",
        ),
    ],
    ids=["bayesian-monitoring-cohort", "scenario-file"],
)
def test_a_refusal_wrapping_another_is_worded_through_in_french(refuse, english, french):
    """A refusal that wraps the engine's refusal of one part (a monitored cohort, a scenario of
    a simulation file) is worded in the user's language with the wrapped refusal worded too,
    not left in English inside the French."""
    from oncotrials.apps.dosing.design_messages import design_message
    from oncotrials.core.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        refuse()
    assert caught.value.message == english
    with translation.override("en"):
        assert design_message(caught.value) == english
    with translation.override("fr"):
        assert design_message(caught.value) == french
