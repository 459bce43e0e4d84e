"""SDTM mappers: a study's plain data to the tabulation datasets DM, DS, EX, AE, LB, VS, TU, TR, RS
and their supplemental qualifiers (SUPP--).

Conventions (SDTMIG v3.4; CDISC Controlled Terminology for the coded values):

- ``USUBJID`` is ``STUDYID-research identifier`` and ``SUBJID`` the research identifier: the
  input carries no identifying data, so none can reach a file. ``AGE`` is given in years; no
  birth date is exported.
- ``--SEQ`` numbers each subject's records of a domain 1, 2, ... in the domain's sort order, so it
  is unique per subject and stable from one export of the same data to the next.
- ``--DY`` counts from ``RFSTDTC`` (the first dose; day 1, no day 0), empty without a first dose.
- ``AETOXGR``/``LBTOXGR`` hold the CTCAE grade; the CTCAE version of each record goes to
  ``SUPPAE``/``SUPPLB`` (``QNAM CTCAEVER``), since SDTM has no variable for it.
- Text longer than 200 bytes is never cut: the parent variable keeps the first part (split
  between words where possible) and ``SUPP--`` records ``AETERM1``, ``AETERM2``, ... the rest, in
  order, each at most 200 bytes (SDTMIG v3.4 section 4.5.3.2). Concatenated, they give back the
  text exactly.
- RECIST 1.1 (TU/TR/RS): target lesions are measured as ``LDIAM`` (longest diameter) or, for a
  lymph node, ``SAXIS`` (short axis); each time point has ``SUMDIAM``; non-target and new lesions
  have ``TUMSTATE``. ``TRLNKID`` links each measurement to its lesion's ``TULNKID``. RS holds the
  target, non-target, new-lesion and overall responses (``TRGRESP``, ``NTRGRESP``, ``NEWLPROG``,
  ``OVRLRESP``) and the best overall response (``BESTRESP``), as the investigator read them.

References
----------
CDISC SDTM Implementation Guide v3.4 (2021), sections 4.5.3.2 (text over 200 characters), 6.3.17
(TU, TR, RS), 8.4 (SUPP--). FDA Study Data Technical Conformance Guide v5.x, section 3.3.2 (SAS
XPORT v5: names <= 8, labels <= 40, character values <= 200 bytes).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist import LesionRole, LesionStatus

from .model import (
    DATE,
    FLOAT,
    INTEGER,
    MAX_LABEL,
    MAX_NAME,
    MAX_TEXT_BYTES,
    TEXT,
    Dataset,
    Study,
    Subject,
    Variable,
)

ID, TOPIC, TIMING, GROUP, RESULT = (
    "Identifier",
    "Topic",
    "Timing",
    "Grouping Qualifier",
    "Result Qualifier",
)
SYN, REC, VAR = "Synonym Qualifier", "Record Qualifier", "Variable Qualifier"


def V(
    name: str,
    label: str,
    type: str = TEXT,
    role: str = REC,
    *,
    mandatory: bool = False,
    key: int | None = None,
    origin: str = "Collected",
    method: str = "",
) -> Variable:
    return Variable(name, label, type, role, mandatory, key, origin, method)


def _common(domain: str, seq: bool = True) -> list[Variable]:
    out = [
        V("STUDYID", "Study Identifier", role=ID, mandatory=True, key=1, origin="Protocol"),
        V("DOMAIN", "Domain Abbreviation", role=ID, mandatory=True, origin="Assigned"),
        V(
            "USUBJID",
            "Unique Subject Identifier",
            role=ID,
            mandatory=True,
            key=2,
            origin="Derived",
            method="STUDYID, a hyphen and the subject's research identifier.",
        ),
    ]
    if seq:
        out.append(
            V(
                f"{domain}SEQ",
                "Sequence Number",
                INTEGER,
                ID,
                mandatory=True,
                origin="Derived",
                method="Records of the subject numbered 1, 2, ... in the dataset's sort order.",
            )
        )
    return out


_DY = "Study day: date minus RFSTDTC, plus 1 on or after RFSTDTC (no day 0)."

# The variables of each domain, in order (SDTMIG v3.4 domain models).
SPECS: dict[str, tuple[str, str, str, list[Variable]]] = {
    "DM": (
        "Demographics",
        "SPECIAL PURPOSE",
        "One record per subject",
        [
            *_common("DM", seq=False),
            V("SUBJID", "Subject Identifier for the Study", role=TOPIC, mandatory=True),
            V(
                "RFSTDTC",
                "Subject Reference Start Date/Time",
                DATE,
                origin="Derived",
                method="Date of the first study drug administration.",
            ),
            V(
                "RFENDTC",
                "Subject Reference End Date/Time",
                DATE,
                origin="Derived",
                method="Date of the last study drug administration.",
            ),
            V(
                "RFXSTDTC",
                "Date/Time of First Study Treatment",
                DATE,
                origin="Derived",
                method="Date of the first study drug administration.",
            ),
            V(
                "RFXENDTC",
                "Date/Time of Last Study Treatment",
                DATE,
                origin="Derived",
                method="Date of the last study drug administration.",
            ),
            V("RFICDTC", "Date/Time of Informed Consent", DATE),
            V(
                "RFPENDTC",
                "Date/Time of End of Participation",
                DATE,
                origin="Derived",
                method="End-of-study date, else the last date in the data cut.",
            ),
            V("DTHDTC", "Date/Time of Death", DATE),
            V("DTHFL", "Subject Death Flag", origin="Derived", method="Y when DTHDTC is known."),
            V("SITEID", "Study Site Identifier", mandatory=True),
            V(
                "AGE",
                "Age",
                INTEGER,
                origin="Derived",
                method="Year of RFICDTC (else of registration) minus year of birth.",
            ),
            V("AGEU", "Age Units", role=VAR, origin="Assigned"),
            V("SEX", "Sex", mandatory=True),
            V("ARMCD", "Planned Arm Code"),
            V("ARM", "Description of Planned Arm", role=SYN),
            V("ACTARMCD", "Actual Arm Code"),
            V("ACTARM", "Description of Actual Arm", role=SYN),
            V("COUNTRY", "Country", mandatory=True),
        ],
    ),
    "DS": (
        "Disposition",
        "EVENTS",
        "One record per disposition status or protocol milestone per subject",
        [
            *_common("DS"),
            V("DSTERM", "Reported Term for the Disposition Event", role=TOPIC, mandatory=True),
            V(
                "DSDECOD",
                "Standardized Disposition Term",
                role=SYN,
                mandatory=True,
                origin="Derived",
                method="Controlled term matched from DSTERM.",
            ),
            V("DSCAT", "Category for Disposition Event", role=GROUP, key=3, origin="Assigned"),
            V("DSSCAT", "Subcategory for Disposition Event", role=GROUP, origin="Assigned"),
            V("DSSTDTC", "Start Date/Time of Disposition Event", DATE, TIMING, key=4),
            V(
                "DSSTDY",
                "Study Day of Start of Disposition Event",
                INTEGER,
                TIMING,
                origin="Derived",
                method=_DY,
            ),
        ],
    ),
    "EX": (
        "Exposure",
        "INTERVENTIONS",
        "One record per constant dosing interval per subject",
        [
            *_common("EX"),
            V("EXTRT", "Name of Treatment", role=TOPIC, mandatory=True, key=3),
            V("EXDOSE", "Dose", FLOAT, VAR),
            V("EXDOSU", "Dose Units", role=VAR),
            V("EXADJ", "Reason for Dose Adjustment"),
            V("VISIT", "Visit Name", role=TIMING),
            V("EXSTDTC", "Start Date/Time of Treatment", DATE, TIMING, key=4),
            V("EXENDTC", "End Date/Time of Treatment", DATE, TIMING),
            V(
                "EXSTDY",
                "Study Day of Start of Treatment",
                INTEGER,
                TIMING,
                origin="Derived",
                method=_DY,
            ),
        ],
    ),
    "AE": (
        "Adverse Events",
        "EVENTS",
        "One record per adverse event per subject",
        [
            *_common("AE"),
            V("AETERM", "Reported Term for the Adverse Event", role=TOPIC, mandatory=True),
            V("AELLT", "Lowest Level Term", role=VAR),
            V("AELLTCD", "Lowest Level Term Code", INTEGER, VAR),
            V("AEDECOD", "Dictionary-Derived Term", role=SYN, mandatory=True, key=3),
            V("AEBODSYS", "Body System or Organ Class", role=GROUP),
            V("AESER", "Serious Event"),
            V("AEACN", "Action Taken with Study Treatment"),
            V("AEREL", "Causality"),
            V("AEOUT", "Outcome of Adverse Event"),
            V("AESCONG", "Congenital Anomaly or Birth Defect"),
            V("AESDISAB", "Persist or Signif Disability/Incapacity"),
            V("AESDTH", "Results in Death"),
            V("AESHOSP", "Requires or Prolongs Hospitalization"),
            V("AESLIFE", "Is Life Threatening"),
            V("AESMIE", "Other Medically Important Serious Event"),
            V("AETOXGR", "Standard Toxicity Grade"),
            V("AESTDTC", "Start Date/Time of Adverse Event", DATE, TIMING, key=4),
            V("AEENDTC", "End Date/Time of Adverse Event", DATE, TIMING),
            V(
                "AESTDY",
                "Study Day of Start of Adverse Event",
                INTEGER,
                TIMING,
                origin="Derived",
                method=_DY,
            ),
            V(
                "AEENDY",
                "Study Day of End of Adverse Event",
                INTEGER,
                TIMING,
                origin="Derived",
                method=_DY,
            ),
        ],
    ),
    "LB": (
        "Laboratory Test Results",
        "FINDINGS",
        "One record per lab test per time point per visit per subject",
        [
            *_common("LB"),
            V("LBTESTCD", "Lab Test or Examination Short Name", role=TOPIC, mandatory=True, key=3),
            V("LBTEST", "Lab Test or Examination Name", role=SYN, mandatory=True),
            V("LBORRES", "Result or Finding in Original Units", role=RESULT),
            V("LBORRESU", "Original Units", role=VAR),
            V("LBORNRLO", "Reference Range Lower Limit in Orig Unit", role=VAR),
            V("LBORNRHI", "Reference Range Upper Limit in Orig Unit", role=VAR),
            V(
                "LBSTRESC",
                "Character Result/Finding in Std Format",
                role=RESULT,
                origin="Derived",
                method="LBORRES (results are kept in their collected unit).",
            ),
            V(
                "LBSTRESN",
                "Numeric Result/Finding in Standard Units",
                FLOAT,
                RESULT,
                origin="Derived",
                method="LBSTRESC as a number.",
            ),
            V("LBSTRESU", "Standard Units", role=VAR, origin="Derived", method="LBORRESU."),
            V(
                "LBSTNRLO",
                "Reference Range Lower Limit-Std Units",
                FLOAT,
                VAR,
                origin="Derived",
                method="LBORNRLO as a number.",
            ),
            V(
                "LBSTNRHI",
                "Reference Range Upper Limit-Std Units",
                FLOAT,
                VAR,
                origin="Derived",
                method="LBORNRHI as a number.",
            ),
            V(
                "LBNRIND",
                "Reference Range Indicator",
                role=VAR,
                origin="Derived",
                method="LOW below LBSTNRLO, HIGH above LBSTNRHI, else NORMAL.",
            ),
            V(
                "LBTOX",
                "Toxicity",
                role=VAR,
                origin="Derived",
                method="The CTCAE term the result was graded against.",
            ),
            V(
                "LBTOXGR",
                "Standard Toxicity Grade",
                role=VAR,
                origin="Derived",
                method="CTCAE grade computed from the result and the normal range.",
            ),
            V("VISIT", "Visit Name", role=TIMING),
            V("LBDTC", "Date/Time of Specimen Collection", DATE, TIMING, key=4),
            V(
                "LBDY",
                "Study Day of Specimen Collection",
                INTEGER,
                TIMING,
                origin="Derived",
                method=_DY,
            ),
        ],
    ),
    "VS": (
        "Vital Signs",
        "FINDINGS",
        "One record per vital sign measurement per time point per visit per subject",
        [
            *_common("VS"),
            V("VSTESTCD", "Vital Signs Test Short Name", role=TOPIC, mandatory=True, key=3),
            V("VSTEST", "Vital Signs Test Name", role=SYN, mandatory=True),
            V("VSORRES", "Result or Finding in Original Units", role=RESULT),
            V("VSORRESU", "Original Units", role=VAR),
            V(
                "VSSTRESC",
                "Character Result/Finding in Std Format",
                role=RESULT,
                origin="Derived",
                method="VSORRES.",
            ),
            V(
                "VSSTRESN",
                "Numeric Result/Finding in Standard Units",
                FLOAT,
                RESULT,
                origin="Derived",
                method="VSSTRESC as a number.",
            ),
            V("VSSTRESU", "Standard Units", role=VAR, origin="Derived", method="VSORRESU."),
            V("VISIT", "Visit Name", role=TIMING),
            V("VSDTC", "Date/Time of Measurements", DATE, TIMING, key=4),
            V("VSDY", "Study Day of Vital Signs", INTEGER, TIMING, origin="Derived", method=_DY),
        ],
    ),
    "TU": (
        "Tumor/Lesion Identification",
        "FINDINGS",
        "One record per identified tumor per subject per assessor",
        [
            *_common("TU"),
            V("TULNKID", "Link ID", role=ID, key=3),
            V("TUTESTCD", "Tumor/Lesion ID Short Name", role=TOPIC, mandatory=True),
            V("TUTEST", "Tumor/Lesion ID Test Name", role=SYN, mandatory=True),
            V("TUORRES", "Tumor/Lesion ID Result", role=RESULT),
            V(
                "TUSTRESC",
                "Tumor/Lesion ID Result Std. Format",
                role=RESULT,
                origin="Derived",
                method="TUORRES.",
            ),
            V("TULOC", "Location of the Tumor/Lesion", role=REC),
            V("TUMETHOD", "Method of Identification", role=REC),
            V("TUEVAL", "Evaluator", role=REC, origin="Assigned"),
            V("VISIT", "Visit Name", role=TIMING),
            V("TUDTC", "Date/Time of Tumor/Lesion Identification", DATE, TIMING),
            V(
                "TUDY",
                "Study Day of Tumor/Lesion Identification",
                INTEGER,
                TIMING,
                origin="Derived",
                method=_DY,
            ),
        ],
    ),
    "TR": (
        "Tumor/Lesion Results",
        "FINDINGS",
        "One record per tumor measurement/assessment per visit per subject per assessor",
        [
            *_common("TR"),
            V("TRGRPID", "Group ID", role=ID),
            V("TRLNKID", "Link ID", role=ID),
            V("TRTESTCD", "Tumor/Lesion Assessment Short Name", role=TOPIC, mandatory=True, key=4),
            V("TRTEST", "Tumor/Lesion Assessment Test Name", role=SYN, mandatory=True),
            V("TRORRES", "Result or Finding in Original Units", role=RESULT),
            V("TRORRESU", "Original Units", role=VAR),
            V(
                "TRSTRESC",
                "Character Result/Finding in Std Format",
                role=RESULT,
                origin="Derived",
                method="TRORRES; a lesion too small to measure counts 5 mm.",
            ),
            V(
                "TRSTRESN",
                "Numeric Result/Finding in Standard Units",
                FLOAT,
                RESULT,
                origin="Derived",
                method="TRSTRESC as a number; SUMDIAM is the sum of the target "
                "lesions' diameters (RECIST 1.1 section 4.3.1).",
            ),
            V("TRSTRESU", "Standard Units", role=VAR, origin="Derived", method="TRORRESU."),
            V("TRSTAT", "Completion Status", role=REC),
            V("TREVAL", "Evaluator", role=REC, origin="Assigned"),
            V("VISIT", "Visit Name", role=TIMING),
            V("TRDTC", "Date/Time of Tumor/Lesion Measurement", DATE, TIMING, key=3),
            V(
                "TRDY",
                "Study Day of Tumor/Lesion Measurement",
                INTEGER,
                TIMING,
                origin="Derived",
                method=_DY,
            ),
        ],
    ),
    "RS": (
        "Disease Response and Clin Classification",
        "FINDINGS",
        "One record per response assessment per visit per subject per assessor",
        [
            *_common("RS"),
            V("RSTESTCD", "Assessment Short Name", role=TOPIC, mandatory=True, key=4),
            V("RSTEST", "Assessment Name", role=SYN, mandatory=True),
            V("RSCAT", "Category for Assessment", role=GROUP, origin="Assigned"),
            V("RSORRES", "Result or Finding in Original Units", role=RESULT),
            V(
                "RSSTRESC",
                "Character Result/Finding in Std Format",
                role=RESULT,
                origin="Derived",
                method="RSORRES.",
            ),
            V("RSEVAL", "Evaluator", role=REC, origin="Assigned"),
            V("VISIT", "Visit Name", role=TIMING),
            V("RSDTC", "Date/Time of Assessment", DATE, TIMING, key=3),
            V("RSDY", "Study Day of Assessment", INTEGER, TIMING, origin="Derived", method=_DY),
        ],
    ),
}

SUPP_VARIABLES = (
    V("STUDYID", "Study Identifier", role=ID, mandatory=True, key=1, origin="Protocol"),
    V("RDOMAIN", "Related Domain Abbreviation", role=ID, mandatory=True, key=2, origin="Assigned"),
    V(
        "USUBJID",
        "Unique Subject Identifier",
        role=ID,
        mandatory=True,
        key=3,
        origin="Derived",
        method="USUBJID of the parent record.",
    ),
    V("IDVAR", "Identifying Variable", role=ID, key=4, origin="Assigned"),
    V(
        "IDVARVAL",
        "Identifying Variable Value",
        role=ID,
        key=5,
        origin="Derived",
        method="The parent record's --SEQ.",
    ),
    V("QNAM", "Qualifier Variable Name", role=TOPIC, mandatory=True, key=6, origin="Assigned"),
    V("QLABEL", "Qualifier Variable Label", role=SYN, mandatory=True, origin="Assigned"),
    V("QVAL", "Data Value", role=RESULT, mandatory=True),
    V("QORIG", "Origin", role=REC, mandatory=True, origin="Assigned"),
    V("QEVAL", "Evaluator", role=REC, origin="Assigned"),
)

# CDISC CT: LBTESTCD/LBTEST (C65047/C67154) for the analytes the grading core knows.
LAB_TESTS: dict[str, tuple[str, str]] = {
    "neutrophils": ("NEUT", "Neutrophils"),
    "platelets": ("PLAT", "Platelets"),
    "hemoglobin": ("HGB", "Hemoglobin"),
    "wbc": ("WBC", "Leukocytes"),
    "lymphocytes": ("LYM", "Lymphocytes"),
    "alt": ("ALT", "Alanine Aminotransferase"),
    "ast": ("AST", "Aspartate Aminotransferase"),
    "alp": ("ALP", "Alkaline Phosphatase"),
    "bilirubin": ("BILI", "Bilirubin"),
    "creatinine": ("CREAT", "Creatinine"),
    "sodium": ("SODIUM", "Sodium"),
    "potassium": ("K", "Potassium"),
    "calcium": ("CA", "Calcium"),
    "magnesium": ("MG", "Magnesium"),
    "glucose": ("GLUC", "Glucose"),
    "lipase": ("LIPASE", "Lipase"),
    "amylase": ("AMYLASE", "Amylase"),
    "cpk": ("CK", "Creatine Kinase"),
}
# CDISC CT: VSTESTCD/VSTEST (C66741/C67153) and units (C66770).
VITAL_TESTS: dict[str, tuple[str, str, str]] = {
    "weight_kg": ("WEIGHT", "Weight", "kg"),
    "systolic_bp": ("SYSBP", "Systolic Blood Pressure", "mmHg"),
    "diastolic_bp": ("DIABP", "Diastolic Blood Pressure", "mmHg"),
    "heart_rate": ("PULSE", "Pulse Rate", "beats/min"),
    "temperature": ("TEMP", "Temperature", "C"),
}
# CDISC CT: AEACN (C66767), AEOUT (C66768).
AE_ACTION = {
    "none": "DOSE NOT CHANGED",
    "reduced": "DOSE REDUCED",
    "interrupted": "DRUG INTERRUPTED",
    "withdrawn": "DRUG WITHDRAWN",
    "not_applicable": "NOT APPLICABLE",
}
AE_OUTCOME = {
    "recovered": "RECOVERED/RESOLVED",
    "recovered_with_sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}
AE_SERIOUSNESS = {
    "congenital_anomaly": "AESCONG",
    "disability": "AESDISAB",
    "death": "AESDTH",
    "hospitalisation": "AESHOSP",
    "life_threatening": "AESLIFE",
    "important_medical_event": "AESMIE",
}
# CDISC CT: DSDECOD (C66727), matched from the reason as entered (first match wins).
DS_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("death", "died", "décès"), "DEATH"),
    (("progress",), "PROGRESSIVE DISEASE"),
    (("toxic", "adverse"), "ADVERSE EVENT"),
    (("lost to follow",), "LOST TO FOLLOW-UP"),
    (("decision", "withdr", "refus", "consent"), "WITHDRAWAL BY SUBJECT"),
    (("physician", "investigator"), "PHYSICIAN DECISION"),
    (("complet",), "COMPLETED"),
)
METHODS = {"CT": "CT SCAN", "MRI": "MRI", "caliper": "PHYSICAL EXAMINATION", "chest_xray": "X-RAY"}
TUMSTATE = {
    LesionStatus.ABSENT: "ABSENT",
    LesionStatus.PRESENT: "PRESENT",
    LesionStatus.INCREASED: "PRESENT",
    LesionStatus.UNEQUIVOCAL_PROGRESSION: "UNEQUIVOCAL PROGRESSION",
    LesionStatus.TOO_SMALL: "PRESENT",
}
# The value a lesion too small to measure counts for (RECIST 1.1 section 4.3.2: 5 mm).
TOO_SMALL_MM = Decimal(5)


def disposition_decod(reason: str) -> str:
    text = reason.lower()
    for words, decod in DS_REASONS:
        if any(w in text for w in words):
            return decod
    return "OTHER"


def study_day(on: dt.date | None, ref: dt.date | None) -> int | None:
    if on is None or ref is None:
        return None
    days = (on - ref).days
    return days + 1 if days >= 0 else days


def _d(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


def _num(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def first_dose(subject: Subject) -> dt.date | None:
    return min((e.on for e in subject.exposures), default=None)


def last_dose(subject: Subject) -> dt.date | None:
    return max((e.on for e in subject.exposures), default=None)


# --- One function per domain: rows as dicts, sorted and numbered by ``_build`` ----------------

Row = dict[str, Any]


def _dm(study: Study, s: Subject) -> list[Row]:
    end = next((d.on for d in s.dispositions if d.kind == "end_of_study"), None)
    return [
        {
            "SUBJID": s.research_id,
            "RFSTDTC": _d(first_dose(s)),
            "RFENDTC": _d(last_dose(s)),
            "RFXSTDTC": _d(first_dose(s)),
            "RFXENDTC": _d(last_dose(s)),
            "RFICDTC": _d(s.consent_on),
            "RFPENDTC": _d(end),
            "DTHDTC": _d(s.death_on),
            "DTHFL": "Y" if s.death_on else "",
            "SITEID": s.site,
            "AGE": s.age,
            "AGEU": "YEARS" if s.age is not None else "",
            "SEX": s.sex if s.sex in ("F", "M") else "U",
            "ARMCD": s.arm_code,
            "ARM": s.arm,
            "ACTARMCD": s.arm_code,
            "ACTARM": s.arm,
            "COUNTRY": s.country,
        }
    ]


def _ds(study: Study, s: Subject) -> list[Row]:
    rows: list[Row] = []
    ref = first_dose(s)
    for d in s.dispositions:
        if d.kind == "consent":
            term = decod = "INFORMED CONSENT OBTAINED"
            cat, scat = "PROTOCOL MILESTONE", ""
        elif d.kind in ("end_of_treatment", "end_of_study"):
            term = d.reason or "COMPLETED"
            decod = disposition_decod(term)
            cat = "DISPOSITION EVENT"
            scat = "END OF TREATMENT" if d.kind == "end_of_treatment" else "END OF STUDY"
        else:
            raise ValidationError(
                f"Subject {s.research_id}: unknown disposition kind {d.kind!r}; use consent, "
                "end_of_treatment or end_of_study.",
                code="sdtm_subject_unknown_disposition_kind",
                research_id=str(s.research_id),
                kind=repr(d.kind),
            )
        rows.append(
            {
                "DSTERM": term,
                "DSDECOD": decod,
                "DSCAT": cat,
                "DSSCAT": scat,
                "DSSTDTC": _d(d.on),
                "DSSTDY": study_day(d.on, ref),
            }
        )
    return rows


def _ex(study: Study, s: Subject) -> list[Row]:
    ref = first_dose(s)
    return [
        {
            "EXTRT": e.agent.upper(),
            "EXDOSE": e.dose,
            "EXDOSU": e.unit,
            "EXADJ": e.adjustment,
            "VISIT": e.visit,
            "EXSTDTC": _d(e.on),
            "EXENDTC": _d(e.on),
            "EXSTDY": study_day(e.on, ref),
        }
        for e in s.exposures
    ]


def _ae(study: Study, s: Subject) -> tuple[list[Row], list[tuple[int, str, str, str]]]:
    ref = first_dose(s)
    rows: list[Row] = []
    supp: list[tuple[int, str, str, str]] = []  # (row index, QNAM, QLABEL, QVAL)
    for i, ae in enumerate(sorted(s.adverse_events, key=lambda a: (a.onset or dt.date.min, a.ref))):
        flags = {
            v: ("Y" if k in ae.seriousness else "N") if ae.serious else ""
            for k, v in AE_SERIOUSNESS.items()
        }
        rows.append(
            {
                "AETERM": ae.verbatim or ae.term,
                "AELLT": ae.term,
                "AELLTCD": ae.meddra_code,
                "AEDECOD": ae.term,
                "AEBODSYS": ae.soc,
                "AESER": "Y" if ae.serious else "N",
                "AEACN": AE_ACTION.get(ae.action, ae.action.upper()),
                "AEREL": ae.attribution.upper(),
                "AEOUT": AE_OUTCOME.get(ae.outcome, ae.outcome.upper()),
                **flags,
                "AETOXGR": str(ae.grade) if ae.grade is not None else "",
                "AESTDTC": _d(ae.onset),
                "AEENDTC": _d(ae.resolved),
                "AESTDY": study_day(ae.onset, ref),
                "AEENDY": study_day(ae.resolved, ref),
                "_ref": (ae.onset or dt.date.min, ae.ref),
            }
        )
        if ae.grade is not None:
            supp.append((i, "CTCAEVER", "CTCAE Version", ae.ctcae_version))
    return rows, supp


def _lb(study: Study, s: Subject) -> tuple[list[Row], list[tuple[int, str, str, str]]]:
    ref = first_dose(s)
    rows: list[Row] = []
    supp: list[tuple[int, str, str, str]] = []
    for i, lab in enumerate(sorted(s.labs, key=lambda x: (x.on, x.analyte))):
        code, name = LAB_TESTS.get(lab.analyte, (lab.analyte.upper()[:8], lab.label))
        ind = ""
        if lab.lln is not None and lab.value < lab.lln:
            ind = "LOW"
        elif lab.uln is not None and lab.value > lab.uln:
            ind = "HIGH"
        elif lab.lln is not None or lab.uln is not None:
            ind = "NORMAL"
        rows.append(
            {
                "LBTESTCD": code,
                "LBTEST": name,
                "LBORRES": _num(lab.value),
                "LBORRESU": lab.unit,
                "LBORNRLO": _num(lab.lln),
                "LBORNRHI": _num(lab.uln),
                "LBSTRESC": _num(lab.value),
                "LBSTRESN": lab.value,
                "LBSTRESU": lab.unit,
                "LBSTNRLO": lab.lln,
                "LBSTNRHI": lab.uln,
                "LBNRIND": ind,
                "LBTOX": lab.toxicity.upper() if lab.grade is not None else "",
                "LBTOXGR": str(lab.grade) if lab.grade is not None else "",
                "VISIT": lab.visit,
                "LBDTC": _d(lab.on),
                "LBDY": study_day(lab.on, ref),
            }
        )
        if lab.grade is not None:
            supp.append((i, "CTCAEVER", "CTCAE Version", lab.ctcae_version))
    return rows, supp


def _vs(study: Study, s: Subject) -> list[Row]:
    ref = first_dose(s)
    rows: list[Row] = []
    for v in s.vitals:
        if v.test not in VITAL_TESTS:
            raise ValidationError(
                f"Subject {s.research_id}: unknown vital sign {v.test!r}; known: "
                f"{', '.join(VITAL_TESTS)}.",
                code="sdtm_subject_unknown_vital_sign",
                research_id=str(s.research_id),
                test=repr(v.test),
                vital_tests=str(", ".join(VITAL_TESTS)),
            )
        code, name, unit = VITAL_TESTS[v.test]
        rows.append(
            {
                "VSTESTCD": code,
                "VSTEST": name,
                "VSORRES": _num(v.value),
                "VSORRESU": unit,
                "VSSTRESC": _num(v.value),
                "VSSTRESN": v.value,
                "VSSTRESU": unit,
                "VISIT": v.visit,
                "VSDTC": _d(v.on),
                "VSDY": study_day(v.on, ref),
            }
        )
    return rows


def _follow_up_name(i: int) -> str:
    return f"TUMOUR ASSESSMENT {i}"


def _tu(study: Study, s: Subject) -> list[Row]:
    if s.tumours is None:
        return []
    record = s.tumours.record
    ref = first_dose(s)
    base = record.baseline.date
    rows: list[Row] = []
    for lesion in record.baseline.lesions:
        role = "TARGET" if lesion.role == LesionRole.TARGET else "NON-TARGET"
        rows.append(
            {
                "TULNKID": lesion.lesion_id,
                "TUTESTCD": "TUMIDENT",
                "TUTEST": "Tumor Identification",
                "TUORRES": role,
                "TUSTRESC": role,
                "TULOC": lesion.organ.upper(),
                "TUMETHOD": METHODS.get(str(lesion.method), str(lesion.method).upper()),
                "TUEVAL": "INVESTIGATOR",
                "VISIT": "BASELINE",
                "TUDTC": _d(base),
                "TUDY": study_day(base, ref),
            }
        )
    seen: set[str] = set()
    for i, a in enumerate(record.assessments, start=1):
        for new in a.new_lesions:
            if new.lesion_id in seen:
                continue
            seen.add(new.lesion_id)
            rows.append(
                {
                    "TULNKID": new.lesion_id,
                    "TUTESTCD": "TUMIDENT",
                    "TUTEST": "Tumor Identification",
                    "TUORRES": "NEW",
                    "TUSTRESC": "NEW",
                    "TULOC": new.organ.upper(),
                    "TUMETHOD": "",
                    "TUEVAL": "INVESTIGATOR",
                    "VISIT": _follow_up_name(i),
                    "TUDTC": _d(a.date),
                    "TUDY": study_day(a.date, ref),
                }
            )
    return rows


def _tr_row(
    lesion_id: str,
    group: str,
    testcd: str,
    test: str,
    orres: str,
    stresn: Decimal | None,
    unit: bool,
    stat: str,
    visit: str,
    on: dt.date,
    ref: dt.date | None,
) -> Row:
    return {
        "TRGRPID": group,
        "TRLNKID": lesion_id,
        "TRTESTCD": testcd,
        "TRTEST": test,
        "TRORRES": orres,
        "TRORRESU": "mm" if unit and orres else "",
        "TRSTRESC": _num(stresn) if stresn is not None else orres,
        "TRSTRESN": stresn,
        "TRSTRESU": "mm" if unit and stresn is not None else "",
        "TRSTAT": stat,
        "TREVAL": "INVESTIGATOR",
        "VISIT": visit,
        "TRDTC": _d(on),
        "TRDY": study_day(on, ref),
    }


def _target_row(
    lesion_id: str,
    nodal: bool,
    diameter: Any,
    status: Any,
    visit: str,
    on: dt.date,
    ref: dt.date | None,
) -> Row:
    testcd, test = ("SAXIS", "Short Axis") if nodal else ("LDIAM", "Longest Diameter")
    if diameter is not None:
        value = Decimal(str(diameter))
        return _tr_row(
            lesion_id, "TARGET", testcd, test, _num(value), value, True, "", visit, on, ref
        )
    if status == LesionStatus.ABSENT:
        return _tr_row(lesion_id, "TARGET", testcd, test, "0", Decimal(0), True, "", visit, on, ref)
    if status == LesionStatus.TOO_SMALL:
        row = _tr_row(
            lesion_id,
            "TARGET",
            testcd,
            test,
            "TOO SMALL TO MEASURE",
            TOO_SMALL_MM,
            True,
            "",
            visit,
            on,
            ref,
        )
        row["TRORRESU"] = ""
        return row
    return _tr_row(lesion_id, "TARGET", testcd, test, "", None, False, "NOT DONE", visit, on, ref)


def _state_row(
    lesion_id: str, group: str, status: Any, visit: str, on: dt.date, ref: dt.date | None
) -> Row:
    if status is None or status == LesionStatus.NOT_EVALUATED:
        return _tr_row(
            lesion_id, group, "TUMSTATE", "Tumor State", "", None, False, "NOT DONE", visit, on, ref
        )
    return _tr_row(
        lesion_id,
        group,
        "TUMSTATE",
        "Tumor State",
        TUMSTATE[status],
        None,
        False,
        "",
        visit,
        on,
        ref,
    )


def _sum_row(total: Decimal | None, visit: str, on: dt.date, ref: dt.date | None) -> Row:
    if total is None:
        return _tr_row(
            "", "TARGET", "SUMDIAM", "Sum of Diameter", "", None, False, "NOT DONE", visit, on, ref
        )
    return _tr_row(
        "", "TARGET", "SUMDIAM", "Sum of Diameter", _num(total), total, True, "", visit, on, ref
    )


def _tr(study: Study, s: Subject) -> list[Row]:
    if s.tumours is None:
        return []
    record = s.tumours.record
    ref = first_dose(s)
    base = record.baseline.date
    rows: list[Row] = []
    nodal = {lesion.lesion_id: lesion.nodal for lesion in record.baseline.lesions}
    targets = [les for les in record.baseline.lesions if les.role == LesionRole.TARGET]
    for lesion in record.baseline.lesions:
        if lesion.role == LesionRole.TARGET:
            rows.append(
                _target_row(
                    lesion.lesion_id, lesion.nodal, lesion.diameter_mm, None, "BASELINE", base, ref
                )
            )
        else:
            rows.append(
                _state_row(
                    lesion.lesion_id, "NON-TARGET", LesionStatus.PRESENT, "BASELINE", base, ref
                )
            )
    if targets:
        total = s.tumours.baseline_sum_mm
        if total is None and all(t.diameter_mm is not None for t in targets):
            total = sum((Decimal(str(t.diameter_mm)) for t in targets), Decimal(0))
        rows.append(_sum_row(total, "BASELINE", base, ref))
    sums = {r.on: r.sum_mm for r in s.tumours.responses}
    target_ids = {t.lesion_id for t in targets}
    for i, a in enumerate(record.assessments, start=1):
        visit = _follow_up_name(i)
        for obs in a.lesions:
            if obs.lesion_id in target_ids:
                rows.append(
                    _target_row(
                        obs.lesion_id,
                        nodal.get(obs.lesion_id, False),
                        obs.diameter_mm,
                        obs.status,
                        visit,
                        a.date,
                        ref,
                    )
                )
            else:
                rows.append(_state_row(obs.lesion_id, "NON-TARGET", obs.status, visit, a.date, ref))
        for new in a.new_lesions:
            row = _state_row(new.lesion_id, "NEW", new.status, visit, a.date, ref)
            if new.equivocal:
                row["TRORRES"] = row["TRSTRESC"] = "EQUIVOCAL"
            rows.append(row)
        if targets:
            rows.append(_sum_row(sums.get(a.date), visit, a.date, ref))
    return rows


def _rs(study: Study, s: Subject) -> list[Row]:
    if s.tumours is None:
        return []
    t = s.tumours
    ref = first_dose(s)
    dates = [a.date for a in t.record.assessments]
    rows: list[Row] = []

    def add(testcd: str, test: str, value: str, visit: str, on: dt.date | None) -> None:
        rows.append(
            {
                "RSTESTCD": testcd,
                "RSTEST": test,
                "RSCAT": t.criteria,
                "RSORRES": value,
                "RSSTRESC": value,
                "RSEVAL": "INVESTIGATOR",
                "VISIT": visit,
                "RSDTC": _d(on),
                "RSDY": study_day(on, ref),
            }
        )

    for r in t.responses:
        visit = _follow_up_name(dates.index(r.on) + 1) if r.on in dates else ""
        if r.target:
            add("TRGRESP", "Target Response", r.target, visit, r.on)
        if r.non_target:
            add("NTRGRESP", "Non-target Response", r.non_target, visit, r.on)
        add("NEWLPROG", "New Lesion Progression", "Y" if r.new_lesions else "N", visit, r.on)
        add("OVRLRESP", "Overall Response", r.overall, visit, r.on)
    if t.best_response:
        add("BESTRESP", "Best Overall Response", t.best_response, "", None)
    return rows


# --- Building datasets -------------------------------------------------------------------------

_MAPPERS: dict[str, Callable[[Study, Subject], Any]] = {
    "DM": _dm,
    "DS": _ds,
    "EX": _ex,
    "AE": _ae,
    "LB": _lb,
    "VS": _vs,
    "TU": _tu,
    "TR": _tr,
    "RS": _rs,
}
DOMAINS = tuple(_MAPPERS)


def check_variable(v: Variable, where: str) -> None:
    if not (1 <= len(v.name) <= MAX_NAME) or v.name != v.name.upper() or not v.name.isascii():
        raise ValidationError(
            f"{where}: variable name {v.name!r} is not 1-8 uppercase letters.",
            code="sdtm_variable_name_uppercase_letters",
            where=str(where),
            name=repr(v.name),
        )
    if len(v.label) > MAX_LABEL:
        raise ValidationError(
            f"{where}.{v.name}: label {v.label!r} has {len(v.label)} characters; XPT v5 allows "
            f"{MAX_LABEL}.",
            code="sdtm_label_characters_xpt_v5",
            where=str(where),
            name=str(v.name),
            label=repr(v.label),
            n_label=str(len(v.label)),
            max_label=str(MAX_LABEL),
        )


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` UTF-8 bytes, between words where possible.

    A part never ends with a space (XPT pads values with blanks and readers strip them), so a
    space at a cut starts the next part; ``"".join(parts) == text`` always holds.
    """
    parts: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > limit:
        cut = 0
        size = 0
        for i, ch in enumerate(rest):
            size += len(ch.encode("utf-8"))
            if size > limit:
                break
            cut = i + 1
        space = rest.rfind(" ", 1, cut + 1)
        if space > 0 and rest[:space].strip():
            cut = space
        while cut > 1 and rest[cut - 1] == " ":
            cut -= 1
        parts.append(rest[:cut])
        rest = rest[cut:]
    parts.append(rest)
    return parts


