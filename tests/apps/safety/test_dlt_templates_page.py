"""The DLT rules of the trial's safety page start from a library of common definitions."""

from __future__ import annotations

import pytest
import yaml

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.safety.dlt_templates import DLT_TEMPLATES
from oncotrials.apps.safety.models import DltRuleSet
from oncotrials.core.grading.dlt import dlt_rules_from_dict


@pytest.mark.parametrize("key", sorted(DLT_TEMPLATES))
def test_every_template_loads_with_the_core_loader(key):
    rules = dlt_rules_from_dict(DLT_TEMPLATES[key].for_trial("T-1"), source=key)
    assert rules is not None


def _url(trial) -> str:
    return f"/trials/{trial.pk}/safety/"


def test_a_template_is_loaded_edited_saved_and_audited(journey, client_for):
    trial = journey.cohort.trial
    client = client_for("investigator")
    page = client.get(_url(trial)).content.decode()
    assert 'data-testid="dlt-template-form"' in page
    assert "28-day window" in page
    r = client.get(_url(trial), {"template": "standard-28"})
    text = r.context["rules_text"]
    doc = yaml.safe_load(text)
    assert doc["dlt"]["protocol"] == trial.protocol_code
    assert doc["dlt"]["window"]["days"] == 28
    doc["dlt"]["window"]["days"] = 21  # edited before saving
    r = client.post(_url(trial), {"document": yaml.safe_dump(doc)})
    assert r.status_code == 302
    rule_set = DltRuleSet.objects.get(trial=trial)
    assert rule_set.document["dlt"]["window"]["days"] == 21
    (event,) = AuditEvent.objects.filter(
        object_type="safety.dltruleset", object_id=str(rule_set.pk)
    )
    assert (event.action, event.actor_username) == ("create", "investigator")


def test_an_invalid_edit_of_a_template_keeps_the_text_and_names_the_path(journey, client_for):
    trial = journey.cohort.trial
    doc = DLT_TEMPLATES["standard-21"].for_trial(trial.protocol_code)
    doc["dlt"]["rules"][0]["min_grade"] = 7
    text = yaml.safe_dump(doc)
    r = client_for("investigator").post(_url(trial), {"document": text})
    assert r.status_code == 422
    assert "min_grade" in r.context["error"]
    assert r.context["rules_text"] == text
    assert not DltRuleSet.objects.exists()


def test_templates_need_the_right_and_the_trial_in_sight(journey, client_for):
    trial = journey.cohort.trial
    nurse = client_for("nurse")
    r = nurse.get(_url(trial), {"template": "standard-28"})
    assert r.status_code == 200
    assert 'data-testid="dlt-template-form"' not in r.content.decode()
    assert r.context["rules_text"] == ""
    text = yaml.safe_dump(DLT_TEMPLATES["standard-28"].for_trial(trial.protocol_code))
    assert nurse.post(_url(trial), {"document": text}).status_code == 403
    assert client_for("outsider").get(_url(trial)).status_code == 404
    assert client_for("outsider").post(_url(trial), {"document": text}).status_code == 404
    assert not DltRuleSet.objects.exists()
