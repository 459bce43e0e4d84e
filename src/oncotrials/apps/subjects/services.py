"""Writes of the patient journey. Each service owns its transaction, locks and audit event."""

from __future__ import annotations

import copy
import datetime as dt
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from oncotrials.apps.accounts.access import Action, Target, may, require
from oncotrials.apps.accounts.core_messages import Catalogue, core_errors_translated
from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.accounts.prepared import PreparedRead
from oncotrials.apps.audit.services import audit_record, model_snapshot
from oncotrials.apps.trials.models import Cohort, CohortKind, DoseLevel, Trial, TrialStatus
from oncotrials.apps.trials.selectors import visit_schedule_parsed
from oncotrials.core.errors import ConflictError, NotFoundError, ValidationError
from oncotrials.core.grading.ctcae import find_analyte
from oncotrials.core.schedule import patient_calendar

from .consent_hooks import tiers_withdrawn
from .inclusion_rules import dose_gate
from .models import (
    MAX_PRIOR_LINE,
    REGISTRATION_TRANSITIONS,
    BaselineObservation,
    BestResponse,
    BookingStatus,
    Consent,
    ConsentForm,
    ConsentKind,
    LineSetting,
    ObservationKind,
    Patient,
    PatientIdentity,
    PriorTherapyLine,
    RandomisationMethod,
    RandomisationRecord,
    RandomisationScheme,
    ReferralSource,
    Registration,
    RegistrationStatus,
    RegistrationStatusChange,
    ScreenFailureReason,
    ScreeningEpisode,
    ScreeningKind,
    ScreeningOutcome,
    Sex,
    SlotAllocation,
    SlotBooking,
    VisitOutcome,
    VisitRecord,
    WaitlistEntry,
    WithdrawalScope,
)
from .selectors import _end_dates

SCREENING_VALID_DAYS = 28  # an eligible screening older than this no longer supports registration

# The reads of every consent, screening, registration and status change, compiled once per
# database connection (``accounts.prepared``): building their SQL cost more than running them.
_HOSPITAL_NUMBER_TAKEN = PreparedRead(
    lambda number: PatientIdentity.objects.filter(hospital_number=number).values_list("pk")[:1],
    text=("number",),
)
_LAST_RESEARCH_ID = PreparedRead(
    lambda: Patient.objects.select_for_update().order_by("-id").values_list("research_id")[:1]
)
# Newest first; on the same day, the one recorded last.
_TRIAL_CONSENTS_IN_FORCE = PreparedRead(
    lambda patient, trial: (
        Consent.objects.filter(
            patient_id=patient,
            form__trial_id=trial,
            form__kind=ConsentKind.TRIAL,
            withdrawn_on__isnull=True,
        )
        .select_related("form__trial")  # a registration's audit event names the form
        .order_by("-signed_on", "-pk")
    ),
    "patient",
    "trial",
)
_WITHDRAWN_SCOPES = PreparedRead(
    lambda patient, trial: (
        Consent.objects.filter(patient_id=patient, form__trial_id=trial, withdrawn_on__isnull=False)
        .order_by()  # a union of scopes: no ordering (the model's joins the patient)
        .values_list("withdrawal_scope")
    ),
    "patient",
    "trial",
)
# With the patient and the trial that its audit event names; only the episode is locked.
_SCREENING_LOCKED = PreparedRead(
    lambda episode: (
        ScreeningEpisode.objects.select_for_update(of=("self",))
        .select_related("patient", "trial")
        .filter(pk=episode)
        .order_by()
    ),
    "episode",
)
_TRIAL_LOCKED = PreparedRead(
    lambda trial: Trial.objects.select_for_update().filter(pk=trial).order_by(), "trial"
)
_SCHEME_ARMS = PreparedRead(
    lambda trial: RandomisationScheme.objects.filter(trial_id=trial).values_list("arms")[:1],
    "trial",
)
_REGISTERED_IN_COHORT = PreparedRead(
    lambda patient, cohort: (
        Registration.objects.filter(patient_id=patient, cohort_id=cohort)
        .order_by()
        .values_list("pk")[:1]
    ),
    "patient",
    "cohort",
)
_ELIGIBLE_SCREENING = PreparedRead(
    lambda patient, trial: ScreeningEpisode.objects.filter(
        patient_id=patient,
        trial_id=trial,
        kind=ScreeningKind.SCREENING,
        outcome=ScreeningOutcome.ELIGIBLE,
        registration__isnull=True,
    ).order_by("-closed_on")[:1],
    "patient",
    "trial",
)
_HELD_BOOKING_LOCKED = PreparedRead(
    lambda patient, cohort: (
        SlotBooking.objects.select_for_update()
        .filter(patient_id=patient, allocation__cohort_id=cohort, status=BookingStatus.HELD)
        .order_by("booked_at", "id")[:1]
    ),
    "patient",
    "cohort",
)
_COHORT_HAS_SLOTS_AT = PreparedRead(
    lambda cohort, site: (
        SlotAllocation.objects.filter(cohort_id=cohort, site_id=site)
        .order_by()
        .values_list("pk")[:1]
    ),
    "cohort",
    "site",
)
# With what the checks and the audit event of a status change read (the patient, the trial,
# the cohort's name): one query, not one per relation; only the registration row is locked.
_REGISTRATION_LOCKED = PreparedRead(
    lambda registration: (
        Registration.objects.select_for_update(of=("self",))
        .select_related("patient", "trial", "cohort__trial")
        .filter(pk=registration)
        .order_by()
    ),
    "registration",
)


#: The refusals of the randomisation engine (``oncotrials.core.randomisation``), in the user's language.
RANDOMISATION_MESSAGES: Catalogue = {
    "randomisation_stratum_not_this_list": gettext_lazy(
        "Stratum %(label)s is not in this list (strata: %(known)s)."
    ),
    "randomisation_arms_randomisation_needs_least": gettext_lazy(
        "arms: a randomisation needs at least two arms; got %(n_items)s."
    ),
    "randomisation_block_sizes_give_least": gettext_lazy(
        "block_sizes: give at least one block size."
    ),
    "randomisation_n_list_length_whole": gettext_lazy(
        "n: the list length must be a whole number > 0; got %(n)s."
    ),
    "randomisation_allocated_number_already_allocated": gettext_lazy(
        "allocated: the number already allocated must be a whole number >= 0; got %(allocated)s."
    ),
    "randomisation_arms_every_arm_needs": gettext_lazy(
        "arms: every arm needs a name; got %(arm)s."
    ),
    "randomisation_arms_arm_listed_twice": gettext_lazy(
        "arms.%(arm)s: the arm is listed twice; name each arm once."
    ),
    "randomisation_arms_ratio_whole_number": gettext_lazy(
        "arms.%(arm)s: the ratio must be a whole number (e.g. 2 for 2:1); got %(ratio)s."
    ),
    "randomisation_arms_ratio_got": gettext_lazy(
        "arms.%(arm)s: the ratio must be > 0; got %(ratio)s."
    ),
    "randomisation_strata_stratification_factor_has": gettext_lazy(
        "strata: a stratification factor has no name."
    ),
    "randomisation_strata_factor_has_no": gettext_lazy(
        "strata.%(name)s: the factor has no levels; list at least one."
    ),
    "randomisation_strata_level_listed_twice": gettext_lazy(
        "strata.%(name)s: a level is listed twice (%(values)s)."
    ),
    "randomisation_strata_patient_has_no": gettext_lazy(
        "strata.%(name)s: the patient has no level for stratification factor %(name_b)s; give one of %(allowed)s."
    ),
    "randomisation_strata_level_not_one": gettext_lazy(
        "strata.%(name)s: level %(value)s is not one of %(allowed)s."
    ),
    "randomisation_block_sizes_not_positive": gettext_lazy(
        "block_sizes: %(size)s is not a positive multiple of %(total)s, the sum of the ratios %(ratio_text)s; every block must hold each arm in the ratio."
    ),
    "randomisation_factors_minimisation_needs_least": gettext_lazy(
        "factors: minimisation needs at least one factor; use a block list for none."
    ),
    "randomisation_weights_least_one_factor": gettext_lazy(
        "weights: at least one factor needs a weight > 0."
    ),
    "randomisation_p_probability_preferred_arm": gettext_lazy(
        "p: the probability of the preferred arm must lie in [1/%(k)s, 1] for %(k)s arms; got %(p)s."
    ),
    "randomisation_measure_imbalance_measure_one": gettext_lazy(
        "measure: the imbalance measure must be one of %(measures)s; got %(measure)s."
    ),
    "randomisation_method_minimisation_simple_got": gettext_lazy(
        "method: must be 'minimisation' or 'simple'; got %(method)s."
    ),
    "randomisation_factor_levels_mapping_factor": gettext_lazy(
        "%(field)s: the factor levels must be a mapping of factor to level; got %(name)s."
    ),
    "randomisation_not_minimisation_factor_this": gettext_lazy(
        "%(where)s.%(extra)s: not a minimisation factor of this scheme (factors: %(factors)s)."
    ),
    "randomisation_unknown_arm_arms_are": gettext_lazy(
        "%(field)s: unknown arm %(arm)s; the arms are %(names)s."
    ),
    "randomisation_weights_not_factor_this": gettext_lazy(
        "weights.%(name)s: not a factor of this scheme (factors: %(names)s)."
    ),
    "randomisation_factors_factor_has_no": gettext_lazy("factors: a factor has no name."),
    "randomisation_factors_factor_listed_twice": gettext_lazy(
        "factors.%(factor)s: the factor is listed twice."
    ),
    "randomisation_factors_factor_needs_least": gettext_lazy(
        "factors.%(factor)s: a factor needs at least two levels; got %(levels)s."
    ),
    "randomisation_factors_level_listed_twice": gettext_lazy(
        "factors.%(factor)s: a level is listed twice (%(levels)s)."
    ),
    "randomisation_weights_factor_weight_finite": gettext_lazy(
        "weights.%(factor)s: a factor weight must be a finite number >= 0; got %(weight)s."
    ),
    "randomisation_whole_number_got": gettext_lazy(
        "%(field)s: must be a whole number > 0; got %(value)s."
    ),
    "randomisation_level_probabilities_not_factor": gettext_lazy(
        "level_probabilities.%(name)s: not a factor of this scheme."
    ),
    "randomisation_missing_every_patient_needs": gettext_lazy(
        "%(where)s.%(factor)s: missing; every patient needs a level for factor %(factor_b)s (one of %(levels)s)."
    ),
    "randomisation_unknown_level_factor_has": gettext_lazy(
        "%(where)s.%(factor)s: unknown level %(value)s; factor %(factor_b)s has levels %(levels)s."
    ),
    "randomisation_existing_each_allocated_patient": gettext_lazy(
        "existing[%(i)s]: each allocated patient must be (levels, arm); got %(item)s."
    ),
    "randomisation_counts_count_whole_number": gettext_lazy(
        "counts.%(factor)s.%(level)s.%(arm)s: a count must be a whole number >= 0; got %(value)s."
    ),
    "randomisation_level_probabilities_give_probabilities": gettext_lazy(
        "level_probabilities.%(factor)s: give %(n_levels)s probabilities >= 0 summing to 1; got %(q)s."
    ),
}


