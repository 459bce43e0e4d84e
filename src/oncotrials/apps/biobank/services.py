"""Writes of the biobank. Each service owns its transaction, its row locks and its audit events;
invariants are checked here (``oncotrials.core.biobank``) and, where a database can hold them,
by the table constraints too (``models.Specimen.Meta.constraints``).

Bad input raises a ``ValidationError`` naming the field before anything is written; a contested
storage position raises a ``ConflictError`` naming the specimen that holds it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.access import Action, require
from oncotrials.apps.accounts.core_messages import Catalogue, core_errors_translated
from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.accounts.prepared import PreparedRead
from oncotrials.apps.audit.services import audit_record, model_snapshot
from oncotrials.apps.genomics.models import GenomicReport
from oncotrials.apps.subjects.models import (
    Consent,
    Patient,
    Registration,
    VisitRecord,
    consent_option_label,
)
from oncotrials.core.biobank.centrifugation import braking_value, spin_value
from oncotrials.core.biobank.consent import Answer, Refusal, Tier, Use, refusal_for, uses_blocked_by
from oncotrials.core.biobank.lineage import (
    IN_STOCK,
    Lineage,
    Status,
    check_derivation,
    check_primary_type,
    check_unit_for_type,
    specimen_type_get,
    take,
)
from oncotrials.core.biobank.sprec import FLUID_TYPES
from oncotrials.core.biobank.units import convert, quantity_parse, unit_get
from oncotrials.core.errors import ConflictError, ValidationError

from .models import (
    Assay,
    CollectionProcedure,
    ConsentCascade,
    Container,
    ContainerKind,
    CustodyEvent,
    CustodyKind,
    Laterality,
    Pathology,
    RunStatus,
    SequencingRun,
    Shipment,
    ShipmentStatus,
    Specimen,
    StorageTemperature,
)
from .selectors import consent_answers, location_of

PRE_ANALYTIC_FIELDS = (
    "warm_ischaemia_min",
    "cold_ischaemia_min",
    "fixative",
    "fixation_hours",
    "container_type",
    "precentrifugation_delay_min",
    "precentrifugation_temp",
    "centrifugations",
    "postcentrifugation_delay_min",
    "centrifuge_temp_c",
    "centrifuge_g",
    "centrifuge_min",
    "centrifuge_braking",
    "second_centrifuge_temp_c",
    "second_centrifuge_g",
    "second_centrifuge_min",
    "second_centrifuge_braking",
    "storage_temperature",
    "tumour_cellularity_pct",
    "necrosis_pct",
)
#: Each spin setting and the kind of value it holds (core.biobank.centrifugation.spin_value).
SPIN_SETTINGS = {
    f"{prefix}centrifuge_{name}": kind
    for prefix in ("", "second_")
    for name, kind in (("temp_c", "temp_c"), ("g", "g"), ("min", "min"))
}
BRAKING_FIELDS = ("centrifuge_braking", "second_centrifuge_braking")
FIRST_SPIN = ("centrifuge_temp_c", "centrifuge_g", "centrifuge_min", "centrifuge_braking")
SECOND_SPIN = tuple(f"second_{name}" for name in FIRST_SPIN)
PRECENTRIFUGATION_TEMPS = ("RT", "2-10")
_FROZEN_OK = {
    StorageTemperature.M18_35,
    StorageTemperature.M60_85,
    StorageTemperature.BELOW_135,
    StorageTemperature.LN_VAPOUR,
    StorageTemperature.LN_LIQUID,
}


def _custody(specimen: Specimen, kind: str, by: User | None, **fields: Any) -> CustodyEvent:
    """``_custody_event`` (same keywords), inserted at once."""
    event = _custody_event(specimen, kind, by, **fields)
    event.save(force_insert=True)
    return event


def _custody_event(
    specimen: Specimen,
    kind: str,
    by: User | None,
    *,
    at: dt.datetime | None = None,
    from_location: str = "",
    to_location: str = "",
    custodian: str = "",
    quantity: Decimal | None = None,
    shipment: Shipment | None = None,
    note: str = "",
) -> CustodyEvent:
    """A custody event, audited, not yet inserted: a service that records several inserts them
    in one statement (``bulk_create``), in their order."""
    event = CustodyEvent(
        specimen=specimen,
        kind=kind,
        at=at or timezone.now(),
        by=by,
        from_location=from_location,
        to_location=to_location,
        custodian=custodian,
        quantity=quantity,
        shipment=shipment,
        note=note[:300],
    )
    _custody_audit(
        specimen,
        kind,
        by,
        from_location=from_location,
        to_location=to_location,
        quantity=quantity,
        note=note,
    )
    return event


def _custody_audit(
    specimen: Specimen,
    kind: str,
    by: User | None,
    *,
    from_location: str = "",
    to_location: str = "",
    quantity: Decimal | None = None,
    note: str = "",
) -> None:
    audit_record(
        action=f"custody_{kind}",
        instance=specimen,
        changes={
            "custody": [None, {"kind": kind, "from": from_location, "to": to_location}],
            **({"quantity": [None, quantity]} if quantity is not None else {}),
        },
        reason=note,
        by=by,
    )


USE_LABELS = {
    Use.STORAGE: _("Storage"),
    Use.RESEARCH: _("Research"),
    Use.SEQUENCING: _("Sequencing"),
    Use.XENOGRAFT: _("Xenograft"),
    Use.DISTRIBUTION_EU: _("Distribution within the EU"),
    Use.DISTRIBUTION_NON_EU: _("Distribution outside the EU"),
    Use.COMMERCIAL: _("Commercial use"),
}


#: The refusals of the core's quantity and centrifugation readers, in the user's language.
CORE_MESSAGES: Catalogue = {
    "biobank_not_finite": _("%(field)s must be finite; got %(value)s."),
    "biobank_not_on_off": _("%(field)s must be on or off; got %(value)s."),
    "biobank_not_a_number": _("%(field)s must be a number; got %(value)s."),
    "biobank_quantity_not_a_number": _(
        "%(field)s must be a number, optionally with its unit; got %(text)s."
    ),
    "biobank_implausible_value": _(
        "%(field)s %(number)s %(unit_label)s is outside the plausible range %(lo)s–%(hi)s %(unit_label)s."
    ),
    "biobank_text_not_a_number": _("%(field)s must be a number; got %(text)s."),
    "biobank_temperature_celsius": _(
        "%(field)s is in °C; got %(value)s (give degrees Celsius, not °F or K)."
    ),
    "biobank_force_not_rpm": _(
        "%(field)s is the relative centrifugal force in × g, not rpm: the force of a speed depends on the rotor radius. Got %(value)s."
    ),
    "biobank_force_in_g": _("%(field)s is in × g; got %(value)s."),
    "biobank_duration_minutes": _("%(field)s is in minutes (min, s or h); got %(value)s."),
}


def refusal_text(refusal: Refusal) -> str:
    """Why the patient's consent forbids a use, in the user's language (the core's
    ``Refusal.message`` says it in English for the command line)."""
    values = {"use": USE_LABELS[refusal.use], "tier": consent_option_label(refusal.tier.value)}
    if refusal.answer is Answer.NO:
        return gettext("%(use)s is not allowed: the patient answered No to “%(tier)s”.") % values
    if refusal.answer is Answer.WITHDRAWN:
        return gettext("%(use)s is not allowed: the patient withdrew “%(tier)s”.") % values
    return (
        gettext("%(use)s is not allowed: no signed translational consent covers “%(tier)s”.")
        % values
    )


def _require_use(patient: Patient, use: Use) -> None:
    refusal = refusal_for(use, consent_answers(patient))
    if refusal is not None:
        raise ValidationError(
            gettext("%(refusal)s Nothing was recorded.") % {"refusal": refusal_text(refusal)},
            field="consent",
            code="consent_refused",
            tier=refusal.tier.value,
            answer=refusal.answer.value,
        )


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise ValidationError(
            gettext("%(field)s must be one of %(allowed)s; got %(value)s.")
            % {"field": field, "allowed": ", ".join(choices.values), "value": repr(value)},
            field=field,
        )
    return value


@core_errors_translated(CORE_MESSAGES)
def _pre_analytics(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(PRE_ANALYTIC_FIELDS)
    if unknown:
        raise ValidationError(
            gettext("Unknown pre-analytical field(s) %(unknown)s; use %(pre_analytic_fields)s.")
            % {
                "unknown": ", ".join(sorted(unknown)),
                "pre_analytic_fields": ", ".join(PRE_ANALYTIC_FIELDS),
            },
            field=sorted(unknown)[0],
        )
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        if name in SPIN_SETTINGS:
            out[name] = spin_value(SPIN_SETTINGS[name], value, name)
        elif name in BRAKING_FIELDS:
            out[name] = braking_value(value, name)
        elif name == "precentrifugation_temp":
            if str(value).strip() not in PRECENTRIFUGATION_TEMPS:
                raise ValidationError(
                    gettext(
                        "%(name)s must be one of %(precentrifugation_temps)s (room temperature or 2-10 "
                        "°C); got %(value)s."
                    )
                    % {
                        "name": name,
                        "precentrifugation_temps": ", ".join(PRECENTRIFUGATION_TEMPS),
                        "value": repr(value),
                    },
                    field=name,
                )
            out[name] = str(value).strip()
        elif name.endswith(("_min", "_pct")) or name == "centrifugations":
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ValidationError(
                    gettext("%(name)s must be a whole number; got %(value)s.")
                    % {"name": name, "value": repr(value)},
                    field=name,
                ) from None
            if number < 0 or (name.endswith("_pct") and number > 100):
                raise ValidationError(
                    gettext("%(name)s is out of range; got %(number)s.")
                    % {"name": name, "number": number},
                    field=name,
                )
            out[name] = number
        elif name == "fixation_hours":
            out[name] = quantity_parse(value, field=name, allow_zero=True)
        elif name == "storage_temperature":
            out[name] = _choice(str(value), StorageTemperature, name)
        else:
            text = str(value).strip()
            if len(text) > 12:
                raise ValidationError(
                    gettext("%(name)s is at most 12 characters; got %(text)s.")
                    % {"name": name, "text": repr(text)},
                    field=name,
                )
            out[name] = text
    return out


def _check_spins(specimen_type: str, values: Mapping[str, Any]) -> None:
    """The spin settings fit the specimen: a fluid, spun as many times as recorded."""
    given = [f for f in (*FIRST_SPIN, *SECOND_SPIN) if values.get(f) not in (None, "")]
    if not given:
        return
    if specimen_type not in FLUID_TYPES:
        raise ValidationError(
            gettext(
                "%(given)s: centrifugation settings are recorded on fluid specimens (blood, "
                "bone marrow); a %(specimen_type)s specimen is not centrifuged."
            )
            % {"given": given[0], "specimen_type": specimen_type},
            field=given[0],
        )
    given_spins = values.get("centrifugations")
    if given_spins is None or given_spins == "":
        raise ValidationError(
            gettext("Give the number of centrifugations with their settings."),
            field="centrifugations",
        )
    spins = int(given_spins)
    if spins == 0:
        raise ValidationError(
            gettext("%(given)s: centrifugation settings are recorded but centrifugations is 0.")
            % {"given": given[0]},
            field=given[0],
        )
    second = [f for f in given if f in SECOND_SPIN]
    if second and spins < 2:
        raise ValidationError(
            gettext(
                "%(second)s: a second centrifugation is recorded but centrifugations is %(spins)s."
            )
            % {"second": second[0], "spins": spins},
            field=second[0],
        )


def _label_taken(label: str) -> None:
    raise ValidationError(
        gettext("The label %(label)s is already used (DUP_LABEL).") % {"label": label},
        field="label",
    )


def _labels_free(labels: Sequence[str]) -> None:
    """No specimen has any of ``labels`` (one query); else the first one taken is refused."""
    taken = set(Specimen.objects.filter(label__in=labels).values_list("label", flat=True))
    for label in labels:
        if label in taken:
            _label_taken(label)


def _next_label(patient: Patient) -> str:
    n = Specimen.objects.filter(patient=patient, lineage=Lineage.NEW).count() + 1
    while True:
        label = f"{patient.research_id}-S{n:03d}"
        if not Specimen.objects.filter(label=label).exists():
            return label
        n += 1


@core_errors_translated(CORE_MESSAGES)
@transaction.atomic
def specimen_collect(
    *,
    patient: Patient,
    specimen_type: str,
    quantity: Any,
    unit: str,
    collected_at: dt.datetime,
    by: User,
    registration: Registration | None = None,
    visit: VisitRecord | None = None,
    anatomic_site: str = "",
    laterality: str = Laterality.NOT_APPLICABLE,
    pathology: str = Pathology.NOT_SPECIFIED,
    procedure: str = "",
    received_at: dt.datetime | None = None,
    label: str = "",
    barcode: str = "",
    pre_analytics: Mapping[str, Any] | None = None,
) -> Specimen:
    """Record a primary specimen (tissue biopsy, blood for ctDNA, bone marrow…) of a patient,
    collected at a visit or outside one; its storage must be consented."""
    require(by, Action.HANDLE_SPECIMENS, on=patient)
    check_primary_type(specimen_type)
    unit = unit_get(unit).code
    check_unit_for_type(specimen_type, unit)
    q = quantity_parse(quantity)
    _choice(laterality, Laterality, "laterality")
    _choice(pathology, Pathology, "pathology")
    if procedure:
        _choice(procedure, CollectionProcedure, "procedure")
    if registration is not None and registration.patient_id != patient.pk:
        raise ValidationError(
            gettext("The registration is another patient's."), field="registration"
        )
    if visit is not None and (registration is None or visit.registration_id != registration.pk):
        raise ValidationError(
            gettext("A visit belongs to the specimen's registration; give that registration."),
            field="visit",
        )
    if timezone.is_naive(collected_at):
        raise ValidationError(gettext("collected_at needs a time zone."), field="collected_at")
    now = timezone.now()
    if collected_at > now:
        raise ValidationError(
            gettext("A specimen cannot be collected in the future."), field="collected_at"
        )
    if received_at is not None and received_at < collected_at:
        raise ValidationError(
            gettext("A specimen is received after it was collected (INVALID_CREATION_DATE)."),
            field="received_at",
        )
    fields = _pre_analytics(pre_analytics or {})
    _check_spins(specimen_type, fields)
    _require_use(patient, Use.STORAGE)
    given = label.strip()
    label = given or _next_label(patient)  # a label it makes is one no specimen has
    barcode = barcode.strip() or label
    taken = list(
        Specimen.objects.filter(
            models.Q(label=label) | models.Q(barcode=barcode)
            if given
            else models.Q(barcode=barcode)
        ).values_list("label", flat=True)
    )
    if label in taken:
        _label_taken(label)
    if taken:
        raise ValidationError(
            gettext("The barcode %(barcode)s is already used (DUP_BARCODE).")
            % {"barcode": barcode},
            field="barcode",
        )
    specimen = Specimen.objects.create(
        label=label,
        barcode=barcode,
        patient=patient,
        registration=registration,
        visit=visit,
        lineage=Lineage.NEW,
        specimen_type=specimen_type,
        anatomic_site=anatomic_site.strip()[:80],
        laterality=laterality,
        pathology=pathology,
        unit=unit,
        initial_quantity=q,
        available_quantity=q,
        collected_at=collected_at,
        collection_procedure=procedure,
        received_at=received_at,
        created_at=now,
        **fields,
    )
    audit_record(
        action="create",
        instance=specimen,
        changes={k: [None, v] for k, v in model_snapshot(specimen).items()},
        by=by,
    )
    events = [_custody_event(specimen, CustodyKind.COLLECTED, by, at=collected_at, note=procedure)]
    if received_at is not None:
        events.append(_custody_event(specimen, CustodyKind.RECEIVED, by, at=received_at))
    CustodyEvent.objects.bulk_create(events)
    return specimen


@transaction.atomic
def specimen_receive(*, specimen: Specimen, received_at: dt.datetime, by: User) -> Specimen:
    """Record the receipt of a primary specimen in the laboratory."""
    require(by, Action.HANDLE_SPECIMENS, on=specimen)
    locked = Specimen.objects.select_for_update(of=("self",)).get(pk=specimen.pk)
    if locked.lineage != Lineage.NEW:
        raise ValidationError(gettext("Only primary specimens are received."), field="specimen")
    if locked.received_at is not None:
        raise ConflictError(gettext("%(locked)s was already received.") % {"locked": locked})
    if received_at < locked.collected_at:
        raise ValidationError(
            gettext("A specimen is received after it was collected."), field="received_at"
        )
    locked.received_at = received_at
    locked.save(update_fields=["received_at"])
    _custody(locked, CustodyKind.RECEIVED, by, at=received_at)
    return locked


def _empty(name: str) -> Any:
    field = Specimen._meta.get_field(name)
    return "" if isinstance(field, models.CharField) else None


@transaction.atomic
def specimen_pre_analytics_record(
    *, specimen: Specimen, values: Mapping[str, Any], by: User, reason: str = ""
) -> Specimen:
    """Record or correct the pre-analytical conditions of a primary specimen: the fields given
    are set (an empty value clears one: not recorded), the others are kept. Its aliquots and
    derivatives inherit them (``_child_create``), so they are updated with it, each audited."""
    require(by, Action.HANDLE_SPECIMENS, on=specimen)
    locked = Specimen.objects.select_for_update(of=("self",)).get(pk=specimen.pk)
    if locked.lineage != Lineage.NEW:
        root = locked
        while root.parent_id is not None and root.parent is not None:
            root = root.parent
        raise ValidationError(
            gettext(
                "Pre-analytical conditions are recorded on the primary specimen %(root)s; "
                "%(locked)s inherits them."
            )
            % {"root": root.label, "locked": locked.label},
            field="specimen",
        )
    if len(reason) > 500:
        raise ValidationError(gettext("The reason is at most 500 characters."), field="reason")
    parsed = _pre_analytics(values)
    new = {name: _empty(name) for name, v in values.items() if v is None or v == ""}
    new.update(parsed)
    merged = {f: getattr(locked, f) for f in PRE_ANALYTIC_FIELDS} | new
    _check_spins(locked.specimen_type, merged)
    changes = {
        name: [getattr(locked, name), value]
        for name, value in new.items()
        if getattr(locked, name) != value
    }
    if not changes:
        return locked
    if any(old not in (None, "") for old, _new in changes.values()) and not reason.strip():
        raise ValidationError(
            gettext("Changing a recorded pre-analytical value needs a reason."), field="reason"
        )
    family = [locked]
    level = [locked.pk]
    while level:
        children = list(Specimen.objects.select_for_update().filter(parent_id__in=level))
        family.extend(children)
        level = [c.pk for c in children]
    for s in family:
        for name in changes:
            setattr(s, name, new[name])
        s.version += 1
        s.save(update_fields=[*changes, "version"])
        audit_record(
            action="update",
            instance=s,
            changes=changes,
            reason=reason.strip() if s is locked else f"pre-analytics of {locked.label}",
            by=by,
        )
    return locked


# A specimen a service writes on, locked (read on every aliquot, derivative, use and run).
_SPECIMEN_LOCKED = PreparedRead(
    lambda specimen: (
        Specimen.objects.select_for_update(of=("self",))
        .select_related("patient", "registration")
        .filter(pk=specimen)
        .order_by()
    ),
    "specimen",
)


def _lock_specimen(specimen: Specimen) -> Specimen:
    """``specimen`` read again under its row lock, with its patient and registration."""
    found = _SPECIMEN_LOCKED.objects(specimen=specimen.pk)
    if not found:
        raise Specimen.DoesNotExist("Specimen matching query does not exist.")
    return found[0]


def _lock_in_stock(specimen: Specimen, what: Any) -> Specimen:
    locked = _lock_specimen(specimen)
    _check_in_stock(locked, what)
    return locked


def _check_in_stock(locked: Specimen, what: Any) -> None:
    if locked.status not in IN_STOCK:
        raise ValidationError(
            gettext("%(specimen)s is %(status)s; %(what)s needs an available specimen.")
            % {
                "specimen": locked,
                "status": locked.get_status_display().lower(),
                "what": what,
            },
            field="specimen",
            code="specimen_not_available",
        )


def _after_taking(locked: Specimen, left: Decimal) -> None:
    locked.available_quantity = left
    fields = ["available_quantity", "version"]
    if left == 0:
        locked.status = Status.DEPLETED
        fields.append("status")
    locked.version += 1
    locked.save(update_fields=fields)


@core_errors_translated(CORE_MESSAGES)
@transaction.atomic
def specimen_aliquot(
    *, parent: Specimen, count: int, quantity: Any, unit: str, by: User
) -> list[Specimen]:
    """Split ``count`` aliquots of ``quantity`` ``unit`` each out of ``parent`` (same type, site,
    laterality and pathology as the parent); the parent is decremented under its row lock."""
    require(by, Action.HANDLE_SPECIMENS, on=parent)
    if not 1 <= int(count) <= 500:
        raise ValidationError(
            gettext("count must lie in 1..500; got %(count)s.") % {"count": count}, field="count"
        )
    q = quantity_parse(quantity)
    unit = unit_get(unit).code
    locked = _lock_in_stock(parent, _("aliquoting"))
    check_unit_for_type(locked.specimen_type, unit)
    each = convert(q, unit, locked.unit)
    left = take(
        locked.available_quantity,
        locked.unit,
        each * count,
        locked.unit,
        what=f"{count} aliquot(s) of {q} {unit}",
    )
    _require_use(locked.patient, Use.STORAGE)
    now = timezone.now()
    existing = locked.children.count()
    numbers = range(existing + 1, existing + count + 1)
    _labels_free([_child_label(locked, n) for n in numbers])
    children = []
    events: list[CustodyEvent] = []
    for number in numbers:
        child = _child_create(
            locked,
            number=number,
            lineage=Lineage.ALIQUOT,
            specimen_type=locked.specimen_type,
            unit=unit,
            quantity=q,
            consumed=each,
            custody=CustodyKind.ALIQUOTED,
            at=now,
            by=by,
            events=events,
        )
        children.append(child)
    CustodyEvent.objects.bulk_create(events)
    _after_taking(locked, left)
    audit_record(
        action="aliquot",
        instance=locked,
        changes={"available_quantity": [str(left + each * count), str(left)]},
        by=by,
    )
    return children


def _child_create(
    parent: Specimen,
    *,
    number: int,
    lineage: str,
    specimen_type: str,
    unit: str,
    quantity: Any,
    consumed: Any,
    custody: str,
    at: Any,
    by: User,
    events: list[CustodyEvent],
    concentration_ng_ul: Any = None,
) -> Specimen:
    """An aliquot or a derivative of ``parent`` (locked by the caller), created and audited;
    its custody event is added to ``events``, for the caller to insert. The caller has checked
    that its label (``_child_label``) is free.

    The one place where a child inherits from its parent: patient, registration, visit, anatomic
    site, laterality, pathology, collection and pre-analytic conditions."""
    label = _child_label(parent, number)
    child = Specimen.objects.create(
        label=label,
        barcode=label,
        patient=parent.patient,
        # The parent's registration object (loaded with it under the lock): the child's rights
        # and audit chain are read from it without a query.
        registration=parent.registration if parent.registration_id is not None else None,
        visit_id=parent.visit_id,
        lineage=lineage,
        parent=parent,
        specimen_type=specimen_type,
        anatomic_site=parent.anatomic_site,
        laterality=parent.laterality,
        pathology=parent.pathology,
        unit=unit,
        initial_quantity=quantity,
        available_quantity=quantity,
        parent_consumed=consumed,
        concentration_ng_ul=concentration_ng_ul,
        collected_at=parent.collected_at,
        collection_procedure=parent.collection_procedure,
        created_at=at,
        **{f: getattr(parent, f) for f in PRE_ANALYTIC_FIELDS},
    )
    audit_record(
        action="create",
        instance=child,
        changes={k: [None, v] for k, v in model_snapshot(child).items()},
        by=by,
    )
    events.append(
        _custody_event(child, custody, by, at=at, quantity=quantity, note=f"from {parent.label}")
    )
    return child


def _child_label(parent: Specimen, number: int) -> str:
    return f"{parent.label}.{number}"


@core_errors_translated(CORE_MESSAGES)
@transaction.atomic
def specimen_derive(
    *,
    parent: Specimen,
    specimen_type: str,
    consumed: Any,
    consumed_unit: str,
    quantity: Any,
    unit: str,
    by: User,
    concentration_ng_ul: Any = None,
) -> Specimen:
    """Derive a specimen of another type (DNA, RNA, cfDNA, plasma, culture…) from ``parent``,
    using ``consumed`` of it and yielding ``quantity`` ``unit``."""
    require(by, Action.HANDLE_SPECIMENS, on=parent)
    specimen_type_get(specimen_type)
    used = quantity_parse(consumed, field="consumed")
    q = quantity_parse(quantity)
    unit = unit_get(unit).code
    consumed_unit = unit_get(consumed_unit, field="consumed_unit").code
    check_unit_for_type(specimen_type, unit)
    conc = None
    if concentration_ng_ul not in (None, ""):
        conc = quantity_parse(concentration_ng_ul, field="concentration_ng_ul", allow_zero=True)
    locked = _lock_in_stock(parent, _("a derivation"))
    check_derivation(locked.specimen_type, specimen_type)
    taken = convert(used, consumed_unit, locked.unit)
    left = take(
        locked.available_quantity,
        locked.unit,
        taken,
        locked.unit,
        what=f"deriving {specimen_type_get(specimen_type).label}",
    )
    _require_use(locked.patient, Use.STORAGE)
    now = timezone.now()
    number = locked.children.count() + 1
    _labels_free([_child_label(locked, number)])
    events: list[CustodyEvent] = []
    child = _child_create(
        locked,
        number=number,
        lineage=Lineage.DERIVED,
        specimen_type=specimen_type,
        unit=unit,
        quantity=q,
        consumed=taken,
        custody=CustodyKind.DERIVED,
        at=now,
        by=by,
        events=events,
        concentration_ng_ul=conc,
    )
    CustodyEvent.objects.bulk_create(events)
    _after_taking(locked, left)
    audit_record(
        action="derive",
        instance=locked,
        changes={"available_quantity": [str(left + taken), str(left)]},
        by=by,
    )
    return child


@core_errors_translated(CORE_MESSAGES)
@transaction.atomic
def specimen_consume(
    *, specimen: Specimen, quantity: Any, unit: str, purpose: str, by: User
) -> Specimen:
    """Record the use of part of a specimen (an assay, sections) without a child specimen."""
    require(by, Action.HANDLE_SPECIMENS, on=specimen)
    q = quantity_parse(quantity)
    unit = unit_get(unit).code
    if not purpose.strip():
        raise ValidationError(gettext("Say what the specimen was used for."), field="purpose")
    locked = _lock_in_stock(specimen, _("using it"))
    taken = convert(q, unit, locked.unit)
    left = take(locked.available_quantity, locked.unit, taken, locked.unit, what=purpose.strip())
    _require_use(locked.patient, Use.RESEARCH)
    locked.consumed_quantity += taken
    _after_taking(locked, left)
    Specimen.objects.filter(pk=locked.pk).update(consumed_quantity=locked.consumed_quantity)
    _custody(locked, CustodyKind.CONSUMED, by, quantity=taken, note=purpose.strip())
    return locked


# --- storage -----------------------------------------------------------------------------------


@transaction.atomic
def container_create(
    *,
    site: Site,
    kind: str,
    name: str,
    by: User,
    parent: Container | None = None,
    temperature: str = StorageTemperature.M60_85,
    rows: int = 0,
    columns: int = 0,
) -> Container:
    require(by, Action.HANDLE_SPECIMENS, on=site)
    _choice(kind, ContainerKind, "kind")
    _choice(temperature, StorageTemperature, "temperature")
    if not name.strip():
        raise ValidationError(gettext("A container has a name."), field="name")
    expected_parent = {"freezer": None, "rack": "freezer", "box": "rack"}[kind]
    if (parent.kind if parent else None) != expected_parent:
        raise ValidationError(
            (
                gettext("A freezer goes at the top.")
                if expected_parent is None
                else gettext("A %(kind)s goes in a %(parent)s.")
                % {"kind": kind, "parent": expected_parent}
            ),
            field="parent",
        )
    if parent is not None and parent.site_id != site.pk:
        raise ValidationError(gettext("A container stays at its parent's site."), field="parent")
    if kind == ContainerKind.BOX and not (1 <= rows <= 26 and 1 <= columns <= 26):
        raise ValidationError(
            gettext("A box has 1-26 rows and 1-26 columns; got %(rows)s × %(columns)s.")
            % {"rows": rows, "columns": columns},
            field="rows",
        )
    if parent is not None:
        temperature = parent.temperature
    if Container.objects.filter(site=site, parent=parent, name=name.strip()).exists():
        raise ValidationError(
            gettext("%(name)s already exists there.") % {"name": name.strip()}, field="name"
        )
    box = Container.objects.create(
        site=site,
        kind=kind,
        name=name.strip(),
        parent=parent,
        temperature=temperature,
        rows=rows if kind == ContainerKind.BOX else 0,
        columns=columns if kind == ContainerKind.BOX else 0,
    )
    audit_record(
        action="create",
        instance=box,
        changes={k: [None, v] for k, v in model_snapshot(box).items()},
        by=by,
    )
    return box


def _position_text(box: Container, row: int, column: int) -> str:
    return f"{box.path()} {chr(ord('A') + row - 1)}{column}"


@transaction.atomic
def specimen_store(
    *, specimen: Specimen, box: Container, row: int, column: int, by: User
) -> Specimen:
    """Put ``specimen`` at (row, column) of ``box`` (a first storage or a move).

    Concurrency: the box row is locked first (``select_for_update``), then the specimen, always
    in that order; the check that the position is free and the write happen under that lock,
    and the unique constraint on (box, row, column) is the database's last word.
    """
    return specimens_store(placements=[(specimen, box, row, column)], by=by)[0]


Placement = tuple[Specimen, Container, int, int]  # specimen, box, row, column


@transaction.atomic
def specimens_store(*, placements: Sequence[Placement], by: User) -> list[Specimen]:
    """Put several specimens in boxes at once (the aliquots and extracts of one processing),
    each as ``specimen_store`` puts one: the same rights, checks, rows and audit events, in the
    order given; nothing is stored when one of them is refused.

    The boxes are locked first (in id order), then the specimens, each kind in one query; the
    positions asked for are read in one query, and each box's version moves once by the number
    of specimens put in it.
    """
    for specimen, _box, _row, _column in placements:
        require(by, Action.HANDLE_SPECIMENS, on=specimen)
    if not placements:
        return []
    box_ids = sorted({box.pk for _s, box, _r, _c in placements})
    boxes = {
        b.pk: b
        for b in Container.objects.select_for_update(of=("self",))
        .select_related("site", "parent__parent")  # its path (rack, freezer) and site code
        .filter(pk__in=box_ids)
        .order_by("pk")
    }
    specimen_ids = sorted({s.pk for s, _b, _r, _c in placements})
    specimens = {
        s.pk: s
        for s in Specimen.objects.select_for_update(of=("self",))
        .select_related("patient", "registration")
        .filter(pk__in=specimen_ids)
        .order_by("pk")
    }
    wanted = models.Q()
    for _s, box, row, column in placements:
        wanted |= models.Q(box_id=box.pk, row=row, column=column)
    occupied: dict[tuple[int | None, int | None, int | None], tuple[int, str]] = {
        (box_id, r, c): (pk, label)
        for pk, label, box_id, r, c in Specimen.objects.filter(wanted).values_list(
            "pk", "label", "box_id", "row", "column"
        )
    }
    stored: list[Specimen] = []
    filled: dict[int, int] = {}  # box id -> specimens put in it
    custody: list[CustodyEvent] = []
    for specimen, box, row, column in placements:
        if box.pk not in boxes:
            raise Container.DoesNotExist("Container matching query does not exist.")
        if specimen.pk not in specimens:
            raise Specimen.DoesNotExist("Specimen matching query does not exist.")
        locked_box, locked = boxes[box.pk], specimens[specimen.pk]
        _check_position(locked_box, row, column)
        _check_in_stock(locked, _("storage"))
        _check_storable(locked, locked_box)
        holder = occupied.get((locked_box.pk, row, column))
        if holder is not None and holder[0] != locked.pk:
            raise ConflictError(
                gettext("Position %(position)s holds %(holder)s; choose a free position.")
                % {"position": _position_text(locked_box, row, column), "holder": holder[1]},
                code="position_taken",
                holder=holder[1],
            )
        before = location_of(locked)
        moved = locked.box_id is not None
        was = (locked.box_id, locked.row, locked.column)
        if moved and occupied.get(was, (0, ""))[0] == locked.pk:
            del occupied[was]
        locked.box, locked.row, locked.column = locked_box, row, column
        locked.version += 1
        fields = ["box", "row", "column", "version"]
        if locked.storage_temperature == "":  # first storage: the box's temperature, in the
            locked.storage_temperature = locked_box.temperature  # same row the audit digests
            fields.append("storage_temperature")
        try:
            with transaction.atomic():
                locked.save(update_fields=fields)
        except IntegrityError:
            raise ConflictError(
                gettext(
                    "Position %(position)s was just filled by another user; choose a free position."
                )
                % {"position": _position_text(locked_box, row, column)},
                code="position_taken",
            ) from None
        occupied[(locked_box.pk, row, column)] = (locked.pk, locked.label)
        filled[locked_box.pk] = filled.get(locked_box.pk, 0) + 1
        after = location_of(locked)
        kind = CustodyKind.MOVED if moved else CustodyKind.STORED
        custody.append(
            CustodyEvent(
                specimen=locked,
                kind=kind,
                at=timezone.now(),
                by=by,
                from_location=before,
                to_location=after,
                custodian=locked_box.site.code if hasattr(locked_box.site, "code") else "",
            )
        )
        _custody_audit(locked, kind, by, from_location=before, to_location=after)
        stored.append(locked)
    for box_id, n in filled.items():
        Container.objects.filter(pk=box_id).update(version=boxes[box_id].version + n)
    CustodyEvent.objects.bulk_create(custody)
    return stored


def _check_position(locked_box: Container, row: int, column: int) -> None:
    if locked_box.kind != ContainerKind.BOX:
        raise ValidationError(
            gettext("%(locked_box)s is a %(kind)s, not a box.")
            % {"locked_box": locked_box, "kind": locked_box.kind},
            field="box",
        )
    if not (1 <= row <= locked_box.rows and 1 <= column <= locked_box.columns):
        raise ValidationError(
            gettext(
                "%(box)s has rows 1-%(rows)s and columns 1-%(columns)s; got row %(row)s, column "
                "%(column)s."
            )
            % {
                "box": locked_box,
                "rows": locked_box.rows,
                "columns": locked_box.columns,
                "row": row,
                "column": column,
            },
            field="row",
            code="position_outside_box",
        )


def _check_storable(locked: Specimen, locked_box: Container) -> None:
    if locked.checked_out:
        raise ValidationError(
            gettext("%(specimen)s is checked out; check it in first.") % {"specimen": locked},
            field="specimen",
        )
    if locked_box.site_id != locked.patient.site_id:
        raise ValidationError(gettext("A specimen is stored at its patient's site."), field="box")
    if specimen_type_get(locked.specimen_type).frozen and locked_box.temperature not in _FROZEN_OK:
        raise ValidationError(
            gettext("%(type)s is kept frozen; %(box)s is at %(temperature)s.")
            % {
                "type": locked.get_specimen_type_display(),
                "box": locked_box,
                "temperature": locked_box.get_temperature_display(),
            },
            field="box",
            code="container_temperature",
        )


@transaction.atomic
def specimen_check_out(*, specimen: Specimen, by: User, purpose: str = "") -> Specimen:
    require(by, Action.HANDLE_SPECIMENS, on=specimen)
    locked = _lock_in_stock(specimen, _("check-out"))
    if locked.box_id is None or locked.checked_out:
        raise ValidationError(
            gettext("%(locked)s is not in storage.") % {"locked": locked}, field="specimen"
        )
    before = location_of(locked)
    locked.checked_out = True
    locked.save(update_fields=["checked_out"])
    _custody(
        locked,
        CustodyKind.CHECKED_OUT,
        by,
        from_location=before,
        to_location=location_of(locked),
        custodian=by.username,
        note=purpose,
    )
    return locked


@transaction.atomic
def specimen_check_in(*, specimen: Specimen, by: User) -> Specimen:
    """Back to its position; a frozen specimen counts one more freeze-thaw cycle."""
    require(by, Action.HANDLE_SPECIMENS, on=specimen)
    locked = Specimen.objects.select_for_update(of=("self",)).get(pk=specimen.pk)
    if not locked.checked_out:
        raise ValidationError(
            gettext("%(locked)s is not checked out.") % {"locked": locked}, field="specimen"
        )
    before = location_of(locked)
    locked.checked_out = False
    if specimen_type_get(locked.specimen_type).frozen:
        locked.freeze_thaw_cycles += 1
    locked.save(update_fields=["checked_out", "freeze_thaw_cycles"])
    _custody(
        locked, CustodyKind.CHECKED_IN, by, from_location=before, to_location=location_of(locked)
    )
    return locked


def _leave_position(locked: Specimen) -> str:
    before = location_of(locked)
    locked.box, locked.row, locked.column, locked.checked_out = None, None, None, False
    return before


@transaction.atomic
def specimen_dispose(*, specimen: Specimen, reason: str, by: User) -> Specimen:
    """Close a specimen (exhausted, QC fail, consent withdrawn, expired, damaged): a state, never a
    delete; it leaves its storage position."""
    require(by, Action.HANDLE_SPECIMENS, on=specimen)
    if not reason.strip():
        raise ValidationError(gettext("Give the reason for disposal."), field="reason")
    locked = Specimen.objects.select_for_update(of=("self",)).get(pk=specimen.pk)
    if locked.status in {Status.DISPOSED, Status.DISTRIBUTED}:
        raise ValidationError(
            gettext("%(locked)s is already %(status)s.")
            % {"locked": locked, "status": locked.status},
            field="specimen",
        )
    before = _leave_position(locked)
    old = locked.status
    locked.status, locked.status_reason = Status.DISPOSED, reason.strip()[:200]
    locked.version += 1
    locked.save(
        update_fields=["box", "row", "column", "checked_out", "status", "status_reason", "version"]
    )
    audit_record(
        action="dispose",
        instance=locked,
        changes={"status": [old, locked.status]},
        reason=reason,
        by=by,
    )
    _custody(locked, CustodyKind.DISPOSED, by, from_location=before, note=reason)
    return locked


# --- shipments -------------------------------------------------------------------------------


@transaction.atomic
def shipment_create(
    *,
    site: Site,
    recipient: str,
    purpose: str,
    specimens: Iterable[Specimen],
    by: User,
    courier: str = "",
    reference: str = "",
) -> Shipment:
    """A shipment of available specimens to a partner; every specimen's consent must allow
    ``purpose`` (the refusal names the tier)."""
    require(by, Action.HANDLE_SPECIMENS, on=site)
    try:
        use = Use(purpose)
    except ValueError:
        raise ValidationError(
            gettext("purpose must be one of %(use)s; got %(purpose)s.")
            % {"use": ", ".join(u.value for u in Use), "purpose": repr(purpose)},
            field="purpose",
        ) from None
    if not recipient.strip():
        raise ValidationError(gettext("Name the recipient."), field="recipient")
    items = sorted({s.pk for s in specimens})
    if not items:
        raise ValidationError(
            gettext("A shipment carries at least one specimen."), field="specimens"
        )
    locked = list(
        Specimen.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(pk__in=items)
        .order_by("pk")
    )
    for s in locked:
        if s.patient.site_id != site.pk:
            raise ValidationError(
                gettext("%(s)s is not held at %(site)s.") % {"s": s, "site": site},
                field="specimens",
            )
        if s.status not in IN_STOCK:
            raise ValidationError(
                gettext(
                    "%(s)s is %(status)s: only available specimens are distributed "
                    "(NOT_AVAILABLE_FOR_DIST); nothing was recorded."
                )
                % {"s": s, "status": s.get_status_display().lower()},
                field="specimens",
                code="specimen_not_available",
            )
        if s.checked_out:
            raise ValidationError(
                gettext("%(s)s is checked out; check it in first.") % {"s": s}, field="specimens"
            )
        refusal = refusal_for(use, consent_answers(s.patient))
        if refusal is not None:
            raise ValidationError(
                gettext("%(specimen)s: %(refusal)s Nothing was recorded.")
                % {"specimen": s, "refusal": refusal_text(refusal)},
                field="specimens",
                code="consent_refused",
                tier=refusal.tier.value,
                specimen=s.label,
            )
    now = timezone.now()
    reference = reference.strip() or f"SHP-{now:%Y%m%d}-{Shipment.objects.count() + 1:04d}"
    if Shipment.objects.filter(reference=reference).exists():
        raise ValidationError(
            gettext("The reference %(reference)s is already used.") % {"reference": reference},
            field="reference",
        )
    shipment = Shipment.objects.create(
        site=site,
        reference=reference,
        recipient=recipient.strip()[:200],
        purpose=use.value,
        courier=courier.strip()[:100],
        created_at=now,
    )
    shipment.specimens.set(locked)
    audit_record(
        action="create",
        instance=shipment,
        changes={
            "recipient": [None, shipment.recipient],
            "specimens": [None, [s.label for s in locked]],
        },
        by=by,
    )
    return shipment


@transaction.atomic
def shipment_send(*, shipment: Shipment, by: User) -> Shipment:
    """Ship: every specimen leaves its position and is distributed (custody event 'shipped')."""
    require(by, Action.HANDLE_SPECIMENS, on=shipment)
    locked = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment.pk)
    if locked.status != ShipmentStatus.PREPARING:
        raise ValidationError(
            gettext("%(locked)s is %(status)s; only a shipment in preparation ships.")
            % {"locked": locked, "status": locked.status},
            field="shipment",
        )
    if locked.flagged:
        raise ValidationError(
            gettext("%(locked)s is stopped: %(flagged)s")
            % {"locked": locked, "flagged": locked.flagged},
            field="shipment",
            code="shipment_flagged",
        )
    use = Use(locked.purpose)
    specimens = list(
        Specimen.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(shipments=locked)
        .order_by("pk")
    )
    now = timezone.now()
    for s in specimens:
        if s.status not in IN_STOCK or s.checked_out:
            raise ValidationError(
                gettext("%(s)s is no longer available to ship.") % {"s": s}, field="specimens"
            )
        refusal = refusal_for(use, consent_answers(s.patient))
        if refusal is not None:
            raise ValidationError(
                gettext("%(s)s: %(value)s") % {"s": s, "value": refusal_text(refusal)},
                field="specimens",
                code="consent_refused",
                tier=refusal.tier.value,
            )
        before = _leave_position(s)
        s.status, s.status_reason = Status.DISTRIBUTED, f"shipment {locked.reference}"
        s.version += 1
        s.save(
            update_fields=[
                "box",
                "row",
                "column",
                "checked_out",
                "status",
                "status_reason",
                "version",
            ]
        )
        _custody(
            s,
            CustodyKind.SHIPPED,
            by,
            at=now,
            from_location=before,
            to_location=f"in transit to {locked.recipient}",
            custodian=locked.courier,
            shipment=locked,
        )
    locked.status, locked.shipped_at = ShipmentStatus.SHIPPED, now
    locked.save(update_fields=["status", "shipped_at"])
    audit_record(
        action="ship", instance=locked, changes={"status": ["preparing", "shipped"]}, by=by
    )
    return locked


@transaction.atomic
def shipment_receive(
    *, shipment: Shipment, by: User, received_at: dt.datetime | None = None
) -> Shipment:
    """The partner confirmed receipt (custody event 'delivered' for every specimen)."""
    require(by, Action.HANDLE_SPECIMENS, on=shipment)
    locked = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment.pk)
    if locked.status != ShipmentStatus.SHIPPED:
        raise ValidationError(
            gettext("%(locked)s is %(status)s; only a shipped shipment is received.")
            % {"locked": locked, "status": locked.status},
            field="shipment",
        )
    at = received_at or timezone.now()
    if locked.shipped_at and at < locked.shipped_at:
        raise ValidationError(
            gettext("A shipment is received after it was sent."), field="received_at"
        )
    for s in Specimen.objects.filter(shipments=locked).order_by("pk"):
        _custody(
            s,
            CustodyKind.DELIVERED,
            by,
            at=at,
            from_location=f"in transit to {locked.recipient}",
            to_location=locked.recipient,
            custodian=locked.recipient,
            shipment=locked,
        )
    locked.status, locked.received_at = ShipmentStatus.RECEIVED, at
    locked.save(update_fields=["status", "received_at"])
    audit_record(
        action="receive", instance=locked, changes={"status": ["shipped", "received"]}, by=by
    )
    return locked


# --- sequencing --------------------------------------------------------------------------------


@core_errors_translated(CORE_MESSAGES)
@transaction.atomic
def sequencing_run_record(
    *,
    specimen: Specimen,
    assay: str,
    library_id: str,
    run_id: str,
    by: User,
    panel: str = "",
    instrument: str = "",
    sequenced_on: dt.date | None = None,
    input_ng: Any = None,
    mean_coverage: Any = None,
    tumour_fraction: Any = None,
    purity: Any = None,
    status: str = "sequenced",
    report: GenomicReport | None = None,
) -> SequencingRun:
    """A library of ``specimen`` sequenced on a run, with its QC, and the report it produced."""
    require(by, Action.SEQUENCE, on=specimen)
    _choice(assay, Assay, "assay")
    _choice(status, RunStatus, "status")
    if not library_id.strip() or not run_id.strip():
        raise ValidationError(
            gettext("A run names its library and run identifiers."), field="library_id"
        )
    values: dict[str, Decimal | None] = {}
    for name, value, hi in (
        ("input_ng", input_ng, None),
        ("mean_coverage", mean_coverage, None),
        ("tumour_fraction", tumour_fraction, 1),
        ("purity", purity, 1),
    ):
        if value in (None, ""):
            values[name] = None
            continue
        v = quantity_parse(value, field=name, allow_zero=True)
        if hi is not None and v > hi:
            raise ValidationError(
                gettext("%(name)s is a fraction in [0, 1]; got %(v)s.") % {"name": name, "v": v},
                field=name,
            )
        values[name] = v
    if report is not None and report.sample.patient_id != specimen.patient_id:
        raise ValidationError(gettext("The report is another patient's."), field="report")
    locked = _lock_specimen(specimen)
    if locked.status == Status.DISPOSED:
        raise ValidationError(
            gettext("%(locked)s is disposed.") % {"locked": locked}, field="specimen"
        )
    _require_use(locked.patient, Use.SEQUENCING)
    if locked.data_use_blocked:
        raise ValidationError(
            gettext("%(locked)s: %(data_use_blocked)s")
            % {"locked": locked, "data_use_blocked": locked.data_use_blocked},
            field="specimen",
            code="consent_refused",
        )
    if SequencingRun.objects.filter(run_id=run_id.strip(), library_id=library_id.strip()).exists():
        raise ValidationError(
            gettext("Library %(library_id)s is already recorded on run %(run_id)s.")
            % {"library_id": library_id, "run_id": run_id},
            field="library_id",
        )
    run = SequencingRun.objects.create(
        specimen=locked,
        assay=assay,
        panel=panel.strip()[:100],
        library_id=library_id.strip(),
        run_id=run_id.strip(),
        instrument=instrument.strip()[:60],
        sequenced_on=sequenced_on,
        status=status,
        report=report,
        created_at=timezone.now(),
        **values,
    )
    audit_record(
        action="create",
        instance=run,
        changes={k: [None, v] for k, v in model_snapshot(run).items()},
        by=by,
        partition=None,
    )
    return run


@transaction.atomic
def sequencing_run_link_report(
    *, run: SequencingRun, report: GenomicReport, by: User
) -> SequencingRun:
    require(by, Action.SEQUENCE, on=run.specimen)
    locked = (
        SequencingRun.objects.select_for_update(of=("self",))
        .select_related("specimen")
        .get(pk=run.pk)
    )
    if report.sample.patient_id != locked.specimen.patient_id:
        raise ValidationError(gettext("The report is another patient's."), field="report")
    old = locked.report_id
    locked.report = report
    locked.save(update_fields=["report"])
    audit_record(action="update", instance=locked, changes={"report": [old, report.pk]}, by=by)
    return locked


# --- consent withdrawal cascade ----------------------------------------------------------------


_MOLECULAR = {"dna", "rna", "cfdna"}


def consent_tiers_withdrawn(consent: Consent, tiers: tuple[str, ...], on: dt.date, by: Any) -> None:
    """Listener of ``subjects.consent_hooks``: runs inside the withdrawal's transaction.

    - specimens whose use depends on a withdrawn tier go to "pending disposal" (all of them when
      storage or future research is withdrawn; nucleic-acid derivatives when genetic analysis is);
    - open shipments carrying them, or whose purpose needs the tier, are flagged;
    - sequencing runs (and so their genomic reports) are flagged "do not use for new analyses";
    - one ``ConsentCascade`` row records what was done. Nothing is deleted.
    """
    known = {t.value for t in Tier}
    tiers = tuple(t for t in tiers if t in known)
    if not tiers:
        return
    blocked: set[Use] = set()
    for t in tiers:
        blocked |= uses_blocked_by(t)
    user = by if isinstance(by, User) else None
    patient = consent.patient
    specimens = list(
        Specimen.objects.select_for_update(of=("self",)).filter(patient=patient).order_by("pk")
    )
    affected = [
        s
        for s in specimens
        if s.status in {Status.AVAILABLE, Status.DEPLETED}
        and (
            Use.STORAGE in blocked
            or Use.RESEARCH in blocked
            or (Use.SEQUENCING in blocked and s.specimen_type in _MOLECULAR)
        )
    ]
    why = f"consent tier '{', '.join(tiers)}' withdrawn on {on.isoformat()}"
    for s in affected:
        old = s.status
        s.status, s.status_reason = Status.PENDING_DISPOSAL, why[:200]
        s.version += 1
        s.save(update_fields=["status", "status_reason", "version"])
        audit_record(
            action="disposal_pending",
            instance=s,
            changes={"status": [old, s.status]},
            reason=why,
            by=user,
        )
        _custody(s, CustodyKind.DISPOSAL_PENDING, user, note=why)
    affected_ids = {s.pk for s in affected}
    flagged = []
    # PostgreSQL refuses FOR UPDATE with DISTINCT: find the open shipments, then lock them by id.
    open_ids = set(
        Shipment.objects.filter(
            specimens__patient=patient,
            status__in=[ShipmentStatus.PREPARING, ShipmentStatus.SHIPPED],
        ).values_list("pk", flat=True)
    )
    for sh in Shipment.objects.select_for_update().filter(pk__in=open_ids).order_by("pk"):
        carries = set(sh.specimens.values_list("pk", flat=True)) & ({s.pk for s in specimens})
        if Use(sh.purpose) in blocked or carries & affected_ids:
            sh.flagged = f"{why}; concerns {', '.join(sorted(Specimen.objects.filter(pk__in=carries).values_list('label', flat=True)))}"[
                :300
            ]
            sh.save(update_fields=["flagged"])
            audit_record(
                action="flag",
                instance=sh,
                changes={"flagged": ["", sh.flagged]},
                reason=why,
                by=user,
            )
            flagged.append(sh.reference)
    runs = []
    if Use.SEQUENCING in blocked:
        for run in (
            SequencingRun.objects.select_for_update(of=("self",))
            .filter(specimen__patient=patient, data_use_blocked="")
            .order_by("pk")
        ):
            run.data_use_blocked = f"do not use for new analyses: {why}"[:200]
            run.save(update_fields=["data_use_blocked"])
            audit_record(
                action="flag",
                instance=run,
                changes={"data_use_blocked": ["", run.data_use_blocked]},
                reason=why,
                by=user,
            )
            runs.append(run.pk)
        Specimen.objects.filter(patient=patient, data_use_blocked="").update(
            data_use_blocked=f"do not use for new analyses: {why}"[:200]
        )
    for t in tiers:
        ConsentCascade.objects.create(
            patient=patient,
            consent_id=consent.pk,
            tier=t,
            withdrawn_on=on,
            at=timezone.now(),
            specimens_pending_disposal=[s.label for s in affected],
            shipments_flagged=flagged,
            runs_flagged=runs,
        )
