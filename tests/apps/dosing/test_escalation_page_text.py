"""The escalation page speaks the trial's language: levels by their labels, doses as written,
and in French for a French user."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from oncotrials.apps.dosing.services import plan_create
from oncotrials.apps.subjects.services import patient_create, registration_create
from oncotrials.apps.trials.services import dose_level_create
from oncotrials.core.designs.base import with_dose_labels


def _three_without_dlt(journey, level, screen, monkeypatch):
    """Three patients at ``level`` whose DLT window then closes without a DLT case (the DLT
    review, the one record of DLTs, then counts them evaluable without a DLT)."""
    nurse = journey.unit.users["nurse"]
    for n in range(3):
        p = patient_create(
            site=journey.unit.main,
            by=nurse,
            family_name=f"P{n}",
            given_name="X",
            birth_date=dt.date(1960, 1, 1),
            hospital_number=f"E-{n}",
            sex="F",
            referral_source="department",
            referral_date=dt.date(2026, 10, 1),
        )
        screen(journey, p, nurse)
        reg = registration_create(
            patient=p,
            cohort=journey.cohort,
            dose_level=level,
            registered_on=dt.date(2026, 11, 12),
            by=nurse,
        )
        assert reg.dose_level == level
    after_the_window = dt.date(2026, 12, 20)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: after_the_window)


@pytest.fixture
def from_dl0(journey):
    """Levels DL0 (25 mg), DL1 (50 mg, the journey's), DL2 (160 mg) and DL3 (0.5 g)."""
    admin = journey.unit.users["admin"]
    make = {"cohort": journey.cohort, "agent": "Drug B", "by": admin}
    dl0 = dose_level_create(level=0, dose="25", unit="mg", **make)
    dl2 = dose_level_create(level=2, dose="160", unit="mg", **make)
    dl3 = dose_level_create(level=3, dose="0.50", unit="g", **make)
    return journey, [dl0, journey.dose_level, dl2, dl3]


def test_design_dose_numbers_become_the_trials_labels():
    labels = ["DL-1", "DL0", "DL1"]
    assert with_dose_labels("escalate to dose 2", labels) == "escalate to DL0"
    assert (
        with_dose_labels("dose 3 and higher doses; dose 4", labels)
        == "DL1 and higher doses; dose 4"
    )


def test_the_recommendation_names_the_level_label_and_doses_read_as_written(
    from_dl0, screen, client_for, monkeypatch
):
    journey, levels = from_dl0
    investigator = journey.unit.users["investigator"]
    plan_create(cohort=journey.cohort, design="3+3", start_level=levels[0], by=investigator)
    _three_without_dlt(journey, levels[0], screen, monkeypatch)
    page = client_for("investigator").get(f"/cohorts/{journey.cohort.pk}/escalation/")
    text = page.content.decode()
    recommendation = text.split('data-testid="recommendation"', 1)[1].split("</section>", 1)[0]
    assert "→ DL1" in recommendation
    assert "dose 2" not in recommendation
    assert "DL1" in recommendation.split("</h2>", 1)[1].split("<form", 1)[0]
    state = text.split('data-testid="escalation-state"', 1)[1].split("</table>", 1)[0]
    for dose in ("25 mg", "50 mg", "160 mg", "0.5 g"):
        assert f"<td>{dose}</td>" in state
    assert "E+" not in text


def test_the_escalation_page_is_in_french(from_dl0, screen, client_for, monkeypatch):
    journey, levels = from_dl0
    investigator = journey.unit.users["investigator"]
    plan_create(cohort=journey.cohort, design="3+3", start_level=levels[0], by=investigator)
    _three_without_dlt(journey, levels[0], screen, monkeypatch)
    c = client_for("investigator")
    c.cookies["django_language"] = "fr"
    text = c.get(f"/cohorts/{journey.cohort.pk}/escalation/").content.decode()
    assert '<html lang="fr"' in text
    assert "Le schéma recommande : augmenter la dose → DL1" in text
    for english in ("The design recommends", "Committee decision", ">escalate<", ">stay<"):
        assert english not in text


def test_the_escalation_plot_has_its_patient_sequence_as_a_table_and_french_axes(
    from_dl0, screen, client_for, monkeypatch
):
    journey, levels = from_dl0
    investigator = journey.unit.users["investigator"]
    plan_create(cohort=journey.cohort, design="3+3", start_level=levels[0], by=investigator)
    _three_without_dlt(journey, levels[0], screen, monkeypatch)
    c = client_for("investigator")
    text = c.get(f"/cohorts/{journey.cohort.pk}/escalation/").content.decode()
    table = text.split('data-testid="escalation-sequence"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tbody>", 1)[1].split("</tr>")[:-1]
    assert len(rows) == 3
    assert '<td class="num">1</td><td>2026-11-12</td><td>DL0</td><td>no DLT</td>' in rows[0]
    assert "3 patients in order of registration" in text
    c.cookies["django_language"] = "fr"
    svg = c.get(f"/cohorts/{journey.cohort.pk}/escalation/plot.svg").content.decode()
    assert "viewBox" in svg
    assert "Patient (ordre d" in svg
    assert "pas de DLT" in svg
    assert "order of registration" not in svg
    page = c.get(f"/cohorts/{journey.cohort.pk}/escalation/").content.decode()
    assert "Données du graphique" in page
    assert "<td>pas de DLT</td>" in page


def test_the_recommendations_reason_reads_in_french_with_the_trials_labels(
    from_dl0, screen, client_for, monkeypatch
):
    """The design explains its decision by a code and its values: the page words it in the
    reader's language, the doses named by the trial's labels; the API does the same."""
    journey, levels = from_dl0
    investigator = journey.unit.users["investigator"]
    plan_create(cohort=journey.cohort, design="3+3", start_level=levels[0], by=investigator)
    _three_without_dlt(journey, levels[0], screen, monkeypatch)
    c = client_for("investigator")
    english = c.get(f"/cohorts/{journey.cohort.pk}/escalation/").content.decode()
    assert "0/3 DLTs at DL0: escalate to DL1." in english
    api = f"/api/v1/cohorts/{journey.cohort.pk}/escalation"
    assert c.get(api).json()["recommendation"]["reason"] == "0/3 DLTs at DL0: escalate to DL1."
    c.cookies["django_language"] = "fr"
    french = c.get(f"/cohorts/{journey.cohort.pk}/escalation/").content.decode()
    recommendation = french.split('data-testid="recommendation"', 1)[1].split("</section>", 1)[0]
    assert "<p>0/3 DLT à la DL0 : escalader à la DL1.</p>" in recommendation
    assert "escalate to" not in recommendation
    assert c.get(api).json()["recommendation"]["reason"] == (
        "0/3 DLT à la DL0 : escalader à la DL1."
    )


def test_an_interval_designs_reason_is_worded_from_its_parts():
    """BOIN's "stay" explained in French: the action part is an explanation of its own."""
    from django.utils.translation import override

    from oncotrials.apps.dosing.design_messages import decision_reason
    from oncotrials.core.designs import BOIN

    decision = BOIN(0.3, cohort_size=3, n_cohorts=10).decide([(3, 0), (3, 1), (0, 0)], 1)
    assert decision.reason == "1/3 DLTs at dose 2: stay at dose 2."
    assert decision_reason(decision) == decision.reason
    with override("fr"):
        assert decision_reason(decision) == "1/3 DLT à la dose 2 : rester à la dose 2."


def test_a_model_designs_reason_reads_in_french_with_its_estimates():
    from django.utils.translation import override

    from oncotrials.apps.dosing.design_messages import decision_reason
    from oncotrials.core.designs import CRM

    crm = CRM([0.05, 0.12, 0.25, 0.4], target=0.25)
    decision = crm.decide([(3, 0), (0, 0), (0, 0), (0, 0)], 0)
    assert decision.reason.startswith("Posterior mean of beta ")
    with override("fr"):
        french = decision_reason(decision)
    assert french.startswith("Moyenne a posteriori de beta ")
    estimates = decision.reason.split("[", 1)[1].split("]", 1)[0]
    assert f"probabilités de DLT estimées [{estimates}] pour la cible 0.25." in french


def test_the_rule_that_decided_reads_in_french_with_the_trials_labels(
    from_dl0, screen, client_for, monkeypatch
):
    """The rule line of the recommendation is worded from the design's rule code, in the
    reader's language, the doses named by the trial's labels; the engine's English stays the
    English of the page (and of the signed record)."""
    journey, levels = from_dl0
    investigator = journey.unit.users["investigator"]
    plan_create(cohort=journey.cohort, design="3+3", start_level=levels[0], by=investigator)
    _three_without_dlt(journey, levels[0], screen, monkeypatch)
    c = client_for("investigator")
    url = f"/cohorts/{journey.cohort.pk}/escalation/"
    english = c.get(url).content.decode()
    assert '<p class="muted" data-testid="rule">Rule: 0/3 at DL0: 0/3</p>' in english
    c.cookies["django_language"] = "fr"
    french = c.get(url).content.decode()
    assert '<p class="muted" data-testid="rule">Règle: 0/3 à la DL0 : 0/3</p>' in french
    api = f"/api/v1/cohorts/{journey.cohort.pk}/escalation"
    assert c.get(api).json()["recommendation"]["rule"] == "0/3 à la DL0 : 0/3"


def test_the_mtd_selection_of_a_finished_escalation_reads_in_french(
    from_dl0, screen, client_for, monkeypatch
):
    """When the design stops the trial, the page says why its isotonic selection chose the
    MTD, in the reader's language and with the trial's labels, beside the French rule line."""
    journey, levels = from_dl0
    investigator = journey.unit.users["investigator"]
    plan_create(
        cohort=journey.cohort,
        design="boin",
        start_level=levels[0],
        by=investigator,
        target=0.3,
        max_sample_size=3,
    )
    _three_without_dlt(journey, levels[0], screen, monkeypatch)
    c = client_for("investigator")
    url = f"/cohorts/{journey.cohort.pk}/escalation/"
    english = c.get(url).content.decode()
    assert (
        '<p data-testid="mtd-selection">MTD selection: DL0: isotonic estimate closest to the '
        "target 0.3</p>"
    ) in english
    c.cookies["django_language"] = "fr"
    french = c.get(url).content.decode()
    recommendation = french.split('data-testid="recommendation"', 1)[1].split("</section>", 1)[0]
    assert (
        '<p data-testid="mtd-selection">Sélection de la DMT: DL0 : estimation isotonique la '
        "plus proche de la cible 0.3</p>"
    ) in recommendation
    assert (
        "Règle: n=3 ; escalader si DLT &lt;= 0 ; désescalader si DLT &gt;= 2 ; éliminer si "
        "DLT &gt;= 3 ; observé 0 -&gt; E</p>"
    ) in recommendation
    assert "isotonic" not in recommendation
    assert "escalate if" not in recommendation


def test_the_mtd_selection_and_the_rules_are_worded_from_their_codes():
    """Every way the engine explains a rule or a selection reads in French; the English
    wording is the engine's text word for word."""
    from django.utils.translation import override

    from oncotrials.apps.dosing.design_messages import (
        decision_rule,
        selection_reason,
    )
    from oncotrials.core.designs import BOIN, CRM, EWOC, TITEBOIN
    from oncotrials.core.designs.base import DoseData

    boin = BOIN(0.3, cohort_size=3, n_cohorts=10)
    decision = boin.decide([(3, 0), (3, 1), (0, 0)], 1)
    assert decision_rule(decision) == decision.rule
    with override("fr"):
        assert decision_rule(decision) == (
            "n=3 ; escalader si DLT <= 0 ; désescalader si DLT >= 2 ; éliminer si DLT >= 3 ; "
            "observé 1 -> S"
        )
    for data, french in (
        ([(3, 3), (0, 0), (0, 0)], "aucune dose retenue : la dose la plus faible est trop toxique"),
        ([(0, 0), (0, 0), (0, 0)], "aucune dose retenue : aucun patient n’a été traité"),
    ):
        selection = boin.select_mtd(data)
        assert selection_reason(selection) == selection.reason
        with override("fr"):
            assert selection_reason(selection) == french
    crm = CRM([0.05, 0.12, 0.25, 0.4], target=0.25)
    decision = crm.decide([(3, 0), (0, 0), (0, 0), (0, 0)], 0)
    assert decision.rule.endswith("; no skipping: at most one level up")
    with override("fr"):
        assert decision_rule(decision).startswith("le modèle recommande la dose 4 (estimation ")
        assert decision_rule(decision).endswith(" ; pas de saut : au plus un niveau au-dessus")
    tite = TITEBOIN(0.3, cohort_size=3, n_cohorts=10)
    pending = DoseData(3, 0, pending=1, follow_up=(0.5,))
    decision = tite.decide([pending, DoseData(0, 0), DoseData(0, 0)], 0)
    assert decision.rule == (
        "ESS=2.5, p_hat=0.000; escalate if p_hat <= 0.2365, de-escalate if p_hat >= 0.3585"
    )
    with override("fr"):
        assert decision_rule(decision) == (
            "ESS=2.5, p_hat=0.000 ; escalader si p_hat <= 0.2365, désescalader si p_hat >= 0.3585"
        )
    decision = EWOC(doses=[10, 20, 40], target=0.3).decide([(3, 0), (0, 0), (0, 0)], 0)
    assert decision.rule == "0.25-quantile of the MTD = 17.5 -> dose 1"
    with override("fr"):
        assert decision_rule(decision) == "quantile 0.25 de la DMT = 17.5 -> dose 1"


# 12 measured: session, user, scope, time zone, the plan, its levels, the registrations, their
# DLT cases, plan and rules, the trial's sites and the decisions, whatever the patients.
ESCALATION_PAGE_BUDGET = 12


@pytest.mark.parametrize("patients", [0, 3])
def test_the_escalation_page_reads_each_thing_once(
    from_dl0, screen, client_for, monkeypatch, django_assert_max_num_queries, patients
):
    journey, levels = from_dl0
    investigator = journey.unit.users["investigator"]
    plan_create(cohort=journey.cohort, design="3+3", start_level=levels[0], by=investigator)
    if patients:
        _three_without_dlt(journey, levels[0], screen, monkeypatch)
    c = client_for("investigator")
    url = f"/cohorts/{journey.cohort.pk}/escalation/"
    c.get(url)
    with django_assert_max_num_queries(ESCALATION_PAGE_BUDGET):
        page = c.get(url).content.decode()
    assert 'data-testid="recommendation"' in page
    assert page.count("<option") >= len(levels)
