"""API endpoints of data cuts and exports (mounted at /api/v1/)."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Path, Query, Router, Status

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.schemas import ERRORS, Rendered, paged
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.errors import NotFoundError

from .registry import formats_all
from .schemas import DataCutIn, DataCutOut, ExportFormatOut
from .selectors import cut_summary, data_cut_get_for_user, data_cuts_for_user
from .services import check_may_export, data_cut_create, data_cut_files, zip_bytes

router = Router(tags=["exports"])
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Slug = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]
# a file of the format, or of one of its folders (a cBioPortal study's case_lists/)
FileName = Annotated[str, Path(pattern=r"^([a-z0-9_.-]{1,64}/)?[a-z0-9_.-]{1,64}$")]
FILE_RESPONSE = {
    "responses": {
        "200": {
            "description": "The file",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    }
}


def download(data: bytes, name: str) -> HttpResponse:
    kinds = {".zip": "application/zip", ".json": "application/json", ".xml": "application/xml"}
    kind = next((v for k, v in kinds.items() if name.endswith(k)), "application/octet-stream")
    response = HttpResponse(data, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{name.rsplit("/", 1)[-1]}"'
    return response


@router.get("/exports/formats", response={200: list[ExportFormatOut], **ERRORS})
def exports_formats(request: HttpRequest) -> Any:
    """The export formats a data cut can be made for."""
    return [{"name": f.name, "label": f.label, "description": f.description} for f in formats_all()]


@router.get("/exports/cuts", response={200: list[DataCutOut], **ERRORS})
@paged
def exports_cut_list(request: HttpRequest, trial_id: OptionalId = None) -> Any:
    """Data cuts you may see, newest first. Paged: ``{"items": [...], "count": n}``."""
    return Rendered(data_cuts_for_user(user=request.user, trial_id=trial_id), cut_summary)


@router.post("/exports/cuts", response={201: DataCutOut, **ERRORS})
def exports_cut_create(request: HttpRequest, payload: DataCutIn) -> Any:
    """Make a named data cut of a trial (the sites you may export), for the given formats."""
    trial = trial_get_for_user(user=request.user, trial_id=payload.trial_id)
    cut = data_cut_create(
        trial=trial,
        name=payload.name,
        formats=payload.formats,
        by=acting_user(request.user),
        reason=payload.reason,
    )
    return Status(201, cut_summary(cut))


@router.get("/exports/cuts/{cut_id}", response={200: DataCutOut, **ERRORS})
def exports_cut_detail(request: HttpRequest, cut_id: Id) -> Any:
    return cut_summary(data_cut_get_for_user(user=request.user, cut_id=cut_id))


@router.get("/exports/cuts/{cut_id}/files/{fmt}", response={**ERRORS}, openapi_extra=FILE_RESPONSE)
def exports_cut_archive(request: HttpRequest, cut_id: Id, fmt: Slug) -> HttpResponse:
    """Every file of one format of the cut, as a zip archive."""
    cut = data_cut_get_for_user(user=request.user, cut_id=cut_id)
    user = acting_user(request.user)
    check_may_export(user, cut)
    files = data_cut_files(cut=cut, fmt=fmt, by=user)
    folder = f"{cut.trial.protocol_code}-{cut.name}-{fmt}".replace(" ", "_")
    return download(zip_bytes(files, cut=cut, folder=folder), f"{folder}.zip")


@router.get(
    "/exports/cuts/{cut_id}/files/{fmt}/{path:filename}",
    response={**ERRORS},
    openapi_extra=FILE_RESPONSE,
)
def exports_cut_file(request: HttpRequest, cut_id: Id, fmt: Slug, filename: FileName) -> Any:
    """One file of one format of the cut."""
    cut = data_cut_get_for_user(user=request.user, cut_id=cut_id)
    user = acting_user(request.user)
    check_may_export(user, cut)
    files = data_cut_files(cut=cut, fmt=fmt, by=user)
    if filename not in files:
        raise NotFoundError(
            gettext("Data cut %(cut)s has no %(fmt)s file %(filename)s.")
            % {"cut": repr(cut.name), "fmt": fmt, "filename": repr(filename)}
        )
    return download(files[filename], filename)
