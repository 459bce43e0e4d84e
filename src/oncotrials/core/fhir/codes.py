"""Code systems, codes and profiles of the FHIR R4 / mCODE export, each with its source.

Only codes that a published source gives are used; where none is known the value is sent as text.

References
----------
- FHIR R4 (4.0.1) value sets: research-study-status, research-subject-status,
  research-study-phase, administrative-gender, specimen-status, adverse-event-actuality,
  adverse-event-seriousness, adverse-event-severity, adverse-event-outcome, consent-state-codes,
  consent-scope, medication-admin-status (https://hl7.org/fhir/R4/terminologies-valuesets.html).
- mCODE 4.0.0 (hl7.fhir.us.mcode, https://hl7.org/fhir/us/mcode/): profile URLs, and the codes of
  its examples shipped in ``tests/fixtures/fhir/mcode-4.0.0-examples`` (named per code below).
- HL7 Genomics Reporting IG 3.0.0 (https://hl7.org/fhir/uv/genomics-reporting/): the Variant
  components (LOINC 48018-6, 48004-6, 48005-3, 81258-6, 48002-0).
- Adverse Event Clinical Research R4 Backport 1.0.1: the ``ae-grade`` extension
  (https://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition-ae-grade.html), valued from
  HL7 THO ValueSet adverse-event-clinical-research-grades (NCIt C41338, C41339, C41340, C41337,
  C48275).
"""

from __future__ import annotations

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
HGVS = "http://varnomen.hgvs.org"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
# OncoTree has no HL7-registered URI: FHIR uses the code system's own web address then.
ONCOTREE = "https://oncotree.mskcc.org"
MEDDRA = "http://terminology.hl7.org/CodeSystem/mdr"
V2_0487 = "http://terminology.hl7.org/CodeSystem/v2-0487"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
STUDY_PHASE = "http://terminology.hl7.org/CodeSystem/research-study-phase"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://terminology.hl7.org/CodeSystem/consentcategorycodes"

# Our own identifier systems (URNs: they name, they do not resolve).
RESEARCH_ID = "urn:oncotrials:research-id"
PROTOCOL = "urn:oncotrials:protocol"
SPECIMEN_LABEL = "urn:oncotrials:specimen-label"

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PROFILE_PATIENT = MCODE + "mcode-cancer-patient"
PROFILE_PRIMARY_CANCER = MCODE + "mcode-primary-cancer-condition"
PROFILE_STAGE_GROUP = MCODE + "mcode-tnm-stage-group"
PROFILE_ECOG = MCODE + "mcode-ecog-performance-status"
PROFILE_VARIANT = MCODE + "mcode-genomic-variant"
PROFILE_SPECIMEN = MCODE + "mcode-human-specimen"
AE_GRADE_URL = "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition/ae-grade"

# LOINC, from the Genomics Reporting IG and the mCODE examples.
LOINC_ECOG = "89247-1"  # ECOG performance status score (Observation-ecog-performance-status-*)
LOINC_VARIANT = "69548-6"  # Genetic variant assessment (Observation-genomic-variant-*)
LOINC_GENE = "48018-6"  # Gene studied [ID]
LOINC_HGVS_C = "48004-6"  # DNA change (c.HGVS)
LOINC_HGVS_P = "48005-3"  # Amino acid change (pHGVS)
LOINC_VAF = "81258-6"  # Sample variant allelic frequency
LOINC_SOURCE_CLASS = "48002-0"  # Genomic source class
LOINC_PRESENT = ("LA9633-4", "Present")
LOINC_SOMATIC = ("LA6684-0", "Somatic")
LOINC_SEQUENCING = ("LA26398-0", "Sequencing")
# SNOMED CT 399537006 "Clinical TNM stage grouping" (Observation-tnm-clinical-stage-group-3c).
SNOMED_CLINICAL_STAGE = ("399537006", "Clinical TNM stage grouping")

# The ae-grade value set (HL7 THO adverse-event-clinical-research-grades, NCIt codes).
AE_GRADES = {
    1: ("C41338", "Grade 1 Mild Adverse Event"),
    2: ("C41339", "Grade 2 Moderate Adverse Event"),
    3: ("C41340", "Grade 3 Severe Adverse Event"),
    4: ("C41337", "Grade 4 Life Threatening or Disabling Adverse Event"),
    5: ("C48275", "Grade 5 Death Related to Adverse Event"),
}
# CTCAE v5.0 ("Grades", p. 1): grade 1 mild, 2 moderate, 3 severe or medically significant,
# 4 life-threatening, 5 death; R4 adverse-event-severity has mild, moderate and severe only.
AE_SEVERITY_OF_GRADE = {1: "mild", 2: "moderate", 3: "severe", 4: "severe", 5: "severe"}
# Our outcomes (safety.AeOutcome) -> R4 adverse-event-outcome.
AE_OUTCOMES = {
    "recovered": "resolved",
    "recovering": "recovering",
    "not_recovered": "ongoing",
    "recovered_with_sequelae": "resolvedWithSequelae",
    "fatal": "fatal",
    "unknown": "unknown",
}
AE_OUTCOMES_BACK = {v: k for k, v in AE_OUTCOMES.items()}

GENDER = {"F": "female", "M": "male", "O": "other", "U": "unknown"}
GENDER_BACK = {v: k for k, v in GENDER.items()}
# trials.TrialStatus -> R4 research-study-status.
STUDY_STATUS = {
    "feasibility": "in-review",
    "set_up": "approved",
    "open": "active",
    "on_hold": "temporarily-closed-to-accrual",
    "closed_to_accrual": "closed-to-accrual",
    "closed": "completed",
}
# trials.Phase -> R4 research-study-phase.
STUDY_PHASE_CODES = {
    "I-esc": "phase-1",
    "I-exp": "phase-1",
    "I/II": "phase-1-phase-2",
    "II": "phase-2",
    "III": "phase-3",
    "IV": "phase-4",
    "NT": "n-a",
}
# subjects.RegistrationStatus -> R4 research-subject-status.
SUBJECT_STATUS = {
    "registered": "on-study",
    "on_treatment": "on-study-intervention",
    "end_of_treatment": "follow-up",
    "follow_up": "follow-up",
    "off_study": "off-study",
}
# Biobank types -> HL7 v2 table 0487, the codes of mCODE's HumanSpecimenTypeVS; the other types
# (DNA, RNA, cfDNA, cells, cultures) have no code there and are sent as text.
SPECIMEN_TYPES = {
    "tissue_ffpe": ("TISS", "Tissue"),
    "tissue_frozen": ("TISS", "Tissue"),
    "slide": ("TISS", "Tissue"),
    "whole_blood": ("BLD", "Whole blood"),
    "plasma": ("PLAS", "Plasma"),
    "serum": ("SER", "Serum"),
    "bone_marrow": ("MAR", "Marrow"),
}
# Biobank status -> R4 specimen-status (available | unavailable | unsatisfactory | ...).
SPECIMEN_STATUS = {"available": "available"}
# Units of exposure that are UCUM codes as written.
UCUM_UNITS = frozenset({"mg", "g", "ug", "mL", "L", "mg/kg", "mg/m2", "ug/kg", "[iU]"})
