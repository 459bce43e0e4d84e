"""API endpoints of the biobank (mounted at /api/v1/): parse, authorise, call one service, render."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Path, Query, Router, Status

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.schemas import ERRORS, paged
from oncotrials.apps.subjects.selectors import patient_get_for_user, registrations_visible_to
from oncotrials.core.errors import NotFoundError

from .models import Specimen
from .schemas import (
    BiobankAliquotIn,
    BiobankCustodyOut,
    BiobankDeriveIn,
    BiobankGapOut,
    BiobankPreAnalyticsIn,
    BiobankPreAnalyticsOut,
    BiobankSpecimenIn,
    BiobankSpecimenOut,
    BiobankStoreIn,
)
from .selectors import (
    box_get_for_user,
    custody_check,
    custody_of,
    location_for,
    shipment_get_for_user,
    shipment_manifest_csv,
    specimen_by_barcode,
    specimen_get_for_user,
    specimens_for_user,
    sprec_elements_of,
    sprec_of,
    storage_visible,
    timepoints_of,
)
from .services import (
    PRE_ANALYTIC_FIELDS,
    specimen_aliquot,
    specimen_collect,
    specimen_derive,
    specimen_pre_analytics_record,
    specimen_store,
)

router = Router(tags=["biobank"])
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _out(s: Specimen, timepoint: str = "", *, user: Any) -> dict[str, Any]:
    return {
        **{
            f: getattr(s, f)
            for f in (
                "id",
                "label",
                "barcode",
                "patient_id",
                "registration_id",
                "lineage",
                "parent_id",
                "specimen_type",
                "anatomic_site",
                "laterality",
                "pathology",
                "unit",
                "initial_quantity",
                "available_quantity",
                "status",
                "collected_at",
            )
        },
        "position": location_for(user, s),
        "timepoint": timepoint,
        "sprec": sprec_of(s),
    }


class _Page:
    """Renders a page of specimens with their timepoints (one query for the page's dates)."""

    def __init__(self, qs: Any, user: Any) -> None:
        self.qs, self.user = qs, user

    def all(self) -> _Page:
        return self

    def count(self) -> int:
        return int(self.qs.count())

    def __getitem__(self, page: slice) -> list[dict[str, Any]]:
        items = list(self.qs[page])
        tps = timepoints_of(items, user=self.user)
        return [_out(s, tps[s.pk].label, user=self.user) for s in items]


@router.get("/biobank/specimens", response={200: list[BiobankSpecimenOut], **ERRORS})
@paged
def biobank_specimen_list(
    request: HttpRequest,
    q: str = "",
    specimen_type: str = "",
    status: str = "",
    patient_id: OptionalId = None,
    trial_id: OptionalId = None,
) -> Any:
    """Specimens you may see, newest first. Paged: ``{"items": [...], "count": n}``."""
    return _Page(
        specimens_for_user(
            user=request.user,
            q=q[:64],
            specimen_type=specimen_type[:16],
            status=status[:16],
            patient_id=patient_id,
            trial_id=trial_id,
        ),
        request.user,
    )


@router.post("/biobank/specimens", response={201: BiobankSpecimenOut, **ERRORS})
def biobank_specimen_collect(request: HttpRequest, payload: BiobankSpecimenIn) -> Any:
    patient = patient_get_for_user(user=request.user, patient_id=payload.patient_id)
    registration = None
    if payload.registration_id is not None:
        registration = (
            registrations_visible_to(request.user).filter(pk=payload.registration_id).first()
        )
        if registration is None:
            raise NotFoundError(
                gettext("No registration %(registration_id)s that you may see.")
                % {"registration_id": payload.registration_id}
            )
    s = specimen_collect(
        patient=patient,
        registration=registration,
        specimen_type=payload.specimen_type,
        quantity=payload.quantity,
        unit=payload.unit,
        collected_at=payload.collected_at,
        received_at=payload.received_at,
        anatomic_site=payload.anatomic_site,
        laterality=payload.laterality,
        pathology=payload.pathology,
        procedure=payload.procedure,
        pre_analytics=payload.pre_analytics,
        by=acting_user(request.user),
    )
    return Status(201, _out(s, user=request.user))


@router.get("/biobank/specimens/by-barcode", response={200: BiobankSpecimenOut, **ERRORS})
def biobank_specimen_scan(request: HttpRequest, barcode: str) -> Any:
    """The specimen a scanned barcode (or label) names."""
    s = specimen_by_barcode(user=request.user, barcode=barcode[:64])
    return _out(s, timepoints_of([s], user=request.user)[s.pk].label, user=request.user)


@router.get("/biobank/specimens/{specimen_id}", response={200: BiobankSpecimenOut, **ERRORS})
def biobank_specimen_detail(request: HttpRequest, specimen_id: Id) -> Any:
    s = specimen_get_for_user(user=request.user, specimen_id=specimen_id)
    return _out(s, timepoints_of([s], user=request.user)[s.pk].label, user=request.user)


def _pre_analytics_out(s: Specimen) -> dict[str, Any]:
    sprec = sprec_elements_of(s)
    values: dict[str, Any] = {}
    for f in PRE_ANALYTIC_FIELDS:
        v = getattr(s, f)
        values[f] = float(v) if isinstance(v, Decimal) else (v if v != "" else None)
    return {
        "specimen_id": s.pk,
        "values": values,
        "sprec": sprec.code,
        "elements": [{"element": e, "code": c, "meaning": m} for e, c, m in sprec.elements],
    }


@router.get(
    "/biobank/specimens/{specimen_id}/pre-analytics",
    response={200: BiobankPreAnalyticsOut, **ERRORS},
)
def biobank_specimen_pre_analytics(request: HttpRequest, specimen_id: Id) -> Any:
    """The recorded pre-analytical values (settings in °C, × g, min) and the SPREC derived."""
    return _pre_analytics_out(specimen_get_for_user(user=request.user, specimen_id=specimen_id))


@router.patch(
    "/biobank/specimens/{specimen_id}/pre-analytics",
    response={200: BiobankPreAnalyticsOut, **ERRORS},
)
def biobank_specimen_pre_analytics_record(
    request: HttpRequest, specimen_id: Id, payload: BiobankPreAnalyticsIn
) -> Any:
    """Record or correct pre-analytical values of a primary specimen (a correction needs a
    reason); its aliquots and derivatives follow."""
    s = specimen_get_for_user(user=request.user, specimen_id=specimen_id)
    s = specimen_pre_analytics_record(
        specimen=s, values=payload.values, reason=payload.reason, by=acting_user(request.user)
    )
    return _pre_analytics_out(s)


@router.get(
    "/biobank/specimens/{specimen_id}/custody", response={200: list[BiobankCustodyOut], **ERRORS}
)
def biobank_specimen_custody(request: HttpRequest, specimen_id: Id) -> Any:
    s = specimen_get_for_user(user=request.user, specimen_id=specimen_id)
    events = list(custody_of(s))
    if not storage_visible(request.user, s.patient.site_id):
        for e in events:
            e.from_location = e.to_location = ""
    return events


@router.post(
    "/biobank/specimens/{specimen_id}/aliquots", response={201: list[BiobankSpecimenOut], **ERRORS}
)
def biobank_specimen_aliquot(
    request: HttpRequest, specimen_id: Id, payload: BiobankAliquotIn
) -> Any:
    parent = specimen_get_for_user(user=request.user, specimen_id=specimen_id)
    kids = specimen_aliquot(
        parent=parent,
        count=payload.count,
        quantity=payload.quantity,
        unit=payload.unit,
        by=acting_user(request.user),
    )
    return Status(201, [_out(k, user=request.user) for k in kids])


@router.post(
    "/biobank/specimens/{specimen_id}/derivatives", response={201: BiobankSpecimenOut, **ERRORS}
)
def biobank_specimen_derive(request: HttpRequest, specimen_id: Id, payload: BiobankDeriveIn) -> Any:
    parent = specimen_get_for_user(user=request.user, specimen_id=specimen_id)
    child = specimen_derive(
        parent=parent,
        specimen_type=payload.specimen_type,
        consumed=payload.consumed,
        consumed_unit=payload.consumed_unit,
        quantity=payload.quantity,
        unit=payload.unit,
        concentration_ng_ul=payload.concentration_ng_ul,
        by=acting_user(request.user),
    )
    return Status(201, _out(child, user=request.user))


@router.post(
    "/biobank/specimens/{specimen_id}/position", response={200: BiobankSpecimenOut, **ERRORS}
)
def biobank_specimen_store(request: HttpRequest, specimen_id: Id, payload: BiobankStoreIn) -> Any:
    s = specimen_get_for_user(user=request.user, specimen_id=specimen_id)
    box = box_get_for_user(user=request.user, box_id=payload.box_id)
    return _out(
        specimen_store(
            specimen=s,
            box=box,
            row=payload.row,
            column=payload.column,
            by=acting_user(request.user),
        ),
        user=request.user,
    )


@router.get("/biobank/custody-gaps", response={200: list[BiobankGapOut], **ERRORS})
def biobank_custody_gaps(request: HttpRequest) -> Any:
    """Specimens you may see whose chain of custody has a gap, with the gaps."""
    return [
        {"specimen_id": g.specimen_id, "label": g.label, "gaps": list(g.gaps)}
        for g in custody_check(user=request.user)
    ]


@router.get("/biobank/shipments/{shipment_id}/manifest.csv", response={200: str, **ERRORS})
def biobank_shipment_manifest(request: HttpRequest, shipment_id: Id) -> Any:
    sh = shipment_get_for_user(user=request.user, shipment_id=shipment_id)
    resp = HttpResponse(shipment_manifest_csv(sh), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="manifest-{sh.reference}.csv"'
    return resp