def date_not_future(value: dt.date, field: str) -> None:
    """Clinical dates are recorded once they happened: refuse a date after today (site time)."""
    if value > timezone.localdate():
        raise ValidationError(
            gettext("The date cannot be in the future; got %(date)s.")
            % {"date": value.isoformat()},
            field=field,
        )


def _next_research_id() -> str:
    found = _LAST_RESEARCH_ID.rows()
    last = found[0][0] if found else None
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"OTP-{n:06d}"


@transaction.atomic
def patient_create(
    *,
    site: Site,
    by: User,
    family_name: str,
    given_name: str,
    birth_date: dt.date,
    hospital_number: str,
    sex: str,
    referral_source: str,
    referral_date: dt.date,
    referred_by: str = "",
    diagnosis: str = "",
    phone: str = "",
    email: str = "",
) -> Patient:
    """Register a referral: a research identifier, with the identity stored apart."""
    if sex not in Sex.values:
        raise ValidationError(
            gettext("sex must be one of %(allowed)s; got %(sex)s.")
            % {"allowed": ", ".join(Sex.values), "sex": repr(sex)},
            field="sex",
        )
    if referral_source not in ReferralSource.values:
        raise ValidationError(
            gettext("referral_source must be one of %(allowed)s; got %(referral_source)s.")
            % {
                "allowed": ", ".join(ReferralSource.values),
                "referral_source": repr(referral_source),
            },
            field="referral_source",
        )
    date_not_future(birth_date, "birth_date")
    date_not_future(referral_date, "referral_date")
    if referral_date < birth_date:
        raise ValidationError(
            gettext("The referral date cannot be before the date of birth."), field="referral_date"
        )
    if not family_name.strip() or not given_name.strip() or not hospital_number.strip():
        raise ValidationError(
            gettext("family_name, given_name and hospital_number are required."),
            field="family_name",
        )
    if _HOSPITAL_NUMBER_TAKEN.rows(number=hospital_number.strip()):
        raise ConflictError(
            gettext("A patient with hospital number %(number)s already exists.")
            % {"number": repr(hospital_number.strip())},
            field="hospital_number",
        )
    patient = Patient(
        research_id=_next_research_id(),
        site=site,
        sex=sex,
        year_of_birth=birth_date.year,
        diagnosis=diagnosis.strip().upper(),
        referral_source=referral_source,
        referral_date=referral_date,
        referred_by=referred_by,
    )
    patient._history_user = by  # type: ignore[attr-defined]
    patient.save()
    PatientIdentity.objects.create(
        patient=patient,
        family_name=family_name.strip(),
        given_name=given_name.strip(),
        birth_date=birth_date,
        hospital_number=hospital_number.strip(),
        phone=phone,
        email=email,
    )
    research = model_snapshot(
        patient,
        [
            "research_id",
            "site_id",
            "sex",
            "year_of_birth",
            "diagnosis",
            "referral_source",
            "referral_date",
        ],
    )
    audit_record(
        action="create",
        instance=patient,
        changes={k: [None, v] for k, v in research.items()},
        by=by,
    )
    return patient


def identity_read(*, patient: Patient, user: User, purpose: str) -> PatientIdentity:
    """The patient's identifying data, for roles that need it; every read is audited."""
    require(user, Action.READ_IDENTITY, on=patient)
    if not purpose.strip():
        raise ValidationError(
            gettext("Say why you read the identity (e.g. 'appointment call')."), field="purpose"
        )
    identity = PatientIdentity.objects.get(patient=patient)
    audit_record(
        action="read",
        instance=identity,
        object_repr=f"identity of {patient.research_id}",
        reason=purpose,
        by=user,
    )
    return identity


@transaction.atomic
def consent_form_create(
    *,
    kind: str,
    version: str,
    version_date: dt.date,
    ethics_approval_date: dt.date,
    valid_from: dt.date,
    by: User,
    trial: Trial | None = None,
    programme: str = "",
    options: Iterable[str] = (),
    supersedes: ConsentForm | None = None,
) -> ConsentForm:
    if kind not in ConsentKind.values:
        raise ValidationError(
            gettext("kind must be trial or translational; got %(kind)s.") % {"kind": repr(kind)},
            field="kind",
        )
    if kind == ConsentKind.TRIAL and trial is None:
        raise ValidationError(gettext("A trial consent form names its trial."), field="trial")
    if kind == ConsentKind.TRANSLATIONAL and not programme.strip():
        raise ValidationError(
            gettext("A translational consent form names its programme."), field="programme"
        )
    if valid_from < ethics_approval_date:
        raise ValidationError(
            gettext("A consent form cannot be valid before its ethics approval."),
            field="valid_from",
        )
    form = ConsentForm(
        kind=kind,
        trial=trial,
        programme=programme.strip(),
        version=version.strip(),
        version_date=version_date,
        ethics_approval_date=ethics_approval_date,
        valid_from=valid_from,
        options=sorted(set(options)),
    )
    if supersedes is not None:
        locked = ConsentForm.objects.select_for_update().get(pk=supersedes.pk)
        if locked.trial_id != form.trial_id or locked.programme != form.programme:
            raise ValidationError(
                gettext("A version supersedes a version of the same trial or programme."),
                field="supersedes",
            )
        if valid_from <= locked.valid_from:
            raise ValidationError(
                gettext("A superseding version must become valid after the version it replaces."),
                field="valid_from",
            )
        locked.valid_to = valid_from - dt.timedelta(days=1)
        locked.save(update_fields=["valid_to"])
        form.supersedes = locked
    try:
        form.save()
    except IntegrityError:
        raise ConflictError(gettext("That version has already been superseded.")) from None
    audit_record(
        action="create",
        instance=form,
        changes={k: [None, v] for k, v in model_snapshot(form).items()},
        by=by,
    )
    return form


