"""Form declarations are typed and checked at start-up with stable ids (oncotrials.E101-E103)."""

from __future__ import annotations

import pytest

from oncotrials.apps.crfs.checks import crfs_standard_forms_check, crfs_trial_forms_check
from oncotrials.apps.crfs.models import TrialFormDeclaration
from oncotrials.apps.crfs.services import form_declaration_set, form_save, forms_for_trial
from oncotrials.core.errors import ValidationError

QOL = {
    "name": "quality_of_life",
    "title": "EQ-5D",
    "fields": [
        {"name": "assessed_on", "type": "date", "required": True},
        {"name": "vas", "type": "integer", "min": 0, "max": 100, "required": True},
    ],
}


def test_the_standard_library_passes_the_start_up_check():
    # The declarations themselves are tested in tests/core/crf.
    assert crfs_standard_forms_check() == []


def test_a_trial_declares_its_own_form_and_a_faulty_one_is_refused_whole(cb):
    trial, admin = cb.registration.trial, cb.users["admin"]
    with pytest.raises(ValidationError, match="E101"):
        form_declaration_set(
            trial=trial, document={**QOL, "fields": [{"name": "v", "type": "slider"}]}, by=admin
        )
    assert not TrialFormDeclaration.objects.exists()
    form_declaration_set(trial=trial, document=QOL, by=admin)
    assert forms_for_trial(trial)["quality_of_life"].field("vas").max == 100
    with pytest.raises(ValidationError, match="reason"):
        form_declaration_set(trial=trial, document=QOL, by=admin)


def test_start_up_check_reports_unknown_field_types_and_undeclared_schedule_forms(cb):
    from oncotrials.apps.trials.models import VisitScheduleDefinition

    assert crfs_trial_forms_check(databases=["default"]) == []
    trial = cb.registration.trial
    definition = VisitScheduleDefinition.objects.get(trial=trial)
    doc = dict(definition.document)
    doc["visits"] = [{**doc["visits"][0], "forms": ["vital_signs", "quality_of_life"]}]
    VisitScheduleDefinition.objects.filter(pk=definition.pk).update(document=doc)
    TrialFormDeclaration.objects.create(
        trial=trial,
        name="bad_form",
        document={**QOL, "name": "bad_form", "fields": [{"name": "v", "type": "slider"}]},
    )
    messages = crfs_trial_forms_check(databases=["default"])
    assert sorted(m.id for m in messages) == ["oncotrials.E101", "oncotrials.E102"]
    e102 = next(m for m in messages if m.id == "oncotrials.E102")
    assert "visit SCR lists form 'quality_of_life'" in e102.msg
    assert trial.protocol_code in e102.msg
    form_declaration_set(trial=trial, document=QOL, by=cb.users["admin"])
    assert [m.id for m in crfs_trial_forms_check(databases=["default"])] == ["oncotrials.E101"]


def test_a_trial_form_is_entered_like_a_standard_one(cb):
    from oncotrials.apps.trials.models import VisitScheduleDefinition

    trial = cb.registration.trial
    form_declaration_set(trial=trial, document=QOL, by=cb.users["admin"])
    definition = VisitScheduleDefinition.objects.get(trial=trial)
    doc = dict(definition.document)
    doc["cycles"]["days"][0]["forms"] = [*doc["cycles"]["days"][0]["forms"], "quality_of_life"]
    VisitScheduleDefinition.objects.filter(pk=definition.pk).update(document=doc)
    cb.registration.trial.visit_schedule.refresh_from_db()
    saved = form_save(
        registration=cb.registration,
        visit_code="C1D1",
        form_name="quality_of_life",
        data={"assessed_on": "2026-11-13", "vas": "101"},
        version=0,
        by=cb.users["nurse"],
    )
    assert [i["code"] for i in saved.issues] == ["range"]


def test_declarations_prefetched_with_the_trial_are_not_read_again(cb, django_assert_num_queries):
    """A caller saving many forms prefetches the trials' declarations (the demo's casebooks);
    without the prefetch, each call reads the declarations as they are now."""
    from oncotrials.apps.trials.models import Trial

    trial, admin = cb.registration.trial, cb.users["admin"]
    assert "quality_of_life" not in forms_for_trial(trial)
    form_declaration_set(trial=trial, document=QOL, by=admin)
    assert forms_for_trial(trial)["quality_of_life"].field("vas").max == 100
    fetched = Trial.objects.prefetch_related("form_declarations").get(pk=trial.pk)
    with django_assert_num_queries(0):
        specs = forms_for_trial(fetched)
    assert specs["quality_of_life"].field("vas").max == 100
    assert set(specs) == set(forms_for_trial(trial))
