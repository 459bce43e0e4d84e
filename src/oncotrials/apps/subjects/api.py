"""Patient-journey endpoints: parse, authorise, call one service, render."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Router, Status

from oncotrials.apps.accounts.access import Action, acting_user, require, roles_on
from oncotrials.apps.accounts.models import Site
from oncotrials.apps.accounts.schemas import ERRORS, Rendered, paged
from oncotrials.apps.trials.models import Cohort, DoseLevel
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.errors import NotFoundError, ValidationError

from .models import ConsentForm, Registration
from .schemas import (
    ConsentIn,
    ConsentOut,
    IdentityOut,
    PatientIn,
    PatientOut,
    RandomisationIn,
    RegistrationIn,
    RegistrationOut,
    RegistrationStatusIn,
    ScreeningCloseIn,
    ScreeningIn,
    ScreeningOut,
    WithdrawIn,
)
from .selectors import (
    arm_visible_to,
    consents_visible_to,
    patient_get_for_user,
    patients_for_user,
    registrations_visible_to,
    screenings_visible_to,
)
from .services import (
    arm_assigned_by_scheme,
    consent_sign,
    consent_withdraw,
    identity_read,
    patient_create,
    randomise,
    registration_change_status,
    registration_create,
    screening_close,
    screening_start,
)

router = Router(tags=["patients"])


@router.get("/patients", response={200: list[PatientOut], **ERRORS})
@paged
def patients_list(request: HttpRequest, q: str = "", trial_id: int | None = None) -> Any:
    """Patients you may see, by research id. Paged: ``{"items": [...], "count": n}`` with
    ``?page=`` and ``?page_size=`` (default 100, at most 500)."""
    return patients_for_user(user=request.user, q=q[:40], trial_id=trial_id).order_by(
        "research_id", "pk"
    )


@router.post("/patients", response={201: PatientOut, **ERRORS})
def patients_create(request: HttpRequest, payload: PatientIn) -> Any:
    data = payload.dict()
    site = Site.objects.filter(code=data.pop("site")).first()
    if site is None or not roles_on(request.user, site):
        raise NotFoundError(gettext("Unknown site %(site)s.") % {"site": repr(payload.site)})
    require(request.user, Action.WRITE_JOURNEY, on=site)
    return Status(201, patient_create(site=site, by=acting_user(request.user), **data))


@router.get("/patients/{patient_id}", response={200: PatientOut, **ERRORS})
def patients_detail(request: HttpRequest, patient_id: int) -> Any:
    return patient_get_for_user(user=request.user, patient_id=patient_id)


@router.get("/patients/{patient_id}/identity", response={200: IdentityOut, **ERRORS})
def patients_identity(request: HttpRequest, patient_id: int, purpose: str) -> Any:
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    return identity_read(patient=patient, user=acting_user(request.user), purpose=purpose[:200])


@router.get("/patients/{patient_id}/consents", response={200: list[ConsentOut], **ERRORS})
def consents_list(request: HttpRequest, patient_id: int) -> Any:
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    return list(consents_visible_to(request.user).filter(patient=patient))


@router.post("/patients/{patient_id}/consents", response={201: ConsentOut, **ERRORS})
def consents_sign(request: HttpRequest, patient_id: int, payload: ConsentIn) -> Any:
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    form = ConsentForm.objects.filter(pk=payload.form_id).first()
    if form is None or (form.trial_id is not None and not _trial_visible(request, form.trial_id)):
        raise NotFoundError(gettext("No consent form %(form_id)s.") % {"form_id": payload.form_id})
    return Status(
        201,
        consent_sign(
            patient=patient,
            form=form,
            signed_on=payload.signed_on,
            by=acting_user(request.user),
            options_granted=payload.options_granted,
        ),
    )


@router.post("/consents/{consent_id}/withdraw", response={200: ConsentOut, **ERRORS})
def consents_withdraw(request: HttpRequest, consent_id: int, payload: WithdrawIn) -> Any:
    consent = (
        consents_visible_to(request.user).filter(pk=consent_id).select_related("patient").first()
    )
    if consent is None:
        raise NotFoundError(gettext("No consent %(consent_id)s.") % {"consent_id": consent_id})
    return consent_withdraw(
        consent=consent,
        on=payload.on,
        scope=payload.scope,
        reason=payload.reason,
        by=acting_user(request.user),
    )


def _trial_visible(request: HttpRequest, trial_id: int) -> bool:
    try:
        trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        return False
    return True


@router.post("/patients/{patient_id}/screenings", response={201: ScreeningOut, **ERRORS})
def screenings_start(request: HttpRequest, patient_id: int, payload: ScreeningIn) -> Any:
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    trial = trial_get_for_user(user=request.user, trial_id=payload.trial_id)
    cohort = None
    if payload.cohort_id is not None:
        cohort = Cohort.objects.filter(pk=payload.cohort_id, trial=trial).first()
        if cohort is None:
            raise NotFoundError(
                gettext("No cohort %(cohort_id)s in %(trial)s.")
                % {"cohort_id": payload.cohort_id, "trial": trial}
            )
    return Status(
        201,
        screening_start(
            patient=patient,
            trial=trial,
            kind=payload.kind,
            started_on=payload.started_on,
            by=acting_user(request.user),
            cohort=cohort,
        ),
    )


@router.post("/screenings/{screening_id}/close", response={200: ScreeningOut, **ERRORS})
def screenings_close(request: HttpRequest, screening_id: int, payload: ScreeningCloseIn) -> Any:
    episode = screenings_visible_to(request.user).filter(pk=screening_id).first()
    if episode is None:
        raise NotFoundError(
            gettext("No screening %(screening_id)s.") % {"screening_id": screening_id}
        )
    return screening_close(
        episode=episode,
        outcome=payload.outcome,
        closed_on=payload.closed_on,
        by=acting_user(request.user),
        failure_reason=payload.failure_reason,
        notes=payload.notes,
    )


@router.post("/patients/{patient_id}/registrations", response={201: RegistrationOut, **ERRORS})
def registrations_create(request: HttpRequest, patient_id: int, payload: RegistrationIn) -> Any:
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    cohort = Cohort.objects.filter(pk=payload.cohort_id).first()
    if cohort is None or not _trial_visible(request, cohort.trial_id):
        raise NotFoundError(gettext("No cohort %(cohort_id)s.") % {"cohort_id": payload.cohort_id})
    if arm_assigned_by_scheme(cohort):
        raise ValidationError(
            gettext(
                "cohort_id: the arm of %(trial)s is assigned by its randomisation scheme, "
                "never chosen; randomise the patient with POST "
                "/api/v1/patients/%(patient_id)s/randomisations."
            )
            % {"trial": cohort.trial, "patient_id": patient.pk},
            field="cohort_id",
        )
    dose_level = None
    if payload.dose_level_id is not None:
        dose_level = DoseLevel.objects.filter(pk=payload.dose_level_id, cohort=cohort).first()
        if dose_level is None:
            raise NotFoundError(
                gettext("No dose level %(dose_level_id)s in %(cohort)s.")
                % {"dose_level_id": payload.dose_level_id, "cohort": cohort}
            )
    registration = registration_create(
        patient=patient,
        cohort=cohort,
        dose_level=dose_level,
        registered_on=payload.registered_on,
        by=acting_user(request.user),
        dose_override_reason=payload.dose_override_reason,
    )
    return Status(201, _registration_out(request, registration))


@router.post("/patients/{patient_id}/randomisations", response={201: RegistrationOut, **ERRORS})
def randomisations_create(request: HttpRequest, patient_id: int, payload: RandomisationIn) -> Any:
    """Randomise an eligible patient in a trial with a randomisation scheme: the scheme assigns
    the arm and the patient is registered there. The arm (``cohort_id``) is null when the
    scheme is blinded and your role may not know it."""
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    trial = trial_get_for_user(user=request.user, trial_id=payload.trial_id)
    registration = randomise(
        patient=patient,
        trial=trial,
        levels=payload.levels,
        registered_on=payload.registered_on,
        by=acting_user(request.user),
    )
    return Status(201, _registration_out(request, registration))


@router.get("/registrations", response={200: list[RegistrationOut], **ERRORS})
@paged
def registrations_list(request: HttpRequest, trial_id: int | None = None, status: str = "") -> Any:
    """Registrations you may see, newest first (a blinded arm's cohort is null). Paged:
    ``{"items": [...], "count": n}`` with ``?page=`` and ``?page_size=`` (default 100, at
    most 500)."""
    qs = registrations_visible_to(request.user).select_related(
        "patient", "trial__randomisation_scheme"
    )
    if trial_id is not None:
        qs = qs.filter(trial_id=trial_id)
    if status:
        qs = qs.filter(status=status[:20])
    return Rendered(qs.order_by("-registered_on", "-pk"), lambda r: _registration_out(request, r))


@router.post("/registrations/{registration_id}/status", response={200: RegistrationOut, **ERRORS})
def registrations_status(
    request: HttpRequest, registration_id: int, payload: RegistrationStatusIn
) -> Any:
    registration = registrations_visible_to(request.user).filter(pk=registration_id).first()
    if registration is None:
        raise NotFoundError(
            gettext("No registration %(registration_id)s.") % {"registration_id": registration_id}
        )
    updated = registration_change_status(
        registration=registration,
        to_status=payload.status,
        on=payload.on,
        by=acting_user(request.user),
        reason=payload.reason,
    )
    return _registration_out(request, updated)


def _registration_out(request: HttpRequest, registration: Registration) -> dict[str, Any]:
    out: dict[str, Any] = RegistrationOut.from_orm(registration).dict()
    if not arm_visible_to(user=request.user, registration=registration):
        out["cohort_id"] = None
    return out