@transaction.atomic
def consent_sign(
    *,
    patient: Patient,
    form: ConsentForm,
    signed_on: dt.date,
    by: User,
    options_granted: Mapping[str, bool] | None = None,
) -> Consent:
    require(by, Action.WRITE_JOURNEY, on=patient)
    date_not_future(signed_on, "signed_on")
    if signed_on < form.valid_from or (form.valid_to is not None and signed_on > form.valid_to):
        raise ValidationError(
            (
                gettext(
                    "%(form)s was not in force on %(date)s (valid %(start)s to %(end)s); use the "
                    "version in force."
                )
                if form.valid_to
                else gettext(
                    "%(form)s was not in force on %(date)s (valid from %(start)s); use the "
                    "version in force."
                )
            )
            % {
                "form": form,
                "date": signed_on.isoformat(),
                "start": form.valid_from.isoformat(),
                "end": form.valid_to.isoformat() if form.valid_to else "",
            },
            field="form",
        )
    if form.trial is not None and not form.trial.takes_part(patient.site_id):
        raise ValidationError(
            gettext("%(site)s does not take part in %(trial)s.")
            % {"site": patient.site, "trial": form.trial},
            field="form",
        )
    granted = dict(options_granted or {})
    unknown = set(granted) - set(form.options)
    if unknown:
        raise ValidationError(
            gettext(
                "%(form)s does not declare the option(s) %(options)s: nothing was recorded. "
                "Untick them, or record the consent on a version that declares them (this one "
                "declares %(declared)s)."
            )
            % {
                "form": form,
                "options": ", ".join(sorted(unknown)),
                "declared": ", ".join(form.options) or gettext("none"),
            },
            field="options_granted",
            options=sorted(unknown),
        )
    consent = Consent.objects.create(
        patient=patient,
        form=form,
        signed_on=signed_on,
        obtained_by=by,
        options_granted={o: bool(granted.get(o, False)) for o in form.options},
    )
    audit_record(
        action="create",
        instance=consent,
        changes={
            "form": [None, str(form)],
            "signed_on": [None, signed_on],
            "options_granted": [None, consent.options_granted],
        },
        by=by,
    )
    return consent


@transaction.atomic
def consent_withdraw(
    *, consent: Consent, on: dt.date, scope: Iterable[str], reason: str, by: User
) -> Consent:
    """Full (every scope) or partial withdrawal; later actions check what it blocks."""
    require(by, Action.WRITE_JOURNEY, on=consent.patient)
    scope = sorted(set(scope)) or sorted(WithdrawalScope.values)
    bad = set(scope) - set(WithdrawalScope.values)
    if bad:
        raise ValidationError(
            gettext("Unknown withdrawal scope %(bad)s; use %(allowed)s.")
            % {"bad": sorted(bad), "allowed": ", ".join(WithdrawalScope.values)},
            field="scope",
        )
    date_not_future(on, "withdrawn_on")
    locked = Consent.objects.select_for_update().get(pk=consent.pk)
    if locked.withdrawn_on is not None:
        raise ConflictError(
            gettext("This consent was already withdrawn on %(date)s.")
            % {"date": locked.withdrawn_on.isoformat()}
        )
    if on < locked.signed_on:
        raise ValidationError(
            gettext("A consent cannot be withdrawn before it was signed."), field="withdrawn_on"
        )
    if not reason.strip():
        raise ValidationError(
            gettext("Record the reason the patient gave (or 'not given')."), field="reason"
        )
    locked.withdrawn_on, locked.withdrawal_scope, locked.withdrawal_reason = on, scope, reason
    locked.save(update_fields=["withdrawn_on", "withdrawal_scope", "withdrawal_reason"])
    audit_record(
        action="withdraw",
        instance=locked,
        changes={"withdrawal_scope": [None, scope], "withdrawn_on": [None, on]},
        reason=reason,
        by=by,
    )
    if WithdrawalScope.SAMPLES in scope and locked.form.kind == ConsentKind.TRANSLATIONAL:
        still = tuple(o for o in locked.form.options if o not in locked.options_withdrawn)
        tiers_withdrawn(locked, still, on, by)
    return locked


@transaction.atomic
def consent_option_withdraw(
    *, consent: Consent, option: str, on: dt.date, reason: str, by: User
) -> Consent:
    """Withdraw one optional consent (a translational tier) of a signed consent; the apps that
    hold what the tier covered (the biobank) act in this same transaction."""
    require(by, Action.WRITE_JOURNEY, on=consent.patient)
    date_not_future(on, "withdrawn_on")
    locked = Consent.objects.select_for_update().select_related("form").get(pk=consent.pk)
    if option not in locked.form.options:
        raise ValidationError(
            gettext("%(form)s does not declare the option %(option)s; it declares %(value)s.")
            % {
                "form": locked.form,
                "option": repr(option),
                "value": ", ".join(locked.form.options) or "none",
            },
            field="option",
        )
    if option in locked.options_withdrawn or locked.withdrawn_on is not None:
        raise ConflictError(
            gettext("The option %(option)s of this consent is already withdrawn.")
            % {"option": repr(option)}
        )
    if on < locked.signed_on:
        raise ValidationError(
            gettext("A consent cannot be withdrawn before it was signed."), field="withdrawn_on"
        )
    if not reason.strip():
        raise ValidationError(
            gettext("Record the reason the patient gave (or 'not given')."), field="reason"
        )
    before = dict(locked.options_granted)
    locked.options_withdrawn = {**locked.options_withdrawn, option: on.isoformat()}
    locked.options_granted = {**locked.options_granted, option: False}
    locked.save(update_fields=["options_withdrawn", "options_granted"])
    audit_record(
        action="withdraw_option",
        instance=locked,
        changes={
            "options_granted": [before, locked.options_granted],
            "options_withdrawn": [None, {option: on.isoformat()}],
        },
        reason=reason,
        by=by,
    )
    tiers_withdrawn(locked, (option,), on, by)
    return locked


def trial_consent_in_force(*, patient: Patient, trial: Trial, on: dt.date) -> Consent | None:
    """The patient's signed, unwithdrawn consent to this trial whose version was in force on ``on``."""
    for consent in _TRIAL_CONSENTS_IN_FORCE.objects(patient=patient.pk, trial=trial.pk):
        if consent.signed_on <= on:
            return consent
    return None


def withdrawn_scopes(*, patient: Patient, trial: Trial) -> set[str]:
    scopes: set[str] = set()
    for (scope,) in _WITHDRAWN_SCOPES.rows(patient=patient.pk, trial=trial.pk):
        scopes |= set(scope)
    return scopes


@transaction.atomic
def screening_start(
    *,
    patient: Patient,
    trial: Trial,
    kind: str,
    started_on: dt.date,
    by: User,
    cohort: Cohort | None = None,
    checklist: list[str] | None = None,
) -> ScreeningEpisode:
    require(by, Action.WRITE_JOURNEY, on=patient)
    if kind not in ScreeningKind.values:
        raise ValidationError(
            gettext("kind must be pre_screening or screening; got %(kind)s.")
            % {"kind": repr(kind)},
            field="kind",
        )
    date_not_future(started_on, "started_on")
    if cohort is not None and cohort.trial_id != trial.pk:
        raise ValidationError(
            gettext("Cohort %(cohort)s is not part of %(trial)s.")
            % {"cohort": cohort, "trial": trial},
            field="cohort",
        )
    if not trial.takes_part(patient.site_id):
        raise ValidationError(
            gettext("%(site)s does not take part in %(trial)s.")
            % {"site": patient.site, "trial": trial},
            field="trial",
        )
    if (
        kind == ScreeningKind.SCREENING
        and trial_consent_in_force(patient=patient, trial=trial, on=started_on) is None
    ):
        raise ValidationError(
            gettext(
                "Patient %(patient)s has no signed consent to %(trial)s in force on %(date)s; "
                "screening procedures need it."
            )
            % {"patient": patient.research_id, "trial": trial, "date": started_on.isoformat()},
            field="started_on",
        )
    if checklist is not None:
        criteria = checklist
    elif trial.eligibility:
        # The protocol's criteria, in order; an exclusion is "met" when it does NOT apply.
        criteria = [
            f"{'Exclusion (must not apply)' if c.get('kind') == 'exclusion' else 'Inclusion'}: {c.get('text', '')}"
            for c in trial.eligibility
        ]
    else:
        criteria = [f"Inclusion/exclusion criteria of protocol {trial.protocol_code}"]
    episode = ScreeningEpisode.objects.create(
        patient=patient,
        trial=trial,
        cohort=cohort,
        kind=kind,
        started_on=started_on,
        checklist=[{"criterion": c, "met": None} for c in criteria],
    )
    audit_record(
        action="create",
        instance=episode,
        changes={"kind": [None, kind], "trial": [None, trial.protocol_code]},
        by=by,
    )
    return episode


