"""Reads of the biobank, always through the caller's memberships (``accounts.access``).

A specimen is visible through a site-wide membership at its patient's site, or through a
membership limited to the trial of the registration it was collected under (a sponsor monitor
sees only its trial's specimens; a specimen collected outside any registration is visible
site-wide only).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import scope_condition, scope_for
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.accounts.prepared import PreparedRead
from oncotrials.apps.genomics.models import GenomicReport
from oncotrials.apps.genomics.selectors import SerialSeries, reports_for_user, serial_pairs
from oncotrials.apps.subjects.models import Consent, ConsentKind, Patient, Registration
from oncotrials.apps.subjects.progression import progression_dates
from oncotrials.apps.subjects.selectors import registrations_visible_to
from oncotrials.apps.trials.selectors import visit_schedule_parsed
from oncotrials.core.biobank.centrifugation import Spin
from oncotrials.core.biobank.consent import Answer
from oncotrials.core.biobank.custody import Event, custody_gaps
from oncotrials.core.biobank.lineage import Node
from oncotrials.core.biobank.sprec import Sprec, SprecInput, sprec_code
from oncotrials.core.biobank.timepoints import Context, Timepoint, derive_timepoint
from oncotrials.core.errors import NotFoundError, ValidationError

from .models import Container, CustodyEvent, SequencingRun, Shipment, ShipmentStatus, Specimen

DEFAULT_CYCLE_DAYS = 21


# --- visibility ----------------------------------------------------------------------------------


def specimen_condition(user: Actor, prefix: str = "") -> Q | None:
    return scope_condition(
        user, site=f"{prefix}patient__site_id", trial=f"{prefix}registration__trial_id"
    )


def specimens_visible_to(user: Actor) -> QuerySet[Specimen]:
    cond = specimen_condition(user)
    qs = Specimen.objects.all()
    return qs if cond is None else qs.filter(cond)


def specimen_get_for_user(*, user: Actor, specimen_id: int) -> Specimen:
    s = (
        specimens_visible_to(user)
        .filter(pk=specimen_id)
        .select_related("patient", "patient__site", "registration", "parent", "box")
        .first()
    )
    if s is None:
        raise NotFoundError(
            gettext("No specimen %(specimen_id)s that you may see.") % {"specimen_id": specimen_id}
        )
    return s


def specimen_by_barcode(*, user: Actor, barcode: str) -> Specimen:
    s = (
        specimens_visible_to(user)
        .filter(Q(barcode=barcode.strip()) | Q(label=barcode.strip()))
        .first()
    )
    if s is None:
        raise NotFoundError(
            gettext("No specimen with barcode %(barcode)s that you may see.")
            % {"barcode": repr(barcode.strip())}
        )
    return s


def specimens_for_user(
    *,
    user: Actor,
    q: str = "",
    specimen_type: str = "",
    status: str = "",
    patient_id: int | None = None,
    trial_id: int | None = None,
) -> QuerySet[Specimen]:
    qs = specimens_visible_to(user).select_related("patient", "box", "registration__trial")
    if q.strip():
        term = q.strip()
        qs = qs.filter(
            Q(label__icontains=term) | Q(barcode=term) | Q(patient__research_id__icontains=term)
        )
    if specimen_type:
        qs = qs.filter(specimen_type=specimen_type)
    if status:
        qs = qs.filter(status=status)
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if trial_id is not None:
        qs = qs.filter(registration__trial_id=trial_id)
    return qs.order_by("-collected_at", "label")


def storage_visible(user: Actor, site_id: int) -> bool:
    """Whether the user sees the site's storage (freezers, boxes, positions, custody locations):
    a site-wide membership there. A one-trial membership (a sponsor monitor) sees its trial's
    specimens but not where they are kept, which would show other trials' storage."""
    scope = scope_for(user)
    return scope.is_admin or site_id in scope.site_roles


def location_for(user: Actor, specimen: Specimen) -> str:
    """``location_of`` for a user who may see the site's storage; "" otherwise."""
    return location_of(specimen) if storage_visible(user, specimen.patient.site_id) else ""


