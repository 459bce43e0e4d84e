"""Recording through the pages: the same services, the same refusals (nothing saved)."""

from __future__ import annotations

import pytest

from oncotrials.apps.tumours.models import (
    Assessment,
    Lesion,
    TimepointResponse,
    TumourAssessmentSettings,
)


def _baseline_form(**extra):
    form = {
        "date": "2026-11-05",
        "method": "CT",
        "lesion_id_0": "T1",
        "organ_0": "liver",
        "role_0": "target",
        "diameter_0": "30",
        "lesion_id_1": "T2",
        "organ_1": "lung",
        "role_1": "target",
        "diameter_1": "20",
    }
    form.update(extra)
    return form


def test_nurse_records_baseline_and_follow_up_through_the_page(registered, client_for):
    c = registered(1)
    nurse = client_for("nurse")
    url = f"/patients/{c.reg.patient_id}/tumours/"
    assert 'data-testid="baseline-form"' in nurse.get(url).content.decode()
    r = nurse.post(f"/registrations/{c.reg.pk}/tumour-baseline/", _baseline_form())
    assert r.status_code == 302
    assert set(Lesion.objects.values_list("lesion_id", flat=True)) == {"T1", "T2"}
    r = nurse.post(
        f"/registrations/{c.reg.pk}/tumour-assessments/",
        {
            "date": "2027-01-08",
            "method": "CT",
            "complete": "on",
            "diameter_T1": "20",
            "diameter_T2": "15",
        },
        follow=True,
    )
    page = r.content.decode()
    assert "Table 1 row 4" in page  # 50 → 35 mm: PR (Eisenhauer 2009, Table 1 row 4)
    assert TimepointResponse.objects.get().overall == "PR"


def test_a_refused_page_entry_says_why_and_saves_nothing(registered, client_for):
    c = registered(1)
    nurse = client_for("nurse")
    nurse.post(f"/registrations/{c.reg.pk}/tumour-baseline/", _baseline_form())
    r = nurse.post(
        f"/registrations/{c.reg.pk}/tumour-assessments/",
        {"date": "2027-01-08", "complete": "on", "diameter_T1": "-3", "diameter_T2": "15"},
        follow=True,
    )
    page = r.content.decode()
    assert "Nothing was saved" in page
    assert "lesion T1, field measurements[0].diameter_mm: -3 is negative" in page
    assert Assessment.objects.filter(kind="follow_up").count() == 0
    r = nurse.post(
        f"/registrations/{c.reg.pk}/tumour-assessments/", {"date": "someday"}, follow=True
    )
    assert "is not a date" in r.content.decode()


@pytest.mark.parametrize(("persona", "status"), [("monitor", 403), ("partner_investigator", 404)])
def test_page_writes_are_refused_to_readers_and_strangers(registered, client_for, persona, status):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant

    c = registered(1)
    unit = c.journey.unit
    membership_grant(
        user=unit.users["monitor"], role=Role.SPONSOR_MONITOR, site=unit.main, trial=c.reg.trial
    )
    client = client_for(persona)
    r = client.post(f"/registrations/{c.reg.pk}/tumour-baseline/", _baseline_form())
    assert r.status_code == status
    assert not Lesion.objects.exists()
    if persona == "monitor":
        r = client.post(
            f"/trials/{c.reg.trial_id}/tumour-settings/", {"criteria": "irecist", "version": "0"}
        )
        assert r.status_code == 403
        assert not TumourAssessmentSettings.objects.exists()


def test_investigator_sets_the_criteria_on_the_efficacy_page(registered, client_for):
    c = registered(1)
    inv = client_for("investigator")
    page = inv.get(f"/trials/{c.reg.trial_id}/efficacy/").content.decode()
    assert "RECIST 1.1" in page
    assert 'data-testid="settings-form"' in page
    r = inv.post(
        f"/trials/{c.reg.trial_id}/tumour-settings/",
        {"criteria": "irecist", "confirmation_required": "on", "version": "0"},
        follow=True,
    )
    assert "every patient was re-evaluated" in r.content.decode()
    s = TumourAssessmentSettings.objects.get()
    assert (s.criteria, s.confirmation_required, s.version) == ("irecist", True, 1)
    r = inv.post(
        f"/trials/{c.reg.trial_id}/tumour-settings/",
        {"criteria": "recist1.1", "version": "0", "reason": "protocol amendment 2"},
        follow=True,
    )
    assert "changed by someone else (version 1" in r.content.decode()
    assert TumourAssessmentSettings.objects.get().criteria == "irecist"
