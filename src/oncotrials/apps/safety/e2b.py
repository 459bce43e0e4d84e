"""The ICH E2B(R3) individual case safety report (ICSR) of an SAE, one file per report version.

Version n of the case is the n-th SAE report sent to the sponsor (1: the initial report, then
each follow-up). The file is built from the adverse event as it stands now, dated by that
report; its case identifiers never change, so the sponsor's system files every version under
one case. The mapping from our records to the E2B(R3) data elements is in ``icsr_for``; the
XML is written by ``oncotrials.core.e2b``.

No version carries a nullification (C.1.11): an AE reported as an SAE cannot be voided here (a
follow-up corrects it), so every version is an initial report or a follow-up with newer
information (C.1.5).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, require
from oncotrials.apps.accounts.core_messages import core_errors_translated
from oncotrials.apps.accounts.models import User
from oncotrials.apps.audit.services import audit_record
from oncotrials.apps.crfs.models import DrugAdministration
from oncotrials.apps.safety.e2b_messages import E2B_MESSAGES
from oncotrials.apps.subjects.models import PatientIdentity, Sex
from oncotrials.core.e2b import (
    Drug,
    Icsr,
    Patient,
    PrimarySource,
    Reaction,
    Sender,
    Study,
    build_icsr,
)
from oncotrials.core.errors import ConflictError, NotFoundError, ValidationError

from .models import ActionTaken, AdverseEvent, SaeReport, SaeReportKind
from .rights import agents_for_registration

# The MedDRA version each CTCAE version is built on (NCI CTCAE v5.0, 27 Nov 2017: MedDRA 20.1;
# CTCAE v4.03, 14 Jun 2010: MedDRA 12.0); written as E.i.2.1a.
MEDDRA_FOR_CTCAE = {"5.0": "20.1", "4.03": "12.0", "4.0": "12.0"}
# G.k.8 has no "interrupted": a temporary interruption is sent as "drug withdrawn" with the
# interruption stated in G.k.11 (additional information on drug).
ACTION = {
    ActionTaken.NONE: "not_changed",
    ActionTaken.REDUCED: "reduced",
    ActionTaken.INTERRUPTED: "withdrawn",
    ActionTaken.WITHDRAWN: "withdrawn",
    ActionTaken.NOT_APPLICABLE: "not_applicable",
}
# Attribution as written in G.k.9.i.2.r.3 (the same words in every language of the interface)
ATTRIBUTION = {
    "unrelated": "Unrelated",
    "unlikely": "Unlikely",
    "possible": "Possible",
    "probable": "Probable",
    "definite": "Definite",
}
RELATED = ("possible", "probable", "definite")
SEX = {Sex.MALE: "male", Sex.FEMALE: "female"}
BLINDED_PRODUCT = "Blinded investigational product"


@dataclass(frozen=True)
class IcsrFile:
    """One downloadable ICSR: its bytes, file name, case identifier and version."""

    content: bytes
    filename: str
    safety_report_id: str
    version: int
    sha256: str


def safety_report_id(ae: AdverseEvent) -> str:
    """C.1.1 (and C.1.8.1): country of the site, site code, SAE number (ICH IG: "country
    code-company or regulator name-report number")."""
    site = ae.registration.patient.site
    code = re.sub(r"[^A-Z0-9]", "", site.code.upper()) or "SITE"
    return f"{(site.country or 'XX').upper()}-{code}-SAE{ae.pk:06d}"


def _local_date(moment: dt.datetime, tz: str) -> dt.date:
    return moment.astimezone(zoneinfo.ZoneInfo(tz)).date()


def _age(ae: AdverseEvent) -> int | None:
    """D.2.2: completed years at onset, from the birth date (which itself is never written)."""
    if ae.onset_date is None:
        return None
    identity = PatientIdentity.objects.filter(patient_id=ae.registration.patient_id).first()
    if identity is None:
        return None
    born, onset = identity.birth_date, ae.onset_date
    return onset.year - born.year - ((onset.month, onset.day) < (born.month, born.day))


def _uid(*parts: object) -> str:
    """A stable UUID, so that every version of a case names its reaction and drugs alike."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "oncotrials:e2b:" + ":".join(map(str, parts))))


def _blinded(ae: AdverseEvent) -> bool:
    scheme = getattr(ae.registration.trial, "randomisation_scheme", None)
    return bool(scheme is not None and scheme.blinded)


def _drugs(ae: AdverseEvent, reaction_uid: str) -> tuple[Drug, ...]:
    """G.k: the study agents, all suspect (ICH E2A: in a trial the investigational products
    are the suspect drugs). In a blinded trial one blinded product, without dose or agent."""
    reg = ae.registration
    rows = list(
        DrugAdministration.objects.filter(registration=reg)
        .exclude(dose=0)
        .order_by("administered_on", "pk")
    )
    if ae.onset_date is not None:
        rows = [r for r in rows if r.administered_on <= ae.onset_date]
    action = ACTION.get(ae.action_taken)  # type: ignore[call-overload]
    extra = "Drug interrupted (temporarily)." if ae.action_taken == ActionTaken.INTERRUPTED else ""
    attribution = ae.attribution or {}
    if _blinded(ae):
        order = list(ATTRIBUTION)
        worst = max(
            (v for v in attribution.values() if v in ATTRIBUTION), key=order.index, default=None
        )
        return (
            Drug(
                uid=_uid(ae.pk, "drug", "blinded"),
                name=BLINDED_PRODUCT,
                blinded=True,
                first_dose=rows[0].administered_on if rows else None,
                last_dose=rows[-1].administered_on if rows else None,
                action=action,
                additional_information=extra,
                causality=((reaction_uid, ATTRIBUTION[worst]),) if worst else (),
            ),
        )
    drugs = []
    for agent in agents_for_registration(reg):
        given = [r for r in rows if r.agent == agent]
        last = given[-1] if given else None
        result = ATTRIBUTION.get(attribution.get(agent, ""))
        drugs.append(
            Drug(
                uid=_uid(ae.pk, "drug", agent),
                name=agent,
                dose=last.dose if last is not None else None,
                dose_unit=last.unit if last is not None else "",
                dosage_text=(
                    f"{last.dose.normalize():f} {last.unit} on {last.administered_on:%Y-%m-%d}"
                    if last is not None
                    else ""
                ),
                first_dose=given[0].administered_on if given else None,
                last_dose=last.administered_on if last is not None else None,
                action=action,
                additional_information=extra,
                causality=((reaction_uid, result),) if result else (),
            )
        )
    return tuple(drugs)


def _narrative(ae: AdverseEvent, report: SaeReport, reports: list[SaeReport]) -> str:
    """H.1, in English: the event, its course and the notes of every report up to this one."""
    trial = ae.registration.trial
    lines = [
        f"Serious adverse event in study {trial.protocol_code}; "
        f"{'initial' if report.kind == SaeReportKind.INITIAL else 'follow-up'} report "
        f"(version {report.sequence} of the case).",
        f"Event: {ae.term} (MedDRA {ae.meddra_code}), CTCAE v{ae.ctcae_version} grade "
        f"{ae.grade if ae.grade is not None else 'not given'}; onset "
        f"{ae.onset_date or 'unknown'}"
        + (f", resolved {ae.resolution_date}" if ae.resolution_date else "")
        + ".",
        "Seriousness: " + (", ".join(s.replace("_", " ") for s in ae.seriousness) or "none") + ".",
        f"Outcome: {(ae.outcome or 'not given').replace('_', ' ')}. "
        f"Action taken with study treatment: {(ae.action_taken or 'not given').replace('_', ' ')}."
        f" Expected (reference safety information): {'yes' if ae.expected else 'no'}.",
    ]
    if ae.attribution and not _blinded(ae):
        lines.append(
            "Investigator attribution: "
            + "; ".join(f"{k}: {v}" for k, v in sorted(ae.attribution.items()))
            + "."
        )
    for r in reports:
        if r.sequence <= report.sequence and r.notes.strip():
            lines.append(f"Report {r.sequence} ({r.sent_at:%Y-%m-%d}): {r.notes.strip()}")
    return "\n".join(lines)


def icsr_for(ae: AdverseEvent, report: SaeReport, reports: list[SaeReport]) -> Icsr:
    """The ICSR (plain data) of one report version of a serious AE."""
    reg = ae.registration
    site, trial = reg.patient.site, reg.trial
    assert ae.sae_aware_at is not None
    first_received = _local_date(ae.sae_aware_at, site.time_zone)
    most_recent = (
        first_received
        if report.kind == SaeReportKind.INITIAL
        else max(first_received, _local_date(report.sent_at, site.time_zone))
    )
    reaction_uid = _uid(ae.pk, "reaction")
    related = any(v in RELATED for v in (ae.attribution or {}).values())
    # C.5.1.r: registries and the country each answers for (C.5.1.r.2): the EU CT number is
    # the EU's (CTIS), the NCT number ClinicalTrials.gov's (United States).
    registrations = tuple(
        (number, country)
        for number, country in ((trial.eu_ct_number, "EU"), (trial.nct_number, "US"))
        if number
    )
    case_id = safety_report_id(ae)
    return Icsr(
        safety_report_id=case_id,
        worldwide_case_id=case_id,
        version=report.sequence,
        created_at=report.sent_at,
        first_received=first_received,
        most_recent_information=most_recent,
        # C.1.7: a suspected unexpected serious adverse reaction (SUSAR) is expedited
        expedited=bool(ae.serious and not ae.expected and related),
        receiver=trial.sponsor[:60],
        sender=Sender(identifier=site.code.upper(), organisation=site.name, country=site.country),
        primary_source=PrimarySource(country=site.country, organisation=site.name),
        study=Study(
            sponsor_study_number=trial.protocol_code,
            name=trial.title,
            registrations=registrations,
        ),
        patient=Patient(
            investigation_number=reg.patient.research_id,
            age_years=_age(ae),
            sex=SEX.get(reg.patient.sex),  # type: ignore[call-overload]
        ),
        reactions=(
            Reaction(
                uid=reaction_uid,
                term=(ae.verbatim or ae.term)[:250],
                meddra_code=ae.meddra_code or None,
                meddra_version=MEDDRA_FOR_CTCAE.get(ae.ctcae_version, ""),
                seriousness=frozenset(ae.seriousness),
                outcome=ae.outcome or None,
                start=ae.onset_date,
                end=ae.resolution_date,
                country=site.country,
            ),
        ),
        drugs=_drugs(ae, reaction_uid),
        narrative=_narrative(ae, report, reports),
    )


def _check_pseudonymised(content: bytes, ae: AdverseEvent) -> None:
    """Refuse a file that would carry the patient's identity (names, birth date, hospital
    number), e.g. typed into the notes of a report."""
    identity = PatientIdentity.objects.filter(patient_id=ae.registration.patient_id).first()
    if identity is None:
        return
    text = content.decode("utf-8")
    found = []
    for label, value in (
        ("family name", identity.family_name),
        ("given name", identity.given_name),
        ("hospital number", identity.hospital_number),
    ):
        if len(value.strip()) >= 3 and re.search(
            rf"\b{re.escape(value.strip())}\b", text, flags=re.IGNORECASE
        ):
            found.append(label)
    born = identity.birth_date
    if any(s in text for s in (born.isoformat(), born.strftime("%Y%m%d"), f"{born:%d/%m/%Y}")):
        found.append("date of birth")
    if found:
        raise ValidationError(
            gettext(
                "The ICSR of AE %(ae_id)s would carry the patient's %(found)s (in the notes of "
                "an SAE report or the event's verbatim text); remove it there and download "
                "again."
            )
            % {"ae_id": ae.pk, "found": ", ".join(found)},
            field="notes",
        )


@transaction.atomic
@core_errors_translated(E2B_MESSAGES)
def icsr_export(*, ae: AdverseEvent, by: User, sequence: int | None = None) -> IcsrFile:
    """The ICSR of report ``sequence`` of the SAE (default: the latest), audited as an export
    of that report version (who, which version, the file's SHA-256)."""
    require(by, Action.REPORT_SAE, on=ae.registration)
    if not ae.serious or ae.sae_aware_at is None:
        raise ValidationError(
            gettext(
                "Adverse event %(ae_id)s is not serious; an ICSR is made for a serious adverse "
                "event."
            )
            % {"ae_id": ae.pk},
            field="ae",
        )
    reports = list(ae.sae_reports.order_by("sequence"))
    if not reports:
        raise ConflictError(
            gettext(
                "No SAE report of AE %(ae_id)s has been sent yet; record the initial report first."
            )
            % {"ae_id": ae.pk}
        )
    if sequence is None:
        report = reports[-1]
    else:
        report = next((r for r in reports if r.sequence == sequence), None)  # type: ignore[assignment]
        if report is None:
            raise NotFoundError(
                gettext("AE %(ae_id)s has no SAE report %(sequence)s; its reports are %(reports)s.")
                % {
                    "ae_id": ae.pk,
                    "sequence": sequence,
                    "reports": ", ".join(str(r.sequence) for r in reports),
                }
            )
    icsr = icsr_for(ae, report, reports)
    content = build_icsr(icsr)
    _check_pseudonymised(content, ae)
    digest = hashlib.sha256(content).hexdigest()
    audit_record(
        action="export",
        instance=report,
        changes={
            "format": ["", "E2B(R3) ICSR"],
            "safety_report_id": ["", icsr.safety_report_id],
            "version": ["", report.sequence],
            "sha256": ["", digest],
        },
        by=by,
    )
    return IcsrFile(
        content=content,
        filename=f"{icsr.safety_report_id}-v{report.sequence}.xml",
        safety_report_id=icsr.safety_report_id,
        version=report.sequence,
        sha256=digest,
    )