def containers_visible_to(user: Actor) -> QuerySet[Container]:
    cond = scope_condition(user, site="site_id")
    qs = Container.objects.all()
    return qs if cond is None else qs.filter(cond)


def box_get_for_user(*, user: Actor, box_id: int) -> Container:
    box = (
        containers_visible_to(user)
        .filter(pk=box_id, kind="box")
        .select_related("parent__parent")
        .first()
    )
    if box is None:
        raise NotFoundError(gettext("No box %(box_id)s that you may see.") % {"box_id": box_id})
    return box


def shipments_visible_to(user: Actor) -> QuerySet[Shipment]:
    """Shipments at the user's sites (site-wide memberships): a sponsor monitor sees none."""
    cond = scope_condition(user, site="site_id")
    qs = Shipment.objects.all()
    return qs if cond is None else qs.filter(cond)


def shipment_get_for_user(*, user: Actor, shipment_id: int) -> Shipment:
    sh = shipments_visible_to(user).filter(pk=shipment_id).first()
    if sh is None:
        raise NotFoundError(
            gettext("No shipment %(shipment_id)s that you may see.") % {"shipment_id": shipment_id}
        )
    return sh


# --- consent ---------------------------------------------------------------------------------


# Read on every specimen written (collection, aliquots, derivatives, runs): compiled once.
_TRANSLATIONAL_CONSENTS = PreparedRead(
    lambda patient: (
        Consent.objects.filter(patient_id=patient, form__kind=ConsentKind.TRANSLATIONAL)
        .order_by("signed_on", "pk")
        .values_list(
            "withdrawn_on",
            "withdrawal_scope",
            "options_withdrawn",
            "options_granted",
            "form__options",
        )
    ),
    "patient",
)


def consent_answers(patient: Patient) -> dict[str, Answer]:
    """Tier -> answer from the patient's translational consents (the latest signed wins)."""
    answers: dict[str, Answer] = {}
    for withdrawn_on, scope, withdrawn, granted, options in _TRANSLATIONAL_CONSENTS.rows(
        patient=patient.pk
    ):
        samples_withdrawn = withdrawn_on is not None and "samples" in (scope or [])
        for option in options:
            if samples_withdrawn or option in (withdrawn or {}):
                answers[option] = Answer.WITHDRAWN
            elif granted.get(option):
                answers[option] = Answer.YES
            else:
                answers[option] = Answer.NO
    return answers


# --- location, timepoint, SPREC ----------------------------------------------------------------


def location_of(specimen: Specimen) -> str:
    if specimen.checked_out:
        return "checked out"
    if specimen.box_id is None or specimen.row is None or specimen.column is None:
        return ""
    box = specimen.box
    assert box is not None
    return f"{box.path()} {chr(ord('A') + specimen.row - 1)}{specimen.column}"


def _first_doses(patient_ids: set[int], user: Actor | None) -> dict[int, list[Registration]]:
    """The patients' treated registrations that ``user`` may see (None: every one, for the
    command line): a member limited to one trial never reads another trial's dates."""
    regs: dict[int, list[Registration]] = defaultdict(list)
    visible = registrations_visible_to(user) if user is not None else Registration.objects.all()
    for r in (
        visible.filter(patient_id__in=patient_ids, treatment_start__isnull=False)
        .select_related("trial__visit_schedule")
        .order_by("treatment_start")
    ):
        regs[r.patient_id].append(r)
    return regs


SCHEDULE_INVALID = "visit schedule invalid"


def _cycle_days(reg: Registration) -> int | None:
    """The trial's cycle length: the default cycle when the trial declares no schedule (or no
    cycles), ``None`` when its stored schedule no longer passes the core's validation (the
    cycle is then unknown, never guessed). Any other error is a bug and propagates."""
    definition = getattr(reg.trial, "visit_schedule", None)
    if definition is None:
        return DEFAULT_CYCLE_DAYS
    try:
        cycles = visit_schedule_parsed(definition).cycles
    except ValidationError:
        return None
    return int(cycles.length_days) if cycles is not None else DEFAULT_CYCLE_DAYS


@dataclass(frozen=True, slots=True)
class BrokenSchedule:
    """A trial whose stored visit schedule no longer passes validation, and why."""

    trial_id: int
    protocol_code: str
    message: str


