"""The built-in export formats, registered when the app is ready. SDTM selects a trial's
registrations at the cut's sites into ``oncotrials.core.sdtm`` plain data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext

from oncotrials.apps.accounts.core_messages import core_errors_translated
from oncotrials.apps.crfs.models import DrugAdministration, FormInstance, FormStatus, LabResult
from oncotrials.apps.exports.core_messages import EXPORT_CORE_MESSAGES
from oncotrials.apps.safety.models import AdverseEvent, RecordStatus
from oncotrials.apps.subjects.models import (
    Consent,
    Registration,
    RegistrationStatus,
    RegistrationStatusChange,
)
from oncotrials.apps.tumours.selectors import responses_of
from oncotrials.apps.tumours.services import patient_record
from oncotrials.core import sdtm
from oncotrials.core.errors import ValidationError
from oncotrials.core.sdtm import model as m
from oncotrials.core.sdtm.domains import VITAL_TESTS, disposition_decod

from .registry import ExportFormat, cut_registrations, format_register

# ISO 3166-1 alpha-2 -> alpha-3 (SDTM COUNTRY) for the countries our sites are in.
ALPHA3 = {
    "AT": "AUT",
    "AU": "AUS",
    "BE": "BEL",
    "BG": "BGR",
    "BR": "BRA",
    "CA": "CAN",
    "CH": "CHE",
    "CN": "CHN",
    "CY": "CYP",
    "CZ": "CZE",
    "DE": "DEU",
    "DK": "DNK",
    "EE": "EST",
    "ES": "ESP",
    "FI": "FIN",
    "FR": "FRA",
    "GB": "GBR",
    "GR": "GRC",
    "HR": "HRV",
    "HU": "HUN",
    "IE": "IRL",
    "IL": "ISR",
    "IS": "ISL",
    "IT": "ITA",
    "JP": "JPN",
    "KR": "KOR",
    "LT": "LTU",
    "LU": "LUX",
    "LV": "LVA",
    "MC": "MCO",
    "MT": "MLT",
    "NL": "NLD",
    "NO": "NOR",
    "NZ": "NZL",
    "PL": "POL",
    "PT": "PRT",
    "RO": "ROU",
    "SE": "SWE",
    "SG": "SGP",
    "SI": "SVN",
    "SK": "SVK",
    "TW": "TWN",
    "US": "USA",
}
_ATTRIBUTION_ORDER = ("definite", "probable", "possible", "unlikely", "unrelated")


def _country(site: Any) -> str:
    code = (site.country or "").upper()
    if code not in ALPHA3:
        raise ValidationError(
            gettext(
                "Site %(site)s has country %(value)s, whose ISO 3166 alpha-3 code is not known "
                "to the SDTM export; set the site's country (ISO 3166 alpha-2)."
            )
            % {"site": site.code, "value": code or "(none)"}
        )
    return ALPHA3[code]


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _worst_attribution(attribution: dict[str, str]) -> str:
    values = set(attribution.values())
    return next((a for a in _ATTRIBUTION_ORDER if a in values), "")


def _subject(reg: Registration, trial_consents: dict[int, dt.date]) -> m.Subject:
    patient = reg.patient
    consent_on = trial_consents.get(patient.pk)
    dispositions: list[m.Disposition] = []
    if consent_on is not None:
        dispositions.append(m.Disposition("consent", consent_on))
    for change in RegistrationStatusChange.objects.filter(registration=reg).order_by("on", "pk"):
        if change.to_status == RegistrationStatus.END_OF_TREATMENT:
            dispositions.append(m.Disposition("end_of_treatment", change.on, change.reason))
        elif change.to_status == RegistrationStatus.OFF_STUDY:
            dispositions.append(m.Disposition("end_of_study", change.on, change.reason))
    death = next(
        (
            d.on
            for d in dispositions
            if disposition_decod(d.reason) == "DEATH" and d.kind != "consent"
        ),
        None,
    )
    exposures = tuple(
        m.Exposure(
            agent=a.agent,
            dose=a.dose,
            unit=a.unit,
            on=a.administered_on,
            visit=a.visit_code,
            adjustment=a.modification_reason if a.modification != "none" else "",
        )
        for a in DrugAdministration.objects.filter(registration=reg).order_by(
            "administered_on", "pk"
        )
    )
    aes = tuple(
        m.AdverseEvent(
            ref=ae.pk,
            term=ae.term,
            verbatim=ae.verbatim,
            meddra_code=ae.meddra_code,
            soc=ae.soc,
            grade=ae.grade,
            ctcae_version=ae.ctcae_version,
            onset=ae.onset_date,
            resolved=ae.resolution_date,
            serious=ae.serious,
            seriousness=tuple(ae.seriousness),
            attribution=_worst_attribution(ae.attribution or {}),
            action=ae.action_taken,
            outcome=ae.outcome,
        )
        for ae in AdverseEvent.objects.filter(
            registration=reg, voided_at__isnull=True, status=RecordStatus.COMPLETE
        ).order_by("pk")
    )
    labs = tuple(
        m.LabResult(
            analyte=lab.analyte,
            label=lab.analyte_label,
            value=lab.value,
            unit=lab.unit,
            lln=lab.lln,
            uln=lab.uln,
            on=lab.sampled_on,
            grade=lab.grade,
            toxicity=lab.term,
            ctcae_version=lab.ctcae_version,
            visit=lab.visit_code,
        )
        for lab in LabResult.objects.filter(registration=reg).order_by("sampled_on", "pk")
    )
    vitals: list[m.VitalSign] = []
    forms = FormInstance.objects.filter(
        registration=reg, form_name="vital_signs", status=FormStatus.COMPLETE
    ).order_by("pk")
    for form in forms:
        on = form.data.get("assessed_on")
        if not on:
            continue
        day = dt.date.fromisoformat(str(on)[:10])
        for test in VITAL_TESTS:
            value = _decimal(form.data.get(test))
            if value is not None:
                vitals.append(m.VitalSign(test, value, day, form.visit_code))
    tumours = None
    record = patient_record(reg)
    if record is not None:
        responses = responses_of(reg)
        evaluation = responses["evaluation"]
        rows = tuple(
            m.TumourResponse(
                on=t["tp"].date,
                overall=t["effective"],
                target=t["tp"].target,
                non_target=t["tp"].non_target,
                new_lesions=t["tp"].new_lesions,
                sum_mm=t["tp"].sum_mm,
            )
            for t in responses["timepoints"]
        )
        criteria = (
            "iRECIST"
            if evaluation is not None and evaluation.criteria == "irecist"
            else "RECIST 1.1"
        )
        tumours = m.Tumours(
            record=record,
            criteria=criteria,
            responses=rows,
            best_response=responses["bor_effective"] or "",
            baseline_sum_mm=evaluation.baseline_sum_mm if evaluation is not None else None,
        )
    dose = reg.dose_level
    arm_code = reg.cohort.code if dose is None else f"{reg.cohort.code}-DL{dose.level}"
    arm = (
        reg.cohort.name
        if dose is None
        else (
            f"{reg.cohort.name}, dose level {dose.level}: {dose.agent} {format(dose.dose.normalize(), 'f')}"
            f" {dose.unit}"
        )
    )
    age_ref = consent_on or reg.registered_on
    return m.Subject(
        research_id=patient.research_id,
        site=patient.site.code.upper(),
        country=_country(patient.site),
        sex=patient.sex,
        arm_code=arm_code[:20].upper(),
        arm=arm,
        registered_on=reg.registered_on,
        age=age_ref.year - patient.year_of_birth if patient.year_of_birth else None,
        consent_on=consent_on,
        death_on=death,
        dispositions=tuple(dispositions),
        exposures=exposures,
        adverse_events=aes,
        labs=labs,
        vitals=tuple(vitals),
        tumours=tumours,
    )


@core_errors_translated(EXPORT_CORE_MESSAGES)
def sdtm_collect(trial: Any, sites: Sequence[Any]) -> str:
    """The trial's registrations at ``sites`` as the SDTM core's plain data (canonical JSON)."""
    regs = cut_registrations(trial, sites)
    consents: dict[int, dt.date] = {}
    for c in Consent.objects.filter(form__trial=trial).order_by("signed_on", "pk"):
        consents.setdefault(c.patient_id, c.signed_on)
    subjects = tuple(_subject(reg, consents) for reg in regs)
    study = m.Study(
        study_id=trial.protocol_code,
        title=trial.title,
        subjects=subjects,
        sponsor=trial.sponsor,
    )
    return sdtm.study_to_json(study)


@core_errors_translated(EXPORT_CORE_MESSAGES)
def sdtm_write(text: str, created: dt.datetime) -> dict[str, bytes]:
    return sdtm.sdtm_files(sdtm.study_from_json(text), created=created)


@core_errors_translated(EXPORT_CORE_MESSAGES)
def sdtm_subjects(text: str) -> int:
    return len(sdtm.study_from_json(text).subjects)


def register_builtin_formats() -> None:
    from .cbioportal import cbioportal_collect, cbioportal_subjects, cbioportal_write

    format_register(
        ExportFormat(
            name="cbioportal",
            label="cBioPortal study",
            description=(
                "The trial's patients as a cBioPortal study: clinical patients and samples, "
                "mutations, copy number, structural variants, gene panels, case lists and a "
                "timeline of treatments, responses, status and specimens (days from referral)."
            ),
            collect=cbioportal_collect,
            write=cbioportal_write,
            subjects=cbioportal_subjects,
        )
    )
    format_register(
        ExportFormat(
            name="sdtm",
            label="CDISC SDTM",
            description=(
                "SDTMIG 3.4 datasets DM, DS, EX, AE, LB, VS, TU, TR, RS and SUPP-- as SAS "
                "XPORT v5 and Dataset-JSON 1.1, with Define-XML 2.1."
            ),
            collect=sdtm_collect,
            write=sdtm_write,
            subjects=sdtm_subjects,
        )
    )
