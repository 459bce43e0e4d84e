"""DLT review: the trial's DLT rules, the patient's data as core input, proposed cases and
their adjudication, which drives the dosing state of the escalation cohort.

The DLT cases and their signed adjudication are the one record of DLTs. A patient's DLT outcome
(``dlt_statuses_for``: DLT, no DLT, not evaluable or pending, with the day of the DLT window and
why) is derived from them, the window and the exposure, and is what the escalation counts read
(registered with ``dosing.outcomes`` in ``SafetyConfig.ready``); dosing keeps no DLT outcome of
its own. In a trial in escalation without DLT rules, a grade >= 3 AE possibly related or more in
the DLT window is proposed as a pending case, so that it is adjudicated rather than missed."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import yaml
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, require, require_roles
from oncotrials.apps.accounts.models import User
from oncotrials.apps.accounts.prepared import PreparedRead
from oncotrials.apps.accounts.services import signing_reauthenticate
from oncotrials.apps.audit.services import audit_record, diff
from oncotrials.apps.crfs.hooks import RecordChange
from oncotrials.apps.crfs.models import DrugAdministration, LabResult, Modification
from oncotrials.apps.dosing.models import DltOutcome, EscalationPlan
from oncotrials.apps.dosing.outcomes import DltStatus
from oncotrials.apps.subjects.models import Registration, RegistrationStatus
from oncotrials.apps.subjects.selectors import registration_calendar
from oncotrials.apps.trials.models import Trial
from oncotrials.core.errors import ConflictError, OncotrialsError, ValidationError
from oncotrials.core.grading import (
    DltRules,
    Outcome,
    SubjectDecision,
    dlt_rules_from_dict,
    evaluate_subject,
    grade_lab,
    load_catalogue,
)
from oncotrials.core.grading.dlt import (
    Administration,
    DoseDelay,
    Episode,
    LabPoint,
    SubjectData,
    lab_series_episodes,
)

from .models import (
    NOT_EVALUABLE_KEY,
    ActionTaken,
    AdverseEvent,
    AstctAssessment,
    AstctScale,
    Attribution,
    DltCase,
    DltCaseStatus,
    DltRuleSet,
    RecordStatus,
)
from .rights import (
    RELATEDNESS,
    agents_for_registration,
)
from .selectors import DLT_RULES_KEY, HAS_ASTCT, REGISTRATION_LOCKED, roles_for_registration


@functools.lru_cache(maxsize=64)
def _rules_cached(rule_set_id: int, version: int, text: str) -> DltRules:
    import json

    return dlt_rules_from_dict(json.loads(text), source="DLT rules")


# Parsed rule sets by the identity read with a registration (``selectors.DLT_RULES_KEY``):
# a save whose registration carries it neither reads nor re-serialises the document.
_BY_KEY: dict[tuple[int, str], tuple[DltRuleSet, DltRules]] = {}
_BY_KEY_MAX = 256


def dlt_rules_forget() -> None:
    """Forget the parsed rule sets (the database was emptied: ids are given again)."""
    _BY_KEY.clear()


def dlt_rules_for(trial: Trial, key: Any = "") -> tuple[DltRuleSet, DltRules] | None:
    """The trial's rule set and its parsed rules. ``key``: the rule set's identity as read with
    the registration (None: the trial had no rules then; "": unknown, read them)."""
    import json

    if key is None:
        return None
    if key:
        found = _BY_KEY.get((trial.pk, key))
        if found is not None:
            return found
    rule_set = DltRuleSet.objects.filter(trial=trial).first()
    if rule_set is None:
        return None
    text = json.dumps(rule_set.document, sort_keys=True)
    result = rule_set, _rules_cached(rule_set.pk, rule_set.version, text)
    if key and str(key).split("|", 2)[:2] == [str(rule_set.pk), str(rule_set.version)]:
        if len(_BY_KEY) >= _BY_KEY_MAX:
            _BY_KEY.clear()
        _BY_KEY[(trial.pk, key)] = result
    return result


def _rules_of(registration: Registration) -> tuple[DltRuleSet, DltRules] | None:
    return dlt_rules_for(registration.trial, getattr(registration, DLT_RULES_KEY, ""))


def _lock_registration(registration: Registration) -> None:
    """Lock the registration row (its DLT cases are brought in line under it), unless it was
    read locked in this transaction."""
    if getattr(registration, REGISTRATION_LOCKED, False) and connection.in_atomic_block:
        return
    Registration.objects.select_for_update().filter(pk=registration.pk).first()


def parse_rule_document(document: Any) -> Any:
    if isinstance(document, str):
        try:
            return yaml.safe_load(document)
        except yaml.YAMLError as exc:
            raise ValidationError(
                gettext("The DLT rules are not valid YAML or JSON: %(exc)s") % {"exc": exc},
                field="document",
            ) from None
    return document


@transaction.atomic
def dlt_rules_save(
    *, trial: Trial, document: Any, by: User, version: int | None = None, reason: str = ""
) -> DltRuleSet:
    """Store the trial's DLT definition after the core loader has checked it."""
    require(by, Action.EDIT_DLT_RULES, on=trial)
    data = parse_rule_document(document)
    try:
        dlt_rules_from_dict(data, source=f"DLT rules of {trial.protocol_code}")
    except OncotrialsError as exc:  # the loader names unknown terms with NotFoundError
        extra = {k: v for k, v in exc.extra.items() if k != "field"}
        raise ValidationError(exc.message, field="document", **extra) from None
    existing = DltRuleSet.objects.select_for_update().filter(trial=trial).first()
    if existing is None:
        rule_set = DltRuleSet.objects.create(trial=trial, document=data, updated_by=by)
        audit_record(action="create", instance=rule_set, changes={"document": [None, data]}, by=by)
        return rule_set
    if version is not None and version != existing.version:
        raise ConflictError(
            gettext(
                "The DLT rules of %(protocol_code)s are now version %(current)s, not "
                "%(edited)s; reload them."
            )
            % {
                "protocol_code": trial.protocol_code,
                "current": existing.version,
                "edited": version,
            },
            current_version=existing.version,
        )
    if not reason.strip():
        raise ValidationError(gettext("Give a reason for changing the DLT rules."), field="reason")
    old = existing.document
    existing.document, existing.updated_by, existing.updated_at = data, by, timezone.now()
    existing.version += 1
    existing.save()
    audit_record(
        action="update", instance=existing, changes={"document": [old, data]}, reason=reason, by=by
    )
    return existing


