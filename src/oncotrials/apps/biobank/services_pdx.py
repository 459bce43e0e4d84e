"""Writes of PDX models: creation from a specimen, passages, engraftment, QC, treatment arms and
tumour measurements. Each service owns its transaction and its audit events; input is checked
against the CancerModels dictionary's own rules (code lists, patterns) before anything is
written, and bad input names its field (and row, for measurements).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, require
from oncotrials.apps.accounts.models import User
from oncotrials.apps.audit.partitions import partition_of
from oncotrials.apps.audit.services import audit_record, model_snapshot
from oncotrials.core.biobank.cancermodels import load_dictionary
from oncotrials.core.biobank.consent import Use
from oncotrials.core.biobank.lineage import IN_STOCK, specimen_type_get
from oncotrials.core.biobank.pdx import CALIPER_FORMULA, caliper_volume
from oncotrials.core.errors import ConflictError, ValidationError

from .models import Specimen
from .models_pdx import (
    Accessibility,
    EngraftmentType,
    PdxMeasurement,
    PdxModel,
    PdxMouse,
    PdxPassage,
    PdxTreatmentArm,
    PdxValidation,
    QcResult,
    SampleState,
)
from .services import _require_use

#: Specimen types a xenograft can be grown from: viable tumour tissue or cells, never fixed
#: tissue, fluids or extracts.
GRAFTABLE = frozenset({"tissue_frozen", "ctc", "culture"})
_GRAFTABLE = GRAFTABLE


def _rule_check(
    sheet: str, values: Mapping[str, str], *, fields: Mapping[str, str] | None = None
) -> None:
    """Refuse a value the CancerModels dictionary would refuse (code list or pattern); the error
    names the input field (``fields`` maps a dictionary column to it when the names differ)."""
    rules = load_dictionary().sheets[sheet]
    for name, value in values.items():
        rule = rules.field(name)
        if rule is None or not value:
            continue
        field = (fields or {}).get(name, name)
        if rule.code_list is not None and value not in rule.code_list:
            raise ValidationError(
                gettext("%(name)s must be one of %(code_list)s; got %(value)s.")
                % {"name": name, "code_list": ", ".join(rule.code_list), "value": repr(value)},
                field=field,
            )
        if not rule.matches(value):
            raise ValidationError(
                gettext("%(name)s %(value)s does not follow the CancerModels format (%(format)s).")
                % {"name": name, "value": repr(value), "format": " ".join(rule.format.split())},
                field=field,
            )


def _audit(action: str, instance: Any, pdx: PdxModel, by: User, **kw: Any) -> None:
    audit_record(
        action=action, instance=instance, by=by, partition=partition_of(pdx.specimen), **kw
    )


def _created(action: str, instance: Any, pdx: PdxModel, by: User, reason: str = "") -> None:
    _audit(
        action,
        instance,
        pdx,
        by,
        changes={k: [None, v] for k, v in model_snapshot(instance).items()},
        reason=reason,
    )


def _not_future(day: dt.date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError(
            gettext("%(field)s cannot be in the future; got %(day)s.")
            % {"field": field, "day": day},
            field=field,
        )


@transaction.atomic
def pdx_model_create(
    *,
    specimen: Specimen,
    model_id: str,
    host_strain_name: str,
    host_strain_nomenclature: str,
    engraftment_site: str,
    engraftment_type: str,
    diagnosis: str,
    primary_site: str,
    contact_name: str,
    contact_email: str,
    implanted_on: dt.date,
    mice_implanted: int,
    by: User,
    tumour_type: str = "primary",
    sample_type: str = "tissue fragment",
    sample_state: str = SampleState.FRESH,
    accessibility: str = Accessibility.ACADEMIA,
    publications: str = "",
) -> PdxModel:
    """Start a PDX model from ``specimen``: the model and its first engraftment (P0).

    The specimen must be in stock, of a graftable kind (fresh or frozen tissue, cells), and the
    patient must have consented to xenograft work (the 'xenograft' tier)."""
    require(by, Action.HANDLE_SPECIMENS, on=specimen)
    model_id = model_id.strip()
    if not model_id:
        raise ValidationError(gettext("A PDX model needs a model_id."), field="model_id")
    _rule_check(
        "pdx_model",
        {
            "model_id": model_id,
            "host_strain_name": host_strain_name,
            "host_strain_nomenclature": host_strain_nomenclature,
            "engraftment_site": engraftment_site,
            "sample_type": sample_type,
            "publications": publications,
        },
    )
    _rule_check("sharing", {"email": contact_email, "name": contact_name})
    _rule_check(
        "patient_sample",
        {"diagnosis": diagnosis, "primary_site": primary_site, "tumour_type": tumour_type},
    )
    for name, value in (
        ("host_strain_name", host_strain_name),
        ("host_strain_nomenclature", host_strain_nomenclature),
        ("engraftment_site", engraftment_site),
        ("diagnosis", diagnosis),
        ("primary_site", primary_site),
        ("contact_name", contact_name),
        ("contact_email", contact_email),
    ):
        if not str(value).strip():
            raise ValidationError(
                gettext("%(name)s is required for a PDX model.") % {"name": name}, field=name
            )
    if engraftment_type not in EngraftmentType.values:
        raise ValidationError(
            gettext("engraftment_type must be heterotopic or orthotopic; got %(engraftment_type)s.")
            % {"engraftment_type": repr(engraftment_type)},
            field="engraftment_type",
        )
    if sample_state not in SampleState.values:
        raise ValidationError(
            gettext("sample_state must be fresh or frozen; got %(sample_state)s.")
            % {"sample_state": repr(sample_state)},
            field="sample_state",
        )
    if accessibility not in Accessibility.values:
        raise ValidationError(
            gettext("accessibility must be one of %(allowed)s; got %(accessibility)s.")
            % {"allowed": ", ".join(Accessibility.values), "accessibility": repr(accessibility)},
            field="accessibility",
        )
    kind = specimen_type_get(specimen.specimen_type)
    if specimen.specimen_type not in _GRAFTABLE:
        raise ValidationError(
            gettext(
                "A xenograft is grown from fresh or frozen tissue or cells; %(specimen)s is "
                "%(kind)s."
            )
            % {"specimen": specimen.label, "kind": kind.label},
            field="specimen",
        )
    if specimen.status not in IN_STOCK:
        raise ValidationError(
            gettext("%(specimen)s is %(status)s; only an available specimen can be grafted.")
            % {"specimen": specimen.label, "status": specimen.status},
            field="specimen",
        )
    _require_use(specimen.patient, Use.XENOGRAFT)
    if mice_implanted < 1:
        raise ValidationError(gettext("At least one mouse is implanted."), field="mice_implanted")
    _not_future(implanted_on, "implanted_on")
    if implanted_on < specimen.collected_at.date():
        raise ValidationError(
            gettext("The implant (%(implanted_on)s) cannot precede the collection of %(specimen)s.")
            % {"implanted_on": implanted_on, "specimen": specimen.label},
            field="implanted_on",
        )
    if PdxModel.objects.filter(model_id=model_id).exists():
        raise ValidationError(
            gettext("The model_id %(model_id)s is already used.") % {"model_id": model_id},
            field="model_id",
        )
    pdx = PdxModel.objects.create(
        model_id=model_id,
        specimen=specimen,
        host_strain_name=host_strain_name.strip(),
        host_strain_nomenclature=host_strain_nomenclature.strip(),
        engraftment_site=engraftment_site.strip(),
        engraftment_type=engraftment_type,
        sample_type=sample_type.strip(),
        sample_state=sample_state,
        diagnosis=diagnosis.strip(),
        primary_site=primary_site.strip(),
        tumour_type=tumour_type,
        publications=publications.strip(),
        accessibility=accessibility,
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip(),
        created_at=timezone.now(),
    )
    _created("create", pdx, pdx, by)
    passage = PdxPassage.objects.create(
        pdx_model=pdx, number=0, implanted_on=implanted_on, mice_implanted=mice_implanted
    )
    _created("create", passage, pdx, by)
    return pdx


@transaction.atomic
def pdx_passage_add(
    *,
    parent: PdxPassage,
    implanted_on: dt.date,
    mice_implanted: int,
    by: User,
    host_strain_nomenclature: str = "",
    note: str = "",
) -> PdxPassage:
    """Passage the tumour of ``parent`` into new mice (P(n+1)); the parent must have taken."""
    pdx = PdxModel.objects.select_for_update().get(pk=parent.pdx_model_id)
    require(by, Action.HANDLE_SPECIMENS, on=pdx.specimen)
    parent = PdxPassage.objects.get(pk=parent.pk)
    if not parent.mice_engrafted:
        raise ValidationError(
            gettext(
                "P%(number)s has no engrafted mouse to passage from; record its engraftment first."
            )
            % {"number": parent.number},
            field="parent",
        )
    if mice_implanted < 1:
        raise ValidationError(gettext("At least one mouse is implanted."), field="mice_implanted")
    _not_future(implanted_on, "implanted_on")
    if implanted_on < parent.implanted_on:
        raise ValidationError(
            gettext("P%(next)s cannot be implanted before P%(number)s (%(implanted_on)s).")
            % {
                "next": parent.number + 1,
                "number": parent.number,
                "implanted_on": parent.implanted_on,
            },
            field="implanted_on",
        )
    if host_strain_nomenclature:
        _rule_check("pdx_model", {"host_strain_nomenclature": host_strain_nomenclature})
    number = parent.number + 1
    if PdxPassage.objects.filter(pdx_model=pdx, number=number).exists():
        raise ConflictError(
            gettext("%(model_id)s already has a passage P%(number)s.")
            % {"model_id": pdx.model_id, "number": number}
        )
    passage = PdxPassage.objects.create(
        pdx_model=pdx,
        number=number,
        parent=parent,
        implanted_on=implanted_on,
        mice_implanted=mice_implanted,
        host_strain_nomenclature=host_strain_nomenclature.strip(),
        note=note.strip()[:300],
    )
    pdx.version += 1
    pdx.save(update_fields=["version"])
    _created("create", passage, pdx, by)
    return passage


@transaction.atomic
def pdx_engraftment_record(
    *, passage: PdxPassage, mice_engrafted: int, by: User, reason: str = ""
) -> PdxPassage:
    """Record how many mice of a passage took; a change of a recorded count needs a reason."""
    passage = (
        PdxPassage.objects.select_for_update()
        .select_related("pdx_model__specimen")
        .get(pk=passage.pk)
    )
    pdx = passage.pdx_model
    require(by, Action.HANDLE_SPECIMENS, on=pdx.specimen)
    if not 0 <= mice_engrafted <= passage.mice_implanted:
        raise ValidationError(
            gettext(
                "mice_engrafted must lie between 0 and the %(mice_implanted)s implanted; got "
                "%(mice_engrafted)s."
            )
            % {"mice_implanted": passage.mice_implanted, "mice_engrafted": mice_engrafted},
            field="mice_engrafted",
        )
    in_arms = PdxMouse.objects.filter(arm__passage=passage).count()
    if mice_engrafted < in_arms:
        raise ValidationError(
            gettext(
                "%(in_arms)s mice of P%(number)s are already in treatment arms; mice_engrafted "
                "cannot be %(mice_engrafted)s."
            )
            % {"in_arms": in_arms, "number": passage.number, "mice_engrafted": mice_engrafted},
            field="mice_engrafted",
        )
    old = passage.mice_engrafted
    if old is not None and old != mice_engrafted and not reason.strip():
        raise ValidationError(
            gettext("Changing a recorded engraftment needs a reason."), field="reason"
        )
    passage.mice_engrafted = mice_engrafted
    passage.save(update_fields=["mice_engrafted"])
    _audit(
        "update",
        passage,
        pdx,
        by,
        changes={"mice_engrafted": [old, mice_engrafted]},
        reason=reason.strip(),
    )
    return passage


@transaction.atomic
def pdx_validation_add(
    *,
    pdx_model: PdxModel,
    technique: str,
    description: str,
    passages_tested: Sequence[int],
    result: str,
    performed_on: dt.date,
    by: User,
    host_strain_nomenclature: str = "",
) -> PdxValidation:
    """Record a QC of the model (STR, histology, IHC, WES concordance) on given passages."""
    require(by, Action.HANDLE_SPECIMENS, on=pdx_model.specimen)
    if result not in QcResult.values:
        raise ValidationError(
            gettext("result must be one of %(allowed)s; got %(result)s.")
            % {"allowed": ", ".join(QcResult.values), "result": repr(result)},
            field="result",
        )
    numbers = sorted(set(passages_tested))
    if not numbers:
        raise ValidationError(gettext("Name the passages tested."), field="passages_tested")
    known = set(pdx_model.passages.values_list("number", flat=True))
    missing = [n for n in numbers if n not in known]
    if missing:
        raise ValidationError(
            gettext("%(model_id)s has no passage %(missing)s.")
            % {"model_id": pdx_model.model_id, "missing": ", ".join(f"P{n}" for n in missing)},
            field="passages_tested",
        )
    _not_future(performed_on, "performed_on")
    strain = host_strain_nomenclature.strip() or pdx_model.host_strain_nomenclature
    for name, value in (("technique", technique), ("description", description)):
        if not value.strip():
            raise ValidationError(gettext("%(name)s is required.") % {"name": name}, field=name)
    for name, value, limit in (
        ("technique", technique.strip(), 80),
        ("description", description.strip(), 500),
        ("host_strain_nomenclature", strain, 120),
    ):
        if len(value) > limit:
            raise ValidationError(
                gettext("%(name)s is %(n_value)s characters long; at most %(limit)s.")
                % {"name": name, "n_value": len(value), "limit": limit},
                field=name,
            )
    _rule_check(
        "model_validation",
        {
            "validation_technique": technique.strip(),
            "description": description.strip(),
            "validation_host_strain_nomenclature": strain,
        },
        fields={
            "validation_technique": "technique",
            "validation_host_strain_nomenclature": "host_strain_nomenclature",
        },
    )
    qc = PdxValidation.objects.create(
        pdx_model=pdx_model,
        technique=technique.strip(),
        description=description.strip(),
        passages_tested=", ".join(str(n) for n in numbers),
        result=result,
        performed_on=performed_on,
        host_strain_nomenclature=strain,
    )
    _created("create", qc, pdx_model, by)
    return qc


@transaction.atomic
def pdx_arm_create(
    *,
    passage: PdxPassage,
    name: str,
    treatment_name: str,
    started_on: dt.date,
    mice: Sequence[str],
    by: User,
    dose: str = "",
    route: str = "",
    schedule: str = "",
    is_control: bool = False,
) -> PdxTreatmentArm:
    """A treatment (or control) arm on engrafted mice of one passage; day 0 is ``started_on``.

    The arm's mice, with those of the passage's other arms, cannot outnumber its engrafted
    mice (the passage row is locked while counting)."""
    passage = (
        PdxPassage.objects.select_for_update()
        .select_related("pdx_model__specimen")
        .get(pk=passage.pk)
    )
    pdx = passage.pdx_model
    require(by, Action.HANDLE_SPECIMENS, on=pdx.specimen)
    name = name.strip()
    treatment_name = treatment_name.strip() or ("untreated" if is_control else "")
    if not name:
        raise ValidationError(gettext("An arm needs a name."), field="name")
    if not treatment_name:
        raise ValidationError(
            gettext("Name the treatment (or mark the arm as control)."), field="drug"
        )
    labels = [m.strip() for m in mice if m.strip()]
    if not labels:
        raise ValidationError(gettext("An arm needs at least one mouse."), field="mice")
    if len(set(labels)) != len(labels):
        raise ValidationError(gettext("A mouse is listed twice."), field="mice")
    used = PdxMouse.objects.filter(arm__passage=passage).count()
    if passage.mice_engrafted is None or used + len(labels) > passage.mice_engrafted:
        free = (passage.mice_engrafted or 0) - used
        raise ValidationError(
            gettext("P%(number)s has %(free)s engrafted mice left for arms; got %(n_labels)s.")
            % {"number": passage.number, "free": max(free, 0), "n_labels": len(labels)},
            field="mice",
        )
    if started_on < passage.implanted_on:
        raise ValidationError(
            gettext("Treatment cannot start before the implant (%(implanted_on)s).")
            % {"implanted_on": passage.implanted_on},
            field="started_on",
        )
    _not_future(started_on, "started_on")
    if PdxTreatmentArm.objects.filter(pdx_model=pdx, name=name).exists():
        raise ValidationError(
            gettext("%(model_id)s already has an arm %(name)s.")
            % {"model_id": pdx.model_id, "name": repr(name)},
            field="name",
        )
    arm = PdxTreatmentArm.objects.create(
        pdx_model=pdx,
        passage=passage,
        name=name,
        treatment_name=treatment_name,
        dose=dose.strip(),
        route=route.strip(),
        schedule=schedule.strip(),
        started_on=started_on,
        is_control=is_control,
    )
    for label in labels:
        PdxMouse.objects.create(arm=arm, label=label)
    _audit(
        "create",
        arm,
        pdx,
        by,
        changes={
            **{k: [None, v] for k, v in model_snapshot(arm).items()},
            "mice": [None, labels],
        },
    )
    return arm


def _decimal(value: Any, field: str, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(
            gettext("%(where)s: %(field)s is %(value)s, not a number.")
            % {"where": where, "field": field, "value": repr(value)},
            field=field,
        ) from None
    if not number.is_finite() or number < 0:
        raise ValidationError(
            gettext("%(where)s: %(field)s must be ≥ 0; got %(value)s.")
            % {"where": where, "field": field, "value": value},
            field=field,
        )
    return number


@transaction.atomic
def pdx_measurements_record(
    *, arm: PdxTreatmentArm, rows: Sequence[Mapping[str, Any]], by: User
) -> list[PdxMeasurement]:
    """Record tumour measurements of an arm's mice, all or nothing.

    Each row names ``mouse`` (its label), ``measured_on`` (a date) and either ``length_mm`` and
    ``width_mm`` (the volume is then computed, V = L × W² / 2) or ``volume_mm3``. A bad row is
    refused with its number (from 1), mouse and day, and nothing is written."""
    arm = (
        PdxTreatmentArm.objects.select_for_update()
        .select_related("pdx_model__specimen")
        .get(pk=arm.pk)
    )
    pdx = arm.pdx_model
    require(by, Action.HANDLE_SPECIMENS, on=pdx.specimen)
    if not rows:
        raise ValidationError(gettext("No measurement given."), field="rows")
    mice = {m.label: m for m in arm.mice.all()}
    # The days each mouse of the arm already has a measurement, read once for all the rows.
    measured = set(
        PdxMeasurement.objects.filter(mouse__arm=arm).values_list("mouse_id", "measured_on")
    )
    seen: set[tuple[str, dt.date]] = set()
    created: list[PdxMeasurement] = []
    today = timezone.localdate()
    for i, row in enumerate(rows, start=1):
        label = str(row.get("mouse", "")).strip()
        where = f"Row {i}"
        mouse = mice.get(label)
        if mouse is None:
            raise ValidationError(
                gettext("%(where)s: no mouse %(label)s in arm %(arm)s (mice: %(mice)s).")
                % {"where": where, "label": repr(label), "arm": arm.name, "mice": ", ".join(mice)},
                field="mouse",
                row=i,
            )
        day = row.get("measured_on")
        if isinstance(day, str):
            try:
                day = dt.date.fromisoformat(day)
            except ValueError:
                raise ValidationError(
                    gettext("%(where)s: measured_on %(day)s is not a date (YYYY-MM-DD).")
                    % {"where": where, "day": repr(day)},
                    field="measured_on",
                    row=i,
                ) from None
        if not isinstance(day, dt.date):
            raise ValidationError(
                gettext("%(where)s: measured_on is required.") % {"where": where},
                field="measured_on",
                row=i,
            )
        where = f"Row {i} ({label}, {day})"
        if day > today:
            raise ValidationError(
                gettext("%(where)s: the day is in the future.") % {"where": where},
                field="measured_on",
                row=i,
            )
        if day < arm.passage.implanted_on:
            raise ValidationError(
                gettext("%(where)s: before the implant (%(implanted_on)s).")
                % {"where": where, "implanted_on": arm.passage.implanted_on},
                field="measured_on",
                row=i,
            )
        if (label, day) in seen or (mouse.pk, day) in measured:
            raise ValidationError(
                gettext("%(where)s: this mouse already has a measurement that day.")
                % {"where": where},
                field="measured_on",
                row=i,
            )
        seen.add((label, day))
        length = _decimal(row.get("length_mm"), "length_mm", where)
        width = _decimal(row.get("width_mm"), "width_mm", where)
        volume = _decimal(row.get("volume_mm3"), "volume_mm3", where)
        if length is not None and width is not None:
            if volume is not None:
                raise ValidationError(
                    gettext(
                        "%(where)s: give caliper diameters or a volume, not both (the volume is "
                        "computed from the diameters)."
                    )
                    % {"where": where},
                    field="volume_mm3",
                    row=i,
                )
            volume = Decimal(str(round(caliper_volume(float(length), float(width)), 3)))
            formula = "V = L × W² / 2"
        elif volume is not None and length is None and width is None:
            formula = "measured volume"
        else:
            raise ValidationError(
                gettext("%(where)s: give both length_mm and width_mm, or volume_mm3.")
                % {"where": where},
                field="length_mm" if length is None else "width_mm",
                row=i,
            )
        created.append(
            PdxMeasurement(
                mouse=mouse,
                measured_on=day,
                length_mm=length,
                width_mm=width,
                volume_mm3=volume,
                formula=formula,
            )
        )
    PdxMeasurement.objects.bulk_create(created)  # in the rows' order, once all are checked
    _audit(
        "pdx_measurements",
        arm,
        pdx,
        by,
        changes={
            "measurements": [
                None,
                [
                    {"mouse": m.mouse.label, "on": m.measured_on, "volume_mm3": m.volume_mm3}
                    for m in created
                ],
            ]
        },
        reason=CALIPER_FORMULA,
    )
    return created
