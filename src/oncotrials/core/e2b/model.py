"""Plain data of one individual case safety report (ICH E2B(R3)), as an investigator site holds
it for a serious adverse event. Field comments give the E2B(R3) data element each one fills."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Sender:
    """C.3 (and N.1.3 / N.2.r.2): who sends the report."""

    identifier: str  # N.1.3, N.2.r.2: the sending organisation's identifier
    organisation: str  # C.3.2
    kind: str = "other"  # C.3.1, a key of codes.SENDER_TYPE
    country: str = ""  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class PrimarySource:
    """C.2.r: the reporter (for a trial, the investigator; never named here)."""

    qualification: str = "physician"  # C.2.r.4, a key of codes.QUALIFICATION
    country: str = ""  # C.2.r.3
    organisation: str = ""  # C.2.r.2.1


@dataclass(frozen=True)
class Study:
    """C.5: the study in which the reaction was observed."""

    sponsor_study_number: str  # C.5.3
    name: str  # C.5.2
    registrations: tuple[tuple[str, str], ...] = ()  # C.5.1.r: (number, country) pairs
    kind: str = "clinical_trial"  # C.5.4, a key of codes.STUDY_TYPE


@dataclass(frozen=True)
class Patient:
    """D: the patient, pseudonymised: D.1 is always masked, no date of birth is written."""

    investigation_number: str = ""  # D.1.1.4: the research (subject) identifier
    age_years: int | None = None  # D.2.2 at the onset of the reaction
    sex: str | None = None  # D.5: "male", "female" or None (unknown)
    weight_kg: Decimal | None = None  # D.3


@dataclass(frozen=True)
class Reaction:
    """E.i: one reaction / event."""

    uid: str  # the reaction's stable identifier (a UUID), referenced by causality assessments
    term: str  # E.i.1.1a as reported by the primary source
    meddra_code: int | None = None  # E.i.2.1b (LLT); None: written as text with a nullFlavor
    meddra_version: str = ""  # E.i.2.1a
    seriousness: frozenset[str] = frozenset()  # E.i.3.2, keys of codes.SERIOUSNESS
    outcome: str | None = None  # E.i.7, a key of codes.OUTCOME
    start: dt.date | None = None  # E.i.4
    end: dt.date | None = None  # E.i.5
    country: str = ""  # E.i.9


@dataclass(frozen=True)
class Drug:
    """G.k: one drug; for a trial, the investigational product(s), suspect."""

    uid: str  # stable identifier (a UUID), referenced by G.k.1 and causality
    name: str  # G.k.2.2 as reported
    role: str = "suspect"  # G.k.1, a key of codes.DRUG_ROLE
    blinded: bool = False  # G.k.2.5
    dose: Decimal | None = None  # G.k.4.r.1a (the last dose before the reaction)
    dose_unit: str = ""  # G.k.4.r.1b (UCUM)
    dosage_text: str = ""  # G.k.4.r.8
    route: str = ""  # G.k.4.r.10.1 free text; empty: unknown (nullFlavor UNK)
    first_dose: dt.date | None = None  # G.k.4.r.4
    last_dose: dt.date | None = None  # G.k.4.r.5
    action: str | None = None  # G.k.8, a key of codes.ACTION_TAKEN
    additional_information: str = ""  # G.k.11
    # G.k.9.i.2.r: (reaction uid, result) assessed by the investigator
    causality: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Nullification:
    """C.1.11: a nullification (the case is withdrawn) or an amendment of an earlier version."""

    kind: str  # "nullification" or "amendment"
    reason: str  # C.1.11.2


@dataclass(frozen=True)
class Icsr:
    """One ICSR version: the initial report (version 1) or a follow-up (version 2, 3...).

    Every version of a case keeps ``safety_report_id`` and ``worldwide_case_id``; a follow-up
    has a later ``most_recent_information`` (C.1.5) and a message identifier of its own.
    """

    safety_report_id: str  # C.1.1
    worldwide_case_id: str  # C.1.8.1
    version: int  # the report's sequence: 1 initial, then follow-ups (in N.2.r.1 and N.1.2)
    created_at: dt.datetime  # C.1.2, N.1.5, N.2.r.4 (aware)
    first_received: dt.date  # C.1.4
    most_recent_information: dt.date  # C.1.5
    expedited: bool  # C.1.7
    receiver: str  # N.1.4, N.2.r.3
    sender: Sender
    primary_source: PrimarySource
    study: Study
    patient: Patient
    reactions: tuple[Reaction, ...]
    drugs: tuple[Drug, ...]
    narrative: str  # H.1
    report_type: str = "study"  # C.1.3, a key of codes.REPORT_TYPE
    first_sender: str = "other"  # C.1.8.2, a key of codes.FIRST_SENDER
    nullification: Nullification | None = None  # C.1.11
    comments: tuple[str, ...] = field(default=())  # H.4 sender's comments