@transaction.atomic
def screening_close(
    *,
    episode: ScreeningEpisode,
    outcome: str,
    closed_on: dt.date,
    by: User,
    failure_reason: str = "",
    checklist: list[Mapping[str, Any]] | None = None,
    notes: str = "",
) -> ScreeningEpisode:
    require(
        by,
        Action.WRITE_JOURNEY,
        on=Target(frozenset({episode.patient.site_id}), frozenset({episode.trial_id})),
    )
    locked = _SCREENING_LOCKED.first(episode=episode.pk)
    if locked is None:
        raise ScreeningEpisode.DoesNotExist("ScreeningEpisode matching query does not exist.")
    if locked.outcome != ScreeningOutcome.PENDING:
        raise ConflictError(
            gettext("This screening was already closed as %(outcome)s.")
            % {"outcome": locked.get_outcome_display()}
        )
    if outcome not in (ScreeningOutcome.ELIGIBLE, ScreeningOutcome.FAILED):
        raise ValidationError(
            gettext("outcome must be eligible or failed; got %(outcome)s.")
            % {"outcome": repr(outcome)},
            field="outcome",
        )
    if outcome == ScreeningOutcome.FAILED and failure_reason not in ScreenFailureReason.values:
        raise ValidationError(
            gettext("A screen failure needs a reason from the list: %(allowed)s.")
            % {"allowed": ", ".join(ScreenFailureReason.values)},
            field="failure_reason",
        )
    if outcome == ScreeningOutcome.ELIGIBLE and failure_reason:
        raise ValidationError(
            gettext("An eligible patient has no failure reason."), field="failure_reason"
        )
    date_not_future(closed_on, "closed_on")
    if closed_on < locked.started_on:
        raise ValidationError(
            gettext("A screening cannot close before it started."), field="closed_on"
        )
    if checklist is not None:
        locked.checklist = [
            {"criterion": str(c["criterion"]), "met": c.get("met")} for c in checklist
        ]
        if outcome == ScreeningOutcome.ELIGIBLE and any(
            c["met"] is not True for c in locked.checklist
        ):
            raise ValidationError(
                gettext("Every checklist criterion must be met to declare the patient eligible."),
                field="checklist",
            )
    locked.outcome, locked.failure_reason, locked.closed_on, locked.notes = (
        outcome,
        failure_reason,
        closed_on,
        notes,
    )
    locked.save()
    audit_record(
        action="update",
        instance=locked,
        changes={"outcome": ["pending", outcome], "failure_reason": ["", failure_reason]},
        by=by,
    )
    if outcome == ScreeningOutcome.FAILED:
        for booking in (
            SlotBooking.objects.select_for_update()
            .filter(
                patient=locked.patient,
                status=BookingStatus.HELD,
                allocation__cohort__trial=locked.trial,
            )
            .order_by("pk")
        ):
            _release(
                booking, reason=f"Screen failure: {locked.get_failure_reason_display()}", by=by
            )
    return locked


@transaction.atomic
def slot_allocate(
    *,
    cohort: Cohort,
    site: Site,
    slots: int,
    open_from: dt.date,
    by: User,
    open_until: dt.date | None = None,
    dose_level: DoseLevel | None = None,
) -> SlotAllocation:
    if slots < 1:
        raise ValidationError(
            gettext("slots must be at least 1; got %(slots)s.") % {"slots": slots}, field="slots"
        )
    if open_until is not None and open_until < open_from:
        raise ValidationError(gettext("open_until cannot be before open_from."), field="open_until")
    if dose_level is not None and dose_level.cohort_id != cohort.pk:
        raise ValidationError(
            gettext("%(dose_level)s is not a level of %(cohort)s.")
            % {"dose_level": dose_level, "cohort": cohort},
            field="dose_level",
        )
    alloc = SlotAllocation.objects.create(
        cohort=cohort,
        site=site,
        slots=slots,
        open_from=open_from,
        open_until=open_until,
        dose_level=dose_level,
    )
    audit_record(
        action="create",
        instance=alloc,
        changes={k: [None, v] for k, v in model_snapshot(alloc).items()},
        by=by,
    )
    return alloc


@transaction.atomic
def slot_book(
    *,
    patient: Patient,
    cohort: Cohort,
    by: User,
    on: dt.date | None = None,
    dose_level: DoseLevel | None = None,
) -> SlotBooking:
    """Take a free slot of the cohort at the patient's site.

    Allocations are locked in primary-key order (the same order for every caller), so two users
    can never book the same last slot: the second waits, then sees it taken.
    """
    require(by, Action.WRITE_JOURNEY, on=patient)
    on = on or timezone.localdate()
    allocations = list(
        SlotAllocation.objects.select_for_update()
        .filter(cohort=cohort, site_id=patient.site_id, open_from__lte=on)
        .exclude(open_until__lt=on)
        .order_by("pk")
    )
    if dose_level is not None:
        allocations = [a for a in allocations if a.dose_level_id in (None, dose_level.pk)]
    if (
        SlotBooking.objects.filter(patient=patient, allocation__cohort=cohort)
        .exclude(status=BookingStatus.RELEASED)
        .exists()
    ):
        raise ConflictError(
            gettext("Patient %(research_id)s already holds a slot in %(cohort)s.")
            % {"research_id": patient.research_id, "cohort": cohort}
        )
    for alloc in allocations:
        taken = alloc.bookings.exclude(status=BookingStatus.RELEASED).count()
        if taken < alloc.slots:
            booking = SlotBooking.objects.create(
                allocation=alloc, patient=patient, booked_at=timezone.now(), booked_by=by
            )
            WaitlistEntry.objects.filter(cohort=cohort, patient=patient, active=True).update(
                active=False
            )
            audit_record(
                action="book",
                instance=booking,
                changes={"cohort": [None, str(cohort)], "allocation": [None, alloc.pk]},
                by=by,
            )
            return booking
    raise ConflictError(
        gettext(
            "No free slot in %(cohort)s at %(site)s on %(on)s; add the patient to the waitlist."
        )
        % {"cohort": cohort, "site": patient.site, "on": on.isoformat()}
    )


def _release(booking: SlotBooking, *, reason: str, by: User) -> None:
    booking.status = BookingStatus.RELEASED
    booking.released_reason = reason[:200]
    booking.save(update_fields=["status", "released_reason"])
    audit_record(
        action="release",
        instance=booking,
        changes={"status": ["held", "released"]},
        reason=reason,
        by=by,
    )


@transaction.atomic
def slot_release(*, booking: SlotBooking, reason: str, by: User) -> SlotBooking:
    require(by, Action.WRITE_JOURNEY, on=booking.patient)
    locked = SlotBooking.objects.select_for_update().get(pk=booking.pk)
    if locked.status != BookingStatus.HELD:
        raise ConflictError(
            gettext("Only a held slot can be released; this one is %(status)s.")
            % {"status": locked.get_status_display()}
        )
    if not reason.strip():
        raise ValidationError(gettext("Say why the slot is released."), field="reason")
    _release(locked, reason=reason, by=by)
    return locked


@transaction.atomic
def slot_confirm(*, booking: SlotBooking, by: User) -> SlotBooking:
    """An investigator confirms a slot offered (held) to a patient: the offer stands and the
    patient is expected to take it. Audited; refused for a slot that is no longer held or was
    already confirmed."""
    require(by, Action.CONFIRM_SLOT, on=booking.patient)
    locked = SlotBooking.objects.select_for_update().get(pk=booking.pk)
    if locked.status != BookingStatus.HELD:
        raise ConflictError(
            gettext("Only a held slot can be confirmed; this one is %(status)s.")
            % {"status": locked.get_status_display()}
        )
    if locked.confirmed_at is not None:
        raise ConflictError(
            gettext("The slot of %(research_id)s was already confirmed on %(confirmed_at)s.")
            % {
                "research_id": booking.patient.research_id,
                "confirmed_at": format(locked.confirmed_at, "%Y-%m-%d"),
            }
        )
    locked.confirmed_at, locked.confirmed_by = timezone.now(), by
    locked.save(update_fields=["confirmed_at", "confirmed_by"])
    audit_record(
        action="confirm",
        instance=locked,
        changes={"confirmed_at": [None, locked.confirmed_at.isoformat()]},
        by=by,
    )
    return locked


@transaction.atomic
def waitlist_add(*, patient: Patient, cohort: Cohort, by: User) -> WaitlistEntry:
    require(by, Action.WRITE_JOURNEY, on=patient)
    if WaitlistEntry.objects.filter(cohort=cohort, patient=patient, active=True).exists():
        raise ConflictError(
            gettext("Patient %(research_id)s is already on the waitlist of %(cohort)s.")
            % {"research_id": patient.research_id, "cohort": cohort}
        )
    entry = WaitlistEntry.objects.create(cohort=cohort, patient=patient, added_at=timezone.now())
    audit_record(action="create", instance=entry, changes={"cohort": [None, str(cohort)]}, by=by)
    return entry


@transaction.atomic
def waitlist_promote(
    *, cohort: Cohort, by: User, site: Site | None = None, on: dt.date | None = None
) -> SlotBooking | None:
    """Offer a freed slot to the waitlist in its order: first come, first served.

    The active entries of the cohort (at ``site`` if given) are tried in the order they were
    added; the first patient the caller may act for who can take a free slot at their site
    gets it (``slot_book`` closes their entry). ``None`` when nobody could be placed.
    """
    entries = (
        WaitlistEntry.objects.select_for_update()
        .filter(cohort=cohort, active=True)
        .select_related("patient")
        .order_by("added_at", "pk")
    )
    if site is not None:
        entries = entries.filter(patient__site=site)
    for entry in entries:
        if not may(by, Action.WRITE_JOURNEY, on=entry.patient):
            continue
        try:
            with transaction.atomic():
                return slot_book(patient=entry.patient, cohort=cohort, by=by, on=on)
        except ConflictError:
            continue
    return None