def _first_dose(registration: Registration) -> dt.date:
    return registration.treatment_start or registration.registered_on


def _strongest(attribution: Mapping[str, str], agents: list[str]) -> str | None:
    values = [attribution.get(a) for a in agents]
    if not agents or any(not v for v in values):
        return None  # missing causality leaves the event pending: the investigator's call
    return max((str(v) for v in values), key=RELATEDNESS.index)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


ASTCT_TERMS = {AstctScale.CRS.value: "Cytokine release syndrome", AstctScale.ICANS.value: "ICANS"}


TOXICITY_ACTIONS = {
    "reduction": frozenset({ActionTaken.REDUCED.value}),
    "delay": frozenset({ActionTaken.INTERRUPTED.value}),
    "interruption": frozenset({ActionTaken.INTERRUPTED.value}),
}
TOXICITY_WORDS = ("toxicit", "adverse event", "side effect", "intoleran")
LIVER_TERMS = {
    "alt": "Alanine aminotransferase increased",
    "ast": "Aspartate aminotransferase increased",
    "bilirubin": "Blood bilirubin increased",
    "alp": "Alkaline phosphatase increased",
}


@dataclass(frozen=True, slots=True)
class _AeRow:
    pk: int
    term: str
    grade: int
    onset: dt.date
    resolution: dt.date | None
    attribution: str | None
    supportive_care: bool
    due_to_progression: bool
    action_taken: str

    def ongoing(self, start: dt.date, end: dt.date) -> bool:
        """Whether the event overlaps the days ``start`` .. ``end``."""
        return self.onset <= end and (self.resolution is None or self.resolution >= start)


def _names_toxicity(reason: str) -> bool:
    """A modification reason that names a toxicity: a CTCAE term or a word for toxicity."""
    text = reason.casefold()
    if not text.strip():
        return False
    if any(w in text for w in TOXICITY_WORDS):
        return True
    return any(len(t.term) > 4 and t.term.casefold() in text for t in load_catalogue())


def _cause(
    modification: str, reason: str, on: dt.date, due: dt.date | None, aes: list[_AeRow]
) -> tuple[bool, str | None]:
    """(due to toxicity, that toxicity's attribution) of a dose modification given ``on``
    (``due``: the planned date of a delayed dose, when known).

    The cause is the latest complete AE with the matching action taken: for a reduction one that
    began on or before the dose; for a delay or an interruption one still ongoing on the day the
    dose was due (a resolved event does not hold a dose back). Failing that, a reason naming a
    toxicity makes it due to toxicity with the attribution not recorded."""
    if modification not in TOXICITY_ACTIONS:
        return False, None
    wanted = TOXICITY_ACTIONS[modification]
    if modification == Modification.REDUCTION:
        causes = [a for a in aes if a.action_taken in wanted and a.onset <= on]
    else:
        day = due or on
        causes = [a for a in aes if a.action_taken in wanted and a.ongoing(day, day)]
    if causes:
        latest = max(causes, key=lambda a: (a.onset, a.pk))
        return True, latest.attribution
    return _names_toxicity(reason), None


def _regraded(
    registration: Registration,
    rows: list[tuple[Any, ...]],
    version: str,
) -> list[tuple[str, dt.date, str | None, int, Decimal, Decimal | None, int]]:
    """The rows as (analyte, day, term, grade, value, ULN, pk), graded again with the rule
    file's CTCAE version when they were saved under another one (as on save: against the
    latest pre-treatment value of the analyte in the same unit as baseline). A value the other
    version cannot grade keeps its grade from the save: a lab save is never refused for it."""
    start = registration.treatment_start
    out = []
    for analyte, on, term, grade, value, uln, pk, unit, lln, saved_version in rows:
        if saved_version != version:
            baseline = None
            if start is not None and on > start:
                before = [
                    r[4]
                    for r in rows
                    if r[0] == analyte and r[7] == unit and r[1] <= start and r[6] != pk
                ]
                baseline = before[-1] if before else None  # rows are in date order
            try:
                result = grade_lab(
                    analyte, value, unit, lln=lln, uln=uln, baseline=baseline, version=version
                )
                term, grade = result.term, result.grade
            except OncotrialsError:  # the value as graded on save stands
                pass
        out.append((analyte, on, term or None, grade, value, uln, pk))
    return out


def _lab_input(
    registration: Registration,
    aes: list[_AeRow],
    ctcae_version: str = "5.0",
    rows: list[tuple[Any, ...]] | None = None,
) -> tuple[list[Episode], list[LabPoint], set[int]]:
    """Lab episodes, liver points for Hy's law, and the AEs the lab courses replace.

    An overlapping complete AE of the same term lends the lab episode its attribution; when the
    values reach the grade recorded for the AE, the AE is measured by the lab course (its id, so
    that the case names the AE); otherwise the AE's own course stands beside the lab episode."""
    if rows is None:
        rows = _LABS.rows(registration=registration.pk)
    series: dict[str, list[tuple[dt.date, str | None, int, Decimal, Decimal | None, int]]] = {}
    for analyte, on, term, grade, value, uln, pk in _regraded(registration, rows, ctcae_version):
        series.setdefault(analyte, []).append((on, term, grade, value, uln, pk))
    episodes: list[Episode] = []
    liver: list[LabPoint] = []
    replaced: set[int] = set()
    for analyte, values in series.items():
        graded = [(_midnight(on), term, grade) for on, term, grade, *_ in values]
        for ep in lab_series_episodes(f"LAB-{analyte}", graded, None):
            abnormal = [at.date() for at, g in ep.course if g > 0]
            if not abnormal:
                continue
            match = next(
                (
                    a
                    for a in sorted(aes, key=lambda a: (a.onset, a.pk))
                    if a.pk not in replaced
                    and a.term.casefold() == ep.term.casefold()
                    and a.ongoing(abnormal[0], abnormal[-1])
                ),
                None,
            )
            if match is None:
                episodes.append(ep)
                continue
            if ep.worst_grade < match.grade:
                # the values do not show the grade the investigator recorded: both stand
                episodes.append(replace(ep, attribution=match.attribution))
                continue
            replaced.add(match.pk)
            episodes.append(
                Episode(
                    id=f"AE-{match.pk}",
                    term=match.term,
                    scale="CTCAE",
                    course=ep.course,
                    attribution=match.attribution,
                    supportive_care=match.supportive_care,
                    due_to_disease_progression=match.due_to_progression,
                    source="adverse event measured by its lab series",
                )
            )
        if analyte in LIVER_TERMS:
            term = LIVER_TERMS[analyte].casefold()
            for on, _t, _g, value, uln, pk in values:
                cause = next(
                    (a for a in aes if a.term.casefold() == term and a.ongoing(on, on)), None
                )
                liver.append(
                    LabPoint(
                        _midnight(on),
                        analyte,
                        value,
                        uln,
                        cause.attribution if cause else None,
                        f"LAB-{pk}",
                    )
                )
    return episodes, liver, replaced


