"""The precision-medicine programme as a cBioPortal study: the genomic reports (clinical
samples, mutations, copy number, structural variants, gene panels, written by
``apps.genomics.export``) with the patients' clinical file and their timeline of treatments,
tumour responses, trial status and specimen collections.

Timeline days are counted from one anchor per patient, the referral date (the patient's first
contact with the unit, day 0); no calendar date leaves (the core writer refuses one). Files
follow cBioPortal's File Formats (https://docs.cbioportal.org/file-formats/#timeline-data):
``PATIENT_ID, START_DATE, STOP_DATE, EVENT_TYPE`` then the columns of each event type, one file
per type (``data_timeline_treatment.txt``, ``_imaging``, ``_status``, ``_specimen``).

The subset filters (genome build, programme, trial, date range) select the samples; the
timeline keeps the events of the selected patients (within the date range when one is given,
within the trial when one is given).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.models import User
from oncotrials.apps.audit.services import audit_record
from oncotrials.apps.biobank.models import Specimen
from oncotrials.apps.biobank.selectors import specimens_visible_to
from oncotrials.apps.crfs.models import DrugAdministration
from oncotrials.apps.exports.registry import cut_registrations
from oncotrials.apps.genomics.export import study_from_database
from oncotrials.apps.genomics.models import Sample
from oncotrials.apps.subjects.models import (
    ConsentKind,
    Patient,
    Registration,
    RegistrationStatus,
    RegistrationStatusChange,
)
from oncotrials.apps.subjects.selectors import (
    arm_visible_to,
    patients_visible_to,
    registrations_visible_to,
)
from oncotrials.apps.trials.models import Trial
from oncotrials.apps.tumours.selectors import responses_of
from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.cbioportal import (
    ClinicalAttribute,
    Study,
    TimelineEvent,
    write_study,
)

_PATIENT_ATTRS = (
    ClinicalAttribute("PATIENT_ID", "Patient Identifier", "Patient identifier", "STRING", "1"),
    ClinicalAttribute("SEX", "Sex", "Sex", "STRING", "1"),
)
# cBioPortal's SEX values are Male/Female (https://docs.cbioportal.org/file-formats/)
# (and the export's values are English whatever the reader's language)
_SEX = {"M": "Male", "F": "Female", "O": "Other"}
_SAMPLE_KIND = {"tissue": "Tissue", "cfdna": "cfDNA (liquid biopsy)", "blood": "Blood (germline)"}
_TIMEPOINT = {"baseline": "Baseline", "on_treatment": "On treatment", "progression": "Progression"}


def _words(value: str) -> str:
    return value.replace("_", " ").capitalize()


_CRITERIA = {"irecist": "iRECIST", "recist1.1": "RECIST 1.1"}


def _check_id(study_id: str) -> None:
    if not study_id or not all(c.isalnum() or c in "._-" for c in study_id):
        raise ValidationError(
            gettext("study_id may hold letters, digits, '.', '_' and '-' only; got %(study_id)s.")
            % {"study_id": repr(study_id)},
            field="study_id",
        )


def _day(day: dt.date, anchor: dt.date) -> int:
    return (day - anchor).days


def _in_range(day: dt.date | None, since: dt.date | None, until: dt.date | None) -> bool:
    if day is None:
        return since is None and until is None
    return (since is None or day >= since) and (until is None or day <= until)


def programme_patients(
    *,
    pool: QuerySet[Patient],
    programme: str | None = None,
    trial: Trial | None = None,
) -> QuerySet[Patient]:
    """Patients of ``pool`` who consented to the translational ``programme`` (a consent not
    withdrawn) and/or are registered in ``trial``."""
    if programme:
        pool = pool.filter(
            consents__form__kind=ConsentKind.TRANSLATIONAL,
            consents__form__programme=programme,
            consents__withdrawn_on__isnull=True,
        )
    if trial is not None:
        pool = pool.filter(registrations__trial=trial)
    return pool.distinct()


def _timeline(
    *,
    patients: dict[str, Patient],
    sample_ids: set[str],
    registrations: QuerySet[Registration],
    since: dt.date | None,
    until: dt.date | None,
    trial_only: bool,
    specimens: QuerySet[Specimen],
    viewer: User | None = None,
) -> tuple[TimelineEvent, ...]:
    """Treatment, imaging (RECIST responses), status and specimen events, in days from each
    patient's referral date; ``trial_only`` keeps the biobank specimens of ``registrations``.

    A registration whose blinded arm ``viewer`` may not know (``subjects.arm_visible_to``) keeps
    its status and imaging events, its cohort reads "Blinded" and its treatment events (the
    agents are the arm) are left out."""
    anchor = {rid: p.referral_date for rid, p in patients.items()}
    regs = list(
        registrations.filter(patient__research_id__in=list(patients))
        .select_related("patient", "trial__randomisation_scheme", "cohort")
        .order_by("patient__research_id", "registered_on", "pk")
    )
    blinded = {
        r.pk for r in regs if viewer is not None and not arm_visible_to(user=viewer, registration=r)
    }
    events: list[TimelineEvent] = []

    def add(rid: str, start: dt.date, stop: dt.date | None, kind: str, **attrs: Any) -> None:
        if not _in_range(start, since, until):
            return
        zero = anchor[rid]
        events.append(
            TimelineEvent(
                rid,
                _day(start, zero),
                None if stop is None else _day(stop, zero),
                kind,
                {k: (None if v in (None, "") else str(v)) for k, v in attrs.items()},
            )
        )

    changes: dict[int, list[RegistrationStatusChange]] = {}
    for change in RegistrationStatusChange.objects.filter(registration__in=regs).order_by(
        "on", "pk"
    ):
        changes.setdefault(change.registration_id, []).append(change)
    # one treatment event per agent of a registration: first to last administration
    spans_of: dict[int, dict[str, list[Any]]] = {}
    for a in DrugAdministration.objects.filter(registration__in=regs).order_by(
        "administered_on", "pk"
    ):
        span = spans_of.setdefault(a.registration_id, {}).setdefault(
            a.agent, [a.administered_on, a.administered_on, 0]
        )
        span[1] = a.administered_on
        span[2] += 1
    for reg in regs:
        rid = reg.patient.research_id
        code = reg.trial.protocol_code
        cohort = "Blinded" if reg.pk in blinded else reg.cohort.code
        add(rid, reg.registered_on, None, "STATUS", STATUS="Registered", TRIAL=code,
            COHORT=cohort)  # fmt: skip
        for change in changes.get(reg.pk, []):
            if change.to_status != RegistrationStatus.REGISTERED:
                add(rid, change.on, None, "STATUS", STATUS=_words(change.to_status),
                    TRIAL=code, COHORT=cohort)  # fmt: skip
        treated = {} if reg.pk in blinded else spans_of.get(reg.pk, {})
        for agent, (first, last, n) in treated.items():
            add(rid, first, last, "TREATMENT", TREATMENT_TYPE="Medical Therapy",
                SUBTYPE="Investigational", AGENT=agent, TRIAL=code, COHORT=reg.cohort.code,
                ADMINISTRATIONS=n)  # fmt: skip
        responses = responses_of(reg)
        evaluation = responses["evaluation"]
        if evaluation is None:
            continue
        criteria = _CRITERIA.get(evaluation.criteria, evaluation.criteria)
        for t in responses["timepoints"]:
            tp = t["tp"]
            add(rid, tp.date, None, "IMAGING", DIAGNOSTIC_TYPE="Tumour assessment",
                CRITERIA=criteria, RESPONSE=t["effective"], TARGET_RESPONSE=tp.target,
                NON_TARGET_RESPONSE=tp.non_target,
                NEW_LESIONS="Yes" if tp.new_lesions else "No",
                SUM_DIAMETERS_MM=None if tp.sum_mm is None else format(tp.sum_mm.normalize(), "f"),
                TRIAL=code)  # fmt: skip
    for s in (
        Sample.objects.filter(sample_id__in=list(sample_ids), patient__research_id__in=list(anchor))
        .select_related("patient")
        .order_by("patient__research_id", "collected_on", "sample_id")
    ):
        if s.collected_on is not None:
            add(s.patient.research_id, s.collected_on, None, "SPECIMEN", SAMPLE_ID=s.sample_id,
                SPECIMEN_TYPE=_SAMPLE_KIND.get(s.kind),
                SOURCE="Genomic report", TIMEPOINT=_TIMEPOINT.get(s.timepoint))  # fmt: skip
    biobank = specimens.filter(
        patient__research_id__in=list(anchor), parent__isnull=True
    ).select_related("patient")
    if trial_only:
        biobank = biobank.filter(registration__in=regs)
    for sp in biobank.order_by("patient__research_id", "collected_at", "pk"):
        add(sp.patient.research_id, timezone.localtime(sp.collected_at).date(), None, "SPECIMEN",
            SPECIMEN_ID=sp.label, SPECIMEN_TYPE=_words(sp.specimen_type),
            SOURCE="Biobank")  # fmt: skip
    return tuple(sorted(events, key=lambda e: (e.patient_id, e.start, e.event_type)))


def programme_study(
    *,
    patients: QuerySet[Patient],
    registrations: QuerySet[Registration],
    study_id: str,
    name: str = "",
    genome: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    trial_only: bool = False,
    specimens: QuerySet[Specimen] | None = None,
    viewer: User | None = None,
) -> Study:
    """The study of ``patients``' current genomic reports with their clinical file and
    timeline (the events of ``registrations``; with ``trial_only`` no biobank specimen
    outside them)."""
    if since is not None and until is not None and since > until:
        raise ValidationError(
            gettext("The date range starts after it ends (%(since)s > %(until)s).")
            % {"since": since, "until": until},
            field="since",
        )
    study = study_from_database(
        patients=patients,
        registrations=registrations,
        study_id=study_id,
        name=name,
        genome=genome,
        collected_from=since,
        collected_to=until,
    )
    research_ids = {s.patient_id for s in study.samples}
    by_rid = {p.research_id: p for p in Patient.objects.filter(research_id__in=research_ids)}
    timeline = _timeline(
        patients=by_rid,
        sample_ids={s.sample_id for s in study.samples},
        registrations=registrations,
        since=since,
        until=until,
        trial_only=trial_only,
        specimens=Specimen.objects.all() if specimens is None else specimens,
        viewer=viewer,
    )
    return replace(
        study,
        patient_attributes=_PATIENT_ATTRS,
        patients={rid: {"SEX": _SEX.get(by_rid[rid].sex)} for rid in sorted(research_ids)},
        timeline=timeline,
    )


@transaction.atomic
def cbioportal_export(
    *,
    directory: str | Path,
    study_id: str,
    by: User | None,
    name: str = "",
    genome: str | None = None,
    programme: str | None = None,
    trial: Trial | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Path:
    """Write the programme's cBioPortal study of what ``by`` may see (everything for a system
    export, ``by=None``), limited by the subset filters; audited with the filters and counts."""
    _check_id(study_id)
    pool = patients_visible_to(by) if by is not None else Patient.objects.all()
    regs = registrations_visible_to(by) if by is not None else Registration.objects.all()
    if trial is not None:
        regs = regs.filter(trial=trial)
    pool = programme_patients(pool=pool, programme=programme, trial=trial)
    study = programme_study(
        patients=pool,
        registrations=regs,
        study_id=study_id,
        name=name,
        genome=genome,
        since=since,
        until=until,
        trial_only=trial is not None,
        specimens=specimens_visible_to(by) if by is not None else None,
        viewer=by,
    )
    if not study.samples:
        raise ValidationError(
            gettext(
                "No genomic sample to export among the patients you may see with these "
                "filters%(filters)s."
            )
            % {"filters": _describe(genome, programme, trial, since, until)}
        )
    out = write_study(study, directory)
    audit_record(
        action="export",
        object_type="genomics.study",
        object_id=study_id,
        object_repr=f"cBioPortal study {study_id}",
        changes={
            "genome": [None, study.genome_build.value],
            "programme": [None, programme or ""],
            "trial": [None, trial.protocol_code if trial is not None else ""],
            "since": [None, since.isoformat() if since else ""],
            "until": [None, until.isoformat() if until else ""],
            "samples": [None, len(study.samples)],
            "mutations": [None, len(study.mutations)],
            "copy_numbers": [None, len(study.copy_numbers)],
            "structural_variants": [None, len(study.structural_variants)],
            "segments": [None, len(study.segments)],
            "timeline_events": [None, len(study.timeline)],
        },
        by=by,
    )
    return out


def _describe(
    genome: str | None,
    programme: str | None,
    trial: Trial | None,
    since: dt.date | None,
    until: dt.date | None,
) -> str:
    parts = [
        f"genome {genome}" if genome else "",
        f"programme {programme!r}" if programme else "",
        f"trial {trial.protocol_code}" if trial is not None else "",
        f"collected from {since}" if since else "",
        f"collected until {until}" if until else "",
    ]
    shown = ", ".join(p for p in parts if p)
    return f" ({shown})" if shown else ""


# ---------------------------------------------------------------------------- data-cut format
def study_id_of(trial: Trial) -> str:
    """cancer_study_identifier of a trial's study: its protocol code, lower case, '_' for
    characters cBioPortal does not take."""
    return "".join(c if c.isalnum() else "_" for c in trial.protocol_code.lower())


def cbioportal_collect(trial: Any, sites: Sequence[Any]) -> str:
    """The trial's patients at ``sites`` as the study's files (canonical JSON name -> text).

    A cBioPortal study has one reference genome: when the trial's reports are on two, the cut
    is refused with the command that exports each reference apart (no report is dropped
    silently)."""
    regs = cut_registrations(trial, sites)
    patients = Patient.objects.filter(pk__in=regs.values("patient_id"))
    try:
        study = programme_study(
            patients=patients,
            registrations=regs,
            study_id=study_id_of(trial),
            name=trial.title,
            trial_only=True,
        )
    except ValidationError as exc:
        if exc.extra.get("field") != "genome":
            raise
        raise ValidationError(
            gettext(
                "%(message)s For a data cut of %(protocol_code)s: oncotrials genomics export "
                "DIR --study-id ID --trial %(protocol_code)s --genome GRCh38 (then GRCh37)."
            )
            % {"message": exc.message, "protocol_code": trial.protocol_code},
            field="genome",
        ) from None
    with tempfile.TemporaryDirectory() as tmp:
        if study.samples:
            write_study(study, tmp)
        root = Path(tmp)
        files = {
            p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
    return json.dumps(files, sort_keys=True, ensure_ascii=False)


def cbioportal_write(text: str, created: dt.datetime) -> dict[str, bytes]:
    files: dict[str, str] = json.loads(text)
    return {name: data.encode("utf-8") for name, data in files.items()}


def cbioportal_subjects(text: str) -> int:
    files: dict[str, str] = json.loads(text)
    patients = files.get("data_clinical_patients.txt", "")
    return sum(1 for line in patients.splitlines()[5:] if line.strip())
