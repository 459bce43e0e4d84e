"""Reading FHIR R4 resources (single resources or Bundles) into plain records: patients,
primary cancer conditions, specimens and observations (ECOG, stage group, genomic variants).

Every resource found is either read or skipped with the reason; nothing in a resource makes the
reader fail. A file that is not JSON, or JSON that is not a FHIR resource, is refused as a whole
(:class:`~oncotrials.core.errors.ValidationError` naming the file), so a caller can keep imports
all-or-nothing. Each resource is parsed by its ``fhir.resources.R4B`` model first (types and
cardinality); one that does not parse is skipped with the parser's first complaint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as PydanticError

from oncotrials.core.errors import ValidationError

from . import codes as c

READ, SKIPPED = "read", "skipped"
STAGE_CODES = frozenset({c.SNOMED_CLINICAL_STAGE[0], "399390009", "21908-9", "21902-2"})
HGVS_C = frozenset({c.LOINC_HGVS_C, "81290-9"})  # 81290-9 genomic DNA change (gHGVS)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one resource: ``status`` is read or skipped, ``reason`` says why."""

    file: str
    resource: str  # "Type/id"
    status: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Coded:
    system: str
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class PatientRecord:
    key: str
    sex: str  # F, M, O, U
    birth_year: int | None


@dataclass(frozen=True, slots=True)
class ConditionRecord:
    patient: str
    code: Coded
    onset: str
    primary_cancer: bool


@dataclass(frozen=True, slots=True)
class SpecimenRecord:
    patient: str
    key: str
    type: Coded
    collected: str
    status: str


@dataclass(frozen=True, slots=True)
class ObservationRecord:
    """``kind`` is ecog, stage_group or variant; ``values`` the fields read for that kind."""

    patient: str
    kind: str
    on: str
    values: dict[str, Any]


@dataclass
class FhirRead:
    patients: list[PatientRecord] = field(default_factory=list)
    conditions: list[ConditionRecord] = field(default_factory=list)
    specimens: list[SpecimenRecord] = field(default_factory=list)
    observations: list[ObservationRecord] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """Resource type -> {"read": n, "skipped": n}."""
        out: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            kind = o.resource.split("/", 1)[0]
            row = out.setdefault(kind, {READ: 0, SKIPPED: 0})
            row[o.status] += 1
        return dict(sorted(out.items()))


def _coded(concept: dict[str, Any] | None) -> Coded | None:
    if not concept:
        return None
    for coding in concept.get("coding") or []:
        if coding.get("code"):
            return Coded(coding.get("system", ""), coding["code"], coding.get("display", ""))
    if concept.get("text"):
        return Coded("", "", concept["text"])
    return None


def _codes(concept: dict[str, Any] | None) -> set[str]:
    return {cd.get("code", "") for cd in (concept or {}).get("coding") or []}


def _label(concept: dict[str, Any] | None) -> str:
    if not concept:
        return ""
    for coding in concept.get("coding") or []:
        if coding.get("display") or coding.get("code"):
            return str(coding.get("display") or coding["code"])
    return str(concept.get("text", ""))


def _effective(resource: dict[str, Any]) -> str:
    if resource.get("effectiveDateTime"):
        return str(resource["effectiveDateTime"])
    period = resource.get("effectivePeriod") or {}
    return str(period.get("start", ""))