def _exposure_input(
    registration: Registration, aes: list[_AeRow], rows: list[tuple[Any, ...]] | None = None
) -> tuple[list[Administration], list[DoseDelay]]:
    """Administrations (dose given against planned) and delays (date given minus the target
    date of the visit in the schedule), each with its cause when it was modified."""
    if rows is None:
        rows = _ADMINISTRATIONS.rows(registration=registration.pk)
    targets: dict[str, dt.date] = {}
    if any(r[5] == Modification.DELAY for r in rows):
        calendar = registration_calendar(registration=registration)
        if calendar is not None:
            targets = {v.code: v.target for v in calendar.visits}
    administrations: list[Administration] = []
    delays: list[DoseDelay] = []
    for pk, agent, on, dose, planned, modification, reason, visit in rows:
        target = targets.get(visit) if visit else None
        toxic, attribution = _cause(modification, reason, on, target, aes)
        administrations.append(
            Administration(
                id=f"DA-{pk}",
                agent=agent,
                at=_midnight(on),
                dose=dose,
                planned_dose=planned,
                due_to_toxicity=toxic,
                attribution=attribution,
                modification=modification,
            )
        )
        if modification == Modification.DELAY:
            delays.append(
                DoseDelay(
                    id=f"DELAY-{pk}",
                    days=None if target is None else max((on - target).days, 0),
                    due_to_toxicity=toxic,
                    attribution=attribution,
                    planned_at=None if target is None else _midnight(target),
                )
            )
    return administrations, delays


def _fraction_received(
    administrations: list[Administration], first: dt.date, window_days: int | None
) -> Decimal | None:
    """The smallest per-agent fraction of the planned dose received in the window."""
    if window_days is None:
        return None
    last = first + dt.timedelta(days=window_days - 1)
    sums: dict[str, list[Decimal]] = {}
    for a in administrations:
        if a.planned_dose and first <= a.at.date() <= last:
            given, planned = sums.setdefault(a.agent, [Decimal(0), Decimal(0)])
            sums[a.agent] = [given + min(a.dose, a.planned_dose), planned + a.planned_dose]
    fractions = [g / p for g, p in sums.values() if p]
    return min(fractions) if fractions else None


# The reads of a DLT review, run on every complete AE save: compiled once per connection.
_AE_ROWS = PreparedRead(
    lambda registration: (
        AdverseEvent.objects.filter(
            registration_id=registration,
            voided_at__isnull=True,
            status=RecordStatus.COMPLETE,
            grade__isnull=False,
            onset_date__isnull=False,
        )
        .order_by("pk")
        .values_list(
            "pk",
            "term",
            "grade",
            "onset_date",
            "resolution_date",
            "attribution",
            "supportive_care",
            "due_to_progression",
            "action_taken",
        )
    ),
    "registration",
)
_LABS = PreparedRead(
    lambda registration: (
        LabResult.objects.filter(registration_id=registration)
        .order_by("sampled_on", "pk")
        .values_list(
            "analyte",
            "sampled_on",
            "term",
            "grade",
            "value",
            "uln",
            "pk",
            "unit",
            "lln",
            "ctcae_version",
        )
    ),
    "registration",
)
_ADMINISTRATIONS = PreparedRead(
    lambda registration: (
        DrugAdministration.objects.filter(registration_id=registration)
        .order_by("administered_on", "pk")
        .values_list(
            "pk",
            "agent",
            "administered_on",
            "dose",
            "planned_dose",
            "modification",
            "modification_reason",
            "visit_code",
        )
    ),
    "registration",
)
# On PostgreSQL the three reads above run as one statement (a save's DLT review is one round trip
# fewer than two): their rows side by side in one column layout, each column cast to the type of
# its slot, then put back in each read's column order, so that every row is the tuple the read
# alone gives (the same driver values, the same converters). Slots: (name, SQL type).
_SLOTS = (
    ("id", "bigint"),
    ("sk", "date"),
    ("t1", "text"),
    ("t2", "text"),
    ("t3", "text"),
    ("t4", "text"),
    ("i1", "integer"),
    ("d1", "date"),
    ("d2", "date"),
    ("n1", "numeric"),
    ("n2", "numeric"),
    ("n3", "numeric"),
    ("b1", "boolean"),
    ("b2", "boolean"),
    ("j1", "text"),  # a JSON column, as the text the driver gives (the converter parses it)
    # the DLT cases (read locked with the others when a review brings them in line)
    ("k1", "bigint"),
    ("k2", "bigint"),
    ("k3", "bigint"),
    ("i2", "integer"),
    ("i3", "integer"),
    ("i4", "integer"),
    ("t5", "text"),
    ("t6", "text"),
    ("t7", "text"),
    ("t8", "text"),
    ("t9", "text"),
    ("ts1", "timestamptz"),
    ("ts2", "timestamptz"),
)
# Each read's columns in order, by slot; the column that orders its rows after the id (None: by id).
_REVIEW_PARTS: tuple[tuple[PreparedRead[Any], tuple[str, ...], int | None], ...] = (
    (_AE_ROWS, ("id", "t1", "i1", "d1", "d2", "j1", "b1", "b2", "t2"), None),
    (_LABS, ("t2", "d1", "t1", "i1", "n1", "n2", "id", "t3", "n3", "t4"), 1),
    (_ADMINISTRATIONS, ("id", "t1", "d1", "n1", "n2", "t2", "t3", "t4"), 2),
)
_SLOT_AT = {name: 2 + i for i, (name, _) in enumerate(_SLOTS)}  # after the part and the sort key