def _qnam(name: str, n: int) -> str:
    base = name if len(name) < MAX_NAME else name[: MAX_NAME - 1]
    return f"{base}{n}"


def _build(
    name: str,
    rows_by_subject: Sequence[tuple[Subject, list[Row], list[tuple[int, str, str, str]]]],
    study: Study,
) -> tuple[Dataset, list[Row]]:
    label, klass, structure, variables = SPECS[name]
    for v in variables:
        check_variable(v, name)
    names = [v.name for v in variables]
    keys = [v.name for v in sorted((v for v in variables if v.key), key=lambda v: v.key or 0)]
    seq_name = f"{name}SEQ"
    out: list[tuple[Any, ...]] = []
    supp: list[Row] = []
    for subject, rows, extra in rows_by_subject:
        usubjid = f"{study.study_id}-{subject.research_id}"
        for row in rows:
            row.update(STUDYID=study.study_id, DOMAIN=name, USUBJID=usubjid)
        order = sorted(
            range(len(rows)),
            key=lambda i: (
                (
                    *tuple(_sort_value(rows[i].get(k)) for k in keys[2:]),
                    _sort_value(rows[i].get("_ref")),
                    i,
                )
            ),
        )
        new_index = {old: new for new, old in enumerate(order)}
        for position, i in enumerate(order, start=1):
            row = rows[i]
            if seq_name in names:
                row[seq_name] = position
            unknown = set(row) - set(names) - {"_ref"}
            if unknown:
                raise ValidationError(
                    f"{name}: unknown variables {sorted(unknown)}.",
                    code="sdtm_unknown_variables",
                    name=str(name),
                    unknown=str(sorted(unknown)),
                )
            values = []
            for v in variables:
                value = row.get(v.name)
                if v.type in (TEXT, DATE):
                    value = "" if value is None else str(value)
                    if len(value.encode("utf-8")) > MAX_TEXT_BYTES:
                        parts = split_text(value)
                        value = parts[0]
                        for n, part in enumerate(parts[1:], start=1):
                            supp.append(
                                _supp_row(
                                    study,
                                    name,
                                    usubjid,
                                    seq_name,
                                    position,
                                    _qnam(v.name, n),
                                    v.label,
                                    part,
                                )
                            )
                values.append(value)
            out.append(tuple(values))
        for i, qnam, qlabel, qval in extra:
            supp.append(
                _supp_row(
                    study,
                    name,
                    usubjid,
                    seq_name,
                    new_index[i] + 1,
                    qnam,
                    qlabel,
                    qval,
                    origin="Assigned",
                )
            )
    return (
        Dataset(
            name, label, klass, structure, tuple(variables), tuple(out), repeating=name != "DM"
        ),
        supp,
    )