@transaction.atomic
def waitlist_remove(*, entry: WaitlistEntry, reason: str, by: User) -> WaitlistEntry:
    """Take a patient off a cohort's waitlist (withdrawn, no longer eligible, …)."""
    require(by, Action.WRITE_JOURNEY, on=entry.patient)
    locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if not locked.active:
        raise ConflictError(
            gettext("Patient %(research_id)s is no longer waiting.")
            % {"research_id": locked.patient.research_id}
        )
    if not reason.strip():
        raise ValidationError(gettext("Say why the patient leaves the waitlist."), field="reason")
    locked.active = False
    locked.save(update_fields=["active"])
    audit_record(
        action="update",
        instance=locked,
        changes={"active": [True, False]},
        reason=reason,
        by=by,
    )
    return locked


def arm_assigned_by_scheme(cohort: Cohort) -> bool:
    """Whether the cohort is an arm of its trial's randomisation scheme: reached only by
    randomisation, never chosen by hand."""
    scheme = _SCHEME_ARMS.rows(trial=cohort.trial_id)
    return bool(scheme) and (
        cohort.code in scheme[0][0] or cohort.kind == CohortKind.RANDOMISED_ARM
    )


def registration_create(
    *,
    patient: Patient,
    cohort: Cohort,
    registered_on: dt.date,
    by: User,
    dose_level: DoseLevel | None = None,
    dose_override_reason: str = "",
) -> Registration:
    """Register a screened, consented patient to an open cohort (and dose level), using a slot
    (in the transaction of ``_registration_create``).

    In an escalation cohort, the dose level must be one the escalation allows for the next
    patient (``inclusion_rules.dose_gate``); an investigator may choose another level with a
    reason (``dose_override_reason``), which is audited. The arm of a randomised trial is never
    chosen here: see ``randomise``.
    """
    return _registration_create(
        patient=patient,
        cohort=cohort,
        registered_on=registered_on,
        by=by,
        dose_level=dose_level,
        dose_override_reason=dose_override_reason,
        randomised=False,
    )


def _dose_checked(
    *,
    patient: Patient,
    cohort: Cohort,
    dose_level: DoseLevel | None,
    override: str,
    by: User,
) -> dict[str, Any] | None:
    """Refuse a dose level the escalation does not allow (unless overridden by an investigator,
    with a reason); the override to audit, if any. Call under the trial's lock."""
    gate = dose_gate(cohort)
    if gate is None or dose_level is None:
        return None
    if gate.closed:
        raise ConflictError(gate.reason, code="accrual_closed", field="dose_level")
    if dose_level.pk in gate.allowed:
        return None
    if dose_level.pk in gate.forbidden:
        raise ValidationError(
            gettext(
                "DL%(level)s was eliminated as overly toxic by the design's safety rule; no "
                "patient may receive it."
            )
            % {"level": dose_level.level},
            field="dose_level",
        )
    allowed = ", ".join(
        f"DL{dl.level}" for dl in cohort.dose_levels.filter(pk__in=gate.allowed).distinct()
    )
    if not override:
        raise ValidationError(
            gettext(
                "%(why)s The next patient receives %(allowed)s, not DL%(level)s; an investigator "
                "may register another level with the reason for the override."
            )
            % {"why": gate.reason, "allowed": allowed, "level": dose_level.level},
            field="dose_level",
        )
    require(
        by,
        Action.DECIDE_DOSE,
        on=Target(frozenset({patient.site_id}), frozenset({cohort.trial_id})),
    )
    return {"allowed": allowed, "given": f"DL{dose_level.level}", "reason": override}


@transaction.atomic
def _registration_create(
    *,
    patient: Patient,
    cohort: Cohort,
    registered_on: dt.date,
    by: User,
    dose_level: DoseLevel | None,
    dose_override_reason: str,
    randomised: bool,
) -> Registration:
    require(by, Action.WRITE_JOURNEY, on=patient)
    trial = _TRIAL_LOCKED.first(trial=cohort.trial_id)
    if trial is None:
        raise Trial.DoesNotExist("Trial matching query does not exist.")
    date_not_future(registered_on, "registered_on")
    if registered_on.year < patient.year_of_birth:
        raise ValidationError(
            gettext("The registration date is before the patient's birth."),
            field="registered_on",
        )
    if trial.status != TrialStatus.OPEN:
        raise ValidationError(
            gettext("%(trial)s is %(status)s, not open to accrual.")
            % {"trial": trial, "status": trial.get_status_display().lower()},
            field="cohort",
        )
    if not cohort.is_open:
        raise ValidationError(
            gettext("Cohort %(cohort)s is closed.") % {"cohort": cohort}, field="cohort"
        )
    if dose_level is not None and dose_level.cohort_id != cohort.pk:
        raise ValidationError(
            gettext("%(level)s is not a level of %(cohort)s.")
            % {"level": dose_level, "cohort": cohort},
            field="dose_level",
        )
    if dose_level is None and cohort.kind == "escalation" and cohort.dose_levels.exists():
        raise ValidationError(
            gettext("An escalation cohort needs the dose level; %(cohort)s has levels.")
            % {"cohort": cohort},
            field="dose_level",
        )
    if not randomised and arm_assigned_by_scheme(cohort):
        raise ValidationError(
            gettext(
                "The arm of %(trial)s is assigned by its randomisation scheme; randomise the "
                "patient instead of choosing %(cohort)s."
            )
            % {"trial": trial, "cohort": cohort},
            field="cohort",
        )
    if not trial.takes_part(patient.site_id):
        raise ValidationError(
            gettext("%(site)s does not take part in %(trial)s.")
            % {"site": patient.site, "trial": trial},
            field="cohort",
        )
    if _REGISTERED_IN_COHORT.rows(patient=patient.pk, cohort=cohort.pk):
        raise ConflictError(
            gettext("Patient %(patient)s is already registered in %(cohort)s.")
            % {"patient": patient.research_id, "cohort": cohort}
        )
    consent = trial_consent_in_force(patient=patient, trial=trial, on=registered_on)
    if consent is None:
        raise ValidationError(
            gettext("Patient %(patient)s has no valid signed consent to %(trial)s on %(date)s.")
            % {"patient": patient.research_id, "trial": trial, "date": registered_on.isoformat()},
            field="consent",
        )
    screening = _ELIGIBLE_SCREENING.first(patient=patient.pk, trial=trial.pk)
    if screening is None:
        raise ValidationError(
            gettext("Patient %(patient)s has no eligible screening for %(trial)s.")
            % {"patient": patient.research_id, "trial": trial},
            field="screening",
        )
    assert screening.closed_on is not None
    if not 0 <= (registered_on - screening.closed_on).days <= SCREENING_VALID_DAYS:
        raise ValidationError(
            gettext(
                "Registration must fall within %(days)s days after eligibility was confirmed "
                "(%(confirmed)s); got %(date)s."
            )
            % {
                "days": SCREENING_VALID_DAYS,
                "confirmed": screening.closed_on.isoformat(),
                "date": registered_on.isoformat(),
            },
            field="registered_on",
        )
    override = _dose_checked(
        patient=patient,
        cohort=cohort,
        dose_level=dose_level,
        override=dose_override_reason.strip(),
        by=by,
    )
    booking = _HELD_BOOKING_LOCKED.first(patient=patient.pk, cohort=cohort.pk)
    if booking is None and _COHORT_HAS_SLOTS_AT.rows(cohort=cohort.pk, site=patient.site_id):
        booking = slot_book(
            patient=patient, cohort=cohort, by=by, on=registered_on, dose_level=dose_level
        )
    if booking is not None:
        booking.status = BookingStatus.USED
        booking.save(update_fields=["status"])
    registration = Registration(
        patient=patient,
        trial=trial,
        cohort=cohort,
        dose_level=dose_level,
        screening=screening,
        booking=booking,
        registered_on=registered_on,
        registered_by=by,
        status=RegistrationStatus.REGISTERED,
        status_date=registered_on,
    )
    registration._history_user = by  # type: ignore[attr-defined]
    registration.save()
    RegistrationStatusChange.objects.create(
        registration=registration,
        from_status="",
        to_status=RegistrationStatus.REGISTERED,
        on=registered_on,
        changed_by=by,
    )
    changes: dict[str, Any] = {
        "cohort": [None, str(cohort)],
        "dose_level": [None, str(dose_level) if dose_level else None],
        "registered_on": [None, registered_on],
        "consent": [None, str(consent.form)],
    }
    if override is not None:
        changes["dose_override"] = [None, override]
    audit_record(
        action="create",
        instance=registration,
        changes=changes,
        reason=f"Dose level override ({override['given']} instead of {override['allowed']}): "
        f"{override['reason']}"
        if override is not None
        else "",
        by=by,
    )
    return registration


_NEEDS_REASON = {RegistrationStatus.END_OF_TREATMENT, RegistrationStatus.OFF_STUDY}


