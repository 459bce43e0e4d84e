"""API endpoints of PDX models (mounted at /api/v1/): parse, authorise, call one service, render.

Schemas are prefixed ``Pdx`` to stay unique in the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from oncotrials.apps.accounts.schemas import ERRORS, Rendered, paged

from .models_pdx import PdxModel
from .plots_pdx import growth_svg
from .selectors import specimen_get_for_user
from .selectors_pdx import (
    ArmGrowth,
    pdx_arm_get_for_user,
    pdx_model_get_for_user,
    pdx_model_summary,
    pdx_models_for_user,
    pdx_passage_get_for_user,
    pdx_status,
)
from .services_pdx import (
    pdx_arm_create,
    pdx_engraftment_record,
    pdx_measurements_record,
    pdx_model_create,
    pdx_passage_add,
    pdx_validation_add,
)

router = Router(tags=["pdx"])


class PdxModelOut(Schema):
    id: int
    model_id: str
    specimen_id: int
    specimen_label: str
    patient: str
    status: str
    host_strain_name: str
    engraftment_type: str
    diagnosis: str


class PdxPassageOut(Schema):
    id: int
    number: int
    parent_id: int | None
    implanted_on: dt.date
    mice_implanted: int
    mice_engrafted: int | None
    engraftment_rate: float | None


class PdxValidationOut(Schema):
    id: int
    technique: str
    description: str
    passages_tested: str
    result: str
    performed_on: dt.date


class PdxResponseOut(Schema):
    best_response: float | None
    best_response_day: float | None
    best_average_response: float | None
    best_average_response_day: float | None
    mrecist: str | None
    rule: str


class PdxMouseOut(Schema):
    label: str
    days: list[int]
    volumes_mm3: list[float]
    response: PdxResponseOut | None


class PdxArmOut(Schema):
    id: int
    name: str
    treatment_name: str
    dose: str
    passage: int
    started_on: dt.date
    is_control: bool
    mice: list[PdxMouseOut]
    mean_days: list[int]
    mean_volumes_mm3: list[float]
    response: PdxResponseOut | None


class PdxModelDetailOut(PdxModelOut):
    host_strain_nomenclature: str
    engraftment_site: str
    sample_type: str
    sample_state: str
    primary_site: str
    tumour_type: str
    accessibility: str
    passages: list[PdxPassageOut]
    validations: list[PdxValidationOut]
    arms: list[PdxArmOut]
    version: int


class PdxModelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    specimen_id: int
    model_id: str = Field(..., max_length=40)
    host_strain_name: str = Field(..., max_length=60)
    host_strain_nomenclature: str = Field(..., max_length=120)
    engraftment_site: str = Field(..., max_length=80)
    engraftment_type: str = Field(..., max_length=12, description="heterotopic or orthotopic")
    diagnosis: str = Field(..., max_length=200)
    primary_site: str = Field(..., max_length=80)
    tumour_type: str = Field("primary", max_length=16)
    sample_type: str = Field("tissue fragment", max_length=60)
    sample_state: str = Field("fresh", max_length=8)
    accessibility: str = Field("academia", max_length=24)
    publications: str = Field("", max_length=200)
    contact_name: str = Field(..., max_length=120)
    contact_email: str = Field(..., max_length=254)
    implanted_on: dt.date
    mice_implanted: int = Field(..., ge=1, le=1000)


class PdxEngraftmentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    mice_engrafted: int = Field(..., ge=0, le=1000)
    reason: str = Field("", max_length=500)


class PdxPassageIn(Schema):
    model_config = ConfigDict(extra="forbid")

    implanted_on: dt.date
    mice_implanted: int = Field(..., ge=1, le=1000)
    host_strain_nomenclature: str = Field("", max_length=120)
    note: str = Field("", max_length=300)


class PdxValidationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    technique: str = Field(..., max_length=80)
    description: str = Field(..., max_length=500)
    passages_tested: list[int] = Field(..., min_length=1, max_length=50)
    result: str = Field(..., max_length=16, description="passed, failed or not_determined")
    performed_on: dt.date
    host_strain_nomenclature: str = Field("", max_length=120)


class PdxArmIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=80)
    treatment_name: str = Field("", max_length=120)
    dose: str = Field("", max_length=40)
    route: str = Field("", max_length=60)
    schedule: str = Field("", max_length=80)
    started_on: dt.date
    is_control: bool = False
    mice: list[str] = Field(..., min_length=1, max_length=100)


class PdxMeasurementIn(Schema):
    model_config = ConfigDict(extra="forbid")

    mouse: str = Field(..., max_length=40)
    measured_on: dt.date
    length_mm: Decimal | None = Field(None, ge=0, le=1000)
    width_mm: Decimal | None = Field(None, ge=0, le=1000)
    volume_mm3: Decimal | None = Field(None, ge=0, le=1_000_000)


class PdxMeasurementsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    rows: list[PdxMeasurementIn] = Field(..., min_length=1, max_length=2000)


def model_out(pdx: PdxModel) -> dict[str, Any]:
    return {
        "id": pdx.pk,
        "model_id": pdx.model_id,
        "specimen_id": pdx.specimen_id,
        "specimen_label": pdx.specimen.label,
        "patient": pdx.specimen.patient.research_id,
        "status": pdx_status(pdx),
        "host_strain_name": pdx.host_strain_name,
        "engraftment_type": pdx.engraftment_type,
        "diagnosis": pdx.diagnosis,
    }


def _response(r: Any) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "best_response": r.best_response,
        "best_response_day": r.best_response_time,
        "best_average_response": r.best_average_response,
        "best_average_response_day": r.best_average_response_time,
        "mrecist": None if r.call is None else r.call.value,
        "rule": r.reason,
    }


def _arm(g: ArmGrowth) -> dict[str, Any]:
    return {
        "id": g.arm.pk,
        "name": g.arm.name,
        "treatment_name": g.arm.treatment_name,
        "dose": g.arm.dose,
        "passage": g.arm.passage.number,
        "started_on": g.arm.started_on,
        "is_control": g.arm.is_control,
        "mice": [
            {
                "label": m.label,
                "days": [d for d, _ in m.points],
                "volumes_mm3": [v for _, v in m.points],
                "response": _response(m.response),
            }
            for m in g.mice
        ],
        "mean_days": [d for d, _ in g.mean_points],
        "mean_volumes_mm3": [round(v, 3) for _, v in g.mean_points],
        "response": _response(g.response),
    }


def model_detail_out(pdx: PdxModel) -> dict[str, Any]:
    summary = pdx_model_summary(pdx)
    return {
        **model_out(pdx),
        "host_strain_nomenclature": pdx.host_strain_nomenclature,
        "engraftment_site": pdx.engraftment_site,
        "sample_type": pdx.sample_type,
        "sample_state": pdx.sample_state,
        "primary_site": pdx.primary_site,
        "tumour_type": pdx.tumour_type,
        "accessibility": pdx.accessibility,
        "version": pdx.version,
        "passages": [
            {
                "id": p.passage.pk,
                "number": p.passage.number,
                "parent_id": p.passage.parent_id,
                "implanted_on": p.passage.implanted_on,
                "mice_implanted": p.passage.mice_implanted,
                "mice_engrafted": p.passage.mice_engrafted,
                "engraftment_rate": p.rate,
            }
            for p in summary["passages"]
        ],
        "validations": [
            {
                "id": v.pk,
                "technique": v.technique,
                "description": v.description,
                "passages_tested": v.passages_tested,
                "result": v.result,
                "performed_on": v.performed_on,
            }
            for v in summary["validations"]
        ],
        "arms": [_arm(g) for g in summary["growth"]],
    }


@router.get("/pdx/models", response={200: list[PdxModelOut], **ERRORS})
@paged
def pdx_models_list(request: HttpRequest, q: str = "") -> Any:
    """PDX models you may see (through their specimen), with their derived status."""
    return Rendered(pdx_models_for_user(user=request.user, q=q), model_out)


@router.get("/pdx/models/{pdx_model_id}", response={200: PdxModelDetailOut, **ERRORS})
def pdx_model_detail(request: HttpRequest, pdx_model_id: int) -> Any:
    """A model: passages, QC, arms with each mouse's growth and mRECIST (computed now)."""
    return model_detail_out(pdx_model_get_for_user(user=request.user, pdx_model_id=pdx_model_id))