def broken_schedules_of(specimens: list[Specimen], *, user: Actor | None) -> list[BrokenSchedule]:
    """The trials of these specimens' registrations (those ``user`` may see) whose stored
    visit schedule no longer parses: their specimens' cycle/day labels cannot be given, and the
    page says why."""
    regs = _first_doses({s.patient_id for s in specimens}, user) if specimens else {}
    seen: dict[int, BrokenSchedule] = {}
    for reg in (r for rs in regs.values() for r in rs):
        definition = getattr(reg.trial, "visit_schedule", None)
        if definition is None or reg.trial_id in seen:
            continue
        try:
            visit_schedule_parsed(definition)
        except ValidationError as exc:
            seen[reg.trial_id] = BrokenSchedule(reg.trial_id, reg.trial.protocol_code, exc.message)
    return sorted(seen.values(), key=lambda b: b.protocol_code)


def timepoints_of(specimens: list[Specimen], *, user: Actor | None) -> dict[int, Timepoint]:
    """Each specimen's timepoint, derived now from its registration's first dose (else the
    patient's latest treatment start on or before collection) and RECIST progression date,
    read from the registrations ``user`` may see (None: every one)."""
    if not specimens:
        return {}
    regs = _first_doses({s.patient_id for s in specimens}, user)
    progress = progression_dates({r.pk for rs in regs.values() for r in rs})
    out: dict[int, Timepoint] = {}
    for s in specimens:
        collected = s.collected_at.date()
        candidates = regs.get(s.patient_id, [])
        reg = next((r for r in candidates if r.pk == s.registration_id), None)
        if reg is None:
            before = [r for r in candidates if r.treatment_start and r.treatment_start <= collected]
            reg = before[-1] if before else (candidates[0] if candidates else None)
        if reg is None:
            out[s.pk] = derive_timepoint(collected, first_dose=None)
            continue
        cycle_days = _cycle_days(reg)
        tp = derive_timepoint(
            collected,
            first_dose=reg.treatment_start,
            progression_on=progress.get(reg.pk),
            cycle_days=cycle_days,
        )
        if cycle_days is None and tp.context == Context.ON_TREATMENT:
            tp = replace(tp, label=f"{tp.label} ({SCHEDULE_INVALID})")
        out[s.pk] = tp
    return out


def _spin(specimen: Specimen, prefix: str) -> Spin | None:
    values = [getattr(specimen, f"{prefix}centrifuge_{name}") for name in ("temp_c", "g", "min")]
    braking = getattr(specimen, f"{prefix}centrifuge_braking")
    if all(v is None for v in values) and not braking:
        return None
    temp_c, g, minutes = (float(v) if v is not None else None for v in values)
    return Spin(temp_c, g, minutes, {"on": True, "off": False}.get(braking))


def sprec_of(specimen: Specimen) -> str:
    """SPREC of the specimen; a derivative carries its primary specimen's code."""
    return sprec_elements_of(specimen).code


def sprec_elements_of(specimen: Specimen) -> Sprec:
    """The SPREC of the specimen with each element's letter and meaning."""
    primary_type = specimen.specimen_type
    node: Specimen | None = specimen
    while node is not None and node.parent_id is not None:
        node = node.parent
        if node is not None:
            primary_type = node.specimen_type
    return sprec_code(
        SprecInput(
            specimen_type=primary_type,
            collection_procedure=specimen.collection_procedure,
            warm_ischaemia_min=specimen.warm_ischaemia_min,
            cold_ischaemia_min=specimen.cold_ischaemia_min,
            fixative=specimen.fixative,
            fixation_hours=float(specimen.fixation_hours)
            if specimen.fixation_hours is not None
            else None,
            container_type=specimen.container_type,
            precentrifugation_delay_min=specimen.precentrifugation_delay_min,
            precentrifugation_temp=specimen.precentrifugation_temp,
            centrifugations=specimen.centrifugations,
            postcentrifugation_delay_min=specimen.postcentrifugation_delay_min,
            storage_temperature=specimen.storage_temperature,
            first_spin=_spin(specimen, ""),
            second_spin=_spin(specimen, "second_"),
        )
    )


