"""API endpoints of trial matching (mounted at /api/v1/): parse, authorise, call, render.

Reads: the matching cohorts of a patient, the matched patients of a trial, a run over
everything the caller may see. Writes: a trial's machine criteria (trial, cohort or dose level;
portfolio editors, with a reason and the trial version edited) and a MatchMiner CTML upload
that sets them for the trial with the CTML's ``protocol_no``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from oncotrials.apps.accounts.access import Action, acting_user, may, require
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.accounts.schemas import ERRORS
from oncotrials.apps.matching.criteria import (
    ctml_document,
    ctml_import,
    ctml_protocol,
    match_criteria_set,
)
from oncotrials.apps.subjects.selectors import patient_get_for_user
from oncotrials.apps.trials.models import Trial
from oncotrials.apps.trials.selectors import trial_get_for_user, trials_visible_to
from oncotrials.core.errors import NotFoundError, ValidationError

from .engine import CohortMatch, PatientMatch, match_all, matches_for_patient, matches_for_trial

router = Router(tags=["matching"])
MAX_CTML_BYTES = 2_000_000


class MatchingExplanationRowOut(Schema):
    criterion: str
    value: str = Field(description="met, not met or unknown")
    reason: str
    evidence: list[str]
    depth: int


class MatchingLevelOut(Schema):
    trial_id: int
    protocol_code: str
    cohort_id: int | None
    cohort_code: str | None
    dose_level_id: int | None
    level_path: str
    level_name: str
    open: bool
    slots_available: int | None
    registration: str = Field(
        "", description="The patient's registration status in the trial; empty: a candidate"
    )


class MatchingCohortOut(MatchingLevelOut):
    matched: bool
    why_not: str = Field("", description="The first clause the level fails on; empty: matched")
    explanation: list[MatchingExplanationRowOut]


class MatchingPatientOut(MatchingLevelOut):
    patient_id: int
    research_id: str
    explanation: list[MatchingExplanationRowOut]


class MatchingRunOut(Schema):
    patients: int
    trials: int
    levels: int
    matches: int
    open_matches: int
    incremental: bool
    problems: list[str]
    results: list[MatchingPatientOut]


class MatchingDoseCriteriaOut(Schema):
    id: int
    level: int
    agent: str
    criteria: dict[str, Any] | None


class MatchingCohortCriteriaOut(Schema):
    id: int
    code: str
    name: str
    is_open: bool
    criteria: dict[str, Any] | None
    dose_levels: list[MatchingDoseCriteriaOut]


class MatchingCriteriaOut(Schema):
    trial_id: int
    protocol_code: str
    trial_version: int
    criteria: dict[str, Any] | None
    cohorts: list[MatchingCohortCriteriaOut]
    editable: bool


class MatchingCriteriaIn(Schema):
    model_config = ConfigDict(extra="forbid")

    criteria: dict[str, Any] | None = Field(
        description="A criteria tree (docs/formats/criteria.md), or null to clear"
    )
    cohort_id: int | None = None
    dose_level_id: int | None = None
    reason: str = Field(..., min_length=1, max_length=500)
    expected_version: int = Field(..., ge=1, description="The trial version you edited")


class MatchingCtmlLevelOut(Schema):
    ctml: str
    target: str


class MatchingCtmlOut(Schema):
    trial: str
    trial_version: int
    checked_only: bool
    levels: list[MatchingCtmlLevelOut]
    warnings: list[str]


def _level(m: CohortMatch | PatientMatch) -> dict[str, Any]:
    return {
        "trial_id": m.trial.pk,
        "protocol_code": m.trial.protocol_code,
        "cohort_id": m.cohort.pk if m.cohort else None,
        "cohort_code": m.cohort.code if m.cohort else None,
        "dose_level_id": m.dose_level.pk if m.dose_level else None,
        "level_path": m.level_path,
        "level_name": m.level_name,
        "open": m.open,
        "slots_available": m.slots_available,
        "explanation": m.explanation,
        "registration": m.registration,
        **({"why_not": m.why_not} if isinstance(m, CohortMatch) else {}),
    }


def _patient_out(m: PatientMatch) -> dict[str, Any]:
    return {**_level(m), "patient_id": m.patient.pk, "research_id": m.patient.research_id}


def _criteria_out(trial: Trial, user: Actor) -> dict[str, Any]:
    trial = trial_get_for_user(user=user, trial_id=trial.pk)
    return {
        "trial_id": trial.pk,
        "protocol_code": trial.protocol_code,
        "trial_version": trial.version,
        "criteria": trial.match_criteria,
        "editable": may(user, Action.EDIT_PORTFOLIO, on=trial),
        "cohorts": [
            {
                "id": c.pk,
                "code": c.code,
                "name": c.name,
                "is_open": c.is_open,
                "criteria": c.match_criteria,
                "dose_levels": [
                    {"id": d.pk, "level": d.level, "agent": d.agent, "criteria": d.match_criteria}
                    for d in c.dose_levels.all()
                ],
            }
            for c in trial.cohorts.all()
        ],
    }


@router.get("/matching/patients/{patient_id}", response={200: list[MatchingCohortOut], **ERRORS})
def matching_patient(request: HttpRequest, patient_id: int, all_levels: bool = False) -> Any:
    """The trial levels a patient matches (``all_levels``: every level, with ``matched``)."""
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    found = matches_for_patient(user=request.user, patient=patient, include_non_matches=all_levels)
    return [{**_level(m), "matched": m.matched} for m in found]


@router.get("/matching/trials/{trial_id}", response={200: list[MatchingPatientOut], **ERRORS})
def matching_trial(request: HttpRequest, trial_id: int) -> Any:
    """The patients the caller may see who match a level of the trial."""
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    return [_patient_out(m) for m in matches_for_trial(user=request.user, trial=trial)]


@router.post("/matching/runs", response={200: MatchingRunOut, **ERRORS})
def matching_run(request: HttpRequest) -> Any:
    """Bring matching up to date and return every match the caller may see."""
    summary = match_all(user=request.user)
    return {
        "patients": summary.patients,
        "trials": summary.trials,
        "levels": summary.levels,
        "matches": len(summary.matches),
        "open_matches": summary.open_matches,
        "incremental": summary.incremental,
        "problems": list(summary.problems),
        "results": [_patient_out(m) for m in summary.matches],
    }


@router.get("/matching/trials/{trial_id}/criteria", response={200: MatchingCriteriaOut, **ERRORS})
def matching_criteria_get(request: HttpRequest, trial_id: int) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    return _criteria_out(trial, request.user)


def _editable(request: HttpRequest, trial: Trial) -> None:
    require(request.user, Action.EDIT_PORTFOLIO, on=trial)


@router.put("/matching/trials/{trial_id}/criteria", response={200: MatchingCriteriaOut, **ERRORS})
def matching_criteria_put(request: HttpRequest, trial_id: int, payload: MatchingCriteriaIn) -> Any:
    """Set or clear the machine criteria of the trial, one cohort or one dose level."""
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    _editable(request, trial)
    match_criteria_set(
        trial=trial,
        criteria=payload.criteria,
        cohort_id=payload.cohort_id,
        dose_level_id=payload.dose_level_id,
        by=acting_user(request.user),
        reason=payload.reason,
        expected_version=payload.expected_version,
    )
    return _criteria_out(trial, request.user)


@router.post("/matching/ctml", response={200: MatchingCtmlOut, **ERRORS})
def matching_ctml_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    reason: Form[str] = "",
    check_only: Form[bool] = False,
) -> Any:
    """Upload a MatchMiner CTML trial (YAML or JSON): its criteria go to our trial with the
    same protocol code, all or nothing (``check_only``: validate and show the mapping)."""
    if file.size and file.size > MAX_CTML_BYTES:
        raise ValidationError(gettext("The CTML file is larger than 2 MB."), field="file")
    name = file.name or "upload.yaml"
    try:
        text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            gettext("%(name)s: not UTF-8 text.") % {"name": name}, field="file"
        ) from None
    data = ctml_document(text, source=name)
    protocol = ctml_protocol(data, source=name)
    trial = trials_visible_to(request.user).filter(protocol_code__iexact=protocol).first()
    if trial is None:
        raise NotFoundError(
            gettext(
                "%(name)s: protocol_no %(protocol)s is not the protocol code of a trial you "
                "may see; create the trial first or correct protocol_no. Nothing was imported."
            )
            % {"name": name, "protocol": repr(protocol)},
            code="ctml_unknown_protocol",
        )
    _editable(request, trial)
    result = ctml_import(
        data=data, source=name, by=acting_user(request.user), reason=reason, check_only=check_only
    )
    return result.as_dict()