@router.get(
    "/pdx/models/{pdx_model_id}/growth.svg",
    response={**ERRORS},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The growth curves as an SVG document",
                "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            }
        }
    },
)
def pdx_model_growth_svg(request: HttpRequest, pdx_model_id: int) -> HttpResponse:
    pdx = pdx_model_get_for_user(user=request.user, pdx_model_id=pdx_model_id)
    summary = pdx_model_summary(pdx)
    return HttpResponse(
        growth_svg(pdx.model_id, summary["growth"]), content_type="image/svg+xml; charset=utf-8"
    )


@router.post("/pdx/models", response={201: PdxModelDetailOut, **ERRORS})
def pdx_model_create_endpoint(request: HttpRequest, payload: PdxModelIn) -> Any:
    """Start a model from a specimen you may see (xenograft consent needed) with its P0."""
    data = payload.dict()
    specimen = specimen_get_for_user(user=request.user, specimen_id=data.pop("specimen_id"))
    pdx = pdx_model_create(specimen=specimen, by=request.user, **data)  # type: ignore[arg-type]
    return Status(201, model_detail_out(pdx))


@router.post("/pdx/passages/{passage_id}/engraftment", response={200: PdxPassageOut, **ERRORS})
def pdx_engraftment_endpoint(
    request: HttpRequest, passage_id: int, payload: PdxEngraftmentIn
) -> Any:
    passage = pdx_passage_get_for_user(user=request.user, passage_id=passage_id)
    p = pdx_engraftment_record(
        passage=passage,
        mice_engrafted=payload.mice_engrafted,
        reason=payload.reason,
        by=request.user,  # type: ignore[arg-type]
    )
    return {
        "id": p.pk,
        "number": p.number,
        "parent_id": p.parent_id,
        "implanted_on": p.implanted_on,
        "mice_implanted": p.mice_implanted,
        "mice_engrafted": p.mice_engrafted,
        "engraftment_rate": None
        if p.mice_engrafted is None
        else p.mice_engrafted / p.mice_implanted,
    }