# --- lineage, custody --------------------------------------------------------------------------


@dataclass
class TreeNode:
    specimen: Specimen
    depth: int
    children: list[TreeNode] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        """Indentation for a flat list (no inline style: the Content-Security-Policy forbids it)."""
        return "\u2003" * (self.depth - 1) + "\u2514 " if self.depth else ""


def lineage_tree(*, specimen: Specimen, user: Actor) -> list[TreeNode]:
    """The whole tree of the specimen's primary ancestor, flattened depth-first (visible only)."""
    root = specimen
    while root.parent_id is not None:
        parent = specimens_visible_to(user).filter(pk=root.parent_id).first()
        if parent is None:
            break
        root = parent
    family = list(specimens_visible_to(user).filter(patient_id=root.patient_id).order_by("pk"))
    kids: dict[int | None, list[Specimen]] = defaultdict(list)
    for s in family:
        kids[s.parent_id].append(s)
    out: list[TreeNode] = []

    def walk(s: Specimen, depth: int) -> None:
        out.append(TreeNode(s, depth))
        for c in kids.get(s.pk, []):
            walk(c, depth + 1)

    walk(root, 0)
    return out


def custody_of(specimen: Specimen) -> QuerySet[CustodyEvent]:
    return (
        CustodyEvent.objects.filter(specimen=specimen)
        .select_related("by", "shipment")
        .order_by("at", "pk")
    )


def nodes_of(specimens: QuerySet[Specimen]) -> list[Node]:
    """The invariants' view of specimens (``core.biobank.lineage.tree_violations``)."""
    return [
        Node(
            id=s.pk,
            parent_id=s.parent_id,
            lineage=s.lineage,
            specimen_type=s.specimen_type,
            initial=s.initial_quantity,
            available=s.available_quantity,
            unit=s.unit,
            parent_consumed=s.parent_consumed,
            consumed=s.consumed_quantity,
            anatomic_site=s.anatomic_site,
            laterality=s.laterality,
            pathology=s.pathology,
            status=s.status,
            positioned=s.box_id is not None,
        )
        for s in specimens.order_by("pk")
    ]


@dataclass(frozen=True)
class CustodyGap:
    specimen_id: int
    label: str
    gaps: tuple[str, ...]


def custody_check(*, user: Actor | None, site_code: str = "") -> list[CustodyGap]:
    """Every visible specimen with a gap in its chain of custody (``user=None``: every
    specimen, for the command line, which runs with the database's own rights)."""
    base = Specimen.objects.all() if user is None else specimens_visible_to(user)
    qs = base.select_related("box__parent__parent", "patient")
    if site_code:
        qs = qs.filter(patient__site__code=site_code)
    events: dict[int, list[Event]] = defaultdict(list)
    for e in CustodyEvent.objects.filter(specimen__in=qs).order_by("specimen_id", "pk"):
        events[e.specimen_id].append(Event(e.kind, e.at, e.from_location, e.to_location))
    received_shipments = set(
        Shipment.objects.filter(status=ShipmentStatus.RECEIVED, specimens__in=qs).values_list(
            "specimens", flat=True
        )
    )
    out = []
    for s in qs.order_by("label"):
        gaps = custody_gaps(
            events.get(s.pk, []),
            lineage=s.lineage,
            status=s.status,
            current_location=location_of(s),
            shipment_received=s.pk in received_shipments,
        )
        if gaps and user is not None and not storage_visible(user, s.patient.site_id):
            gaps = _without_locations(gaps, events.get(s.pk, []), location_of(s))
        if gaps:
            out.append(CustodyGap(s.pk, s.label, tuple(gaps)))
    return out


def _without_locations(gaps: list[str], events: list[Event], current: str) -> list[str]:
    """The gap messages with every storage location replaced: freezers, boxes and positions are
    seen through site-wide memberships only (see ``storage_visible``), messages included."""
    places = {current, *(e.from_location for e in events), *(e.to_location for e in events)}
    ordered = sorted((p for p in places if p), key=len, reverse=True)  # longest first
    out = []
    for gap in gaps:
        for place in ordered:
            gap = gap.replace(place, "a storage location")
        out.append(gap)
    return out