def registration_change_status(
    *,
    registration: Registration,
    to_status: str,
    on: dt.date,
    by: User,
    reason: str = "",
) -> Registration:
    """Move a registration to a new status (see ``registration_change_statuses``)."""
    return registration_change_statuses(
        registration=registration, changes=[(to_status, on, reason)], by=by
    )


@transaction.atomic
def registration_change_statuses(
    *,
    registration: Registration,
    changes: Sequence[tuple[str, dt.date, str]],
    by: User,
) -> Registration:
    """Move a registration through several statuses in turn (``(to_status, on, reason)``), in
    one transaction under one lock: each move is checked and recorded exactly as
    ``registration_change_status`` would, against the status the previous one left. Returns
    the registration as the last move left it (each move's audit event keeps its own row)."""
    require(by, Action.WRITE_JOURNEY, on=registration)
    locked = _REGISTRATION_LOCKED.first(registration=registration.pk)
    if locked is None:
        raise Registration.DoesNotExist("Registration matching query does not exist.")
    blocked: set[str] | None = None  # the scopes the patient withdrew, read once if needed
    for i, (to_status, on, reason) in enumerate(changes):
        if i:  # the next move's own instance: the previous event's row digest keeps its state
            locked = copy.copy(locked)
        blocked = _status_change(locked, to_status, on, by, reason, blocked)
    return locked


def _status_change(
    locked: Registration,
    to_status: str,
    on: dt.date,
    by: User,
    reason: str,
    blocked: set[str] | None,
) -> set[str] | None:
    """One status move of a registration read locked; ``blocked``: the withdrawn scopes when
    already read in this transaction. Returns them (read when the move needed them)."""
    if to_status not in REGISTRATION_TRANSITIONS.get(locked.status, frozenset()):
        allowed = ", ".join(sorted(REGISTRATION_TRANSITIONS[locked.status])) or "none"
        raise ValidationError(
            gettext("A patient %(current)s cannot move to %(status)s; allowed: %(allowed)s.")
            % {
                "current": locked.get_status_display().lower(),
                "status": to_status,
                "allowed": allowed,
            },
            field="status",
        )
    date_not_future(on, "on")
    if on < locked.status_date:
        raise ValidationError(
            gettext("The new status cannot date from before the current one (%(date)s).")
            % {"date": locked.status_date.isoformat()},
            field="on",
        )
    if to_status in _NEEDS_REASON and not reason.strip():
        raise ValidationError(
            gettext("“%(status)s” needs a reason.")
            % {"status": RegistrationStatus(to_status).label},
            field="reason",
        )
    # Only treatment and follow-up need the patient's consent in force: the other moves (to end
    # of treatment, off study) are recorded whatever the patient withdrew.
    if to_status in (RegistrationStatus.ON_TREATMENT, RegistrationStatus.FOLLOW_UP):
        if blocked is None:
            blocked = withdrawn_scopes(patient=locked.patient, trial=locked.trial)
        if to_status == RegistrationStatus.ON_TREATMENT and WithdrawalScope.TREATMENT in blocked:
            raise ValidationError(
                gettext("The patient withdrew consent to study treatment."), field="status"
            )
        if to_status == RegistrationStatus.FOLLOW_UP and WithdrawalScope.FOLLOW_UP in blocked:
            raise ValidationError(
                gettext("The patient withdrew consent to follow-up."), field="status"
            )
    old = locked.status
    RegistrationStatusChange.objects.create(
        registration=locked,
        from_status=old,
        to_status=to_status,
        on=on,
        reason=reason,
        changed_by=by,
    )
    locked.status, locked.status_date, locked.status_reason = to_status, on, reason
    if to_status == RegistrationStatus.ON_TREATMENT:
        locked.treatment_start = on
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked.save()
    audit_record(
        action="status",
        instance=locked,
        changes={"status": [old, to_status], "on": [None, on]},
        reason=reason,
        by=by,
    )
    return blocked


def _schedule_codes(registration: Registration, on: dt.date) -> set[str]:
    """The visit codes the schedule produces for this registration: once treatment has ended,
    the end-of-treatment and follow-up visits too."""
    definition = getattr(registration.trial, "visit_schedule", None)
    if definition is None:
        raise ValidationError(
            gettext("%(trial)s has no declared visit schedule.") % {"trial": registration.trial},
            field="code",
        )
    schedule = visit_schedule_parsed(definition)
    start = registration.treatment_start or registration.registered_on
    eot, _off = _end_dates(registration)
    codes = set(_calendar_codes(schedule, start, max(on, start, eot or start), eot))
    if eot is not None:  # treatment visits done before the end of treatment stay recordable
        codes |= _calendar_codes(schedule, start, max(on, start), None)
    return codes


# (id of a parsed schedule, start, today, end of treatment) -> (that schedule, its codes). The
# codes are a pure function of those (no visit record or date of the clock enters), so they are
# computed once per course and date (once treatment has ended, every visit recorded before it is
# checked as of that end); the schedule is kept with them, so an id reused by another object
# after it is gone never matches.
_CALENDAR_CODES: dict[tuple[int, dt.date, dt.date, dt.date | None], tuple[Any, frozenset[str]]] = {}
_CALENDAR_CODES_MAX = 4096


def _calendar_codes(
    schedule: Any, start: dt.date, today: dt.date, eot: dt.date | None
) -> frozenset[str]:
    """The codes of the visits ``schedule`` lays out from ``start`` as of ``today`` (ten years
    ahead), treatment ending on ``eot`` if it has."""
    key = (id(schedule), start, today, eot)
    memo = _CALENDAR_CODES.get(key)
    if memo is not None and memo[0] is schedule:
        return memo[1]
    calendar = patient_calendar(
        schedule, start=start, today=today, end_of_treatment=eot, horizon_days=3650
    )
    codes = frozenset(v.code for v in calendar.visits)
    if len(_CALENDAR_CODES) >= _CALENDAR_CODES_MAX:
        _CALENDAR_CODES.clear()
    _CALENDAR_CODES[key] = (schedule, codes)
    return codes


@transaction.atomic
def visit_record(*, registration: Registration, code: str, on: dt.date, by: User) -> VisitRecord:
    """Record that a scheduled visit took place; the code must be one the trial's schedule
    produces. A visit marked not done or not applicable that took place after all is
    recorded as done (the mark is replaced, and the change audited)."""
    require(by, Action.WRITE_JOURNEY, on=registration)
    _visit_date_checked(registration, on)
    if code not in _schedule_codes(registration, on):
        raise _not_in_schedule(registration, code, "code")
    existing = (
        VisitRecord.objects.select_for_update().filter(registration=registration, code=code).first()
    )
    if existing is not None and existing.outcome == VisitOutcome.DONE:
        raise ConflictError(gettext("Visit %(code)s is already recorded.") % {"code": code})
    if existing is not None:
        return _visit_done_after_all(existing, on, by)
    visit = VisitRecord.objects.create(registration=registration, code=code, on=on, recorded_by=by)
    _visit_created_audit(visit, by)
    return visit


def _visit_date_checked(registration: Registration, on: dt.date) -> None:
    date_not_future(on, "on")
    if on < registration.registered_on:
        raise ValidationError(gettext("A visit cannot predate the registration."), field="on")


def _not_in_schedule(registration: Registration, code: str, field: str) -> ValidationError:
    return ValidationError(
        gettext("Visit %(code)s is not in the schedule of %(trial)s.")
        % {"code": repr(code), "trial": registration.trial},
        field=field,
    )


def _visit_done_after_all(existing: VisitRecord, on: dt.date, by: User) -> VisitRecord:
    """A visit marked not done or not applicable took place after all: recorded as done."""
    old = {"outcome": existing.outcome, "on": existing.on, "reason": existing.reason}
    existing.outcome, existing.on, existing.reason = VisitOutcome.DONE, on, ""
    existing.recorded_by = by
    existing.save()
    audit_record(
        action="update",
        instance=existing,
        changes={
            "outcome": [old["outcome"], VisitOutcome.DONE],
            "on": [old["on"], on],
            "reason": [old["reason"], ""],
        },
        reason=f"visit {existing.code} took place after all",
        by=by,
    )
    return existing


def _visit_created_audit(visit: VisitRecord, by: User) -> None:
    audit_record(
        action="create",
        instance=visit,
        changes={"code": [None, visit.code], "on": [None, visit.on]},
        by=by,
    )


