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