@router.post("/pdx/passages/{passage_id}/passages", response={201: PdxPassageOut, **ERRORS})
def pdx_passage_endpoint(request: HttpRequest, passage_id: int, payload: PdxPassageIn) -> Any:
    """Passage the tumour of a passage into new mice."""
    parent = pdx_passage_get_for_user(user=request.user, passage_id=passage_id)
    p = pdx_passage_add(parent=parent, by=request.user, **payload.dict())  # type: ignore[arg-type]
    return Status(
        201,
        {
            "id": p.pk,
            "number": p.number,
            "parent_id": p.parent_id,
            "implanted_on": p.implanted_on,
            "mice_implanted": p.mice_implanted,
            "mice_engrafted": None,
            "engraftment_rate": None,
        },
    )


@router.post("/pdx/models/{pdx_model_id}/validations", response={201: PdxValidationOut, **ERRORS})
def pdx_validation_endpoint(
    request: HttpRequest, pdx_model_id: int, payload: PdxValidationIn
) -> Any:
    pdx = pdx_model_get_for_user(user=request.user, pdx_model_id=pdx_model_id)
    v = pdx_validation_add(pdx_model=pdx, by=request.user, **payload.dict())  # type: ignore[arg-type]
    return Status(
        201,
        {
            "id": v.pk,
            "technique": v.technique,
            "description": v.description,
            "passages_tested": v.passages_tested,
            "result": v.result,
            "performed_on": v.performed_on,
        },
    )


@router.post("/pdx/passages/{passage_id}/arms", response={201: PdxModelDetailOut, **ERRORS})
def pdx_arm_endpoint(request: HttpRequest, passage_id: int, payload: PdxArmIn) -> Any:
    """A treatment or control arm on engrafted mice of a passage."""
    passage = pdx_passage_get_for_user(user=request.user, passage_id=passage_id)
    pdx_arm_create(passage=passage, by=request.user, **payload.dict())  # type: ignore[arg-type]
    return Status(201, model_detail_out(passage.pdx_model))


@router.post("/pdx/arms/{arm_id}/measurements", response={201: PdxModelDetailOut, **ERRORS})
def pdx_measurements_endpoint(request: HttpRequest, arm_id: int, payload: PdxMeasurementsIn) -> Any:
    """Tumour measurements of an arm's mice (caliper diameters or volumes), all or nothing."""
    arm = pdx_arm_get_for_user(user=request.user, arm_id=arm_id)
    pdx_measurements_record(
        arm=arm,
        rows=[r.dict() for r in payload.rows],
        by=request.user,  # type: ignore[arg-type]
    )
    return Status(201, model_detail_out(arm.pdx_model))
