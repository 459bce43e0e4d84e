"""A visit schedule's problems and refusals (framework-free core) read in French for a French
user, with the visit, the JSON path and the values in place, and stay the core's English
otherwise."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml
from django.utils.translation import override

from oncotrials.apps.accounts.core_messages import translated
from oncotrials.apps.trials.models import VisitScheduleDefinition
from oncotrials.apps.trials.schedule_messages import SCHEDULE_MESSAGES, problem_translated
from oncotrials.apps.trials.services import schedule_set
from oncotrials.core.errors import ValidationError
from oncotrials.core.schedule import check_schedule_document, load_schedule, patient_calendar

EXAMPLE = Path(__file__).parents[3] / "docs" / "formats" / "visit-schedule.example.yaml"


def _faulty() -> dict:
    """The example schedule with a repeated visit code, a negative window, a day outside the
    cycle and an offset first cycle."""
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["visits"].append({"code": "SCR", "offset_days": -3, "forms": []})
    doc["cycles"]["days"].append({"day": 30, "forms": ["labs"]})
    doc["cycles"]["days"][1]["window"] = {"before": -1, "after": 1}
    doc["cycles"]["start_offset_days"] = 2
    return doc


def test_every_problem_is_the_same_english_and_french_with_its_values():
    problems = check_schedule_document(_faulty())
    assert {p.code for p in problems} >= {"W001", "E002", "E003", "E004", "E005", "E010"}
    for p in problems:
        with override("en"):
            assert problem_translated(p).message == p.message
        with override("fr"):
            french = problem_translated(p)
        assert french.message != p.message, p.code
        assert "%(" not in french.message
        assert (french.code, french.path, french.visit) == (p.code, p.path, p.visit)


def test_a_negative_window_says_before_or_after_in_french():
    (problem,) = [p for p in check_schedule_document(_faulty()) if p.code == "E003"]
    with override("fr"):
        assert problem_translated(problem).message == (
            "La visite C1D8 a une fenêtre négative : window.before vaut -1 ; indiquez le nombre "
            "de jours admis avant la date cible (>= 0)."
        )


def _post(client, trial, text: str, *, french: bool):
    if french:
        client.cookies["django_language"] = "fr"
    else:
        client.cookies.pop("django_language", None)
    return client.post(f"/trials/{trial.pk}/visit-schedule/", {"schedule-document": text})


def test_the_schedule_panel_lists_the_problems_in_french(unit, client_for):
    trial = unit.trial_main
    client = client_for("datamanager")
    text = yaml.safe_dump(_faulty(), sort_keys=False)
    english = _post(client, trial, text, french=False).content.decode()
    assert "Visit code &#x27;SCR&#x27; is used twice" in english
    page = _post(client, trial, text, french=True).content.decode()
    assert "Le code de visite &#x27;SCR&#x27; est utilisé deux fois" in page
    assert "La visite CnD30 tombe au jour 30 d’un cycle de 21 jours" in page
    assert "<code>$.cycles.days[1].window.before</code>" in page
    assert "is used twice" not in page
    assert not VisitScheduleDefinition.objects.filter(trial=trial).exists()


def test_a_schedule_refused_by_the_service_reads_in_french(unit):
    trial = unit.trial_main
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["visits"][0]["offset_days"] = "soon"
    with pytest.raises(ValidationError) as english:
        schedule_set(trial=trial, document=doc, by=unit.users["datamanager"])
    assert english.value.message == (
        f"visit schedule of {trial.protocol_code}: $.visits[0].offset_days: 'soon' is not of "
        "type 'integer'. See docs/formats/visit-schedule.md for the format."
    )
    with override("fr"), pytest.raises(ValidationError) as french:
        schedule_set(trial=trial, document=doc, by=unit.users["datamanager"])
    assert french.value.message == (
        f"calendrier des visites de {trial.protocol_code} : $.visits[0].offset_days : 'soon' "
        "is not of type 'integer'. Le format est décrit dans docs/formats/visit-schedule.md."
    )
    assert french.value.extra["path"] == "$.visits[0].offset_days"
    errors = copy.deepcopy(_faulty())
    with override("fr"), pytest.raises(ValidationError) as refused:
        schedule_set(trial=trial, document=errors, by=unit.users["datamanager"])
    assert "E003 La visite C1D8 a une fenêtre négative" in refused.value.message
    assert not VisitScheduleDefinition.objects.filter(trial=trial).exists()


def test_a_calendar_refusal_reads_in_french():
    schedule = load_schedule(yaml.safe_load(EXAMPLE.read_text()))
    today = dt.date(2026, 11, 2)
    with pytest.raises(ValidationError) as caught:
        patient_calendar(
            schedule,
            start=dt.date(2026, 10, 1),
            today=today,
            done={"C1D1": dt.date(2026, 11, 20)},
        )
    exc = caught.value
    assert exc.code == "schedule_done_future"
    with override("en"):
        assert translated(exc, SCHEDULE_MESSAGES).message == exc.message
    with override("fr"):
        assert translated(exc, SCHEDULE_MESSAGES).message == (
            "done.C1D1 : le 2026-11-20 est postérieur à aujourd’hui (2026-11-02) ; une visite ne "
            "peut pas être faite dans le futur."
        )