def _sort_value(value: Any) -> tuple[int, Any]:
    if value is None or value == "":
        return (0, "")
    if isinstance(value, int | Decimal):
        return (1, value)
    return (2, str(value))


def _supp_row(
    study: Study,
    domain: str,
    usubjid: str,
    seq_name: str,
    seq: int,
    qnam: str,
    qlabel: str,
    qval: str,
    origin: str = "Collected",
) -> Row:
    has_seq = domain != "DM"
    return {
        "STUDYID": study.study_id,
        "RDOMAIN": domain,
        "USUBJID": usubjid,
        "IDVAR": seq_name if has_seq else "",
        "IDVARVAL": str(seq) if has_seq else "",
        "QNAM": qnam,
        "QLABEL": qlabel[:MAX_LABEL],
        "QVAL": qval,
        "QORIG": origin,
        "QEVAL": "",
    }


def supp_dataset(domain: str, rows: Iterable[Row]) -> Dataset:
    name = f"SUPP{domain}"
    label = f"Supplemental Qualifiers for {domain}"
    ordered = sorted(
        rows,
        key=lambda r: (
            r["USUBJID"],
            int(r["IDVARVAL"] or 0),
            r["QNAM"][:-1] if r["QNAM"][-1:].isdigit() else r["QNAM"],
            len(r["QNAM"]),
            r["QNAM"],
        ),
    )
    for r in ordered:
        if len(r["QVAL"].encode("utf-8")) > MAX_TEXT_BYTES:  # split_text guarantees this
            raise ValidationError(
                f"{name}: QVAL over {MAX_TEXT_BYTES} bytes for {r['QNAM']}.",
                code="sdtm_qval_over_bytes",
                name=str(name),
                max_text_bytes=str(MAX_TEXT_BYTES),
                qnam=str(r["QNAM"]),
            )
    return Dataset(
        name,
        label,
        "RELATIONSHIP",
        "One record per supplemental qualifier per related parent domain record(s)",
        SUPP_VARIABLES,
        tuple(tuple(r[v.name] for v in SUPP_VARIABLES) for r in ordered),
    )


