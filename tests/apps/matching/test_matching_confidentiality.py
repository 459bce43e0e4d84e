"""Matching explanations never tell a user the therapies recorded in a trial they may not see.

A patient is matched on every prior therapy (eligibility must account for them all), agents
administered in any of their trials included. The decision stays the same for every viewer; the
explanation masks the detail (the agent "received") when the only record of it is in a trial the
viewer may not see, or in a blinded trial whose arm the viewer may not know.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from matching_helpers import precision_unit

MASK = "a prior therapy recorded in a trial you may not see"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    from oncotrials.apps.matching.engine import reset_matching_cache

    reset_matching_cache()
    yield
    reset_matching_cache()


def _register(patient: Any, trial: Any, by: Any, agent: str | None) -> Any:
    from django.utils import timezone

    from oncotrials.apps.crfs.models import DrugAdministration
    from oncotrials.apps.subjects.models import Registration
    from oncotrials.apps.trials.services import cohort_create

    cohort = trial.cohorts.first() or cohort_create(
        trial=trial, code="ARM-A", name="Arm A", kind="randomised_arm", by=by
    )
    reg = Registration.objects.create(
        patient=patient,
        trial=trial,
        cohort=cohort,
        registered_on=dt.date(2026, 10, 1),
        registered_by=by,
        status="on_treatment",
        status_date=dt.date(2026, 10, 2),
    )
    if agent:
        now = timezone.now()
        DrugAdministration.objects.create(
            registration=reg,
            agent=agent,
            dose=100,
            unit="mg",
            administered_on=dt.date(2026, 10, 3),
            created_at=now,
            created_by=by,
            updated_at=now,
            updated_by=by,
        )
    return reg


@pytest.fixture
def leak(unit: Any, tmp_path: Any) -> Any:
    """The KRAS patient is registered in T-MAIN (visible to a CRA limited to it) and received
    DrugX in T-OTHER (not visible to that CRA). T-MAIN has a cohort for patients naive to
    DrugX and one for patients pre-treated with it."""
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.matching.criteria import match_criteria_set
    from oncotrials.apps.trials.services import cohort_create

    p = precision_unit(unit, tmp_path)
    admin = unit.users["admin"]
    for code, crit in (
        ("NAIVE", {"not": {"prior_therapy": "drugx"}}),
        ("PRETREATED", {"prior_therapy": "drugx"}),
    ):
        cohort = cohort_create(trial=p.trial, code=code, name=code.title(), kind="basket", by=admin)
        p.trial.refresh_from_db()
        match_criteria_set(
            trial=p.trial,
            cohort_id=cohort.pk,
            criteria=crit,
            by=admin,
            reason="protocol v2",
            expected_version=p.trial.version,
        )
    _register(p.kras_patient, p.trial, admin, None)
    cra = user_create(username="cra_main", password="pw-Secret-123!")
    membership_grant(user=cra, role=Role.CRA, site=unit.main, trial=p.trial)
    unit.users["cra_main"] = cra
    p.trial.refresh_from_db()
    return p


def _outputs(c: Any, p: Any) -> dict[str, str]:
    """Every matching output a user may read about the patient and the trial."""
    pid, tid = p.kras_patient.pk, p.trial.pk
    out = {
        "patient api": c.get(f"/api/v1/matching/patients/{pid}?all_levels=true"),
        "trial api": c.get(f"/api/v1/matching/trials/{tid}"),
        "run api": c.post("/api/v1/matching/runs"),
        "patient panel": c.get(f"/patients/{pid}/matching/?all=1"),
        "trial panel": c.get(f"/trials/{tid}/matching/"),
    }
    for name, r in out.items():
        assert r.status_code == 200, (name, r.status_code)
    return {name: r.content.decode() for name, r in out.items()}


def _levels(c: Any, p: Any) -> dict[str, Any]:
    r = c.get(f"/api/v1/matching/patients/{p.kras_patient.pk}?all_levels=true")
    return {m["level_path"]: m for m in r.json()}


def test_a_trial_limited_role_is_not_told_another_trials_therapy(
    leak: Any, unit: Any, client_for: Any
) -> None:
    _register(leak.kras_patient, unit.trial_other, unit.users["admin"], "DrugX")
    cra = client_for("cra_main")
    for name, text in _outputs(cra, leak).items():
        assert "received" not in text, name
        assert "T-OTHER" not in text, name
        assert MASK in text, name
    # the decision is the same as for a user who sees every trial
    seen_by_cra, seen_by_inv = _levels(cra, leak), _levels(client_for("investigator"), leak)
    for code in ("NAIVE", "PRETREATED"):
        assert seen_by_cra[code]["matched"] == seen_by_inv[code]["matched"]
    assert seen_by_cra["NAIVE"]["matched"] is False
    assert seen_by_cra["PRETREATED"]["matched"] is True
    assert seen_by_cra["NAIVE"]["why_not"] == f"no prior drugx: not met ({MASK})"
    # the investigator sees T-OTHER: the reason is told in full
    assert seen_by_inv["NAIVE"]["why_not"] == "no prior drugx: not met (received)"
    assert json.dumps(seen_by_inv).count(MASK) == 0


def test_a_therapy_recorded_where_the_user_sees_it_is_told(
    leak: Any, unit: Any, client_for: Any
) -> None:
    """The same agent given in the visible trial too: nothing to mask."""
    from oncotrials.apps.crfs.models import DrugAdministration

    _register(leak.kras_patient, unit.trial_other, unit.users["admin"], "DrugX")
    visible = leak.kras_patient.registrations.get(trial=leak.trial)
    other = DrugAdministration.objects.get(agent="DrugX")
    other.pk = None
    other.registration = visible
    other.save()
    levels = _levels(client_for("cra_main"), leak)
    assert levels["NAIVE"]["why_not"] == "no prior drugx: not met (received)"


def test_a_blinded_trials_agent_is_masked_for_who_may_not_unblind(
    leak: Any, unit: Any, client_for: Any
) -> None:
    from oncotrials.apps.subjects.models import RandomisationScheme

    shared = unit.trial_shared
    RandomisationScheme.objects.create(
        trial=shared, method="simple", arms={"ARM-A": 1}, blinded=True
    )
    _register(leak.kras_patient, shared, unit.users["admin"], "DrugX")
    # the investigator sees T-SHARED but may not know the arm: the agent would tell it
    inv = client_for("investigator")
    for name, text in _outputs(inv, leak).items():
        assert "received" not in text, name
        assert MASK in text, name
    # an administrator may unblind: told in full; the decision is the same
    seen_by_admin, seen_by_inv = _levels(client_for("admin"), leak), _levels(inv, leak)
    assert seen_by_admin["NAIVE"]["why_not"] == "no prior drugx: not met (received)"
    assert seen_by_inv["NAIVE"]["why_not"] == f"no prior drugx: not met ({MASK})"
    for code in ("NAIVE", "PRETREATED"):
        assert seen_by_admin[code]["matched"] == seen_by_inv[code]["matched"]


def test_the_mask_is_in_french_for_a_french_reader(leak: Any, unit: Any, client_for: Any) -> None:
    _register(leak.kras_patient, unit.trial_other, unit.users["admin"], "DrugX")
    c = client_for("cra_main")
    c.cookies["django_language"] = "fr"
    text = c.get(f"/patients/{leak.kras_patient.pk}/matching/?all=1").content.decode()
    assert "received" not in text
    assert MASK not in text
    assert "un essai que vous ne pouvez pas voir" in text


# ------------------------------------------------------------------ ECOG and laboratory values
ECOG_MASK = "an ECOG recorded in a trial you may not see"
ECOG_BASELINE_MASK = "an ECOG recorded at referral or screening, which you may not see"
LAB_MASK = "a neutrophils value recorded in a trial you may not see"
LAB_BASELINE_MASK = "a neutrophils value recorded at referral or screening, which you may not see"


@pytest.fixture
def values_leak(leak: Any, unit: Any) -> Any:
    """T-MAIN gains cohorts for fit and unfit patients (ECOG <= 1, not so) and for patients with
    enough neutrophils and too few; a molecular biologist of the main site (who matches, but is no clinical staff)
    joins the personas."""
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.matching.criteria import match_criteria_set
    from oncotrials.apps.trials.services import cohort_create

    admin = unit.users["admin"]
    for code, crit in (
        ("FIT", {"ecog": {"lte": 1}}),
        ("ANC", {"lab": {"name": "neutrophils", "gte": 1.5}}),
        ("NOTFIT", {"not": {"ecog": {"lte": 1}}}),
        ("LOWANC", {"lab": {"name": "neutrophils", "lt": 1.5}}),
        ("LINES", {"prior_lines": {"lte": 2}}),
    ):
        cohort = cohort_create(
            trial=leak.trial, code=code, name=code.title(), kind="basket", by=admin
        )
        leak.trial.refresh_from_db()
        match_criteria_set(
            trial=leak.trial,
            cohort_id=cohort.pk,
            criteria=crit,
            by=admin,
            reason="protocol v3",
            expected_version=leak.trial.version,
        )
    biologist = user_create(username="biologist", password="pw-Secret-123!")
    membership_grant(user=biologist, role=Role.MOLECULAR_BIOLOGIST, site=unit.main)
    unit.users["biologist"] = biologist
    leak.trial.refresh_from_db()
    return leak


def _ecog_in(reg: Any, value: int, by: Any) -> None:
    from django.utils import timezone

    from oncotrials.apps.crfs.models import FormInstance

    now = timezone.now()
    FormInstance.objects.create(
        registration=reg,
        visit_code="C1D1",
        form_name="ecog",
        data={"performance_status": value, "assessed_on": "2026-10-05"},
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def _neutrophils_in(reg: Any, value: str, by: Any) -> None:
    from decimal import Decimal

    from django.utils import timezone

    from oncotrials.apps.crfs.models import LabResult

    now = timezone.now()
    LabResult.objects.create(
        registration=reg,
        visit_code="C1D1",
        analyte="neutrophils",
        analyte_label="Neutrophils",
        value=Decimal(value),
        unit="10^9/L",
        sampled_on=dt.date(2026, 10, 5),
        grade=3,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def _baseline(patient: Any, by: Any, *, kind: str, value: str, analyte: str = "") -> None:
    from decimal import Decimal

    from django.utils import timezone

    from oncotrials.apps.subjects.models import BaselineObservation

    BaselineObservation.objects.create(
        patient=patient,
        kind=kind,
        observed_on=dt.date(2026, 10, 6),
        analyte=analyte,
        value=Decimal(value),
        unit="10^9/L" if analyte else "",
        recorded_at=timezone.now(),
        recorded_by=by,
    )


def test_ecog_and_labs_of_another_trial_are_masked_for_a_trial_limited_role(
    values_leak: Any, unit: Any, client_for: Any
) -> None:
    admin = unit.users["admin"]
    other = _register(values_leak.kras_patient, unit.trial_other, admin, None)
    _ecog_in(other, 3, admin)
    _neutrophils_in(other, "0.7", admin)
    cra = client_for("cra_main")
    for name, text in _outputs(cra, values_leak).items():
        assert "value 3" not in text, name
        assert "value 0.7" not in text, name
        assert ECOG_MASK in text, name
        assert LAB_MASK in text, name
    seen_by_cra, seen_by_inv = (
        _levels(cra, values_leak),
        _levels(client_for("investigator"), values_leak),
    )
    # the decision is the same for every viewer: eligibility uses every record
    for code in ("FIT", "ANC", "NOTFIT", "LOWANC"):
        assert seen_by_cra[code]["matched"] == seen_by_inv[code]["matched"], code
    assert seen_by_cra["FIT"]["why_not"] == f"ecog <= 1: not met ({ECOG_MASK})"
    assert seen_by_cra["ANC"]["why_not"] == f"neutrophils >= 1.5: not met ({LAB_MASK})"
    assert seen_by_cra["NOTFIT"]["matched"] is True
    assert seen_by_cra["LOWANC"]["matched"] is True
    assert ECOG_MASK in json.dumps(seen_by_cra["NOTFIT"]["explanation"])
    # the investigator sees T-OTHER: told in full
    assert seen_by_inv["FIT"]["why_not"] == "ecog <= 1: not met (value 3)"
    assert seen_by_inv["ANC"]["why_not"] == "neutrophils >= 1.5: not met (value 0.7)"


def test_ecog_and_labs_recorded_where_the_user_sees_them_are_told(
    values_leak: Any, unit: Any, client_for: Any
) -> None:
    """The latest values are in T-MAIN, which the CRA sees: nothing to mask (an older value in
    T-OTHER is not the one matching uses)."""
    admin = unit.users["admin"]
    other = _register(values_leak.kras_patient, unit.trial_other, admin, None)
    _ecog_in(other, 3, admin)
    main = values_leak.kras_patient.registrations.get(trial=values_leak.trial)
    _ecog_in(main, 2, admin)
    _neutrophils_in(main, "0.9", admin)
    levels = _levels(client_for("cra_main"), values_leak)
    assert levels["FIT"]["why_not"] == "ecog <= 1: not met (value 2)"
    assert levels["ANC"]["why_not"] == "neutrophils >= 1.5: not met (value 0.9)"


def test_ecog_and_labs_before_registration_follow_the_patient_pages_right(
    values_leak: Any, unit: Any, client_for: Any
) -> None:
    """Recorded at referral or screening (no trial): told to the clinical staff of the site,
    masked for a molecular biologist and for a trial-limited CRA, as the patient page does."""
    nurse = unit.users["nurse"]
    _baseline(values_leak.kras_patient, nurse, kind="ecog", value="2")
    _baseline(values_leak.kras_patient, nurse, kind="lab", value="0.8", analyte="neutrophils")
    for persona in ("biologist", "cra_main"):
        c = client_for(persona)
        for name, text in _outputs(c, values_leak).items():
            assert "value 2" not in text, (persona, name)
            assert "value 0.8" not in text, (persona, name)
            assert ECOG_BASELINE_MASK in text, (persona, name)
            assert LAB_BASELINE_MASK in text, (persona, name)
        # the patient page agrees: no baseline observations for them
        page = c.get(f"/patients/{values_leak.kras_patient.pk}/").content.decode()
        assert 'data-testid="baseline-observations"' not in page, persona
    levels = _levels(client_for("nurse"), values_leak)
    assert levels["FIT"]["why_not"] == "ecog <= 1: not met (value 2)"
    assert levels["ANC"]["why_not"] == "neutrophils >= 1.5: not met (value 0.8)"
    assert _levels(client_for("biologist"), values_leak)["FIT"]["matched"] is False


def test_the_value_masks_are_in_french(values_leak: Any, unit: Any, client_for: Any) -> None:
    admin = unit.users["admin"]
    other = _register(values_leak.kras_patient, unit.trial_other, admin, None)
    _ecog_in(other, 3, admin)
    _baseline(
        values_leak.kras_patient,
        unit.users["nurse"],
        kind="lab",
        value="0.8",
        analyte="neutrophils",
    )
    c = client_for("cra_main")
    c.cookies["django_language"] = "fr"
    text = c.get(f"/patients/{values_leak.kras_patient.pk}/matching/?all=1").content.decode()
    assert ECOG_MASK not in text
    assert LAB_BASELINE_MASK not in text
    assert "un ECOG enregistré dans un essai que vous ne pouvez pas voir" in text
    assert "une valeur de neutrophils enregistrée" in text


def test_prior_lines_follow_the_patient_pages_right(
    values_leak: Any, unit: Any, client_for: Any
) -> None:
    """A prior line recorded at referral (DrugX in the metastatic setting): its agent and the
    count of lines are told to the clinical staff of the site, masked for a molecular
    biologist, as the patient page shows prior lines to the clinical staff only."""
    from oncotrials.apps.subjects.services import prior_line_record

    prior_line_record(
        patient=values_leak.kras_patient,
        line=1,
        agents="DrugX",
        setting="metastatic",
        started_on=dt.date(2025, 1, 6),
        by=unit.users["nurse"],
    )
    mask = "a prior therapy recorded at referral or screening, which you may not see"
    lines_mask = "prior lines recorded at referral or screening, which you may not see"
    c = client_for("biologist")
    for name, text in _outputs(c, values_leak).items():
        assert "received" not in text, name
        assert mask in text, name
        assert lines_mask in text, name
    seen_by_bio, seen_by_nurse = _levels(c, values_leak), _levels(client_for("nurse"), values_leak)
    for code in ("NAIVE", "PRETREATED", "LINES"):
        assert seen_by_bio[code]["matched"] == seen_by_nurse[code]["matched"], code
    assert seen_by_bio["NAIVE"]["why_not"] == f"no prior drugx: not met ({mask})"
    assert seen_by_nurse["NAIVE"]["why_not"] == "no prior drugx: not met (received)"
    assert "prior_lines <= 2" in json.dumps(seen_by_nurse["LINES"]["explanation"])
    assert "value 1" in json.dumps(seen_by_nurse["LINES"]["explanation"])
    assert "value 1" not in json.dumps(seen_by_bio["LINES"]["explanation"])


# ------------------------------------------------------- genomic results of another trial's biopsy
GENOMIC_MASK = "an alteration found in a specimen from a trial you may not see"
TMB_MASK = "a TMB found in a specimen from a trial you may not see"


@pytest.fixture
def biopsy_leak(unit: Any, tmp_path: Any) -> Any:
    """The patient of ``trial_biopsy`` (in T-MAIN and T-OTHER; KRAS p.Y96D and TMB 23.5 found
    only in the T-OTHER biopsy). T-MAIN, open, has cohorts for Y96D, against Y96D, for G12C
    (found in the baseline too) and for a high TMB."""
    from oncotrials.apps.matching.criteria import match_criteria_set
    from oncotrials.apps.trials.services import cohort_create, trial_change_status
    from trial_biopsy import trial_biopsy

    tb = trial_biopsy(unit, tmp_path)
    admin = unit.users["admin"]
    trial = unit.trial_main
    for status in ("set_up", "open"):
        trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
    for code, crit in (
        ("Y96D", {"genomic": {"gene": "KRAS", "protein_change": "p.Y96D"}}),
        ("NO-Y96D", {"not": {"genomic": {"gene": "KRAS", "protein_change": "p.Y96D"}}}),
        ("BRAF", {"genomic": {"gene": "BRAF"}}),
        ("G12C", {"genomic": {"gene": "KRAS", "protein_change": "p.G12C"}}),
        ("TMB", {"tmb": {"gte": 10}}),
    ):
        trial.refresh_from_db()
        cohort = cohort_create(trial=trial, code=code, name=code, kind="basket", by=admin)
        trial.refresh_from_db()
        match_criteria_set(
            trial=trial,
            cohort_id=cohort.pk,
            criteria=crit,
            by=admin,
            reason="protocol v3",
            expected_version=trial.version,
        )
    trial.refresh_from_db()
    return tb


def _biopsy_outputs(c: Any, tb: Any, trial: Any) -> dict[str, str]:
    pid, tid = tb.patient.pk, trial.pk
    out = {
        "patient api": c.get(f"/api/v1/matching/patients/{pid}?all_levels=true"),
        "trial api": c.get(f"/api/v1/matching/trials/{tid}"),
        "run api": c.post("/api/v1/matching/runs"),
        "patient panel": c.get(f"/patients/{pid}/matching/?all=1"),
        "trial panel": c.get(f"/trials/{tid}/matching/"),
    }
    for name, r in out.items():
        assert r.status_code == 200, (name, r.status_code)
    return {name: r.content.decode() for name, r in out.items()}


@pytest.mark.parametrize("persona", ["investigator_a", "biologist_a"])
def test_an_alteration_of_another_trials_biopsy_is_masked(
    biopsy_leak: Any, unit: Any, client_for: Any, persona: str
) -> None:
    tb = biopsy_leak
    c = client_for(persona)
    for name, text in _biopsy_outputs(c, tb, unit.trial_main).items():
        # the criteria (the trial's own text) name Y96D; no reason says it was found
        assert "found: KRAS p.Y96D" not in text, name
        assert "p.Y96D present" not in text, name
        assert "23.5" not in text, name
        assert GENOMIC_MASK in text, name
    mine = {
        m["level_path"]: m
        for m in c.get(f"/api/v1/matching/patients/{tb.patient.pk}?all_levels=true").json()
    }
    site_wide = {
        m["level_path"]: m
        for m in client_for("investigator")
        .get(f"/api/v1/matching/patients/{tb.patient.pk}?all_levels=true")
        .json()
    }
    # the decision is the same for every viewer
    for code in ("Y96D", "NO-Y96D", "BRAF", "G12C", "TMB"):
        assert mine[code]["matched"] == site_wide[code]["matched"], code
    assert mine["Y96D"]["matched"] is True
    assert mine["NO-Y96D"]["matched"] is False
    assert mine["TMB"]["matched"] is True
    assert mine["NO-Y96D"]["why_not"].endswith(f": not met ({GENOMIC_MASK})")
    (y96d,) = [r for r in mine["Y96D"]["explanation"] if "Y96D" in r["criterion"]]
    assert (y96d["reason"], y96d["evidence"]) == (GENOMIC_MASK, [])
    assert {r["reason"] for r in mine["TMB"]["explanation"]} == {TMB_MASK}
    # what the baseline (seen) also shows is told; counts are those of the reports seen
    (g12c,) = [r for r in mine["G12C"]["explanation"] if "G12C" in r["criterion"]]
    assert g12c["reason"] == "found: KRAS p.G12C"
    assert mine["BRAF"]["why_not"].endswith("(no matching alteration among 1 reported)")
    assert site_wide["BRAF"]["why_not"].endswith("(no matching alteration among 2 reported)")
    # the site-wide investigator is told everything
    assert site_wide["NO-Y96D"]["why_not"].endswith(": not met (KRAS p.Y96D present)")
    assert GENOMIC_MASK not in json.dumps(site_wide)
    assert TMB_MASK not in json.dumps(site_wide)


def test_the_genomic_mask_is_in_french(biopsy_leak: Any, client_for: Any) -> None:
    c = client_for("investigator_a")
    c.cookies["django_language"] = "fr"
    text = c.get(f"/patients/{biopsy_leak.patient.pk}/matching/?all=1").content.decode()
    assert GENOMIC_MASK not in text
    assert "un prélèvement d’un essai que vous ne pouvez pas voir" in text