class _Reader:
    def __init__(self) -> None:
        self.result = FhirRead()
        self.patient_keys: dict[str, str] = {}  # fullUrl / Type/id -> patient key

    def outcome(self, file: str, res: dict[str, Any], status: str, reason: str = "") -> None:
        name = f"{res.get('resourceType', '?')}/{res.get('id', '?')}"
        self.result.outcomes.append(Outcome(file, name, status, reason))

    def patient_of(self, res: dict[str, Any], element: str = "subject") -> str | None:
        ref = (res.get(element) or {}).get("reference", "")
        if not ref:
            return None
        if ref in self.patient_keys:
            return self.patient_keys[ref]
        tail = ref.rsplit("/", 2)
        short = "/".join(tail[-2:])
        if short in self.patient_keys:
            return self.patient_keys[short]
        return short.split("/", 1)[1] if short.startswith("Patient/") else None

    def collect(self, file: str, resources: list[tuple[str, dict[str, Any]]]) -> None:
        parsed: list[tuple[str, dict[str, Any], str]] = []
        for full_url, res in resources:
            parsed.append((full_url, res, self.parse_problem(res)))
        # Patients first, so that references from the same file or bundle resolve to their key.
        for full_url, res, problem in parsed:
            if res.get("resourceType") == "Patient" and not problem:
                key = self.patient_key(res)
                for name in (full_url, f"Patient/{res.get('id', '')}"):
                    if name:
                        self.patient_keys[name] = key
        for _full_url, res, problem in parsed:
            if problem:
                self.outcome(file, res, SKIPPED, problem)
            else:
                self.one(file, res)

    @staticmethod
    def parse_problem(res: dict[str, Any]) -> str:
        """Why the resource cannot be read at all ("" when it parses as FHIR R4)."""
        kind = res.get("resourceType")
        if not hasattr(_Reader, f"read_{str(kind).lower()}"):
            return f"oncotrials does not import {kind} resources"
        try:
            get_fhir_model_class(str(kind)).model_validate(res)
        except PydanticError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            return f"not valid FHIR R4: {where}: {first['msg']}"
        return ""

    @staticmethod
    def patient_key(res: dict[str, Any]) -> str:
        identifiers = res.get("identifier") or []
        ours = [i for i in identifiers if i.get("system") == c.RESEARCH_ID and i.get("value")]
        chosen = ours or [i for i in identifiers if i.get("value")]
        return str(chosen[0]["value"]) if chosen else str(res.get("id", ""))

    def one(self, file: str, res: dict[str, Any]) -> None:
        handler = getattr(self, f"read_{str(res.get('resourceType')).lower()}")
        try:
            reason = handler(res)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # The R4 parse passed, so this is a shape the reader does not expect: skip, say so.
            reason = f"could not be read ({type(exc).__name__}: {exc})"
        self.outcome(file, res, SKIPPED if reason else READ, reason or "")

    def read_patient(self, res: dict[str, Any]) -> str:
        birth = str(res.get("birthDate", ""))
        self.result.patients.append(
            PatientRecord(
                key=self.patient_key(res),
                sex=c.GENDER_BACK.get(res.get("gender", ""), "U"),
                birth_year=int(birth[:4]) if birth[:4].isdigit() else None,
            )
        )
        return ""

    def read_condition(self, res: dict[str, Any]) -> str:
        patient = self.patient_of(res)
        if patient is None:
            return "its subject is not a Patient"
        code = _coded(res.get("code"))
        if code is None:
            return "it has no code"
        profiles = (res.get("meta") or {}).get("profile") or []
        self.result.conditions.append(
            ConditionRecord(
                patient=patient,
                code=code,
                onset=str(res.get("onsetDateTime", "")),
                primary_cancer=c.PROFILE_PRIMARY_CANCER in profiles,
            )
        )
        return ""

    def read_specimen(self, res: dict[str, Any]) -> str:
        patient = self.patient_of(res)
        if patient is None:
            return "its subject is not a Patient"
        kind = _coded(res.get("type"))
        if kind is None:
            return "it has no type"
        identifiers = [i["value"] for i in res.get("identifier") or [] if i.get("value")]
        collection = res.get("collection") or {}
        self.result.specimens.append(
            SpecimenRecord(
                patient=patient,
                key=str(identifiers[0] if identifiers else res.get("id", "")),
                type=kind,
                collected=str(
                    collection.get("collectedDateTime")
                    or (collection.get("collectedPeriod") or {}).get("start", "")
                ),
                status=str(res.get("status", "")),
            )
        )
        return ""

    def read_observation(self, res: dict[str, Any]) -> str:
        patient = self.patient_of(res)
        if patient is None:
            return "its subject is not a Patient"
        codes = _codes(res.get("code"))
        profiles = (res.get("meta") or {}).get("profile") or []
        on = _effective(res)
        if c.LOINC_ECOG in codes:
            value = res.get("valueInteger")
            if not isinstance(value, int) or not 0 <= value <= 5:
                return "an ECOG performance status needs valueInteger 0 to 5"
            values: dict[str, Any] = {"ecog": value}
            kind = "ecog"
        elif codes & STAGE_CODES or c.PROFILE_STAGE_GROUP in profiles:
            label = _label(res.get("valueCodeableConcept"))
            if not label:
                return "a stage group needs valueCodeableConcept"
            values, kind = {"stage_group": label}, "stage_group"
        elif c.LOINC_VARIANT in codes:
            values, kind = self.variant(res), "variant"
            if not values.get("gene"):
                return "a genomic variant needs its gene studied (LOINC 48018-6)"
        else:
            shown = ", ".join(sorted(codes - {""})) or _label(res.get("code")) or "none"
            return (
                f"observation code {shown} is not one oncotrials reads (ECOG 89247-1, "
                "TNM stage group, genomic variant 69548-6)"
            )
        self.result.observations.append(ObservationRecord(patient, kind, on, values))
        return ""

    @staticmethod
    def variant(res: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for comp in res.get("component") or []:
            codes = _codes(comp.get("code"))
            concept = comp.get("valueCodeableConcept")
            if c.LOINC_GENE in codes:
                out["gene"] = _label(concept)
            elif codes & HGVS_C:
                out["hgvsc"] = (_coded(concept) or Coded("", "", "")).code
            elif c.LOINC_HGVS_P in codes:
                out["hgvsp"] = (_coded(concept) or Coded("", "", "")).code
            elif c.LOINC_VAF in codes:
                quantity = comp.get("valueQuantity") or {}
                try:
                    value = Decimal(str(quantity.get("value")))
                except InvalidOperation:
                    continue
                out["vaf"] = str(value / 100 if quantity.get("code") == "%" else value)
            elif c.LOINC_SOURCE_CLASS in codes:
                out["source_class"] = _label(concept)
        return out


def _resources(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if data.get("resourceType") != "Bundle":
        return [("", data)]
    out: list[tuple[str, dict[str, Any]]] = []
    entries = data.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        res = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(res, dict):
            if res.get("resourceType") == "Bundle":
                out.extend(_resources(res))
            else:
                assert isinstance(entry, dict)
                out.append((str(entry.get("fullUrl", "")), res))
    return out


def read_resources(files: Iterable[tuple[str, bytes]]) -> FhirRead:
    """Read FHIR JSON files (name, bytes): each a resource or a Bundle of them.

    Raises ValidationError, before anything is read, for a file that is not a FHIR JSON resource.
    """
    parsed: list[tuple[str, dict[str, Any]]] = []
    for name, data in files:
        try:
            value = json.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise ValidationError(f"{name} is not UTF-8 text; FHIR JSON is UTF-8.") from None
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"{name}, line {exc.lineno}, column {exc.colno}: not JSON ({exc.msg})."
            ) from None
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            raise ValidationError(
                f"{name} is JSON but not a FHIR resource: it has no resourceType."
            )
        parsed.append((name, value))
    reader = _Reader()
    for name, value in parsed:
        reader.collect(name, _resources(value))
    return reader.result
