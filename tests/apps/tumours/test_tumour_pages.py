"""Recording through the pages: the same services, the same refusals (nothing saved)."""

from __future__ import annotations

import datetime as dt
import html

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


def _errors_beside(page: str, field_id: str) -> str:
    """The errors rendered beside the input with this id (``aria-describedby`` ties them), by
    the shared rendering of fields and of grid cells."""
    assert f'id="{field_id}"' in page
    shared = f'id="{field_id}-error"'
    if shared in page:
        return page.split(shared, 1)[1].split("</span>", 1)[0]
    return ""


def test_a_refused_baseline_keeps_every_field_and_marks_every_error(registered, client_for):
    c = registered(1)
    nurse = client_for("nurse")
    r = nurse.post(
        f"/registrations/{c.reg.pk}/tumour-baseline/",
        _baseline_form(
            method="MRI",
            organ_0="",  # T1 without its organ
            diameter_1="2x",  # T2 with a diameter that is not a number
            lesion_id_2="T1",  # an identifier given twice
            organ_2="bone",
            organ_3="skin",  # a row without an identifier
            role_4="non_target",  # an untouched row: not an error
        ),
    )
    assert r.status_code == 422
    page = r.content.decode()
    assert not Lesion.objects.exists()
    assert not Assessment.objects.exists()
    assert "nothing was saved" in page
    # Everything typed is still there.
    rid = f"r{c.reg.pk}"
    assert 'value="2026-11-05"' in page
    assert '<option value="MRI" selected>' in page
    assert 'name="diameter_1" value="2x"' in page
    assert 'name="organ_3" value="skin"' in page
    assert 'name="lesion_id_2" value="T1"' in page
    assert 'name="diameter_0" value="30"' in page
    # Every error, in plain words, beside its own field.
    assert "Give the organ or site of lesion T1." in _errors_beside(page, f"{rid}-organ_0")
    assert "2x is not a number" in _errors_beside(page, f"{rid}-diameter_1")
    assert "T1 is already used on row 1" in _errors_beside(page, f"{rid}-lesion_id_2")
    assert "Give this lesion an identifier" in _errors_beside(page, f"{rid}-lesion_id_3")
    assert _errors_beside(page, f"{rid}-lesion_id_4") == ""
    shown = [e.split("</span>", 1)[0] for e in page.split('<span class="field-error"')[1:]]
    assert len(shown) == 4
    assert 'class="errorlist"' not in page
    assert not [e for e in shown if "lesions[" in e or "_mm" in e or "non_target" in e]


def test_a_refused_follow_up_keeps_its_input_and_says_why_per_lesion(registered, client_for):
    c = registered(1)
    nurse = client_for("nurse")
    nurse.post(f"/registrations/{c.reg.pk}/tumour-baseline/", _baseline_form())
    r = nurse.post(
        f"/registrations/{c.reg.pk}/tumour-assessments/",
        {"date": "2027-01-08", "complete": "on", "diameter_T1": "-3", "new_organ": "liver"},
    )
    assert r.status_code == 422
    page = r.content.decode()
    rid = f"r{c.reg.pk}"
    assert Assessment.objects.filter(kind="follow_up").count() == 0
    assert 'name="diameter_T1" value="-3"' in page
    assert 'name="new_organ" value="liver"' in page
    assert "between 0 and 9999.99; got -3" in _errors_beside(page, f"{rid}-diameter_T1")
    assert "Target lesion T2: give its diameter" in _errors_beside(page, f"{rid}-diameter_T2")
    assert "Too small to measure" in _errors_beside(page, f"{rid}-diameter_T2")
    assert "Give the new lesion an identifier" in _errors_beside(page, f"{rid}-new_lesion_id")
    assert '<details class="entry" open>' in page
    r = nurse.post(
        f"/registrations/{c.reg.pk}/tumour-assessments/",
        {"date": "2026-11-01", "diameter_T1": "20", "diameter_T2": "15"},
    )
    assert "A follow-up comes after the baseline of 2026-11-05" in _errors_beside(
        r.content.decode(), f"{rid}-date"
    )
    r = nurse.post(f"/registrations/{c.reg.pk}/tumour-assessments/", {"date": "someday"})
    assert r.status_code == 422
    assert "Enter a valid date." in _errors_beside(r.content.decode(), f"{rid}-date")


def test_a_refusal_of_the_service_comes_back_beside_its_field(registered, client_for):
    c = registered(1)
    nurse = client_for("nurse")
    nurse.post(f"/registrations/{c.reg.pk}/tumour-baseline/", _baseline_form())
    follow_up = {"date": "2027-01-08", "complete": "on", "diameter_T1": "20", "diameter_T2": "15"}
    assert (
        nurse.post(f"/registrations/{c.reg.pk}/tumour-assessments/", follow_up).status_code == 302
    )
    r = nurse.post(f"/registrations/{c.reg.pk}/tumour-assessments/", follow_up)
    assert r.status_code == 422
    assert "already has an assessment on that date" in _errors_beside(
        r.content.decode(), f"r{c.reg.pk}-date"
    )
    assert Assessment.objects.filter(kind="follow_up").count() == 1


def test_errors_are_in_french_for_a_french_user(registered, client_for):
    c = registered(1)
    nurse = client_for("nurse")
    nurse.cookies["django_language"] = "fr"
    r = nurse.post(
        f"/registrations/{c.reg.pk}/tumour-baseline/", _baseline_form(organ_0="", diameter_1="2x")
    )
    page = html.unescape(r.content.decode())
    assert r.status_code == 422
    assert "Le formulaire comporte 2 erreurs ; rien n’a été enregistré" in page
    assert "Indiquez l'organe ou le site de la lésion T1." in page
    assert "2x n'est pas un nombre" in page
    assert 'type="date" name="date" value="2026-11-05"' in page


def test_the_override_has_no_preset_response(registered, client_for):
    from oncotrials.apps.tumours.models import ResponseOverride
    from oncotrials.apps.tumours.services import assessment_save, baseline_save

    c = registered(1)
    nurse = c.journey.unit.users["nurse"]
    lesions = [{"lesion_id": "T1", "organ": "liver", "role": "target", "diameter_mm": "30"}]
    baseline_save(
        registration=c.reg, date=dt.date(2026, 11, 5), method="CT", lesions=lesions, by=nurse
    )
    assessment_save(
        registration=c.reg,
        date=dt.date(2027, 1, 8),
        measurements=[{"lesion_id": "T1", "diameter_mm": "20"}],
        by=nurse,
    )
    inv = client_for("investigator")
    page = inv.get(f"/patients/{c.reg.patient_id}/tumours/").content.decode()
    select = page.split('name="response"', 1)[1].split("</select>", 1)[0]
    assert " required" in select.split(">", 1)[0]
    assert '<option value="" selected>' in select
    assert "<option selected" not in select
    r = inv.post(f"/registrations/{c.reg.pk}/tumour-override/", {"reason": "x"})
    assert r.status_code == 422
    assert "Choose the response you read." in r.content.decode()
    assert not ResponseOverride.objects.exists()


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
