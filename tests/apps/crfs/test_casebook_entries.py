"""A batch of casebook entries saves what the same entries saved one by one save: the same rows,
the same audit events (same content, same order), the same automatic queries; a bad entry saves
nothing and is named with its field."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import transaction

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.sealing import row_digest
from oncotrials.apps.crfs.entries import DoseEntry, FormEntry, LabEntry, casebook_entries_save
from oncotrials.apps.crfs.models import (
    DataQuery,
    DrugAdministration,
    FormInstance,
    LabResult,
    QueryEvent,
)
from oncotrials.apps.crfs.services import administration_record, form_save, lab_result_create
from oncotrials.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

SCR, C1D1, C1D8 = dt.date(2026, 11, 12), dt.date(2026, 11, 13), dt.date(2026, 11, 20)
VITALS = {"assessed_on": "2026-11-13", "systolic_bp": "120", "heart_rate": 72}

ENTRIES: list[Any] = [
    FormEntry(
        "SCR", "ecog", {"assessed_on": "2026-11-12", "performance_status": "1"}, complete=True
    ),
    LabEntry("ALT", "60", "U/L", SCR, uln="40", visit_code="SCR"),  # abnormal baseline (grade 1)
    LabEntry("neutrophils", "3.1", "10^9/L", SCR, lln="1.8", uln="7.5", visit_code="SCR"),
    DoseEntry("Drug B", "50", "mg", C1D1, visit_code="C1D1"),
    # heart rate out of the expected range: an automatic query
    FormEntry("C1D1", "vital_signs", {**VITALS, "heart_rate": 150}, complete=True),
    FormEntry("C1D1", "ecog", {"assessed_on": "2026-11-13", "performance_status": "2"}),
    # 2.2 x the baseline: grade 1 (3.25 x ULN would be grade 2 without the baseline)
    LabEntry("ALT", "130", "U/L", C1D8, uln="40", visit_code="C1D8"),
    DoseEntry(
        "Drug B",
        "25",
        "mg",
        C1D8,
        modification="reduction",
        modification_reason="Grade 1 ALT",
    ),
    # a draft saved before the batch, completed by it
    FormEntry(
        "SCR",
        "demographics",
        {"assessed_on": "2026-11-12", "weight_kg": "70", "ethnicity": "not_reported"},
        1,
        True,
    ),
]


def _one_by_one(cb: Any, entries: list[Any], by: Any) -> None:
    reg = cb.registration
    for e in entries:
        if isinstance(e, FormEntry):
            form_save(
                registration=reg,
                visit_code=e.visit_code,
                form_name=e.form_name,
                data=e.data,
                version=e.version,
                complete=e.complete,
                reason=e.reason,
                by=by,
            )
        elif isinstance(e, LabEntry):
            lab_result_create(
                registration=reg,
                analyte=e.analyte,
                value=e.value,
                unit=e.unit,
                sampled_on=e.sampled_on,
                lln=e.lln,
                uln=e.uln,
                visit_code=e.visit_code,
                limit_unit=e.limit_unit,
                by=by,
            )
        else:
            administration_record(
                registration=reg,
                agent=e.agent,
                dose=e.dose,
                unit=e.unit,
                administered_on=e.administered_on,
                modification=e.modification,
                modification_reason=e.modification_reason,
                visit_code=e.visit_code,
                by=by,
            )


_IGNORED = {"id", "created_at", "updated_at", "first_completed_at", "raised_at", "at", "query_id"}


def _rows(model: Any) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in row.items() if k not in _IGNORED and k != "object_id"}
        for row in model.objects.order_by("pk").values()
    ]


def _events(since: int) -> list[tuple[Any, ...]]:
    def no_ids(text: str) -> str:
        return re.sub(r"#\d+", "#n", text)

    return [
        (
            e.partition,
            e.actor_username,
            e.action,
            e.object_type,
            no_ids(e.object_repr),
            e.changes,
            e.reason,
            e.channel,
        )
        for e in AuditEvent.objects.filter(pk__gt=since).order_by("partition", "seq")
    ]


def _state(since: int) -> dict[str, Any]:
    models = (FormInstance, LabResult, DrugAdministration, DataQuery, QueryEvent)
    return {m.__name__: _rows(m) for m in models} | {"events": _events(since)}


def _rows_match_their_last_event(since: int) -> None:
    """As ``audit verify --rows`` for the records saved (the fixture changes users unaudited)."""
    last: dict[tuple[str, str], AuditEvent] = {}
    for e in AuditEvent.objects.filter(pk__gt=since).order_by("pk"):
        last[(e.object_type, e.object_id)] = e
    assert last
    for (object_type, object_id), event in last.items():
        model = django_apps.get_model(object_type)
        assert event.row_digest == row_digest(model.objects.get(pk=object_id)), event


def _saved(cb: Any, save: Any) -> dict[str, Any]:
    """The state after ``save``, rolled back after reading it (both ways start alike)."""
    nurse = cb.users["nurse"]
    with transaction.atomic():
        form_save(
            registration=cb.registration,
            visit_code="SCR",
            form_name="demographics",
            data={"assessed_on": "2026-11-12"},
            version=0,
            by=nurse,
        )
        since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        save(nurse)
        state = _state(since)
        _rows_match_their_last_event(since)
        transaction.set_rollback(True)
    return state


def test_a_batch_saves_what_the_same_entries_saved_one_by_one_save(cb):
    one_by_one = _saved(cb, lambda by: _one_by_one(cb, ENTRIES, by))
    batch = _saved(
        cb, lambda by: casebook_entries_save(registration=cb.registration, entries=ENTRIES, by=by)
    )
    # What the comparison covers: every kind of record, the automatic query, the graded values.
    assert len(one_by_one["FormInstance"]) == 4
    assert len(one_by_one["LabResult"]) == 3
    assert len(one_by_one["DrugAdministration"]) == 2
    assert [q["field"] for q in one_by_one["DataQuery"]] == ["heart_rate"]
    assert [lab["grade"] for lab in one_by_one["LabResult"]] == [1, 0, 1]
    actions = [e[2] for e in one_by_one["events"]]
    assert actions.count("create") == 8
    assert actions.count("update") == 1
    assert "query_raise" in actions
    for key in one_by_one:
        assert batch[key] == one_by_one[key], key


def test_a_batch_returns_its_records_in_the_entries_order(cb):
    saved = casebook_entries_save(
        registration=cb.registration, entries=ENTRIES[:8], by=cb.users["nurse"]
    )
    kinds = [type(r).__name__ for r in saved]
    assert kinds == [
        "FormInstance",
        "LabResult",
        "LabResult",
        "DrugAdministration",
        "FormInstance",
        "FormInstance",
        "LabResult",
        "DrugAdministration",
    ]
    assert all(r.pk is not None for r in saved)
    # graded against the batch's own pre-treatment value (abnormal: the ALT rule grades on it)
    assert saved[6].grade == 1
    assert "baseline" in saved[6].criterion


def _nothing_saved(before: int) -> None:
    assert not FormInstance.objects.exists()
    assert not LabResult.objects.exists()
    assert not DrugAdministration.objects.exists()
    assert not DataQuery.objects.exists()
    assert _crfs_events() == before


def _crfs_events() -> int:
    return AuditEvent.objects.filter(object_type__startswith="crfs.").count()


def test_a_bad_entry_saves_nothing_and_is_named_with_its_field(cb):
    nurse = cb.users["nurse"]
    before = _crfs_events()
    bad = LabEntry("ANC", "0.7", "mg/dL", SCR, visit_code="SCR")  # a unit of another analyte
    entries = [ENTRIES[0], ENTRIES[3], bad, ENTRIES[4]]
    with pytest.raises(ValidationError, match=r"^Entry 3 \(lab ANC\): .*does not fit") as exc:
        casebook_entries_save(registration=cb.registration, entries=entries, by=nurse)
    assert (exc.value.extra["entry"], exc.value.extra["field"]) == (3, "unit")
    _nothing_saved(before)

    over = DoseEntry("Drug B", "60", "mg", C1D1, modification="reduction", modification_reason="x")
    with pytest.raises(ValidationError, match=r"^Entry 2 \(dose of Drug B\): A dose reduction"):
        casebook_entries_save(registration=cb.registration, entries=[ENTRIES[1], over], by=nurse)
    with pytest.raises(ValidationError, match=r"^Entry 1 .*cannot be completed") as exc:
        casebook_entries_save(
            registration=cb.registration,
            entries=[FormEntry("C1D1", "vital_signs", {**VITALS, "systolic_bp": "400"}, 0, True)],
            by=nurse,
        )
    assert exc.value.extra["field"] == "systolic_bp"
    with pytest.raises(NotFoundError, match=r"^Entry 2 \(form ecog at C9D1\): Visit 'C9D1'"):
        casebook_entries_save(
            registration=cb.registration,
            entries=[ENTRIES[1], FormEntry("C9D1", "ecog", {}, 0)],
            by=nurse,
        )
    with pytest.raises(ValidationError, match=r"^Entry 2 .*already an entry of this batch"):
        casebook_entries_save(
            registration=cb.registration, entries=[ENTRIES[0], ENTRIES[0]], by=nurse
        )
    _nothing_saved(before)


def test_a_stale_form_in_a_batch_saves_nothing(cb):
    nurse = cb.users["nurse"]
    casebook_entries_save(registration=cb.registration, entries=[ENTRIES[5]], by=nurse)
    before = (AuditEvent.objects.count(), LabResult.objects.count())
    with pytest.raises(ConflictError, match=r"^Entry 2 \(form ecog at C1D1\): .*version 1") as exc:
        casebook_entries_save(
            registration=cb.registration, entries=[ENTRIES[1], ENTRIES[5]], by=nurse
        )
    assert exc.value.extra["current_version"] == 1
    assert (AuditEvent.objects.count(), LabResult.objects.count()) == before


def test_a_batch_needs_the_rights_of_a_single_save(cb):
    before = _crfs_events()
    with pytest.raises(PermissionDeniedError):
        casebook_entries_save(
            registration=cb.registration, entries=ENTRIES[:2], by=cb.users["shared_monitor"]
        )
    _nothing_saved(before)


def _post(cb: Any, user: str, entries: list[dict[str, Any]]) -> Any:
    from django.test import Client

    c = Client()
    c.force_login(cb.users[user], backend="django.contrib.auth.backends.ModelBackend")
    return c.post(
        f"/api/v1/crfs/registrations/{cb.registration.pk}/entries",
        {"entries": entries},
        content_type="application/json",
    )


API_ENTRIES = [
    {"kind": "form", "visit_code": "C1D1", "form_name": "vital_signs", "data": VITALS,
     "version": 0, "complete": True},
    {"kind": "lab", "analyte": "ALT", "value": 30, "unit": "U/L", "sampled_on": "2026-11-13",
     "uln": 40, "visit_code": "C1D1"},
    {"kind": "administration", "agent": "Drug B", "dose": 50, "unit": "mg",
     "administered_on": "2026-11-13", "visit_code": "C1D1"},
]  # fmt: skip


def test_the_api_saves_a_batch_all_or_nothing_for_those_who_may_enter_data(cb):
    before = _crfs_events()
    assert _post(cb, "shared_monitor", API_ENTRIES).status_code == 403
    bad = {**API_ENTRIES[1], "unit": "mmol/L"}
    refused = _post(cb, "nurse", [API_ENTRIES[0], bad, API_ENTRIES[2]])
    assert refused.status_code == 422
    body = refused.json()
    assert body["message"].startswith("Entry 2 (lab ALT): ")
    assert (body["extra"]["entry"], body["extra"]["field"]) == (2, "unit")
    _nothing_saved(before)
    ok = _post(cb, "nurse", API_ENTRIES)
    assert ok.status_code == 201
    assert [(r["kind"], r["version"]) for r in ok.json()] == [
        ("form", 1),
        ("lab", 1),
        ("administration", 1),
    ]
    lab = LabResult.objects.get(pk=ok.json()[1]["id"])
    assert (lab.analyte, lab.value, lab.visit_code) == ("alt", 30, "C1D1")
    assert DrugAdministration.objects.get().dose == 50
    assert FormInstance.objects.get().status == "complete"
