"""A study's plain data as a FHIR R4 Bundle (type ``collection``) shaped by mCODE 4.0.0.

Resources: ResearchStudy, then per subject Patient (pseudonymised), ResearchSubject, Consent,
Condition (primary cancer), Observations (TNM stage group, ECOG performance status, genomic
variants per the Genomics Reporting IG), Specimen, AdverseEvent (with the CTCAE grade) and
MedicationAdministration. Every resource is parsed by its ``fhir.resources.R4B`` model before it is
written (R4B equals R4 for these resources; no R4B-only element is set), and the bundle is
serialised by that library: the same data and time give the same bytes.

References
----------
HL7 FHIR R4 4.0.1, https://hl7.org/fhir/R4/; mCODE 4.0.0, https://hl7.org/fhir/us/mcode/;
codes and their sources in :mod:`oncotrials.core.fhir.codes`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from . import codes as c
from .model import (
    AdverseEventRecord,
    ConsentRecord,
    SpecimenRecord,
    Study,
    Subject,
    Variant,
)

# UUIDv5 namespace of our fullUrls: the same study, kind and reference always give the same id.
NAMESPACE = uuid.UUID("6f1d5c52-3a5e-5b8e-9b43-2f0c9f6e1a7d")
STAGE_LABEL = {"I": "Stage I", "II": "Stage II", "III": "Stage III", "IV": "Stage IV"}


def resource_id(study_id: str, kind: str, ref: str) -> str:
    """A stable resource id (a UUID, which is a valid FHIR id) for ``kind``/``ref`` of a study."""
    return str(uuid.uuid5(NAMESPACE, f"{study_id}\x1f{kind}\x1f{ref}"))


def _coding(system: str, code: str, display: str = "") -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _concept(system: str, code: str, display: str = "", text: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [_coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def _number(value: Decimal) -> int | float:
    # FHIR decimals are JSON numbers; a whole number is written without a fraction.
    return int(value) if value == value.to_integral_value() else float(value)


class _Builder:
    def __init__(self, study: Study) -> None:
        self.study = study
        self.entries: list[dict[str, Any]] = []

    def ref(self, kind: str, key: str) -> dict[str, str]:
        return {"reference": f"urn:uuid:{resource_id(self.study.study_id, kind, key)}"}

    def add(self, kind: str, key: str, resource: dict[str, Any]) -> None:
        rid = resource_id(self.study.study_id, kind, key)
        self.entries.append(
            {
                "fullUrl": f"urn:uuid:{rid}",
                "resource": {"resourceType": kind, "id": rid, **resource},
            }
        )

    # --- study ----------------------------------------------------------------------------------

    def research_study(self) -> None:
        s = self.study
        resource: dict[str, Any] = {
            "identifier": [{"system": c.PROTOCOL, "value": s.study_id}],
            "title": s.title,
            "status": c.STUDY_STATUS.get(s.status, "active"),
        }
        if s.phase in c.STUDY_PHASE_CODES:
            resource["phase"] = _concept(c.STUDY_PHASE, c.STUDY_PHASE_CODES[s.phase])
        if s.sponsor:
            resource["sponsor"] = {"display": s.sponsor}
        if s.arms:
            resource["arm"] = [{"name": a.code, "description": a.name} for a in s.arms]
        self.add("ResearchStudy", s.study_id, resource)

    # --- subject --------------------------------------------------------------------------------

    def subject(self, sub: Subject) -> None:
        rid = sub.research_id
        patient = self.ref("Patient", rid)
        patient_resource: dict[str, Any] = {
            "meta": {"profile": [c.PROFILE_PATIENT]},
            "identifier": [{"system": c.RESEARCH_ID, "value": rid}],
            # Pseudonymised: the name is withheld on purpose (data-absent-reason "masked").
            "name": [
                {
                    "extension": [
                        {
                            "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                            "valueCode": "masked",
                        }
                    ]
                }
            ],
            "gender": c.GENDER.get(sub.sex, "unknown"),
        }
        if sub.birth_year:
            patient_resource["birthDate"] = f"{sub.birth_year:04d}"
        self.add("Patient", rid, patient_resource)
        if sub.consent is not None:
            self.consent(sub, sub.consent)
        research_subject: dict[str, Any] = {
            "identifier": [{"system": c.RESEARCH_ID, "value": rid}],
            "status": c.SUBJECT_STATUS.get(sub.status, "on-study"),
            "period": {"start": sub.registered_on.isoformat()},
            "study": self.ref("ResearchStudy", self.study.study_id),
            "individual": patient,
            "assignedArm": sub.arm_code,
            "actualArm": sub.arm_code,
        }
        if sub.status == "off_study" and sub.status_on is not None:
            research_subject["period"]["end"] = sub.status_on.isoformat()
        if sub.consent is not None:
            research_subject["consent"] = self.ref("Consent", sub.consent.ref)
        self.add("ResearchSubject", rid, research_subject)
        if sub.diagnosis is not None:
            self.condition(sub)
        if sub.stage is not None:
            self.stage(sub)
        for p in sub.performance:
            self.add(
                "Observation",
                f"ecog/{p.ref}",
                {
                    "meta": {"profile": [c.PROFILE_ECOG]},
                    "status": "final",
                    "category": [_concept(c.OBSERVATION_CATEGORY, "survey", "Survey")],
                    "code": _concept(c.LOINC, c.LOINC_ECOG, "ECOG performance status score"),
                    "subject": patient,
                    "effectiveDateTime": p.on.isoformat(),
                    "valueInteger": p.value,
                },
            )
        for v in sub.variants:
            self.variant(sub, v)
        for sp in sub.specimens:
            self.specimen(sub, sp)
        for ae in sub.adverse_events:
            self.adverse_event(sub, ae)
        for a in sub.administrations:
            amount = format(a.dose.normalize(), "f") if a.dose is not None else ""
            dosage: dict[str, Any] = {"text": " ".join(x for x in (a.agent, amount, a.unit) if x)}
            if a.dose is not None:
                dose: dict[str, Any] = {"value": _number(a.dose), "unit": a.unit}
                if a.unit in c.UCUM_UNITS:
                    dose |= {"system": c.UCUM, "code": a.unit}
                dosage["dose"] = dose
            self.add(
                "MedicationAdministration",
                a.ref,
                {
                    "status": "completed",
                    "medicationCodeableConcept": {"text": a.agent},
                    "subject": patient,
                    "supportingInformation": [self.ref("ResearchSubject", rid)],
                    "effectiveDateTime": a.on.isoformat(),
                    "dosage": dosage,
                },
            )

    def consent(self, sub: Subject, consent: ConsentRecord) -> None:
        period: dict[str, str] = {"start": consent.signed_on.isoformat()}
        if consent.withdrawn_on is not None:
            period["end"] = consent.withdrawn_on.isoformat()
        self.add(
            "Consent",
            consent.ref,
            {
                "status": "inactive" if consent.withdrawn_on is not None else "active",
                "scope": _concept(c.CONSENT_SCOPE, "research", "Research"),
                "category": [
                    _concept(c.CONSENT_CATEGORY, "research", "Research Information Access")
                ],
                "patient": self.ref("Patient", sub.research_id),
                "dateTime": consent.signed_on.isoformat(),
                # R4 invariant ppc-1: a consent names its policy or policy rule.
                "policyRule": {"text": consent.form},
                "provision": {"type": "permit", "period": period},
            },
        )

    def condition(self, sub: Subject) -> None:
        d = sub.diagnosis
        assert d is not None
        resource: dict[str, Any] = {
            "meta": {"profile": [c.PROFILE_PRIMARY_CANCER]},
            "clinicalStatus": _concept(c.CONDITION_CLINICAL, "active", "Active"),
            "verificationStatus": _concept(c.CONDITION_VERIFICATION, "confirmed", "Confirmed"),
            "category": [_concept(c.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
            "code": _concept(c.ONCOTREE, d.oncotree, d.name, text=d.name),
            "subject": self.ref("Patient", sub.research_id),
        }
        if d.diagnosed_on is not None:
            resource["onsetDateTime"] = d.diagnosed_on.isoformat()
        if sub.stage is not None:
            resource["stage"] = [
                {
                    "summary": {"text": STAGE_LABEL.get(sub.stage.group, sub.stage.group)},
                    "assessment": [self.ref("Observation", f"stage/{sub.research_id}")],
                }
            ]
        self.add("Condition", sub.research_id, resource)

    def stage(self, sub: Subject) -> None:
        st = sub.stage
        assert st is not None
        resource: dict[str, Any] = {
            "meta": {"profile": [c.PROFILE_STAGE_GROUP]},
            "status": "final",
            "code": _concept(c.SNOMED, *c.SNOMED_CLINICAL_STAGE),
            "subject": self.ref("Patient", sub.research_id),
            "effectiveDateTime": st.on.isoformat(),
            "valueCodeableConcept": {"text": STAGE_LABEL.get(st.group, st.group)},
        }
        if sub.diagnosis is not None:
            resource["focus"] = [self.ref("Condition", sub.research_id)]
        self.add("Observation", f"stage/{sub.research_id}", resource)

    def variant(self, sub: Subject, v: Variant) -> None:
        components: list[dict[str, Any]] = [
            {
                "code": _concept(c.LOINC, c.LOINC_GENE, "Gene studied [ID]"),
                "valueCodeableConcept": {"text": v.gene},
            }
        ]
        if v.hgvsc:
            code = f"{v.transcript}:{v.hgvsc}" if v.transcript else v.hgvsc
            components.append(
                {
                    "code": _concept(c.LOINC, c.LOINC_HGVS_C),
                    "valueCodeableConcept": _concept(c.HGVS, code, code),
                }
            )
        if v.hgvsp:
            components.append(
                {
                    "code": _concept(c.LOINC, c.LOINC_HGVS_P),
                    "valueCodeableConcept": _concept(c.HGVS, v.hgvsp, v.hgvsp),
                }
            )
        components.append(
            {
                "code": _concept(c.LOINC, c.LOINC_SOURCE_CLASS),
                "valueCodeableConcept": _concept(c.LOINC, *c.LOINC_SOMATIC),
            }
        )
        if v.vaf is not None:
            percent = (v.vaf * 100).quantize(Decimal("0.01")).normalize()
            components.append(
                {
                    "code": _concept(c.LOINC, c.LOINC_VAF),
                    "valueQuantity": {
                        "value": _number(percent),
                        "unit": "%",
                        "system": c.UCUM,
                        "code": "%",
                    },
                }
            )
        resource: dict[str, Any] = {
            "meta": {"profile": [c.PROFILE_VARIANT]},
            "status": "final",
            "category": [_concept(c.OBSERVATION_CATEGORY, "laboratory", "Laboratory")],
            "code": _concept(c.LOINC, c.LOINC_VARIANT, "Genetic variant assessment"),
            "subject": self.ref("Patient", sub.research_id),
            "valueCodeableConcept": _concept(c.LOINC, *c.LOINC_PRESENT),
            "method": _concept(c.LOINC, *c.LOINC_SEQUENCING),
            "component": components,
        }
        if v.on is not None:
            resource["effectiveDateTime"] = v.on.isoformat()
        if v.sample:
            resource["identifier"] = [
                {"system": "urn:oncotrials:genomic-sample", "value": v.sample}
            ]
        self.add("Observation", f"variant/{v.ref}", resource)

    def specimen(self, sub: Subject, sp: SpecimenRecord) -> None:
        if sp.specimen_type in c.SPECIMEN_TYPES:
            code, display = c.SPECIMEN_TYPES[sp.specimen_type]
            kind = _concept(c.V2_0487, code, display, text=sp.type_label)
        else:
            kind = {"text": sp.type_label}
        collection: dict[str, Any] = {"collectedDateTime": sp.collected_on.isoformat()}
        if sp.body_site:
            collection["bodySite"] = {"text": sp.body_site}
        resource: dict[str, Any] = {
            "meta": {"profile": [c.PROFILE_SPECIMEN]},
            "identifier": [{"system": c.SPECIMEN_LABEL, "value": sp.ref}],
            "status": c.SPECIMEN_STATUS.get(sp.status, "unavailable"),
            "type": kind,
            "subject": self.ref("Patient", sub.research_id),
            "collection": collection,
        }
        if sp.parent:
            resource["parent"] = [self.ref("Specimen", sp.parent)]
        self.add("Specimen", sp.ref, resource)

    def adverse_event(self, sub: Subject, ae: AdverseEventRecord) -> None:
        event: dict[str, Any] = {"text": ae.term}
        if ae.meddra_code:
            event["coding"] = [_coding(c.MEDDRA, ae.meddra_code, ae.term)]
        resource: dict[str, Any] = {
            "actuality": "actual",
            "event": event,
            "subject": self.ref("Patient", sub.research_id),
            "seriousness": _concept(
                c.AE_SERIOUSNESS,
                "Serious" if ae.serious else "Non-serious",
                "Serious" if ae.serious else "Non-serious",
            ),
            "study": [self.ref("ResearchStudy", self.study.study_id)],
        }
        if ae.grade in c.AE_GRADES:
            code, display = c.AE_GRADES[ae.grade]
            resource["extension"] = [
                {
                    "url": c.AE_GRADE_URL,
                    "valueCodeableConcept": _concept(
                        c.NCIT, code, display, text=f"CTCAE v{ae.ctcae_version} grade {ae.grade}"
                    ),
                }
            ]
            resource["severity"] = _concept(c.AE_SEVERITY, c.AE_SEVERITY_OF_GRADE[ae.grade])
        if ae.onset is not None:
            resource["date"] = ae.onset.isoformat()
        if ae.outcome in c.AE_OUTCOMES:
            resource["outcome"] = _concept(c.AE_OUTCOME, c.AE_OUTCOMES[ae.outcome])
        self.add("AdverseEvent", ae.ref, resource)


def bundle_dict(study: Study, *, created: dt.datetime) -> dict[str, Any]:
    """The bundle as plain JSON data (not yet parsed by the FHIR models)."""
    builder = _Builder(study)
    builder.research_study()
    for sub in study.subjects:
        builder.subject(sub)
    return {
        "resourceType": "Bundle",
        "id": resource_id(study.study_id, "Bundle", created.isoformat()),
        "identifier": {"system": c.PROTOCOL, "value": study.study_id},
        "type": "collection",
        "timestamp": created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "entry": builder.entries,
    }


def bundle_json(study: Study, *, created: dt.datetime) -> bytes:
    """The bundle as FHIR JSON bytes, parsed and serialised by ``fhir.resources`` (R4B models)."""
    bundle = Bundle.model_validate(bundle_dict(study, created=created))
    return bundle.model_dump_json(indent=2).encode("utf-8") + b"\n"
