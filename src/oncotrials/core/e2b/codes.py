"""E2B(R3) code lists and identifier roots (OIDs) used by the ICSR builder.

Every value below is the one published in the ICH E2B(R3) Implementation Guide (ICH ICSR IG
v5.02, section 3 data elements and Appendix I "ICH E2B code lists and OIDs"). The same values
and OIDs are spelled out per data element, with their XPath, in the FDA's E2B(R3) regional data
elements table ("FDA Regional Implementation Guide for E2B(R3)", data elements spreadsheet) and
appear in the FDA's published example instances (FAERS 2022 scenarios), one of which is kept in
``tests/fixtures/e2b/`` and validated against the ICH schema in the tests.
"""

from __future__ import annotations

from typing import Final

# --- Identifier roots (ICH IG Appendix I, "2.16.840.1.113883.3.989.2.1.3.x") ------------------
OID_BATCH_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.22"  # N.1.2
OID_BATCH_SENDER: Final = "2.16.840.1.113883.3.989.2.1.3.13"  # N.1.3
OID_BATCH_RECEIVER: Final = "2.16.840.1.113883.3.989.2.1.3.14"  # N.1.4
OID_MESSAGE_ID: Final = "2.16.840.1.113883.3.989.2.1.3.1"  # N.2.r.1 (and C.1.1)
OID_MESSAGE_SENDER: Final = "2.16.840.1.113883.3.989.2.1.3.11"  # N.2.r.2
OID_MESSAGE_RECEIVER: Final = "2.16.840.1.113883.3.989.2.1.3.12"  # N.2.r.3
OID_SAFETY_REPORT_ID: Final = "2.16.840.1.113883.3.989.2.1.3.1"  # C.1.1
OID_WORLDWIDE_CASE_ID: Final = "2.16.840.1.113883.3.989.2.1.3.2"  # C.1.8.1
OID_SPONSOR_STUDY_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.5"  # C.5.3
OID_STUDY_REGISTRATION: Final = "2.16.840.1.113883.3.989.2.1.3.6"  # C.5.1.r.1
OID_INVESTIGATION_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.10"  # D.1.1.4

# HL7 interaction identifiers and trigger event (HL7 v3 normative edition, ICH IG section 2)
OID_HL7_INTERACTION: Final = "2.16.840.1.113883.1.6"
OID_HL7_TRIGGER_EVENT: Final = "2.16.840.1.113883.1.18"
OID_HL7_ACT_CODE: Final = "2.16.840.1.113883.5.4"  # PAT_ADV_EVNT

# --- Code systems (ICH IG Appendix I, "2.16.840.1.113883.3.989.2.1.1.x") ----------------------
CS_MESSAGE_TYPE: Final = "2.16.840.1.113883.3.989.2.1.1.1"  # N.1.1: 1 = ichicsr
CS_REPORT_TYPE: Final = "2.16.840.1.113883.3.989.2.1.1.2"  # C.1.3
CS_FIRST_SENDER: Final = "2.16.840.1.113883.3.989.2.1.1.3"  # C.1.8.2
CS_RECORD_NUMBER_SOURCE: Final = "2.16.840.1.113883.3.989.2.1.1.4"  # D.1.1.x
CS_NULLIFICATION: Final = "2.16.840.1.113883.3.989.2.1.1.5"  # C.1.11.1
CS_QUALIFICATION: Final = "2.16.840.1.113883.3.989.2.1.1.6"  # C.2.r.4
CS_SENDER_TYPE: Final = "2.16.840.1.113883.3.989.2.1.1.7"  # C.3.1
CS_STUDY_TYPE: Final = "2.16.840.1.113883.3.989.2.1.1.8"  # C.5.4
CS_OUTCOME: Final = "2.16.840.1.113883.3.989.2.1.1.11"  # E.i.7
CS_DRUG_ROLE: Final = "2.16.840.1.113883.3.989.2.1.1.13"  # G.k.1
CS_ACTION_TAKEN: Final = "2.16.840.1.113883.3.989.2.1.1.15"  # G.k.8
CS_ORGANIZER: Final = "2.16.840.1.113883.3.989.2.1.1.20"  # 4 = drugInformation
CS_OBSERVATION: Final = "2.16.840.1.113883.3.989.2.1.1.19"  # ICH observation codes
CS_INVESTIGATION_CHARACTERISTIC: Final = "2.16.840.1.113883.3.989.2.1.1.22"  # 1, 2 below
CS_CHARACTERISTIC: Final = "2.16.840.1.113883.3.989.2.1.1.23"  # C.1.3, C.1.9.1, C.1.11
CS_MEDDRA: Final = "2.16.840.1.113883.6.163"
CS_COUNTRY: Final = "1.0.3166.1.2.2"  # ISO 3166-1 alpha-2 (and "EU")
CS_SEX: Final = "1.0.5218"  # ISO/IEC 5218

