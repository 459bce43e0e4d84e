"""Forms attached to visits: edit checks, draft and completion, stale saves, reasons, audit."""

from __future__ import annotations

import datetime as dt

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.crfs.models import DataQuery, FormInstance
from oncotrials.apps.crfs.selectors import casebook
from oncotrials.apps.crfs.services import form_save
from oncotrials.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)


def _save(cb, form, data, *, visit="C1D1", version=0, complete=False, reason="", user="nurse"):
    return form_save(
        registration=cb.registration,
        visit_code=visit,
        form_name=form,
        data=data,
        version=version,
        complete=complete,
        reason=reason,
        by=cb.users[user],
    )


VITALS = {"assessed_on": "2026-11-13", "systolic_bp": "120", "heart_rate": 72}


def _codes(instance):
    return sorted((i["field"], i["code"]) for i in instance.issues)


def test_casebook_lists_forms_per_visit_with_expected_missing_and_overdue(cb):
    _save(cb, "vital_signs", VITALS, complete=True)
    visits = {v.code: v for v in casebook(registration=cb.registration)}
    c1d1 = {f.name: f.status for f in visits["C1D1"].forms}
    assert c1d1["vital_signs"] == "complete"
    assert c1d1["ecog"] == "missing"  # visit done, form not entered
    # Registration attests the screening visit: done, so its forms not entered are missing.
    assert {f.status for f in visits["SCR"].forms} == {"missing"}
    assert {f.status for f in visits["C1D8"].forms} == {"expected"}  # due today
    later = {v.code: v for v in casebook(registration=cb.registration, today=dt.date(2026, 11, 25))}
    assert {f.status for f in later["C1D8"].forms} == {"overdue"}  # window closed 2026-11-21


def test_range_check_is_an_error_that_blocks_completion_but_not_a_draft(cb):
    with pytest.raises(ValidationError, match="between 40 and 300 mmHg; got 400") as exc:
        _save(cb, "vital_signs", {**VITALS, "systolic_bp": "400"}, complete=True)
    assert exc.value.extra["field"] == "systolic_bp"
    assert not FormInstance.objects.exists()
    draft = _save(cb, "vital_signs", {**VITALS, "systolic_bp": "400"})
    assert draft.status == "draft"
    assert _codes(draft) == [("systolic_bp", "range")]


def test_type_and_choice_checks(cb):
    draft = _save(cb, "ecog", {"assessed_on": "13/11/2026", "performance_status": "5"})
    assert _codes(draft) == [("assessed_on", "type"), ("performance_status", "choice")]


def test_required_and_required_if_checks(cb):
    draft = _save(cb, "medical_history", {"metastatic": "yes"}, visit="SCR")
    assert _codes(draft) == [("diagnosed_on", "required"), ("metastatic_on", "required_if")]
    not_metastatic = _save(
        cb,
        "medical_history",
        {"metastatic": "no", "diagnosed_on": "2025-01-02"},
        visit="SCR",
        version=draft.version,
    )
    assert _codes(not_metastatic) == []


def test_cross_field_date_check_and_future_date(cb):
    draft = _save(
        cb,
        "medical_history",
        {"metastatic": True, "diagnosed_on": "2025-06-01", "metastatic_on": "2025-01-01"},
        visit="SCR",
    )
    assert _codes(draft) == [("metastatic_on", "date_order")]
    assert "cannot predate" in draft.issues[0]["message"]
    future = _save(cb, "ecog", {"assessed_on": "2026-12-01", "performance_status": "1"})
    assert _codes(future) == [("assessed_on", "future_date")]


def test_expected_range_warning_completes_and_raises_an_automatic_query(cb):
    done = _save(cb, "vital_signs", {**VITALS, "heart_rate": "150"}, complete=True)
    assert done.status == "complete"
    q = DataQuery.objects.get()
    assert (q.origin, q.field, q.check_code, q.status) == (
        "edit_check",
        "heart_rate",
        "expected_range",
        "open",
    )
    fixed = _save(
        cb, "vital_signs", VITALS, complete=True, version=done.version, reason="transcription"
    )
    q.refresh_from_db()
    assert q.status == "closed"
    assert [e.action for e in q.events.all()] == ["raised", "closed"]
    assert fixed.version == 2


def test_unknown_fields_and_unlisted_forms_are_refused_and_change_nothing(cb):
    with pytest.raises(ValidationError, match="no field"):
        _save(cb, "vital_signs", {"pulse": 1})
    with pytest.raises(NotFoundError, match="not expected at visit C1D8"):
        _save(cb, "ecog", {}, visit="C1D8")
    with pytest.raises(NotFoundError, match="not in the calendar"):
        _save(cb, "ecog", {}, visit="C9D9")
    assert not FormInstance.objects.exists()


def test_a_stale_save_is_refused_with_the_other_users_values(cb):
    first = _save(cb, "vital_signs", VITALS)
    # Two people open version 1; the investigator saves first.
    _save(cb, "vital_signs", {**VITALS, "heart_rate": 80}, version=1, user="investigator")
    with pytest.raises(ConflictError) as exc:
        _save(cb, "vital_signs", {**VITALS, "heart_rate": 90}, version=first.version)
    assert exc.value.extra["current_version"] == 2
    assert exc.value.extra["current_data"]["heart_rate"] == 80
    assert exc.value.extra["updated_by"] == "investigator"
    assert "Vidal" in exc.value.message
    assert FormInstance.objects.get().data["heart_rate"] == 80


def test_a_completed_form_needs_a_reason_and_the_audit_keeps_old_and_new(cb):
    done = _save(cb, "vital_signs", VITALS, complete=True)
    with pytest.raises(ValidationError, match="reason"):
        _save(cb, "vital_signs", {**VITALS, "heart_rate": 75}, version=done.version, complete=True)
    _save(
        cb,
        "vital_signs",
        {**VITALS, "heart_rate": 75},
        version=done.version,
        complete=True,
        reason="source says 75",
    )
    ev = AuditEvent.objects.filter(object_type="crfs.forminstance", action="update").get()
    assert ev.changes == {"data.heart_rate": [72, 75]}
    assert ev.reason == "source says 75"


def test_monitors_and_partner_staff_cannot_enter_data(cb):
    with pytest.raises(PermissionDeniedError):
        _save(cb, "vital_signs", VITALS, user="shared_monitor")
    with pytest.raises(NotFoundError):
        _save(cb, "vital_signs", VITALS, user="partner_investigator")
    assert not FormInstance.objects.exists()
