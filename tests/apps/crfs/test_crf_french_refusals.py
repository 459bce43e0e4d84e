"""The case report form services' refusals are worded in the user's language."""

from __future__ import annotations

import pytest

from oncotrials.apps.crfs.models import FormInstance


def test_a_visit_outside_the_calendar_is_refused_in_french_and_in_english(cb, client_for):
    url = f"/api/v1/crfs/registrations/{cb.registration.pk}/forms/C9D9/vital_signs"
    body = {"data": {}, "version": 0}
    english = client_for("nurse").put(url, body, content_type="application/json")
    assert english.status_code == 404
    assert english.json()["message"].startswith(
        "Visit 'C9D9' is not in the calendar of this registration; expected one of "
    )
    c = client_for("nurse")
    c.cookies["django_language"] = "fr"
    french = c.put(url, body, content_type="application/json")
    assert french.status_code == 404
    assert french.json()["message"].startswith(
        "La visite 'C9D9' ne figure pas dans le calendrier de cette inclusion ; visites "
        "attendues : "
    )
    assert not FormInstance.objects.exists()


def test_an_empty_query_is_refused_beside_its_field_in_french(cb, client_for):
    from oncotrials.apps.crfs.services import form_save

    inst = form_save(
        registration=cb.registration,
        visit_code="C1D1",
        form_name="vital_signs",
        data={},
        version=0,
        by=cb.users["nurse"],
    )
    c = client_for("datamanager")
    c.cookies["django_language"] = "fr"
    r = c.post(
        "/api/v1/crfs/queries",
        {"record_type": "crfs.forminstance", "record_id": inst.pk, "field": "", "text": "  "},
        content_type="application/json",
    )
    assert r.status_code == 422, r.content
    assert r.json()["message"] == "Précisez ce qui ne va pas ou ce qu’il faut vérifier."


# ------------------------------------------------- the edit checks of a form, in the language


def _vitals_refused(cb, client_for, *, french: bool, api: bool):
    c = client_for("nurse")
    if french:
        c.cookies["django_language"] = "fr"
    r = cb.registration.pk
    if api:
        return c.put(
            f"/api/v1/crfs/registrations/{r}/forms/C1D1/vital_signs",
            {"data": {"weight_kg": "312.5"}, "version": 0, "complete": True},
            content_type="application/json",
        )
    return c.post(
        f"/crfs/registrations/{r}/forms/C1D1/vital_signs/",
        {"weight_kg": "312.5", "version": "0", "action": "complete"},
    )


@pytest.mark.parametrize("api", [True, False], ids=["api", "page"])
def test_a_missing_value_and_an_impossible_one_are_named_in_french(cb, client_for, api):
    """Completing vital signs without the date and with a weight of 312.5 kg: the edit checks name
    the field and the bounds in the user's language, and nothing is saved."""
    english = _vitals_refused(cb, client_for, french=False, api=api)
    assert english.status_code == 422, english.content
    french = _vitals_refused(cb, client_for, french=True, api=api)
    assert french.status_code == 422, french.content
    if api:
        en = " ".join(i["message"] for i in english.json()["extra"]["issues"])
        fr = " ".join(i["message"] for i in french.json()["extra"]["issues"])
        assert english.json()["extra"]["issues"] == [
            {**i, "message": e["message"]}
            for i, e in zip(
                french.json()["extra"]["issues"], english.json()["extra"]["issues"], strict=True
            )
        ]  # same fields, codes and severities: only the words change
    else:
        en, fr = english.content.decode(), french.content.decode()
    assert "Assessed on is required." in en
    assert "Weight kg must lie between 20 and 300 kg; got 312.5 kg." in en
    assert "Assessed on est obligatoire." in fr
    assert "Weight kg doit être compris entre 20 et 300 kg ; reçu 312.5 kg." in fr
    assert "is required" not in fr
    assert "must lie between" not in fr
    assert not FormInstance.objects.exists()


def test_every_type_fault_of_a_field_reads_in_french():
    """Each way a value fails to parse carries a reason the crfs app words: none stays English."""
    import datetime as dt

    from django.utils.translation import override

    from oncotrials.apps.crfs.core_messages import crf_all_translated
    from oncotrials.core.crf import form_spec_from_dict, run_checks

    spec = form_spec_from_dict(
        {
            "name": "probe",
            "fields": [
                {"name": "note", "type": "text", "max_length": 3},
                {"name": "smoker", "type": "boolean"},
                {"name": "cycles", "type": "integer"},
                {"name": "dose", "type": "decimal"},
                {"name": "seen_on", "type": "date"},
                {"name": "arm", "type": "choice", "choices": ["A", "B"]},
            ],
        }
    )
    data = {"note": "abcd", "smoker": "maybe", "cycles": "1.5", "dose": "lots"}
    data |= {"seen_on": "31/12/2026", "arm": "C"}
    _clean, issues = run_checks(spec, data, today=dt.date(2026, 12, 7))
    assert [i.code for i in issues] == ["type"] * 5 + ["choice"]
    with override("fr"):
        french = [i.message for i in crf_all_translated(issues)]
    assert french == [
        "Note : au plus 3 caractères ; reçu 'abcd'.",
        "Smoker : oui ou non attendu ; reçu 'maybe'.",
        "Cycles : nombre entier attendu ; reçu '1.5'.",
        "Dose : nombre attendu ; reçu 'lots'.",
        "Seen on : date attendue au format AAAA-MM-JJ ; reçu '31/12/2026'.",
        "Arm : une valeur parmi A, B est attendue ; reçu 'C'.",
    ]
    assert [i.message for i in crf_all_translated(issues)] == [i.message for i in issues]


def test_a_faulty_form_declaration_is_refused_in_french(cb):
    from django.utils.translation import override

    from oncotrials.apps.crfs.services import form_declaration_set
    from oncotrials.core.errors import ValidationError

    doc = {"name": "probe", "fields": [{"name": "dose", "type": "float"}]}
    trial, by = cb.registration.trial, cb.users["admin"]
    with pytest.raises(ValidationError, match="field 'dose' has an unknown type 'float'"):
        form_declaration_set(trial=trial, document=doc, by=by)
    with override("fr"), pytest.raises(ValidationError) as refused:
        form_declaration_set(trial=trial, document=doc, by=by)
    assert "Formulaire 'probe' : le champ 'dose' a un type inconnu 'float'" in str(refused.value)
    assert refused.value.extra["problems"][0].startswith("E101 Formulaire 'probe' : ")