def _review_rows_sql(parts: list[str], cases: str | None = None) -> str:
    """One statement of the three reads' SQL (``parts``): part number, sort key, the slots.

    ``cases``: the SQL of the locked DLT cases read, run as a ``WITH`` query (a locking read
    cannot be a part of a ``UNION``) whose rows come fourth, in id order."""
    layouts = list(_REVIEW_PARTS)
    sources = [f"({sql})" for sql in parts]
    if cases is not None:
        assert _CASE_SLOTS is not None
        layouts.append((_CASES_LOCKED, _CASE_SLOTS, None))
        sources.append("locked_cases")
    selects = []
    for n, (source, (_, columns, order)) in enumerate(zip(sources, layouts, strict=True)):
        by_slot = {slot: k for k, slot in enumerate(columns)}
        values = [str(n), "NULL::date" if order is None else f"s.c{order}::date"]
        for name, kind in _SLOTS:
            k = by_slot.get(name)
            values.append(f"NULL::{kind}" if k is None else f"s.c{k}::{kind}")
        aliases = ", ".join(f"c{k}" for k in range(len(columns)))
        # the reads' own compiled SQL and fixed names: no value of a request is in the text
        selects.append(f"SELECT {', '.join(values)} FROM {source} AS s({aliases})")  # noqa: S608
    # each read's order: the part, then its date (none for the AEs and the cases), then the id
    union = " UNION ALL ".join(selects) + f" ORDER BY 1, 2 NULLS FIRST, {_SLOT_AT['id'] + 1}"
    if cases is None:
        return union
    # MATERIALIZED: every case row is read, and locked, whatever the outer query reads of it
    return f"WITH locked_cases AS MATERIALIZED ({cases}) {union}"