@transaction.atomic
def visits_record(
    *, registration: Registration, visits: Sequence[Mapping[str, Any]], by: User
) -> list[VisitRecord]:
    """Record several visits of one registration that took place (``{"code", "on"}`` each, a
    day's work or a record transcribed), each as ``visit_record`` records it: the same rights,
    checks, rows and audit events, in the order given.

    The schedule's calendar is laid out once, as of the earliest visit (a later date only adds
    visits to it: a visit found there is in the schedule as of its own date too); a visit not
    found there is checked against the calendar as of its own date. Nothing is saved when any
    visit is refused; the error names it (``visits[1].code``).
    """
    require(by, Action.WRITE_JOURNEY, on=registration)
    wanted: list[tuple[str, dt.date]] = []
    for i, raw in enumerate(visits):
        with _in_row("visits", i):
            unknown = sorted(set(raw) - {"code", "on"})
            if unknown:
                raise ValidationError(
                    gettext("Unknown field %(field)s; a visit has code and on.")
                    % {"field": unknown[0]},
                    field=unknown[0],
                )
            code, on = raw.get("code"), raw.get("on")
            if not isinstance(code, str) or not code:
                raise ValidationError(
                    gettext("Give the visit's code; got %(value)s.") % {"value": repr(code)},
                    field="code",
                )
            if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
                raise ValidationError(
                    gettext("Give the date of the visit; got %(value)s.") % {"value": repr(on)},
                    field="on",
                )
            _visit_date_checked(registration, on)
            wanted.append((code, on))
    if not wanted:
        return []
    first = min(range(len(wanted)), key=lambda i: wanted[i][1])
    with _in_row("visits", first):
        known = _schedule_codes(registration, wanted[first][1])
    for i, (code, on) in enumerate(wanted):
        if code not in known and code not in _schedule_codes(registration, on):
            raise _not_in_schedule(registration, code, f"visits[{i}].code")
    existing = {
        v.code: v
        for v in VisitRecord.objects.select_for_update().filter(
            registration=registration, code__in={code for code, _ in wanted}
        )
    }
    seen: set[str] = set()
    for i, (code, _on) in enumerate(wanted):
        done = existing.get(code)
        if code in seen or (done is not None and done.outcome == VisitOutcome.DONE):
            raise ConflictError(
                gettext("Visit %(code)s is already recorded.") % {"code": code},
                field=f"visits[{i}].code",
            )
        seen.add(code)
    added = VisitRecord.objects.bulk_create(
        VisitRecord(registration=registration, code=code, on=on, recorded_by=by)
        for code, on in wanted
        if code not in existing
    )
    created = iter(added)
    recorded = []
    for code, on in wanted:
        if code in existing:
            recorded.append(_visit_done_after_all(existing[code], on, by))
        else:
            visit = next(created)
            _visit_created_audit(visit, by)
            recorded.append(visit)
    return recorded


@contextmanager
def _in_row(rows: str, i: int) -> Iterator[None]:
    """A refusal about the ``i``-th row of ``rows`` names it: ``visits[2].on``."""
    try:
        yield
    except ValidationError as exc:
        name = exc.extra.get("field")
        exc.extra = {**exc.extra, "field": f"{rows}[{i}]" + (f".{name}" if name else "")}
        raise


@transaction.atomic
def visit_mark(
    *, registration: Registration, code: str, outcome: str, reason: str, by: User
) -> VisitRecord:
    """Mark a scheduled visit ``not_done`` (missed: it will not take place) or ``not_applicable``
    (the protocol does not call for it for this patient), with a reason; audited.

    A visit already done cannot be marked; a mark can be changed (with a new reason).
    """
    require(by, Action.WRITE_JOURNEY, on=registration)
    if outcome not in (VisitOutcome.NOT_DONE, VisitOutcome.NOT_APPLICABLE):
        raise ValidationError(
            gettext("A visit is marked not_done or not_applicable; got %(outcome)s.")
            % {"outcome": repr(outcome)},
            field="outcome",
        )
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            gettext("Say why visit %(code)s is %(outcome)s: a reason is required.")
            % {"code": code, "outcome": str(VisitOutcome(outcome).label).lower()},
            field="reason",
        )
    today = timezone.localdate()
    if code not in _schedule_codes(registration, today):
        raise ValidationError(
            gettext("Visit %(code)s is not in the schedule of %(trial)s.")
            % {"code": repr(code), "trial": registration.trial},
            field="code",
        )
    existing = (
        VisitRecord.objects.select_for_update().filter(registration=registration, code=code).first()
    )
    if existing is not None and existing.outcome == VisitOutcome.DONE:
        raise ConflictError(
            gettext(
                "Visit %(code)s is recorded as done on %(on)s; it cannot be marked %(outcome)s."
            )
            % {
                "code": code,
                "on": existing.on.isoformat(),
                "outcome": str(VisitOutcome(outcome).label).lower(),
            }
        )
    if existing is not None:
        old = {"outcome": existing.outcome, "reason": existing.reason}
        existing.outcome, existing.reason, existing.on = outcome, reason, today
        existing.recorded_by = by
        existing.save()
        audit_record(
            action="update",
            instance=existing,
            changes={"outcome": [old["outcome"], outcome], "reason": [old["reason"], reason]},
            reason=reason,
            by=by,
        )
        return existing
    visit = VisitRecord.objects.create(
        registration=registration,
        code=code,
        on=today,
        outcome=outcome,
        reason=reason,
        recorded_by=by,
    )
    audit_record(
        action="create",
        instance=visit,
        changes={"code": [None, code], "outcome": [None, outcome], "reason": [None, reason]},
        reason=reason,
        by=by,
    )
    return visit


@core_errors_translated(RANDOMISATION_MESSAGES)
@transaction.atomic
def randomisation_scheme_create(
    *,
    trial: Trial,
    method: str,
    arms: Mapping[str, int],
    by: User,
    factors: Mapping[str, list[str]] | None = None,
    block_sizes: list[int] | None = None,
    p: float = 0.8,
    blinded: bool = False,
    list_size: int = 200,
) -> RandomisationScheme:
    """Declare the scheme; for permuted blocks, generate and store the concealed list now."""
    from oncotrials.core.randomisation import MinimisationConfig, permuted_block_list

    if method not in RandomisationMethod.values:
        raise ValidationError(
            gettext("method must be blocks or minimisation; got %(method)s.")
            % {"method": repr(method)},
            field="method",
        )
    codes = set(trial.cohorts.filter(kind="randomised_arm").values_list("code", flat=True))
    unknown = set(arms) - codes
    if unknown or len(arms) < 2:
        raise ValidationError(
            gettext(
                "arms must name at least two randomised-arm cohorts of %(trial)s; unknown: "
                "%(unknown)s."
            )
            % {"trial": trial, "unknown": sorted(unknown)},
            field="arms",
        )
    factors = {k: [str(v) for v in vs] for k, vs in (factors or {}).items()}
    allocation_list: dict[str, list[str]] = {}
    if method == RandomisationMethod.BLOCKS:
        block_list = permuted_block_list(
            arms=dict(arms),
            block_sizes=block_sizes or [4, 6],
            n=list_size,
            strata=factors or None,
            rng=secrets.randbits(64),
        )
        allocation_list = {s.label: list(s.allocations) for s in block_list.strata}
    else:
        MinimisationConfig(arms=dict(arms), factors=factors, p=p).validated()
    if RandomisationScheme.objects.filter(trial=trial).exists():
        raise ConflictError(
            gettext("%(trial)s already has a randomisation scheme.") % {"trial": trial}
        )
    scheme = RandomisationScheme.objects.create(
        trial=trial,
        method=method,
        arms=dict(arms),
        factors=factors,
        block_sizes=block_sizes or [],
        p=p,
        allocation_list=allocation_list,
        blinded=blinded,
    )
    audit_record(
        action="create",
        instance=scheme,
        changes={
            "method": [None, method],
            "arms": [None, dict(arms)],
            "factors": [None, factors],
            "blinded": [None, blinded],
        },
        by=by,
    )
    return scheme


@core_errors_translated(RANDOMISATION_MESSAGES)
@transaction.atomic
def randomise(
    *, patient: Patient, trial: Trial, levels: Mapping[str, str], registered_on: dt.date, by: User
) -> Registration:
    """Allocate the patient to an arm and register them there, under a lock on the scheme."""
    from oncotrials.core.randomisation import MinimisationConfig, next_assignment, stratum_label

    require(by, Action.WRITE_JOURNEY, on=patient)
    scheme = RandomisationScheme.objects.select_for_update().filter(trial=trial).first()
    if scheme is None:
        raise ValidationError(
            gettext("%(trial)s has no randomisation scheme.") % {"trial": trial}, field="trial"
        )
    levels = {k: str(v) for k, v in levels.items()}
    factors = tuple((k, tuple(v)) for k, v in scheme.factors.items())
    label = stratum_label(levels, factors)
    records = scheme.records.all()
    details: dict[str, Any]
    if scheme.method == RandomisationMethod.BLOCKS:
        rows = scheme.allocation_list.get(label, [])
        used = records.filter(stratum=label).count()
        if used >= len(rows):
            raise ConflictError(
                gettext(
                    "The allocation list of stratum %(label)s is exhausted (%(n_rows)s rows used)."
                )
                % {"label": label, "n_rows": len(rows)},
                code="list_exhausted",
            )
        arm = rows[used]
        details = {"row": used + 1}
    else:
        config = MinimisationConfig(arms=scheme.arms, factors=scheme.factors, p=scheme.p)
        decision = next_assignment(
            [(r.levels, r.arm) for r in records], levels, config, rng=secrets.randbits(64)
        )
        arm = decision.arm
        details = {
            "scores": decision.scores,
            "tied": list(decision.tied),
            "preferred": decision.preferred,
            "random_element_overrode": decision.random_element_overrode,
            "p": decision.p,
        }
    cohort = trial.cohorts.get(code=arm)
    registration = _registration_create(
        patient=patient,
        cohort=cohort,
        registered_on=registered_on,
        by=by,
        dose_level=None,
        dose_override_reason="",
        randomised=True,
    )
    sequence = records.count() + 1
    record = RandomisationRecord.objects.create(
        scheme=scheme,
        registration=registration,
        sequence=sequence,
        stratum=label,
        levels=levels,
        arm=arm,
        details=details,
        randomised_at=timezone.now(),
    )
    audit_record(
        action="randomise",
        instance=record,
        changes={"arm": [None, arm], "stratum": [None, label], "details": [None, details]},
        by=by,
    )
    return registration


