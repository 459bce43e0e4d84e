"""Many entries of one casebook saved at once: forms, lab values and drug administrations.

::

    casebook_entries_save(*, registration, entries, by) -> list[FormInstance | LabResult |
                                                             DrugAdministration]

For an import, an API client or the demo that enters a patient's visits together. The result is
that of saving the entries one by one, in their order, with ``form_save``,
``lab_result_create`` and ``administration_record``, all in one transaction: the same rules and
messages, the same rows, and one audit event per record (and per automatic query) with the same
content, in the same order. What is done once instead of per entry: the check of the caller's
rights on the registration, the reading of the visit calendar, of the trial's forms, of the
regimen and of the pre-treatment lab values (the baselines, which the batch's own earlier values
join as they would in the database), the lock of the forms already saved (one query), the
inserts of new records (one statement per table) and the append of the audit events (one lock of
the chain's head).

All or nothing: the first entry that breaks a rule saves nothing of the batch, and its error
names the entry (``Entry 3 (lab alt): ...``; ``extra["entry"]``: its number from 1) and keeps
the field of the rule (``extra["field"]``).

Two differences with saving one by one, both documented here:

* a form may be entered once per batch (the second entry of one form of one visit is refused,
  naming it: send the corrections in a later batch, with the version the first one returned);
* the record listeners (``hooks.py``: the DLT review) hear of each lab value and administration
  in the entries' order, after all the batch's records are written, so a review run for an
  early value already sees the later ones: it leaves the DLT cases the last one-by-one save
  would have left, without proposing on the way cases a later value withdraws.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action
from oncotrials.apps.accounts.models import User
from oncotrials.apps.audit.services import audit_batch
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.subjects.selectors import registration_calendar
from oncotrials.apps.subjects.visit_evidence import evidence_for
from oncotrials.apps.trials.models import DoseLevel
from oncotrials.core.crf.declarations import FormSpec
from oncotrials.core.errors import ConflictError, OncotrialsError, ValidationError
from oncotrials.core.schedule import VISIT_EVIDENCE_PREFIX

from .hooks import notify_record_changed
from .models import DataQuery, DrugAdministration, FormInstance, LabResult, Modification, QueryEvent
from .services import (
    _administration_audit_created,
    _administration_new,
    _check_query_audit,
    _check_query_new,
    _check_warnings,
    _form_absent_check,
    _form_audit_created,
    _form_checked,
    _form_new,
    _form_update,
    _form_update_check,
    _lab_audit_created,
    _lab_new,
    _require,
    _sync_check_queries,
    form_spec_checked,
    forms_for_trial,
    no_schedule_error,
    regimen_for,
)


@dataclass(frozen=True)
class FormEntry:
    """A form of a visit, as ``form_save`` takes it."""

    visit_code: str
    form_name: str
    data: Mapping[str, Any]
    version: int = 0
    complete: bool = False
    reason: str = ""


@dataclass(frozen=True)
class LabEntry:
    """A lab value, as ``lab_result_create`` takes it."""

    analyte: str
    value: Any
    unit: str
    sampled_on: dt.date
    lln: Any = None
    uln: Any = None
    visit_code: str = ""
    limit_unit: str = ""


@dataclass(frozen=True)
class DoseEntry:
    """A drug administration, as ``administration_record`` takes it."""

    agent: str
    dose: Any
    unit: str
    administered_on: dt.date
    modification: str = Modification.NONE
    modification_reason: str = ""
    visit_code: str = ""


Entry = FormEntry | LabEntry | DoseEntry


def _label(entry: Entry) -> str:
    if isinstance(entry, FormEntry):
        return gettext("form %(form_name)s at %(visit_code)s") % {
            "form_name": entry.form_name,
            "visit_code": entry.visit_code,
        }
    if isinstance(entry, LabEntry):
        return gettext("lab %(analyte)s") % {"analyte": entry.analyte}
    return gettext("dose of %(agent)s") % {"agent": entry.agent}


def _at(number: int, entry: Entry, exc: OncotrialsError) -> OncotrialsError:
    """The error of one entry, naming it (same class, code and details)."""
    return type(exc)(
        gettext("Entry %(number)s (%(label)s): %(message)s")
        % {"number": number, "label": _label(entry), "message": exc.message},
        code=exc.code,
        **{**exc.extra, "entry": number},
    )


@dataclass
class _Reads:
    """What the batch reads once: the calendar's forms, the trial's forms, the regimen and the
    pre-treatment lab values."""

    registration: Registration
    _known: dict[str, tuple[str, ...]] | None = None
    _evidence: dict[str, list[dt.date]] | None = None
    _specs: dict[str, FormSpec] | None = None
    _regimen: list[DoseLevel] | None = None
    # (analyte, unit) -> (sampled on, order, value) of the latest pre-treatment value
    _baselines: dict[tuple[str, str], tuple[dt.date, int, Decimal]] | None = None
    added: dict[str, list[dt.date]] = field(default_factory=dict)  # the batch's own evidence

    def form_spec(self, visit_code: str, form_name: str) -> FormSpec:
        """As ``services._form_spec``: the calendar without evidence, else the full one (with
        the evidence of the batch's earlier entries, as their rows would give it)."""
        reg = self.registration
        if self._known is None:
            calendar = registration_calendar(registration=reg, evidence={})
            self._known = {} if calendar is None else {v.code: v.forms for v in calendar.visits}
        forms = self._known
        if form_name not in forms.get(visit_code, ()):
            if self._evidence is None:
                self._evidence = evidence_for([reg.pk]).get(reg.pk, {})
            evidence = {k: [*v, *self.added.get(k, [])] for k, v in self._evidence.items()}
            evidence |= {k: v for k, v in self.added.items() if k not in evidence}
            calendar = registration_calendar(registration=reg, evidence=evidence)
            if calendar is None:
                raise no_schedule_error(reg)
            forms = {v.code: v.forms for v in calendar.visits}
        if self._specs is None:
            self._specs = forms_for_trial(reg.trial)
        return form_spec_checked(forms, self._specs, visit_code, form_name)

    def attest(self, visit_code: str, on: dt.date) -> None:
        if visit_code:
            self.added.setdefault(VISIT_EVIDENCE_PREFIX + visit_code, []).append(on)

    def regimen(self) -> list[DoseLevel]:
        if self._regimen is None:
            self._regimen = regimen_for(self.registration)
        return self._regimen

    def baseline_for(self, unit: str, sampled_on: dt.date) -> Any:
        """As ``services._baseline`` for a value sampled on ``sampled_on``."""
        start = self.registration.treatment_start

        def baseline_of(key: str) -> Decimal | None:
            if start is None or sampled_on <= start:
                return None
            found = self._read_baselines(start).get((key, unit.strip()))
            return None if found is None else found[2]

        return baseline_of

    def lab_added(self, lab: LabResult, order: int) -> None:
        """A value of the batch, a baseline for the later ones when before treatment."""
        start = self.registration.treatment_start
        if start is None or lab.sampled_on > start:
            return
        baselines = self._read_baselines(start)
        key = (lab.analyte, lab.unit)
        candidate = (lab.sampled_on, order, lab.value)
        if key not in baselines or baselines[key][:2] < candidate[:2]:
            baselines[key] = candidate

    def _read_baselines(
        self, start: dt.date
    ) -> dict[tuple[str, str], tuple[dt.date, int, Decimal]]:
        if self._baselines is None:
            self._baselines = {}
            rows = LabResult.objects.filter(
                registration=self.registration, sampled_on__lte=start
            ).values_list("analyte", "unit", "sampled_on", "id", "value")
            for analyte, unit, on, pk, value in rows:
                have = self._baselines.get((analyte, unit))
                if have is None or have[:2] < (on, pk):
                    self._baselines[(analyte, unit)] = (on, pk, value)
        return self._baselines


_AFTER_SAVED = 1 << 62  # the batch's values come after every saved one (ids only grow)


@transaction.atomic
def casebook_entries_save(
    *, registration: Registration, entries: Sequence[Entry], by: User
) -> list[FormInstance | LabResult | DrugAdministration]:
    """Save ``entries`` of one registration's casebook together (see the module's docstring);
    returns the records in the entries' order."""
    _require(by, registration, Action.EDIT_CRF)
    reads = _Reads(registration)
    now = timezone.now()
    names = {e.form_name for e in entries if isinstance(e, FormEntry)}
    codes = {e.visit_code for e in entries if isinstance(e, FormEntry)}
    # The forms already saved, locked in one query (see form_save: no join in it).
    saved: dict[tuple[str, str], FormInstance] = {}
    if names:
        for f in (
            FormInstance.objects.select_for_update()
            .filter(registration=registration, form_name__in=names, visit_code__in=codes)
            .order_by("pk")
        ):
            saved[(f.visit_code, f.form_name)] = f
    records: list[FormInstance | LabResult | DrugAdministration] = []
    checked: dict[int, tuple[dict[str, Any], list[Any]]] = {}  # form entry -> (values, issues)
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(entries):
        try:
            if isinstance(entry, FormEntry):
                key = (entry.visit_code, entry.form_name)
                spec = reads.form_spec(*key)
                clean, issues = _form_checked(
                    spec, entry.form_name, entry.data, complete=entry.complete
                )
                if key in seen:
                    raise ValidationError(
                        gettext(
                            "The %(form_name)s form of %(visit_code)s is already an entry of "
                            "this batch; enter a form once per batch."
                        )
                        % {"form_name": entry.form_name, "visit_code": entry.visit_code},
                        field="form_name",
                    )
                seen.add(key)
                existing = saved.get(key)
                if existing is None:
                    _form_absent_check(entry.form_name, entry.visit_code, entry.version)
                    record: Any = _form_new(
                        registration,
                        entry.visit_code,
                        entry.form_name,
                        clean,
                        issues,
                        complete=entry.complete,
                        now=now,
                        by=by,
                    )
                    reads.attest(entry.visit_code, timezone.localtime(now).date())
                else:
                    _form_update_check(existing, version=entry.version, reason=entry.reason)
                    record = existing
                checked[i] = (clean, issues)
            elif isinstance(entry, LabEntry):
                record = _lab_new(
                    registration,
                    analyte=entry.analyte,
                    value=entry.value,
                    unit=entry.unit,
                    sampled_on=entry.sampled_on,
                    lln=entry.lln,
                    uln=entry.uln,
                    visit_code=entry.visit_code,
                    limit_unit=entry.limit_unit,
                    now=now,
                    by=by,
                    baseline_of=reads.baseline_for(entry.unit, entry.sampled_on),
                )
                reads.lab_added(record, _AFTER_SAVED + i)
                if entry.visit_code:
                    reads.attest(record.visit_code, entry.sampled_on)
            else:
                record = _administration_new(
                    registration,
                    agent=entry.agent,
                    dose=entry.dose,
                    unit=entry.unit,
                    administered_on=entry.administered_on,
                    modification=entry.modification,
                    modification_reason=entry.modification_reason,
                    visit_code=entry.visit_code,
                    now=now,
                    by=by,
                    regimen=reads.regimen(),
                )
                if entry.visit_code:
                    reads.attest(record.visit_code, entry.administered_on)
        except OncotrialsError as exc:
            raise _at(i + 1, entry, exc) from None
        records.append(record)
    _write(entries, records, saved, checked, now=now, by=by)
    return records


def _write(
    entries: Sequence[Entry],
    records: list[Any],
    saved: Mapping[tuple[str, str], FormInstance],
    checked: Mapping[int, tuple[dict[str, Any], list[Any]]],
    *,
    now: dt.datetime,
    by: User,
) -> None:
    """Insert the new records (one statement per table) and their automatic queries, then, in
    the entries' order, save the corrected forms, record the audit events and tell the
    listeners."""
    corrected = {id(f) for f in saved.values()}
    try:
        FormInstance.objects.bulk_create(
            [r for r in records if isinstance(r, FormInstance) and id(r) not in corrected]
        )
    except IntegrityError:  # another user created one of these forms since the lock was taken
        raise ConflictError(
            gettext(
                "One of the forms of this batch was saved by another user meanwhile. Nothing was "
                "saved: read the casebook again and send the batch with the current versions."
            )
        ) from None
    LabResult.objects.bulk_create([r for r in records if isinstance(r, LabResult)])
    DrugAdministration.objects.bulk_create(
        [r for r in records if isinstance(r, DrugAdministration)]
    )
    queries: dict[int, list[DataQuery]] = {}
    for i, (entry, record) in enumerate(zip(entries, records, strict=True)):
        if isinstance(entry, FormEntry) and entry.complete and id(record) not in corrected:
            queries[i] = [
                _check_query_new(record, issue, now)
                for issue in _check_warnings(checked[i][1]).values()
            ]
    raised = [q for qs in queries.values() for q in qs]
    DataQuery.objects.bulk_create(raised)
    QueryEvent.objects.bulk_create(
        [QueryEvent(query=q, action="raised", text=q.text, at=now, by=None) for q in raised]
    )
    with audit_batch():
        for i, (entry, record) in enumerate(zip(entries, records, strict=True)):
            if isinstance(entry, FormEntry):
                if id(record) in corrected:
                    clean, issues = checked[i]
                    changed = _form_update(
                        record,
                        clean,
                        issues,
                        complete=entry.complete,
                        version=entry.version,
                        reason=entry.reason,
                        now=now,
                        by=by,
                    )
                    if changed and entry.complete:
                        _sync_check_queries(record, issues, by=by)
                    continue
                _form_audit_created(record, by=by)
                for q in queries.get(i, []):
                    _check_query_audit(q, by=by)
            elif isinstance(entry, LabEntry):
                _lab_audit_created(record, by=by)
                notify_record_changed(record, on=entry.sampled_on, by=by)
            else:
                _administration_audit_created(record, by=by)
                notify_record_changed(
                    record,
                    on=entry.administered_on,
                    delayed=entry.modification == Modification.DELAY,
                    by=by,
                )
