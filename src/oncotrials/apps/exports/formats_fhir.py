"""The ``fhir`` export format: a trial's registrations at the cut's sites selected into the
plain data of ``oncotrials.core.fhir``, written as one FHIR R4 / mCODE collection bundle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q

from oncotrials.apps.biobank.models import Specimen
from oncotrials.apps.crfs.models import DrugAdministration, FormInstance, FormStatus
from oncotrials.apps.genomics.models import Mutation
from oncotrials.apps.genomics.selectors import genomic_samples_within
from oncotrials.apps.safety.models import AdverseEvent, RecordStatus
from oncotrials.apps.subjects.models import (
    BaselineObservation,
    Consent,
    ObservationKind,
    Patient,
    Registration,
    RegistrationStatusChange,
    ScreeningEpisode,
)
from oncotrials.core.biobank.lineage import SPECIMEN_TYPES
from oncotrials.core.fhir import bundle_json, study_from_json, study_to_json
from oncotrials.core.fhir import model as m
from oncotrials.core.genomics.oncotree import load_oncotree
from oncotrials.core.genomics.protein import to_long

from .registry import ExportFormat, cut_registrations, format_register

FILE_NAME = "bundle.json"


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _diagnosis(code: str, diagnosed_on: dt.date | None) -> m.Diagnosis | None:
    if not code:
        return None
    tree = load_oncotree()
    current = tree.resolve(code)
    name = tree.get(current).name if current else code
    return m.Diagnosis(current or code, name, diagnosed_on)


def _hgvsp(protein_change: str) -> str:
    if not protein_change:
        return ""
    try:
        return to_long(protein_change)
    except (ValueError, KeyError):
        return protein_change


def _screening_ecog(reg: Registration, trial: Any) -> list[BaselineObservation]:
    """The patient's ECOG recorded outside any registration that belongs to this trial's data: the
    ones observed during one of the patient's screening episodes for this trial (from its start to
    its close, or to the registration while open). An ECOG recorded at referral, or while the
    patient was screened for another trial, belongs to no trial and is clinical: only the site's
    clinical staff may see it (``subjects.selectors.pre_registration_visible_to``), not the
    sponsor monitor or biostatistician a cut is for."""
    episodes = ScreeningEpisode.objects.filter(
        patient_id=reg.patient_id, trial=trial, started_on__lte=OuterRef("observed_on")
    )
    closed = episodes.filter(closed_on__gte=OuterRef("observed_on"))
    still_open = episodes.filter(closed_on__isnull=True)
    return list(
        BaselineObservation.objects.filter(patient_id=reg.patient_id, kind=ObservationKind.ECOG)
        .filter(Exists(closed) | (Exists(still_open) & Q(observed_on__lte=reg.registered_on)))
        .order_by("observed_on", "pk")
    )


def _subject(reg: Registration, consents: dict[int, Consent], trial: Any) -> m.Subject:
    patient = reg.patient
    forms = FormInstance.objects.filter(registration=reg, status=FormStatus.COMPLETE)
    history = forms.filter(form_name="medical_history").order_by("-updated_at", "-pk").first()
    diagnosed_on = _date(history.data.get("diagnosed_on")) if history is not None else None
    stage = None
    if history is not None and history.data.get("stage") and diagnosed_on is not None:
        stage = m.StageGroup(str(history.data["stage"]), diagnosed_on)
    performance = [
        m.Performance(f"baseline-{o.pk}", int(o.value), o.observed_on)
        for o in _screening_ecog(reg, trial)
    ]
    for form in forms.filter(form_name="ecog").order_by("pk"):
        on = _date(form.data.get("assessed_on"))
        value = form.data.get("performance_status")
        if on is not None and value not in (None, ""):
            performance.append(m.Performance(f"form-{form.pk}", int(value), on))
    variants = tuple(
        m.Variant(
            ref=f"mutation-{mu.pk}",
            gene=mu.gene,
            on=mu.sample.collected_on or mu.report.reported_on,
            hgvsc=mu.hgvsc,
            hgvsp=_hgvsp(mu.protein_change),
            transcript=mu.transcript_id,
            vaf=Decimal(str(mu.vaf)) if mu.vaf is not None else None,
            sample=mu.sample.sample_id,
        )
        for mu in Mutation.objects.filter(
            sample__in=genomic_samples_within(
                patients=Patient.objects.filter(pk=patient.pk),
                registrations=Registration.objects.filter(patient=patient, trial=trial),
            ),
            current=True,
        )
        .select_related("sample", "report")
        .order_by("sample__sample_id", "gene", "pk")
    )
    specimens = tuple(
        m.SpecimenRecord(
            ref=s.label,
            specimen_type=s.specimen_type,
            type_label=SPECIMEN_TYPES[s.specimen_type].label,
            status=s.status,
            collected_on=s.collected_at.astimezone(dt.UTC).date(),
            parent=s.parent.label if s.parent is not None else "",
            body_site=s.anatomic_site,
        )
        for s in Specimen.objects.filter(registration=reg)
        .select_related("parent")
        .order_by("collected_at", "label")
    )
    aes = tuple(
        m.AdverseEventRecord(
            ref=f"ae-{ae.pk}",
            term=ae.term,
            grade=ae.grade,
            ctcae_version=ae.ctcae_version,
            onset=ae.onset_date,
            serious=ae.serious,
            outcome=ae.outcome,
            meddra_code=str(ae.meddra_code or ""),
            resolved=ae.resolution_date,
        )
        for ae in AdverseEvent.objects.filter(
            registration=reg, voided_at__isnull=True, status=RecordStatus.COMPLETE
        ).order_by("pk")
    )
    administrations = tuple(
        m.Administration(f"dose-{a.pk}", a.agent, a.dose, a.unit, a.administered_on)
        for a in DrugAdministration.objects.filter(registration=reg).order_by(
            "administered_on", "pk"
        )
    )
    consent = consents.get(patient.pk)
    last_change = (
        RegistrationStatusChange.objects.filter(registration=reg).order_by("-on", "-pk").first()
    )
    dose = reg.dose_level
    return m.Subject(
        research_id=patient.research_id,
        sex=patient.sex,
        status=reg.status,
        registered_on=reg.registered_on,
        arm_code=reg.cohort.code if dose is None else f"{reg.cohort.code}-DL{dose.level}",
        birth_year=patient.year_of_birth or None,
        status_on=last_change.on if last_change is not None else None,
        consent=(
            m.ConsentRecord(
                ref=f"consent-{consent.pk}",
                signed_on=consent.signed_on,
                # the stored values, not labels in the language of the request
                form=f"{trial.protocol_code} informed consent form, version "
                f"{consent.form.version} of {consent.form.version_date.isoformat()}",
                withdrawn_on=consent.withdrawn_on,
            )
            if consent is not None
            else None
        ),
        diagnosis=_diagnosis(patient.diagnosis, diagnosed_on),
        stage=stage,
        performance=tuple(performance),
        variants=variants,
        specimens=specimens,
        adverse_events=aes,
        administrations=administrations,
    )


def fhir_collect(trial: Any, sites: Sequence[Any]) -> str:
    """The trial's registrations at ``sites`` as the FHIR core's plain data (canonical JSON)."""
    regs = list(cut_registrations(trial, sites))
    consents: dict[int, Consent] = {}
    for c in (
        Consent.objects.filter(form__trial=trial).select_related("form").order_by("signed_on", "pk")
    ):
        consents.setdefault(c.patient_id, c)
    arms: dict[str, m.Arm] = {}
    for reg in regs:
        dose = reg.dose_level
        code = reg.cohort.code if dose is None else f"{reg.cohort.code}-DL{dose.level}"
        name = reg.cohort.name if dose is None else f"{reg.cohort.name}, dose level {dose.level}"
        arms.setdefault(code, m.Arm(code, name))
    study = m.Study(
        study_id=trial.protocol_code,
        title=trial.title,
        status=trial.status,
        phase=trial.phase,
        sponsor=trial.sponsor,
        arms=tuple(arms[k] for k in sorted(arms)),
        subjects=tuple(_subject(reg, consents, trial) for reg in regs),
    )
    return study_to_json(study)


def fhir_write(text: str, created: dt.datetime) -> dict[str, bytes]:
    return {FILE_NAME: bundle_json(study_from_json(text), created=created)}


def fhir_subjects(text: str) -> int:
    return len(study_from_json(text).subjects)


def register_fhir_format() -> None:
    format_register(
        ExportFormat(
            name="fhir",
            label="FHIR R4 / mCODE",
            description=(
                "One FHIR R4 collection bundle: ResearchStudy, pseudonymised Patient, "
                "ResearchSubject, Consent, primary cancer Condition, TNM stage group, ECOG and "
                "genomic-variant Observations (mCODE 4.0), Specimen, AdverseEvent with the CTCAE "
                "grade, MedicationAdministration."
            ),
            collect=fhir_collect,
            write=fhir_write,
            subjects=fhir_subjects,
        )
    )