def sdtm_datasets(study: Study) -> list[Dataset]:
    """Every domain of the study (empty domains included), then the SUPP-- datasets that have
    records, in a fixed order."""
    if not study.study_id or len(study.study_id.encode("utf-8")) > MAX_TEXT_BYTES:
        raise ValidationError(
            "The study identifier (STUDYID) must have 1-200 characters.",
            code="sdtm_study_identifier_studyid_characters",
        )
    ids = [s.research_id for s in study.subjects]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValidationError(
            f"Research identifiers appear twice in the cut: {duplicates}.",
            code="sdtm_research_identifiers_appear_twice",
            duplicates=str(duplicates),
        )
    out: list[Dataset] = []
    supps: list[Dataset] = []
    subjects = sorted(study.subjects, key=lambda s: s.research_id)
    for name in DOMAINS:
        mapper = _MAPPERS[name]
        per_subject = []
        for s in subjects:
            result = mapper(study, s)
            rows, extra = result if isinstance(result, tuple) else (result, [])
            per_subject.append((s, rows, extra))
        dataset, supp = _build(name, per_subject, study)
        out.append(dataset)
        if supp:
            supps.append(supp_dataset(name, supp))
    return out + supps


def group_by(rows: Iterable[Row], *keys: str) -> dict[tuple[Any, ...], list[Row]]:
    out: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for r in rows:
        out[tuple(r.get(k) for k in keys)].append(r)
    return out