# --- box map, shipments --------------------------------------------------------------------------


def box_map(box: Container, user: Actor) -> list[list[Specimen | bool | None]]:
    """rows × columns: the visible specimen, True (occupied by one you may not see) or None."""
    grid: list[list[Any]] = [[None] * box.columns for _ in range(box.rows)]
    visible = set(specimens_visible_to(user).filter(box=box).values_list("pk", flat=True))
    for s in Specimen.objects.filter(box=box).only(
        "pk", "label", "specimen_type", "row", "column", "status", "checked_out"
    ):
        if s.row is None or s.column is None:
            continue
        grid[s.row - 1][s.column - 1] = s if s.pk in visible else True
    return grid


MANIFEST_COLUMNS = (
    "shipment",
    "recipient",
    "purpose",
    "label",
    "barcode",
    "patient",
    "specimen_type",
    "quantity",
    "unit",
    "collected_at",
    "sprec",
    "from_location",
)


def shipment_manifest_csv(shipment: Shipment) -> str:
    """The shipment's manifest (one row per specimen; pseudonymised research ids only)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(MANIFEST_COLUMNS)
    shipped = {
        e.specimen_id: e.from_location
        for e in CustodyEvent.objects.filter(shipment=shipment, kind="shipped")
    }
    for s in shipment.specimens.select_related("patient", "box__parent__parent").order_by("label"):
        w.writerow(
            [
                shipment.reference,
                shipment.recipient,
                shipment.purpose,
                s.label,
                s.barcode,
                s.patient.research_id,
                s.specimen_type,
                f"{s.available_quantity.normalize():f}",
                s.unit,
                s.collected_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ"),
                sprec_of(s),
                shipped.get(s.pk, location_of(s)),
            ]
        )
    return buf.getvalue()


# --- genomic samples collected under a registration ---------------------------------------------


def genomic_samples_collected_under() -> QuerySet[Any]:
    """Rows ``(sample_id, registration_id)``: the genomic samples whose report came from a run
    of a specimen collected under that registration (an aliquot or derivative carries its
    parent's registration). Registered with ``genomics.selectors.collected_under_register``:
    the genomics visibility rule reads it."""
    return SequencingRun.objects.filter(
        report__isnull=False, specimen__registration__isnull=False
    ).values(sample_id=F("report__sample_id"), registration_id=F("specimen__registration_id"))


# --- serial samples ----------------------------------------------------------------------------


@dataclass
class SerialRow:
    specimen: Specimen
    timepoint: Timepoint
    runs: list[SequencingRun]
    reports: list[GenomicReport]


@dataclass
class SerialView:
    patient: Patient
    rows: list[SerialRow]
    series: SerialSeries


def serial_samples(*, patient: Patient, user: Actor, drug: str = "") -> SerialView:
    """The patient's specimens on the treatment timeline with their runs and reports, and the
    serial pairs of the patient's reported samples classified for acquired resistance (the one
    rule: ``genomics.selectors.serial_pairs``); each row's reports name the samples it gave
    (those the user may see: ``genomics.selectors.reports_for_user``)."""
    specimens = list(
        specimens_visible_to(user)
        .filter(patient=patient)
        .select_related("registration")
        .order_by("collected_at", "pk")
    )
    tps = timepoints_of(specimens, user=user)
    shown = set(
        reports_for_user(user=user)
        .filter(runs__specimen__in=specimens)
        .values_list("pk", flat=True)
    )
    runs: dict[int, list[SequencingRun]] = defaultdict(list)
    for r in (
        SequencingRun.objects.filter(specimen__in=specimens)
        .select_related("report__sample")
        .order_by("created_at", "pk")
    ):
        runs[r.specimen_id].append(r)
    rows = [
        SerialRow(
            s,
            tps[s.pk],
            runs.get(s.pk, []),
            [r.report for r in runs.get(s.pk, []) if r.report is not None and r.report_id in shown],
        )
        for s in specimens
    ]
    return SerialView(patient, rows, serial_pairs(patient=patient, user=user, drug=drug))
