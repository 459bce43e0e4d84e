"""The visit schedule panel of the trial page: paste or upload, every problem by its path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.trials.models import VisitScheduleDefinition

EXAMPLE = Path(__file__).parents[3] / "docs" / "formats" / "visit-schedule.example.yaml"


def _url(trial) -> str:
    return f"/trials/{trial.pk}/visit-schedule/"


def test_a_pasted_schedule_is_saved_shown_and_audited(unit, client_for):
    trial = unit.trial_main
    client = client_for("datamanager")
    r = client.get(_url(trial), HTTP_HX_REQUEST="true")
    assert "No visit schedule yet." in r.content.decode()
    assert 'data-testid="visit-schedule-form"' in r.content.decode()
    r = client.post(_url(trial), {"schedule-document": EXAMPLE.read_text()}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    definition = VisitScheduleDefinition.objects.get(trial=trial)
    assert definition.document["reference"] == "C1D1"
    page = r.content.decode()
    assert "Visit schedule saved." in page
    assert 'data-testid="schedule-visit"' in page
    (event,) = AuditEvent.objects.filter(
        object_type="trials.visitscheduledefinition", object_id=str(definition.pk)
    )
    assert (event.action, event.actor_username) == ("create", "datamanager")


def test_an_uploaded_schedule_replaces_the_old_one_with_a_reason(unit, client_for):
    trial = unit.trial_main
    client = client_for("investigator")
    client.post(_url(trial), {"schedule-document": EXAMPLE.read_text()})
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["version"] = "4.0"
    upload = SimpleUploadedFile("schedule.yaml", yaml.safe_dump(doc).encode())
    r = client.post(_url(trial), {"schedule-upload": upload})
    assert r.status_code == 422
    assert "reason" in r.context["form"].errors
    upload = SimpleUploadedFile("schedule.yaml", yaml.safe_dump(doc).encode())
    r = client.post(_url(trial), {"schedule-upload": upload, "schedule-reason": "Amendment 3"})
    assert r.status_code == 302
    definition = VisitScheduleDefinition.objects.get(trial=trial)
    assert (definition.version, definition.document["version"]) == (2, "4.0")
    last = AuditEvent.objects.filter(object_type="trials.visitscheduledefinition").last()
    assert (last.action, last.reason) == ("update", "Amendment 3")


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-partial"])
def test_an_invalid_schedule_keeps_the_text_and_lists_every_error_with_its_path(
    unit, client_for, htmx
):
    """With htmx too the refusal answers 422 (htmx swaps it into the panel like a 200)."""
    trial = unit.trial_main
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["visits"][0]["offset_days"] = "soon"
    doc["cycles"]["length_days"] = "three weeks"
    text = yaml.safe_dump(doc, sort_keys=False)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    r = client_for("datamanager").post(_url(trial), {"schedule-document": text}, **headers)
    assert r.status_code == 422
    page = r.content.decode()
    assert ("<html" not in page) is htmx  # the panel's fragment, not a page
    assert "nothing was saved" in page
    assert "nothing was saved" in r.context["form"].errors["document"][0]
    problems = r.context["problems"]
    assert len(problems) >= 2
    paths = {p.path for p in problems}
    assert any("visits" in p and "offset_days" in p for p in paths), paths
    for p in problems:
        assert f"<code>{p.path}</code>" in page
    assert "soon" in page  # the text is kept
    assert not VisitScheduleDefinition.objects.filter(trial=trial).exists()


def test_unparseable_text_is_refused_with_its_message(unit, client_for):
    r = client_for("datamanager").post(
        _url(unit.trial_main), {"schedule-document": "visits: [unclosed"}
    )
    assert r.status_code == 422
    assert "Not valid YAML or JSON" in r.context["form"].errors["document"][0]


def test_the_schedule_needs_the_right_and_the_trial_in_sight(unit, client_for):
    trial = unit.trial_main
    data = {"schedule-document": EXAMPLE.read_text()}
    nurse = client_for("nurse")
    r = nurse.get(_url(trial), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert 'data-testid="visit-schedule-form"' not in r.content.decode()
    assert nurse.post(_url(trial), data).status_code == 403
    assert client_for("partner_investigator").get(_url(trial)).status_code == 404
    assert client_for("partner_investigator").post(_url(trial), data).status_code == 404
    assert not VisitScheduleDefinition.objects.filter(trial=trial).exists()


def test_the_trial_page_loads_the_schedule_panel(unit, client_for):
    page = client_for("nurse").get(f"/trials/{unit.trial_main.pk}/").content.decode()
    assert _url(unit.trial_main) in page
