"""A trial's participating sites and investigators, edited from the trial's edit page.

Personas (tests/conftest.py): the investigator, the data manager and the nurse are members of
the main site; the partner investigator of the partner site; the outsider of no site.
"""

from __future__ import annotations

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.trials.models import Trial, TrialSite
from oncotrials.apps.trials.services import trial_create, trial_update
from oncotrials.core.errors import ValidationError


def _update(trial: Trial, by, **kwargs):
    trial.refresh_from_db()
    return trial_update(
        trial=trial,
        changes={},
        by=by,
        reason="Amendment 3",
        expected_version=trial.version,
        **kwargs,
    )


def test_a_site_joins_and_the_principal_investigator_is_set_in_one_audited_change(unit):
    trial, admin = unit.trial_main, unit.users["admin"]
    _update(
        trial,
        admin,
        sites=[unit.main, unit.partner],
        principal_investigator=unit.users["investigator"],
        site_investigators={unit.partner.pk: unit.users["partner_investigator"]},
    )
    trial.refresh_from_db()
    assert trial.principal_investigator == unit.users["investigator"]
    rows = {ts.site.code: ts for ts in TrialSite.objects.filter(trial=trial)}
    assert set(rows) == {"main", "partner"}
    assert rows["partner"].principal_investigator == unit.users["partner_investigator"]
    assert rows["main"].is_lead
    assert not rows["partner"].is_lead
    event = AuditEvent.objects.filter(object_type="trials.trial", object_id=str(trial.pk)).last()
    assert event.reason == "Amendment 3"
    assert event.changes["sites"] == [["main"], ["main", "partner"]]
    assert event.changes["principal_investigator_id"] == [None, unit.users["investigator"].pk]
    assert event.changes["site_investigators"] == [{}, {"partner": "partner_investigator"}]


def test_only_a_member_of_a_participating_site_can_be_principal_investigator(unit):
    trial, admin = unit.trial_main, unit.users["admin"]
    version = Trial.objects.get(pk=trial.pk).version
    with pytest.raises(ValidationError) as exc:
        _update(trial, admin, principal_investigator=unit.users["outsider"])
    assert exc.value.extra["field"] == "principal_investigator"
    assert "outsider has no membership" in exc.value.message
    # the partner investigator is a member of the partner site only: not a PI of T-MAIN (main)
    with pytest.raises(ValidationError):
        _update(trial, admin, principal_investigator=unit.users["partner_investigator"])
    trial.refresh_from_db()
    assert trial.principal_investigator is None
    assert trial.version == version


def test_a_site_investigator_must_be_a_member_of_that_site(unit):
    trial, admin = unit.trial_shared, unit.users["admin"]
    with pytest.raises(ValidationError) as exc:
        _update(trial, admin, site_investigators={unit.main.pk: unit.users["partner_investigator"]})
    assert exc.value.extra["field"] == f"site_pi_{unit.main.pk}"
    assert not TrialSite.objects.filter(trial=trial, principal_investigator__isnull=False).exists()


def test_a_trial_is_created_with_its_principal_investigator(unit):
    trial = trial_create(
        data={
            "protocol_code": "T-PI",
            "title": "With a PI",
            "sponsor": "S",
            "sponsor_type": "academic",
            "phase": "II",
            "modality": "drug",
        },
        sites=[unit.main],
        principal_investigator=unit.users["investigator"],
        site_investigators={unit.main.pk: unit.users["investigator"]},
        by=unit.users["admin"],
    )
    assert trial.principal_investigator == unit.users["investigator"]
    assert TrialSite.objects.get(trial=trial).principal_investigator == unit.users["investigator"]
    with pytest.raises(ValidationError):
        trial_create(
            data={
                "protocol_code": "T-PI2",
                "title": "Bad PI",
                "sponsor": "S",
                "sponsor_type": "academic",
                "phase": "II",
                "modality": "drug",
            },
            sites=[unit.main],
            principal_investigator=unit.users["outsider"],
            by=unit.users["admin"],
        )
    assert not Trial.objects.filter(protocol_code="T-PI2").exists()


def test_a_site_with_registrations_cannot_leave_the_trial(enrol, journey):
    enrol(1, site="partner")
    unit = journey.unit
    trial = journey.cohort.trial
    with pytest.raises(ValidationError) as exc:
        _update(trial, unit.users["admin"], sites=[unit.main])
    assert exc.value.extra["field"] == "sites"
    assert "partner cannot leave T-SHARED: it holds 1 registrations" in exc.value.message
    assert TrialSite.objects.filter(trial=trial, site=unit.partner).exists()
    # the main site holds no registration yet: it may leave
    _update(trial, unit.users["admin"], sites=[unit.partner])
    assert [ts.site.code for ts in TrialSite.objects.filter(trial=trial)] == ["partner"]
    assert TrialSite.objects.get(trial=trial).is_lead


# --- the edit page ------------------------------------------------------------------------------


def _post(trial: Trial, **extra):
    trial.refresh_from_db()
    return {
        "protocol_code": trial.protocol_code,
        "title": trial.title,
        "sponsor": trial.sponsor,
        "sponsor_type": trial.sponsor_type,
        "phase": trial.phase,
        "modality": trial.modality,
        "tumour_types": ", ".join(trial.tumour_types),
        "targets": ", ".join(trial.targets),
        "expected_version": trial.version,
        "reason": "Amendment 3",
        "sites": [ts.site_id for ts in trial.trial_sites.all()],
        **extra,
    }


def test_the_edit_page_adds_a_site_and_sets_the_investigators(unit, client_for):
    trial = unit.trial_main
    client = client_for("admin")
    page = client.get(f"/trials/{trial.pk}/edit/").content.decode()
    assert 'name="principal_investigator"' in page
    assert 'name="sites"' in page
    r = client.post(
        f"/trials/{trial.pk}/edit/",
        _post(
            trial,
            sites=[unit.main.pk, unit.partner.pk],
            principal_investigator=unit.users["investigator"].pk,
            **{f"site_pi_{unit.partner.pk}": unit.users["partner_investigator"].pk},
        ),
    )
    assert r.status_code == 302, r.context["form"].errors
    page = client.get(f"/trials/{trial.pk}/").content.decode()
    assert 'data-testid="trial-pi">investigator<' in page
    assert "Partner centre · PI: partner_investigator" in page


def test_the_edit_page_shows_why_a_site_cannot_leave_or_a_user_cannot_be_pi(enrol, journey):
    from django.test import Client

    enrol(1, site="partner")
    unit, trial = journey.unit, journey.cohort.trial
    client = Client()
    client.force_login(unit.users["admin"], backend="django.contrib.auth.backends.ModelBackend")
    r = client.post(f"/trials/{trial.pk}/edit/", _post(trial, sites=[unit.main.pk]))
    assert r.status_code == 422
    assert "partner cannot leave T-SHARED" in " ".join(r.context["form"].errors["sites"])
    page = r.content.decode()
    assert 'data-testid="error-summary"' in page
    assert 'aria-invalid="true"' in page
    # a PI offered only among members of the sites: anyone else is refused by the form
    r = client.post(
        f"/trials/{trial.pk}/edit/",
        _post(trial, principal_investigator=unit.users["outsider"].pk),
    )
    assert "principal_investigator" in r.context["form"].errors
    assert TrialSite.objects.filter(trial=trial).count() == 2