def _baseline_number(value: Any, field: str, *, required: bool = True) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(gettext("%(field)s is required.") % {"field": field}, field=field)
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationError(
            gettext("%(field)s must be a number; got %(value)s.")
            % {"field": field, "value": repr(value)},
            field=field,
        ) from None
    if not number.is_finite() or abs(number) >= Decimal("1e9"):
        raise ValidationError(
            gettext("%(field)s must be a finite number; got %(value)s.")
            % {"field": field, "value": repr(value)},
            field=field,
        )
    return number.quantize(Decimal("0.000001"))


@transaction.atomic
def baseline_observation_record(
    *,
    patient: Patient,
    kind: str,
    observed_on: dt.date,
    value: Any,
    by: User,
    analyte: str = "",
    unit: str = "",
    lln: Any = None,
    uln: Any = None,
) -> BaselineObservation:
    """Record the ECOG performance status (0-5) or a laboratory result of a patient before any
    registration (referred, pre-screened or in screening). Audited; nothing is written when a
    value is out of range, the analyte unknown, the unit missing or LLN >= ULN."""
    require(by, Action.EDIT_CRF, on=patient)
    if kind not in ObservationKind.values:
        raise ValidationError(
            gettext("kind must be one of %(allowed)s; got %(kind)s.")
            % {"allowed": ", ".join(ObservationKind.values), "kind": repr(kind)},
            field="kind",
        )
    date_not_future(observed_on, "observed_on")
    number = _baseline_number(value, "value")
    assert number is not None
    lo = hi = None
    if kind == ObservationKind.ECOG:
        if number != number.to_integral_value() or not 0 <= number <= 5:
            raise ValidationError(
                gettext("The ECOG performance status is a whole number from 0 to 5; got %(value)s.")
                % {"value": repr(value)},
                field="value",
            )
        analyte, unit = "", ""
    else:
        try:
            analyte = find_analyte(analyte).key
        except NotFoundError as exc:
            raise ValidationError(exc.message, field="analyte") from None
        unit = unit.strip()
        if not unit:
            raise ValidationError(gettext("A lab result needs its unit."), field="unit")
        lo = _baseline_number(lln, "lln", required=False)
        hi = _baseline_number(uln, "uln", required=False)
        if lo is not None and hi is not None and lo >= hi:
            raise ValidationError(
                gettext("LLN (%(lo)s) must be below ULN (%(hi)s).")
                % {"lo": format(lo.normalize(), "f"), "hi": format(hi.normalize(), "f")},
                field="uln",
            )
    observation = BaselineObservation.objects.create(
        patient=patient,
        kind=kind,
        observed_on=observed_on,
        analyte=analyte,
        value=number,
        unit=unit,
        lln=lo,
        uln=hi,
        recorded_at=timezone.now(),
        recorded_by=by,
    )
    audit_record(
        action="create",
        instance=observation,
        changes={
            k: [None, v]
            for k, v in model_snapshot(
                observation, ["kind", "observed_on", "analyte", "value", "unit", "lln", "uln"]
            ).items()
        },
        by=by,
    )
    return observation


MAX_AGENTS = 10
MAX_AGENT_LENGTH = 80
MAX_AGENTS_TEXT = PriorTherapyLine._meta.get_field("agents").max_length or 300
_AGENT_SEPARATORS = re.compile(r"[+;]")


def prior_line_agents(text: str) -> list[str]:
    """The agents of a line as typed (``"carboplatin + pemetrexed; pembrolizumab"``): split on
    ``+`` or ``;``, each stripped of surrounding and repeated blanks. Refused (field ``agents``)
    when empty, when a part between separators is empty, when an agent is longer than
    80 characters, or when there are more than 10."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(gettext("Name the agents of the line."), field="agents")
    agents = [" ".join(part.split()) for part in _AGENT_SEPARATORS.split(text)]
    if any(not a for a in agents):
        raise ValidationError(
            gettext("An agent is missing between separators ('+' or ';'): %(text)s.")
            % {"text": text[:100]},
            field="agents",
        )
    too_long = next((a for a in agents if len(a) > MAX_AGENT_LENGTH), None)
    if too_long is not None:
        raise ValidationError(
            gettext("An agent's name is at most %(n)d characters; got %(agent)s.")
            % {"n": MAX_AGENT_LENGTH, "agent": too_long[:100]},
            field="agents",
        )
    if len(agents) > MAX_AGENTS:
        raise ValidationError(
            gettext("A line has at most %(n)d agents; got %(got)d.")
            % {"n": MAX_AGENTS, "got": len(agents)},
            field="agents",
        )
    if len(" + ".join(agents)) > MAX_AGENTS_TEXT:
        raise ValidationError(
            gettext("The agents of a line take at most %(n)d characters.") % {"n": MAX_AGENTS_TEXT},
            field="agents",
        )
    return agents


@transaction.atomic
def prior_line_record(
    *,
    patient: Patient,
    line: int,
    agents: str,
    setting: str,
    started_on: dt.date,
    by: User,
    ended_on: dt.date | None = None,
    best_response: str = "",
    stop_reason: str = "",
) -> PriorTherapyLine:
    """Record a prior line of systemic therapy of a patient at referral or pre-screening
    (beside the ECOG and labs). Audited; nothing is written when the line number is taken or out
    of 1-30, the agents are empty or malformed, the setting or best response is not one of the
    vocabulary, the dates are in the future, before the year of birth or end before they start."""
    require(by, Action.EDIT_CRF, on=patient)
    if isinstance(line, bool) or not isinstance(line, int) or not 1 <= line <= MAX_PRIOR_LINE:
        raise ValidationError(
            gettext("The line number is a whole number from 1 to %(n)d; got %(got)s.")
            % {"n": MAX_PRIOR_LINE, "got": line},
            field="line",
        )
    names = prior_line_agents(agents)
    if setting not in LineSetting.values:
        raise ValidationError(
            gettext("The setting must be one of %(options)s; got %(got)s.")
            % {"options": ", ".join(LineSetting.values), "got": setting},
            field="setting",
        )
    if best_response and best_response not in BestResponse.values:
        raise ValidationError(
            gettext("The best response must be one of %(options)s; got %(got)s.")
            % {"options": ", ".join(BestResponse.values), "got": best_response},
            field="best_response",
        )
    stop_reason = " ".join((stop_reason or "").split())
    if len(stop_reason) > 200:
        raise ValidationError(
            gettext("The reason stopped is at most 200 characters."), field="stop_reason"
        )
    for value, field in ((started_on, "started_on"), (ended_on, "ended_on")):
        if value is None:
            continue
        date_not_future(value, field)
        if value.year < patient.year_of_birth:
            raise ValidationError(
                gettext("The date %(date)s is before the patient's year of birth (%(year)d).")
                % {"date": value.isoformat(), "year": patient.year_of_birth},
                field=field,
            )
    if ended_on is not None and ended_on < started_on:
        raise ValidationError(
            gettext("The line cannot end (%(end)s) before it started (%(start)s).")
            % {"end": ended_on.isoformat(), "start": started_on.isoformat()},
            field="ended_on",
        )
    # the patient's row serialises two entries of the same line number
    Patient.objects.select_for_update().filter(pk=patient.pk).exists()
    if PriorTherapyLine.objects.filter(patient=patient, line=line).exists():
        raise ValidationError(
            gettext("Line %(line)d is already recorded for this patient.") % {"line": line},
            field="line",
        )
    record = PriorTherapyLine.objects.create(
        patient=patient,
        line=line,
        agents=" + ".join(names),
        setting=setting,
        started_on=started_on,
        ended_on=ended_on,
        best_response=best_response,
        stop_reason=stop_reason,
        recorded_at=timezone.now(),
        recorded_by=by,
    )
    audit_record(
        action="create",
        instance=record,
        changes={
            k: [None, v]
            for k, v in model_snapshot(
                record,
                [
                    "line",
                    "agents",
                    "setting",
                    "started_on",
                    "ended_on",
                    "best_response",
                    "stop_reason",
                ],
            ).items()
        },
        by=by,
    )
    return record
