"""Reads of PDX models, through the caller's memberships (a model is visible with its specimen).

Growth curves, engraftment rates and mRECIST are computed here from the stored measurements
(``oncotrials.core.biobank.pdx``) on every read, so they can never be stale.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext

from oncotrials.apps.accounts.models import Actor
from oncotrials.core.biobank import cancermodels as cm
from oncotrials.core.biobank.pdx import MRecistResult, mrecist
from oncotrials.core.errors import NotFoundError

from .models_pdx import PdxMeasurement, PdxModel, PdxMouse, PdxPassage, PdxTreatmentArm
from .selectors import specimen_condition


def pdx_models_visible_to(user: Actor) -> QuerySet[PdxModel]:
    cond = specimen_condition(user, "specimen__")
    qs = PdxModel.objects.all()
    return qs if cond is None else qs.filter(cond)


def pdx_models_for_user(*, user: Actor, q: str = "") -> QuerySet[PdxModel]:
    qs = pdx_models_visible_to(user).select_related("specimen__patient")
    if q.strip():
        term = q.strip()
        qs = qs.filter(
            Q(model_id__icontains=term) | Q(specimen__patient__research_id__icontains=term)
        )
    return qs.order_by("model_id")


def pdx_model_get_for_user(*, user: Actor, pdx_model_id: int) -> PdxModel:
    found = (
        pdx_models_visible_to(user)
        .filter(pk=pdx_model_id)
        .select_related("specimen__patient__site", "specimen__registration")
        .first()
    )
    if found is None:
        raise NotFoundError(
            gettext("No PDX model %(pdx_model_id)s that you may see.")
            % {"pdx_model_id": pdx_model_id}
        )
    return found


def pdx_passage_get_for_user(*, user: Actor, passage_id: int) -> PdxPassage:
    cond = specimen_condition(user, "pdx_model__specimen__")
    qs = PdxPassage.objects.filter(pk=passage_id).select_related("pdx_model__specimen")
    found = (qs if cond is None else qs.filter(cond)).first()
    if found is None:
        raise NotFoundError(
            gettext("No PDX passage %(passage_id)s that you may see.") % {"passage_id": passage_id}
        )
    return found


def pdx_arm_get_for_user(*, user: Actor, arm_id: int) -> PdxTreatmentArm:
    cond = specimen_condition(user, "pdx_model__specimen__")
    qs = PdxTreatmentArm.objects.filter(pk=arm_id).select_related("pdx_model__specimen", "passage")
    found = (qs if cond is None else qs.filter(cond)).first()
    if found is None:
        raise NotFoundError(
            gettext("No PDX treatment arm %(arm_id)s that you may see.") % {"arm_id": arm_id}
        )
    return found


# --- growth and response -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MouseGrowth:
    label: str
    points: tuple[tuple[int, float], ...]  # (day from the arm's start, volume mm³)
    response: MRecistResult | None


@dataclass(frozen=True, slots=True)
class ArmGrowth:
    arm: PdxTreatmentArm
    mice: tuple[MouseGrowth, ...]
    mean_points: tuple[tuple[int, float], ...]
    response: MRecistResult | None

    @property
    def call(self) -> str:
        r = self.response
        return "" if r is None or r.call is None else r.call.value


def _response(
    points: tuple[tuple[int, float], ...], model_id: str, drug: str
) -> MRecistResult | None:
    if not points:
        return None
    return mrecist(
        [float(d) for d, _ in points], [v for _, v in points], model_id=model_id, drug=drug
    )


def pdx_growth(pdx_model: PdxModel) -> list[ArmGrowth]:
    """Each arm's mice with their volumes by day and mRECIST, and the arm's mean curve.

    The arm's mRECIST is computed on the mean volume of its mice on each measured day (Xeva's
    batch mean, without imputation); each mouse has its own call too (Gao et al. 2015 classify
    single animals)."""
    arms = (
        PdxTreatmentArm.objects.filter(pdx_model=pdx_model)
        .select_related("passage")
        .prefetch_related(
            Prefetch(
                "mice",
                queryset=PdxMouse.objects.prefetch_related(
                    Prefetch(
                        "measurements", queryset=PdxMeasurement.objects.order_by("measured_on")
                    )
                ),
            )
        )
        .order_by("-is_control", "name")
    )
    out: list[ArmGrowth] = []
    for arm in arms:
        mice: list[MouseGrowth] = []
        by_day: dict[int, list[float]] = defaultdict(list)
        for mouse in arm.mice.all():
            points = tuple(
                ((m.measured_on - arm.started_on).days, float(m.volume_mm3))
                for m in mouse.measurements.all()
                if m.measured_on >= arm.started_on
            )
            for day, volume in points:
                by_day[day].append(volume)
            label = f"{pdx_model.model_id}/{mouse.label}"
            mice.append(MouseGrowth(mouse.label, points, _response(points, label, arm.name)))
        mean = tuple((day, fmean(v)) for day, v in sorted(by_day.items()))
        out.append(ArmGrowth(arm, tuple(mice), mean, _response(mean, pdx_model.model_id, arm.name)))
    return out


@dataclass(frozen=True, slots=True)
class PassageRow:
    passage: PdxPassage
    rate: float | None  # engrafted / implanted


def pdx_passages(pdx_model: PdxModel) -> list[PassageRow]:
    rows = []
    for p in PdxPassage.objects.filter(pdx_model=pdx_model).order_by("number"):
        rate = None if p.mice_engrafted is None else p.mice_engrafted / p.mice_implanted
        rows.append(PassageRow(p, rate))
    return rows


def pdx_status(pdx_model: PdxModel) -> str:
    """'established' once a passage beyond P0 has taken, 'engrafted' when only P0 has,
    'failed' when every recorded passage failed, else 'in progress' (derived, never stored)."""
    passages = list(pdx_model.passages.all())
    took = [p for p in passages if p.mice_engrafted]
    if any(p.number >= 1 for p in took):
        return "established"
    if took:
        return "engrafted"
    if passages and all(p.mice_engrafted == 0 for p in passages):
        return "failed"
    return "in progress"


# --- CancerModels export -------------------------------------------------------------------------

_SEX = {"F": "female", "M": "male", "O": "other"}


def _age_at(pdx_model: PdxModel) -> str:
    patient = pdx_model.specimen.patient
    age = pdx_model.specimen.collected_at.year - patient.year_of_birth
    # Only the year of birth is in the research record: the age is known within one year.
    return f"{age - 1}-{age}"


def _passage_text(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def pdx_export_records(models: QuerySet[PdxModel] | list[PdxModel]) -> list[cm.Record]:
    """The CancerModels records of ``models``: patient, sample, model, QC, sharing, drug studies."""
    records: list[cm.Record] = []
    for pdx in models:
        specimen = pdx.specimen
        patient = specimen.patient
        records.append(
            cm.CmPatient(patient_id=patient.research_id, sex=_SEX.get(patient.sex, "Not provided"))
        )
        collected = specimen.collected_at
        records.append(
            cm.CmPatientSample(
                patient_id=patient.research_id,
                sample_id=specimen.label,
                age_in_years_at_collection=_age_at(pdx),
                diagnosis=pdx.diagnosis,
                tumour_type=pdx.tumour_type,
                primary_site=pdx.primary_site,
                collection_site=specimen.anatomic_site or pdx.primary_site,
                model_id=pdx.model_id,
                sharable="no",
                treatment_naive_at_collection="Not provided",
                collection_date=collected.strftime("%b %Y"),
            )
        )
        passages = list(pdx.passages.order_by("number"))
        records.append(
            cm.CmPdxModel(
                model_id=pdx.model_id,
                host_strain_name=pdx.host_strain_name,
                host_strain_nomenclature=pdx.host_strain_nomenclature,
                engraftment_site=pdx.engraftment_site,
                engraftment_type=pdx.engraftment_type,
                sample_type=pdx.sample_type,
                sample_state=pdx.sample_state,
                passage_number="all" if passages else "Not provided",
                publications=pdx.publications,
            )
        )
        for qc in pdx.validations.all():
            records.append(
                cm.CmModelValidation(
                    model_id=pdx.model_id,
                    validation_technique=qc.technique,
                    description=qc.description,
                    passages_tested=qc.passages_tested,
                    validation_host_strain_nomenclature=qc.host_strain_nomenclature,
                )
            )
        records.append(
            cm.CmSharing(
                model_id=pdx.model_id,
                accessibility=pdx.accessibility,
                email=pdx.contact_email,
                name=pdx.contact_name,
            )
        )
        for growth in pdx_growth(pdx):
            arm = growth.arm
            records.append(
                cm.CmDrugDosing(
                    model_id=pdx.model_id,
                    passage_range=str(arm.passage.number),
                    treatment_name=arm.treatment_name,
                    treatment_type="control" if arm.is_control else "treatment",
                    treatment_dose=arm.dose,
                    administration_route=arm.route,
                    treatment_schedule=arm.schedule,
                    treatment_length=(
                        f"{growth.mean_points[-1][0]} days" if growth.mean_points else ""
                    ),
                    treatment_response=cm.RESPONSE_NAMES.get(growth.call, ""),
                    response_classification="mRECIST" if growth.call else "",
                )
            )
    return records


def pdx_export(
    *, user: Actor | None, directory: Path, provider: str, model_ids: list[int] | None = None
) -> tuple[list[Path], list[cm.SubmissionIssue]]:
    """Write the CancerModels submission of the models ``user`` may see (every model when
    None: the command line's system export), then check it against the dictionary."""
    base = PdxModel.objects.all() if user is None else pdx_models_visible_to(user)
    models = base.select_related("specimen__patient")
    if model_ids is not None:
        models = models.filter(pk__in=model_ids)
    records = pdx_export_records(list(models.order_by("model_id")))
    rows = cm.submission_rows(records)
    paths = cm.write_submission(directory, provider, rows)
    _, sheets = cm.read_submission(directory)
    return paths, cm.check_submission(sheets)


def pdx_model_summary(pdx_model: PdxModel) -> dict[str, Any]:
    """Everything the PDX page and the API show of one model."""
    return {
        "model": pdx_model,
        "status": pdx_status(pdx_model),
        "passages": pdx_passages(pdx_model),
        "validations": list(pdx_model.validations.all()),
        "growth": pdx_growth(pdx_model),
    }