# C.1.3 Type of report
REPORT_TYPE = {"spontaneous": "1", "study": "2", "other": "3", "not_available": "4"}
# C.1.8.2 First sender of this case
FIRST_SENDER = {"regulator": "1", "other": "2"}
# C.1.11.1 Report nullification / amendment
NULLIFICATION = {"nullification": "1", "amendment": "2"}
# C.2.r.4 Qualification of the primary source
QUALIFICATION = {
    "physician": "1",
    "pharmacist": "2",
    "other_health_professional": "3",
    "lawyer": "4",
    "consumer": "5",
}
# C.3.1 Sender type
SENDER_TYPE = {
    "pharmaceutical_company": "1",
    "regulatory_authority": "2",
    "health_professional": "3",
    "regional_pharmacovigilance_centre": "4",
    "who_collaborating_centre": "5",
    "other": "6",
    "patient_consumer": "7",
}
# C.5.4 Study type where the reaction(s) were observed
STUDY_TYPE = {"clinical_trial": "1", "individual_patient_use": "2", "other_study": "3"}
# D.5 Sex (ISO 5218)
SEX = {"male": "1", "female": "2"}
# E.i.7 Outcome of reaction at the time of last observation
OUTCOME = {
    "recovered": "1",
    "recovering": "2",
    "not_recovered": "3",
    "recovered_with_sequelae": "4",
    "fatal": "5",
    "unknown": "0",
}
# G.k.1 Characterisation of drug role
DRUG_ROLE = {"suspect": "1", "concomitant": "2", "interacting": "3", "not_administered": "4"}
# G.k.8 Action(s) taken with drug
ACTION_TAKEN = {
    "withdrawn": "1",
    "reduced": "2",
    "increased": "3",
    "not_changed": "4",
    "unknown": "0",
    "not_applicable": "9",
}
# E.i.3.2a-f Seriousness criteria: ICH observation codes (code system CS_OBSERVATION)
SERIOUSNESS = {
    "death": "34",  # resultsInDeath
    "life_threatening": "21",  # isLifeThreatening
    "hospitalisation": "33",  # requiresInpatientHospitalization
    "disability": "35",  # resultsInPersistentOrSignificantDisability
    "congenital_anomaly": "12",  # congenitalAnomalyBirthDefect
    "important_medical_event": "26",  # otherMedicallyImportantCondition
}
SERIOUSNESS_NAMES = {
    "34": "resultsInDeath",
    "21": "isLifeThreatening",
    "33": "requiresInpatientHospitalization",
    "35": "resultsInPersistentOrSignificantDisability",
    "12": "congenitalAnomalyBirthDefect",
    "26": "otherMedicallyImportantCondition",
}
# Other ICH observation codes (CS_OBSERVATION) the builder writes
OBS_ADDITIONAL_DOCUMENTS = "1"  # C.1.6.1
OBS_ADDITIONAL_INFORMATION = "2"  # G.k.11
OBS_AGE = "3"  # D.2.2
OBS_BLINDED = "6"  # G.k.2.5
OBS_BODY_WEIGHT = "7"  # D.3
OBS_DRUG_ROLE = "20"  # G.k.1 (interventionCharacterization)
OBS_EXPEDITED = "23"  # C.1.7 (localCriteriaForExpedited)
OBS_OUTCOME = "27"  # E.i.7
OBS_REACTION = "29"  # E.i
OBS_CAUSALITY = "39"  # G.k.9.i.2.r
ORGANIZER_DRUGS = "4"  # G.k (drugInformation)
# CS_INVESTIGATION_CHARACTERISTIC codes
RELATED_INITIAL_REPORT = "1"  # C.1.8.2 holder
RELATED_SOURCE_REPORT = "2"  # C.2.r holder
# CS_CHARACTERISTIC codes
CHAR_REPORT_TYPE = "1"  # C.1.3
CHAR_OTHER_CASE_IDS = "2"  # C.1.9.1
CHAR_NULLIFICATION = "3"  # C.1.11.1
CHAR_NULLIFICATION_REASON = "4"  # C.1.11.2
RECORD_NUMBER_INVESTIGATION = "4"  # D.1.1.4 source: investigation number