ReviewReads = tuple[list[tuple[Any, ...]], Any, list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _review_rows(registration_id: int) -> ReviewReads:
    """The registration's complete AE rows as the driver gives them with their converter
    (``_AE_ROWS.raw_rows``), its lab rows (``_LABS.rows``) and its administration rows
    (``_ADMINISTRATIONS.rows``): one statement on PostgreSQL, three elsewhere."""
    if connection.vendor != "postgresql":
        raw, convert = _AE_ROWS.raw_rows(registration=registration_id)
        return (
            raw,
            convert,
            _LABS.rows(registration=registration_id),
            _ADMINISTRATIONS.rows(registration=registration_id),
        )
    reads, _ = _review_statement(registration_id, cases=False)
    return reads


def _review_rows_and_cases(
    registration_id: int,
) -> tuple[ReviewReads, list[tuple[Any, ...]] | None]:
    """``_review_rows`` and, on PostgreSQL, the registration's DLT cases as ``_CASES_LOCKED``
    gives them, read and locked by the same statement (one round trip fewer per review); None
    elsewhere (the cases are then read when they are brought in line)."""
    if connection.vendor != "postgresql" or _CASE_SLOTS is None:
        return _review_rows(registration_id), None
    return _review_statement(registration_id, cases=True)


def _review_statement(
    registration_id: int, *, cases: bool
) -> tuple[ReviewReads, list[tuple[Any, ...]] | None]:
    bound = [read.bound(registration=registration_id) for read, _, _ in _REVIEW_PARTS]
    layouts = [columns for _, columns, _ in _REVIEW_PARTS]
    locked = None
    if cases:
        assert _CASE_SLOTS is not None
        locked = _CASES_LOCKED.bound(locking=True, registration=registration_id)
        layouts.append(_CASE_SLOTS)
    key = (*(sql for sql, _, _ in bound), locked[0] if locked else "")
    sql = _review_sql.get(key)
    if sql is None:
        sql = _review_sql[key] = _review_rows_sql(
            [sql for sql, _, _ in bound], locked[0] if locked else None
        )
    params = [p for _, part_params, _ in bound for p in part_params]
    if locked:
        params = [*locked[1], *params]  # the WITH query comes first in the text
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out: list[list[tuple[Any, ...]]] = [[] for _ in layouts]
    positions = [[_SLOT_AT[slot] for slot in columns] for columns in layouts]
    for row in rows:
        part = row[0]
        out[part].append(tuple(row[i] for i in positions[part]))
    convert_labs, convert_administrations = bound[1][2], bound[2][2]
    reads = (
        out[0],
        bound[0][2],
        [convert_labs(r) for r in out[1]],
        [convert_administrations(r) for r in out[2]],
    )
    if locked is None:
        return reads, None
    convert_case = locked[2]
    return reads, [convert_case(r) for r in out[3]]


_review_sql: dict[tuple[str, ...], str] = {}


_ASSESSMENTS = PreparedRead(
    lambda registration: AstctAssessment.objects.filter(registration_id=registration).order_by(
        "assessed_at", "pk"
    ),
    "registration",
)
# The cases as rows of all their columns: most saves leave every case as it is, and only a case
# that changes is made a model instance (``_case_instance``).
_CASE_COLUMNS = tuple(f.attname for f in DltCase._meta.concrete_fields)
_CASES_LOCKED = PreparedRead(
    lambda registration: (
        DltCase.objects.select_for_update()
        .filter(registration_id=registration)
        .order_by("pk")
        .values_list(*_CASE_COLUMNS)
    ),
    "registration",
)


def _case_slots() -> tuple[str, ...] | None:
    """The slot of each case column in the review statement, by the column's type (None: a
    column of a type the slots do not take; the cases are then read on their own)."""
    kinds = {
        "BigAutoField": "bigint",
        "ForeignKey": "bigint",
        "CharField": "text",
        "TextField": "text",
        "PositiveSmallIntegerField": "integer",
        "IntegerField": "integer",
        "PositiveIntegerField": "integer",
        "DateTimeField": "timestamptz",
    }
    free: dict[str, list[str]] = {}
    for name, kind in _SLOTS:  # the id slot first: it orders the rows
        if name not in ("sk", "j1"):
            free.setdefault(kind, []).append(name)
    slots = []
    for f in DltCase._meta.concrete_fields:
        slot_kind = kinds.get(f.get_internal_type())
        if slot_kind is None or not free.get(slot_kind):
            return None
        slots.append(free[slot_kind].pop(0))
    return tuple(slots) if slots[0] == "id" else None


_CASE_SLOTS = _case_slots()


# What each complete AE row gives the evaluation (its row and its episode), by the row as the
# database gave it and the regimen's agents: every save reads all of the patient's AEs, nearly all
# unchanged since the last save. A function of those values only (an AE changed in any column
# read is another key). Bounded: a full table is emptied.
_AE_INPUT_MAX = 16_384
_ae_inputs: dict[tuple[tuple[Any, ...], tuple[str, ...]], tuple[_AeRow, Episode]] = {}


def _ae_episode(ae: _AeRow) -> Episode:
    course: list[tuple[dt.datetime, int]] = [(_midnight(ae.onset), ae.grade)]
    if ae.resolution is not None:
        course.append((_midnight(ae.resolution), 0))  # the day it fell below that grade
    return Episode(
        id=f"AE-{ae.pk}",
        term=ae.term,
        scale="CTCAE",
        course=tuple(course),
        attribution=ae.attribution,
        supportive_care=ae.supportive_care,
        due_to_disease_progression=ae.due_to_progression,
    )


def _ae_input(
    registration: Registration, read: tuple[list[tuple[Any, ...]], Any] | None = None
) -> tuple[list[_AeRow], list[Episode]]:
    """The registration's complete AEs (in id order) and their episodes (``read``: their rows
    as the driver gave them, with their converter)."""
    agents = tuple(agents_for_registration(registration))
    raw, convert = read if read is not None else _AE_ROWS.raw_rows(registration=registration.pk)
    aes: list[_AeRow] = []
    episodes: list[Episode] = []
    for row in raw:
        key = (row, agents)
        try:
            found, remember = _ae_inputs.get(key), True
        except TypeError:  # a value the driver gave that cannot be hashed
            found, remember = None, False
        if found is None:
            pk, term, grade, onset, resolution, attr, sc, prog, action = convert(row)
            if grade is None or onset is None:  # filtered by the read; narrows the types
                continue
            ae = _AeRow(
                pk, term, grade, onset, resolution, _strongest(attr, list(agents)), sc, prog, action
            )
            found = (ae, _ae_episode(ae))
            if remember:
                if len(_ae_inputs) >= _AE_INPUT_MAX:
                    _ae_inputs.clear()
                _ae_inputs[key] = found
        aes.append(found[0])
        episodes.append(found[1])
    return aes, episodes


def subject_data(
    registration: Registration,
    *,
    today: dt.date | None = None,
    window_days: int | None = None,
    ctcae_version: str = "5.0",
) -> SubjectData:
    """The registration's data as core DLT evaluation input: complete AEs, ASTCT courses, lab
    series (values as graded with CTCAE when saved), drug administrations and dose delays.

    Every value was checked when it was saved (catalogue term, grade, dates), so the episodes are
    built directly rather than re-validated as a rule-file document on every save.
    """
    return _subject_data(
        registration,
        _review_rows(registration.pk),
        today=today,
        window_days=window_days,
        ctcae_version=ctcae_version,
    )


def _subject_data(
    registration: Registration,
    reads: ReviewReads,
    *,
    today: dt.date | None,
    window_days: int | None,
    ctcae_version: str,
) -> SubjectData:
    today = today or timezone.localdate()
    first = _first_dose(registration)
    ae_raw, ae_convert, lab_rows, administration_rows = reads
    aes, ae_episodes = _ae_input(registration, (ae_raw, ae_convert))
    lab_episodes, liver, replaced = _lab_input(registration, aes, ctcae_version, lab_rows)
    episodes = [e for ae, e in zip(aes, ae_episodes, strict=True) if ae.pk not in replaced]
    episodes.extend(lab_episodes)
    by_scale: dict[str, list[AstctAssessment]] = {}
    assessments = (
        _ASSESSMENTS.objects(registration=registration.pk)
        if getattr(registration, HAS_ASTCT, True)  # read with it: none, no query
        else []
    )
    for a in assessments:
        by_scale.setdefault(a.scale, []).append(a)
    for scale, points in by_scale.items():
        if all(p.grade == 0 for p in points):
            continue
        attributions = [p.attribution for p in points if p.attribution]
        episodes.append(
            Episode(
                id=scale,
                term=ASTCT_TERMS[scale],
                scale=scale,
                course=tuple((p.assessed_at.astimezone(dt.UTC), p.grade) for p in points),
                attribution=max(attributions, key=RELATEDNESS.index) if attributions else None,
            )
        )
    administrations, delays = _exposure_input(registration, aes, administration_rows)
    return SubjectData(
        subject_id=registration.patient.research_id,
        first_dose=_midnight(first),
        episodes=tuple(episodes),
        dose_delays=tuple(delays),
        liver_labs=tuple(liver),
        administrations=tuple(administrations),
        followed_through_day=max((today - first).days + 1, 1),
        fraction_planned_dose_received=_fraction_received(administrations, first, window_days),
    )


def _reevaluate_if_touched(
    registration: Registration, days: tuple[dt.date | None, ...], by: User, *, after: int = 0
) -> None:
    """Propose DLT cases when one of ``days`` lies in the DLT window (``after``: days past its
    end that still count). No dosing change: that is the investigator's adjudication.

    Without DLT rules, a patient of an escalation cohort still has a window (that of the
    escalation plan, or one 28-day cycle): a grade >= 3 AE possibly related or more in it is
    proposed as pending."""
    if registration.dose_level_id is None:
        return
    pending = _DEFERRED_REVIEW.get()
    if pending is not None and registration.pk in pending:
        return  # already to be reviewed when the deferring block ends: nothing to decide now
    found = _rules_of(registration)
    if found is None:
        if not EscalationPlan.objects.filter(cohort_id=registration.cohort_id).exists():
            return
        window, _ = dlt_window_for(registration, None)
    else:
        window = found[1].window_days
    first = _first_dose(registration)
    last = first + dt.timedelta(days=window - 1 + after)
    if not any(d is not None and first <= d <= last for d in days):
        return
    if pending is not None:
        pending.setdefault(registration.pk, (registration, by))
        return
    _review(registration, found, window, by)  # inside the caller's transaction


def _review(
    registration: Registration, found: tuple[DltRuleSet, DltRules] | None, window: int, by: User
) -> None:
    if found is None:
        _propose_without_rules(registration, window, by)
    else:
        _propose_cases(registration, found[0], found[1], by)


_DEFERRED_REVIEW: ContextVar[dict[int, tuple[Registration, User]] | None] = ContextVar(
    "dlt_review_deferred", default=None
)


@contextmanager
def dlt_review_deferred() -> Iterator[None]:
    """Review once, when the block ends, each patient whose records inside the block touched
    the DLT window, instead of after every record (for loading many records at once, e.g. the
    demo). The review reads all the patient's records, so the cases it leaves are those the last
    record's review would have left; proposals that a later record of the block withdraws are
    never made. The cases are proposed in the name of the first user whose record called for
    the review. Nothing inside the block may read the DLT cases it changes. The block runs in
    a transaction; a nested block joins the outer one."""
    if _DEFERRED_REVIEW.get() is not None:
        yield
        return
    pending: dict[int, tuple[Registration, User]] = {}
    with transaction.atomic():
        token = _DEFERRED_REVIEW.set(pending)
        try:
            yield
        finally:
            _DEFERRED_REVIEW.reset(token)
        for registration, by in pending.values():
            found = _rules_of(registration)
            window = found[1].window_days if found else dlt_window_for(registration, None)[0]
            _review(registration, found, window, by)


def dlt_reevaluate_quietly(
    ae: AdverseEvent, by: User, *, onset_before: dt.date | None = None
) -> None:
    """Propose DLT cases after an AE change (or its voiding) that touches the DLT window."""
    _reevaluate_if_touched(ae.registration, (ae.onset_date, onset_before), by)


def dlt_reevaluate_after_lab(
    registration: Registration, *, sampled_on: dt.date, by: User, before: dt.date | None = None
) -> None:
    """Propose DLT cases after a lab value in the window was recorded or changed (``before``:
    its date before the change). Later values count too: they may end an episode of the window."""
    # a value after the window can still close (or prolong) an episode that began in it
    _reevaluate_if_touched(registration, (sampled_on, before), by, after=366)


def dlt_reevaluate_after_administration(
    registration: Registration,
    *,
    administered_on: dt.date,
    by: User,
    before: dt.date | None = None,
    delayed: bool = False,
) -> None:
    """Propose DLT cases after a drug administration in the window (or a delay, whose planned
    date decides) was recorded or changed."""
    after = 366 if delayed else 1
    _reevaluate_if_touched(registration, (administered_on, before), by, after=after)


def dlt_reevaluate_after_record(change: RecordChange) -> None:
    """The crfs record listener (registered in ``SafetyConfig.ready``): a lab value or a drug
    administration was recorded or changed."""
    if isinstance(change.record, LabResult):
        dlt_reevaluate_after_lab(
            change.registration, sampled_on=change.on, before=change.before, by=change.by
        )
    elif isinstance(change.record, DrugAdministration):
        dlt_reevaluate_after_administration(
            change.registration,
            administered_on=change.on,
            before=change.before,
            delayed=change.delayed,
            by=change.by,
        )


@transaction.atomic
def dlt_evaluate(*, registration: Registration, by: User) -> tuple[SubjectDecision, list[DltCase]]:
    """Evaluate the patient's events with the trial's DLT rules; propose cases for DLT/pending.

    Whoever runs it, the dosing state follows the cases: it is derived from them
    (``dlt_statuses_for``), never written here."""
    roles = roles_for_registration(by, registration)
    require_roles(roles, Action.RECORD_AE)
    found = dlt_rules_for(registration.trial)
    if found is None:
        raise ValidationError(
            gettext("%(protocol_code)s has no DLT rules yet; save its DLT definition first.")
            % {"protocol_code": registration.trial.protocol_code},
            field="trial",
        )
    rule_set, rules = found
    decision = _propose_cases(registration, rule_set, rules, by)
    return decision, list(DltCase.objects.filter(registration=registration).order_by("pk"))


def _propose_cases(
    registration: Registration, rule_set: DltRuleSet, rules: DltRules, by: User
) -> SubjectDecision:
    """Run the rules and bring the patient's proposed cases in line (call inside a transaction).

    The registration row is locked so that two saves for one patient never race on its cases.
    """
    _lock_registration(registration)
    reads, cases = _review_rows_and_cases(registration.pk)
    data = _subject_data(
        registration,
        reads,
        today=None,
        window_days=rules.window_days,
        ctcae_version=rules.ctcae_version,
    )
    decision = evaluate_subject(data, rules)
    wanted: dict[str, dict[str, Any]] = {}
    for ev in decision.events:
        if ev.outcome not in (Outcome.DLT, Outcome.PENDING):
            continue
        key = ev.event_id[:64]
        wanted[key] = {
            "adverse_event_id": int(key[3:]) if key.startswith("AE-") else None,
            "term": ev.term,
            "worst_grade": ev.worst_grade,
            "onset_day": ev.onset_day,
            "proposed_outcome": ev.outcome.value,
            "rule_id": ev.rule_id or "",
            "reason": ev.reason,
            "rules_version": rule_set.version,
        }
    _sync_cases(
        registration, wanted, by, gone="the DLT rules no longer propose this event", rows=cases
    )
    return decision


def _propose_without_rules(registration: Registration, window_days: int, by: User) -> None:
    """A trial in escalation without DLT rules: propose each complete grade >= 3 AE with an
    attribution of possible or stronger to any agent, with onset in the DLT window, as a pending
    case for the investigator to adjudicate (call inside a transaction)."""
    _lock_registration(registration)
    first = _first_dose(registration)
    last = first + dt.timedelta(days=window_days - 1)
    related = RELATEDNESS[RELATEDNESS.index(Attribution.POSSIBLE) :]
    wanted: dict[str, dict[str, Any]] = {}
    for ae in AdverseEvent.objects.filter(
        registration=registration,
        voided_at__isnull=True,
        status=RecordStatus.COMPLETE,
        grade__gte=3,
        onset_date__range=(first, last),
    ).order_by("pk"):
        strongest = max(
            (str(v) for v in ae.attribution.values() if v in RELATEDNESS),
            key=RELATEDNESS.index,
            default=None,
        )
        if strongest not in related:
            continue
        assert ae.onset_date is not None
        day = (ae.onset_date - first).days + 1
        wanted[f"AE-{ae.pk}"] = {
            "adverse_event_id": ae.pk,
            "term": ae.term,
            "worst_grade": ae.grade,
            "onset_day": day,
            "proposed_outcome": Outcome.PENDING.value,
            "rule_id": "",
            "reason": (
                f"grade {ae.grade}, attribution {strongest}, onset on day {day} of the "
                f"{window_days}-day DLT window; {registration.trial.protocol_code} has no DLT "
                f"rules: the investigator decides whether it is a DLT"
            ),
            "rules_version": 0,
        }
    _sync_cases(
        registration, wanted, by, gone="no longer a grade >= 3 related event in the DLT window"
    )


def _case_instance(row: dict[str, Any]) -> DltCase:
    """A case read by ``_CASES_LOCKED`` as the model instance the queryset would have given."""
    return DltCase.from_db(DEFAULT_DB_ALIAS, list(_CASE_COLUMNS), [row[c] for c in _CASE_COLUMNS])


def _sync_cases(
    registration: Registration,
    wanted: dict[str, dict[str, Any]],
    by: User,
    *,
    gone: str,
    rows: list[tuple[Any, ...]] | None = None,
) -> None:
    """Create or update the proposed cases ``wanted`` (event key -> values); drop the proposed
    cases no longer wanted. Adjudicated cases are never touched: the signature stands.

    ``rows``: the cases as ``_CASES_LOCKED`` gives them, already read and locked in this
    transaction (None: read and locked here)."""
    now = timezone.now()
    if rows is None:
        rows = _CASES_LOCKED.rows(registration=registration.pk)
    existing = {
        c["event_key"]: c for c in (dict(zip(_CASE_COLUMNS, row, strict=True)) for row in rows)
    }
    for key, values in wanted.items():
        row = existing.get(key)
        if row is None:
            case = DltCase.objects.create(
                registration=registration, event_key=key, evaluated_at=now, **values
            )
            audit_record(
                action="create",
                instance=case,
                changes={k: [None, v] for k, v in values.items()},
                by=by,
            )
        elif row["status"] == DltCaseStatus.PROPOSED:
            before = {k: row[k] for k in values}
            if before != values:
                case = _case_instance(row)
                for k, v in values.items():
                    setattr(case, k, v)
                case.evaluated_at = now
                case.version += 1
                case.save()
                audit_record(action="update", instance=case, changes=diff(before, values), by=by)
    for key, row in existing.items():
        if key not in wanted and row["status"] == DltCaseStatus.PROPOSED:
            # a proposal nobody signed, re-made on every evaluation: withdrawn, not voided
            case = _case_instance(row)
            audit_record(
                action="delete",
                instance=case,
                changes={"status": [case.status, None]},
                reason=gone,
                by=by,
            )
            case.delete()


# --------------------------------------------------------------- the patient's DLT outcome

DEFAULT_WINDOW_DAYS = 28  # one 28-day cycle: the window of a trial in escalation without rules


def _window(rules: DltRules | None, plan: EscalationPlan | None) -> tuple[int, str]:
    if rules is not None:
        return rules.window_days, "DLT rules"
    days = (plan.parameters or {}).get("dlt_window_days") if plan else None
    if isinstance(days, int) and not isinstance(days, bool) and days >= 1:
        return days, "escalation plan"
    return DEFAULT_WINDOW_DAYS, "default (no DLT rules)"


def dlt_window_for(registration: Registration, rules: DltRules | None) -> tuple[int, str]:
    """(days, where from) of the patient's DLT window: the trial's DLT rules, else the
    escalation plan's ``dlt_window_days``, else one 28-day cycle."""
    plan = (
        None if rules else EscalationPlan.objects.filter(cohort_id=registration.cohort_id).first()
    )
    return _window(rules, plan)


def _exposure_fractions(
    registrations: list[Registration], windows: dict[int, int]
) -> dict[int, Decimal]:
    """Per registration: the smallest per-agent fraction of the planned dose received in the
    window (as given to the rules), for the registrations with a planned dose recorded."""
    sums: dict[int, dict[str, list[Decimal]]] = {}
    starts = {r.pk: _first_dose(r) for r in registrations}
    for reg_id, agent, on, dose, planned in DrugAdministration.objects.filter(
        registration_id__in=list(windows), planned_dose__isnull=False
    ).values_list("registration_id", "agent", "administered_on", "dose", "planned_dose"):
        first = starts[reg_id]
        if not planned or not first <= on <= first + dt.timedelta(days=windows[reg_id] - 1):
            continue
        given, total = sums.setdefault(reg_id, {}).setdefault(agent, [Decimal(0), Decimal(0)])
        sums[reg_id][agent] = [given + min(dose, planned), total + planned]
    return {
        reg_id: min(g / p for g, p in per.values() if p)
        for reg_id, per in sums.items()
        if any(p for _, p in per.values())
    }


def _pct(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.1')).normalize():f}"


def dlt_statuses_for(registrations: Any, *, today: dt.date | None = None) -> dict[int, DltStatus]:
    """Each patient's DLT outcome, derived from the DLT cases and their signed adjudication,
    the DLT window and the exposure: the one answer the escalation, the DLT tables and the
    tracker read.

    In order: a confirmed DLT case makes a DLT; a case awaiting adjudication keeps the patient
    pending; a signed declaration, going off study before the window closed, or less of the
    planned dose in the window than the DLT rules require makes the patient not evaluable; the
    window still open keeps the patient pending; otherwise no DLT."""
    regs = [r for r in registrations if r.dose_level_id is not None]
    if not regs:
        return {}
    today = today or timezone.localdate()
    cases: dict[int, list[DltCase]] = {}
    for case in DltCase.objects.filter(registration_id__in=[r.pk for r in regs]).order_by("pk"):
        cases.setdefault(case.registration_id, []).append(case)
    rules_of: dict[int, DltRules | None] = {}
    windows: dict[int, tuple[int, str]] = {}
    plans = {
        p.cohort_id: p
        for p in EscalationPlan.objects.filter(cohort_id__in={r.cohort_id for r in regs})
    }
    # Every trial's rule set in one read (parsed ones are reused by version).
    for rule_set in DltRuleSet.objects.filter(trial_id__in={r.trial_id for r in regs}):
        rules_of[rule_set.trial_id] = _rules_cached(
            rule_set.pk, rule_set.version, json.dumps(rule_set.document, sort_keys=True)
        )
    for reg in regs:
        windows[reg.pk] = _window(rules_of.get(reg.trial_id), plans.get(reg.cohort_id))
    needs_exposure = [
        r
        for r in regs
        if (rules := rules_of.get(r.trial_id)) is not None
        and rules.min_fraction_planned_dose is not None
    ]
    fractions = _exposure_fractions(
        needs_exposure, {r.pk: windows[r.pk][0] for r in needs_exposure}
    )
    out: dict[int, DltStatus] = {}
    for reg in regs:
        first = _first_dose(reg)
        days, source = windows[reg.pk]
        end = first + dt.timedelta(days=days - 1)
        day = (today - first).days + 1

        def status(outcome: str, reason: str, *, _d: int = day) -> DltStatus:
            return DltStatus(outcome, reason, first, _d, days, source)  # noqa: B023

        mine = cases.get(reg.pk, [])
        confirmed = [
            c
            for c in mine
            if c.status == DltCaseStatus.CONFIRMED and c.event_key != NOT_EVALUABLE_KEY
        ]
        proposed = [c for c in mine if c.status == DltCaseStatus.PROPOSED]
        declared = [
            c
            for c in mine
            if c.status == DltCaseStatus.CONFIRMED and c.event_key == NOT_EVALUABLE_KEY
        ]
        rules = rules_of.get(reg.trial_id)
        fraction = fractions.get(reg.pk)
        if confirmed:
            terms = ", ".join(
                f"{c.term}{f' G{c.worst_grade}' if c.worst_grade else ''} (case {c.pk})"
                for c in confirmed
            )
            out[reg.pk] = status(DltOutcome.DLT, f"DLT confirmed: {terms}")
        elif proposed:
            terms = ", ".join(f"{c.term} (case {c.pk})" for c in proposed)
            out[reg.pk] = status(DltOutcome.PENDING, f"awaiting adjudication: {terms}")
        elif declared:
            out[reg.pk] = status(
                DltOutcome.NOT_EVALUABLE,
                f"declared not evaluable by {declared[-1].signed_name}: "
                f"{declared[-1].adjudication_reason}",
            )
        elif reg.status == RegistrationStatus.OFF_STUDY and reg.status_date <= end:
            out[reg.pk] = status(
                DltOutcome.NOT_EVALUABLE,
                f"off study on {reg.status_date.isoformat()} (day "
                f"{(reg.status_date - first).days + 1}), before the {days}-day DLT window "
                f"closed, without a DLT",
            )
        elif day < 1:
            out[reg.pk] = status(DltOutcome.PENDING, f"the DLT window opens on {first.isoformat()}")
        elif day <= days:
            out[reg.pk] = status(DltOutcome.PENDING, f"in the DLT window: day {day} of {days}")
        elif (
            rules is not None
            and rules.min_fraction_planned_dose is not None
            and fraction is not None
            and fraction < rules.min_fraction_planned_dose
        ):
            out[reg.pk] = status(
                DltOutcome.NOT_EVALUABLE,
                f"insufficient exposure: {_pct(fraction)} % of the planned dose in the window "
                f"(the DLT rules require {_pct(rules.min_fraction_planned_dose)} %), without "
                f"a DLT",
            )
        else:
            out[reg.pk] = status(
                DltOutcome.NO_DLT,
                f"the {days}-day DLT window closed on {end.isoformat()} without a DLT",
            )
    return out


def dlt_status_for(registration: Registration) -> DltStatus | None:
    """One patient's DLT outcome (None when not treated at a dose level)."""
    return dlt_statuses_for([registration]).get(registration.pk)


def dlt_case_adjudicate(
    *,
    case: DltCase,
    decision: str,
    reason: str,
    meaning: str,
    password: str,
    version: int,
    by: User,
) -> DltCase:
    """An investigator confirms or rejects a proposed DLT, signed with their password.

    The password is checked by ``accounts.signing_reauthenticate`` (21 CFR 11.200(a)(1)) in its
    own transaction, before the adjudication's, so that a wrong one stays audited and counts
    towards the signing lock; see ``_dlt_case_adjudicate_signed`` for the adjudication."""
    require(by, Action.ADJUDICATE_DLT, on=case.registration)
    signing_reauthenticate(user=by, password=password)
    return _dlt_case_adjudicate_signed(
        case=case, decision=decision, reason=reason, meaning=meaning, version=version, by=by
    )


@transaction.atomic
def _dlt_case_adjudicate_signed(
    *, case: DltCase, decision: str, reason: str, meaning: str, version: int, by: User
) -> DltCase:
    """An investigator confirms or rejects a proposed DLT, signed; the dosing state follows.

    A signed adjudication is revised the same way (the new decision, a reason and a new
    signature); every page that counts DLTs reads the cases, so they change together."""
    registration = case.registration
    require(by, Action.ADJUDICATE_DLT, on=registration)
    current = (
        DltCase.objects.select_for_update(of=("self",))
        .select_related("adverse_event")
        .get(pk=case.pk)
    )
    if current.version != version:
        raise ConflictError(
            gettext(
                "DLT case %(current_id)s is now version %(current)s (status %(status)s), not "
                "%(edited)s; reload it."
            )
            % {
                "current_id": current.pk,
                "current": current.version,
                "status": current.status,
                "edited": version,
            },
            current_version=current.version,
        )
    if decision not in ("confirm", "reject"):
        raise ValidationError(
            gettext("decision must be confirm or reject; got %(decision)s.")
            % {"decision": repr(decision)},
            field="decision",
        )
    if not reason.strip():
        raise ValidationError(gettext("Give the reason for your decision."), field="reason")
    if not meaning.strip():
        raise ValidationError(
            gettext("State the meaning of your signature (e.g. 'I confirm this DLT assessment')."),
            field="meaning",
        )
    if (
        decision == "confirm"
        and current.adverse_event is not None
        and current.adverse_event.voided_at is not None
    ):
        raise ConflictError(
            gettext(
                "Adverse event %(adverse_event_id)s of DLT case %(current_id)s was voided "
                "(%(void_reason)s); a voided event cannot be confirmed as a DLT."
            )
            % {
                "adverse_event_id": current.adverse_event_id,
                "current_id": current.pk,
                "void_reason": current.adverse_event.void_reason,
            }
        )
    before = current.status
    current.status = DltCaseStatus.CONFIRMED if decision == "confirm" else DltCaseStatus.REJECTED
    current.adjudication_reason = reason.strip()
    current.signed_by = by
    current.signed_name = (by.get_full_name() or by.username)[:200]
    current.signed_at = timezone.now()
    current.signature_meaning = meaning.strip()[:200]
    current.version += 1
    current.save()
    audit_record(
        action="sign",
        instance=current,
        changes={
            "status": [before, current.status],
            "signed_by": [None, current.signed_name],
            "meaning": [None, current.signature_meaning],
        },
        reason=current.adjudication_reason,
        by=by,
    )
    return current
