"""ASTCT consensus grading of cytokine release syndrome (CRS) and ICANS in adults.

CRS is graded from fever, hypotension (and the vasopressors it needs) and hypoxia (and the oxygen
support it needs); the grade is the more severe of hypotension and hypoxia, with fever alone
grade 1. ICANS is graded from the ICE score, the depressed level of consciousness, seizures,
motor findings and raised intracranial pressure / cerebral oedema; the grade is the most severe
domain. Each result names the parameter(s) and table row that decided it.

Reading choices, stated here because the tables leave them implicit:

* Fever is a temperature >= 38.0 °C not attributable to another cause. Without fever the event
  is not graded as CRS (grade 0, with a note) unless antipyretic or anti-cytokine therapy
  (e.g. tocilizumab, corticosteroids) has been given, after which fever is no longer required.
* A vasopressor "with or without vasopressin" is grade 3; vasopressin alone counts as one
  vasopressor; grade 4 needs two or more vasopressors other than vasopressin. Vasopressors are
  counted by distinct drug through a controlled vocabulary (``vasopressors.py``): synonyms
  (noradrenaline = norepinephrine, AVP = vasopressin) count once, unknown names are refused.
* A nasal cannula needs its flow: <= 6 L/min is low flow (grade 2), > 6 L/min high flow (grade 3).
* An ICE score of 0 is grade 3 (awake, e.g. global aphasia); grade 4 comes from the patient
  being unarousable (consciousness domain), who then cannot do the ICE assessment.
* Depressed consciousness attributable to another cause (e.g. sedating medication) is left out.
* Tremor, myoclonus and intracranial haemorrhage are graded with CTCAE, not ICANS: they are not
  inputs here.

References
----------
.. [1] Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release
   syndrome and neurologic toxicity associated with immune effector cells. Biol Blood Marrow
   Transplant. 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758 (CRS grading table, ICE
   score table, ICANS grading table for adults, and their footnotes).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from oncotrials.core.errors import ValidationError
from oncotrials.core.grading.ctcae import to_decimal
from oncotrials.core.grading.vasopressors import VASOPRESSIN, distinct_vasopressors

SOURCE = "ASTCT consensus grading, Lee et al. Biol Blood Marrow Transplant 2019;25:625-638"
FEVER_C = Decimal("38.0")
LOW_FLOW_MAX_L_MIN = Decimal(6)


class OxygenDevice(enum.StrEnum):
    NONE = "none"
    BLOW_BY = "blow_by"
    NASAL_CANNULA = "nasal_cannula"  # needs the flow to decide low vs high flow
    LOW_FLOW_NASAL_CANNULA = "low_flow_nasal_cannula"
    HIGH_FLOW_NASAL_CANNULA = "high_flow_nasal_cannula"
    FACEMASK = "facemask"
    NON_REBREATHER = "non_rebreather"
    VENTURI = "venturi"
    CPAP = "cpap"
    BIPAP = "bipap"
    MECHANICAL_VENTILATION = "mechanical_ventilation"


_OXYGEN_GRADE = {
    OxygenDevice.NONE: 0,
    OxygenDevice.BLOW_BY: 2,
    OxygenDevice.LOW_FLOW_NASAL_CANNULA: 2,
    OxygenDevice.HIGH_FLOW_NASAL_CANNULA: 3,
    OxygenDevice.FACEMASK: 3,
    OxygenDevice.NON_REBREATHER: 3,
    OxygenDevice.VENTURI: 3,
    OxygenDevice.CPAP: 4,
    OxygenDevice.BIPAP: 4,
    OxygenDevice.MECHANICAL_VENTILATION: 4,
}

CRS_ROWS = {
    1: "Grade 1: fever >= 38.0 °C; no hypotension; no hypoxia",
    2: "Grade 2: fever with hypotension not requiring vasopressors and/or hypoxia requiring "
    "low-flow nasal cannula (<= 6 L/min) or blow-by",
    3: "Grade 3: fever with hypotension requiring a vasopressor with or without vasopressin "
    "and/or hypoxia requiring high-flow nasal cannula (> 6 L/min), facemask, non-rebreather "
    "mask or Venturi mask",
    4: "Grade 4: fever with hypotension requiring multiple vasopressors (excluding vasopressin) "
    "and/or hypoxia requiring positive pressure (CPAP, BiPAP, intubation and mechanical "
    "ventilation)",
    5: "Grade 5: death due to CRS in which another cause is not the principal factor",
}


@dataclass(frozen=True, slots=True)
class CrsAssessment:
    """The findings at one CRS assessment.

    ``vasopressors`` lists the vasopressors running for hypotension (names, e.g.
    "norepinephrine", "vasopressin"); a non-empty list implies hypotension.
    """

    temperature_c: Decimal | None = None
    fever_other_cause: bool = False
    antipyretic_or_anticytokine_given: bool = False
    hypotension: bool = False
    vasopressors: tuple[str, ...] = ()
    hypotension_other_cause: bool = False
    oxygen_device: OxygenDevice = OxygenDevice.NONE
    oxygen_flow_l_min: Decimal | None = None
    hypoxia_other_cause: bool = False
    death_from_crs: bool = False


@dataclass(frozen=True, slots=True)
class AstctGrade:
    """An ASTCT grade, the domain grades behind it and the rule that decided it."""

    scale: str
    grade: int
    rule: str
    decided_by: tuple[str, ...]
    domains: Mapping[str, int]
    notes: tuple[str, ...] = ()
    ice_score: int | None = None


def grade_crs(a: CrsAssessment) -> AstctGrade:
    """ASTCT CRS grade of one assessment (Lee et al. 2019, CRS consensus grading table)."""
    notes: list[str] = []
    if a.temperature_c is not None and not Decimal(30) <= a.temperature_c <= Decimal(45):
        raise ValidationError(
            f"temperature_c must be a body temperature in °C (30-45); got {a.temperature_c}. "
            f"Convert °F with (F - 32) / 1.8."
        )
    fever = a.temperature_c is not None and a.temperature_c >= FEVER_C and not a.fever_other_cause
    hypotension_grade = 0
    if (a.hypotension or a.vasopressors) and not a.hypotension_other_cause:
        pressors = distinct_vasopressors(a.vasopressors)
        named = [p for p in a.vasopressors if p.strip()]
        if len(named) > len(pressors):
            notes.append(
                f"vasopressors counted by distinct drug: {', '.join(named)} are "
                f"{len(pressors)} drug(s) ({', '.join(pressors)})"
            )
        non_vasopressin = [p for p in pressors if p != VASOPRESSIN]
        if len(non_vasopressin) >= 2:
            hypotension_grade = 4
        elif pressors:
            hypotension_grade = 3
        else:
            hypotension_grade = 2
    device = a.oxygen_device
    if device is OxygenDevice.NASAL_CANNULA:
        if a.oxygen_flow_l_min is None:
            raise ValidationError(
                "oxygen_device nasal_cannula needs oxygen_flow_l_min: ASTCT separates low flow "
                "(<= 6 L/min, grade 2) from high flow (> 6 L/min, grade 3)."
            )
        device = (
            OxygenDevice.LOW_FLOW_NASAL_CANNULA
            if a.oxygen_flow_l_min <= LOW_FLOW_MAX_L_MIN
            else OxygenDevice.HIGH_FLOW_NASAL_CANNULA
        )
    hypoxia_grade = 0 if a.hypoxia_other_cause else _OXYGEN_GRADE[device]
    domains = {
        "fever": 1 if fever else 0,
        "hypotension": hypotension_grade,
        "hypoxia": hypoxia_grade,
    }
    if a.death_from_crs:
        return AstctGrade("ASTCT_CRS", 5, CRS_ROWS[5], ("death",), domains, ())
    if not fever and not a.antipyretic_or_anticytokine_given:
        if hypotension_grade or hypoxia_grade:
            notes.append(
                "hypotension or hypoxia without fever (>= 38.0 °C) and without prior "
                "antipyretic or anti-cytokine therapy is not graded as CRS"
            )
        return AstctGrade(
            "ASTCT_CRS",
            0,
            "No CRS: no fever >= 38.0 °C attributable to CRS",
            (),
            domains,
            tuple(notes),
        )
    if not fever:
        notes.append(
            "fever not required: antipyretic or anti-cytokine therapy already given; grade "
            "driven by hypotension and hypoxia"
        )
    grade = max(domains.values())
    if grade == 0:
        return AstctGrade(
            "ASTCT_CRS", 0, "No CRS grading parameter present", (), domains, tuple(notes)
        )
    decided = tuple(name for name, g in domains.items() if g == grade)
    return AstctGrade("ASTCT_CRS", grade, CRS_ROWS[grade], decided, domains, tuple(notes))


# --------------------------------------------------------------------------------- ICANS


class Consciousness(enum.StrEnum):
    ALERT = "alert"  # no depressed level of consciousness
    AWAKENS_SPONTANEOUSLY = "awakens_spontaneously"
    AWAKENS_TO_VOICE = "awakens_to_voice"
    AWAKENS_TO_TACTILE = "awakens_to_tactile"
    UNAROUSABLE = "unarousable"  # or needs vigorous/repetitive tactile stimuli; stupor; coma


class Seizure(enum.StrEnum):
    NONE = "none"
    RAPIDLY_RESOLVING = "rapidly_resolving"  # or non-convulsive on EEG resolving with treatment
    LIFE_THREATENING = "life_threatening"  # > 5 min, or repetitive without return to baseline


class MotorFindings(enum.StrEnum):
    NONE = "none"
    DEEP_FOCAL_WEAKNESS = "deep_focal_weakness"  # hemiparesis, paraparesis


class RaisedIcp(enum.StrEnum):
    NONE = "none"
    FOCAL_EDEMA = "focal_edema"
    DIFFUSE_EDEMA_OR_SIGNS = (
        "diffuse_edema_or_signs"  # posturing, CN VI palsy, papilledema, Cushing
    )


_CONSCIOUSNESS_GRADE = {
    Consciousness.ALERT: 0,
    Consciousness.AWAKENS_SPONTANEOUSLY: 1,
    Consciousness.AWAKENS_TO_VOICE: 2,
    Consciousness.AWAKENS_TO_TACTILE: 3,
    Consciousness.UNAROUSABLE: 4,
}
_SEIZURE_GRADE = {Seizure.NONE: 0, Seizure.RAPIDLY_RESOLVING: 3, Seizure.LIFE_THREATENING: 4}
_MOTOR_GRADE = {MotorFindings.NONE: 0, MotorFindings.DEEP_FOCAL_WEAKNESS: 4}
_ICP_GRADE = {RaisedIcp.NONE: 0, RaisedIcp.FOCAL_EDEMA: 3, RaisedIcp.DIFFUSE_EDEMA_OR_SIGNS: 4}

ICE_ITEMS: Mapping[str, int] = {
    "orientation": 4,  # year, month, city, hospital: 1 point each
    "naming": 3,  # names 3 objects: 1 point each
    "following_commands": 1,
    "writing": 1,  # writes a standard sentence
    "attention": 1,  # counts backwards from 100 by 10
}


@dataclass(frozen=True, slots=True)
class IceItems:
    """The five items of the ICE (immune effector cell-associated encephalopathy) score."""

    orientation: int
    naming: int
    following_commands: int
    writing: int
    attention: int

    def score(self) -> int:
        return ice_score(self)


def ice_score(items: IceItems) -> int:
    """ICE score 0-10 from its five items (Lee et al. 2019, ICE table)."""
    total = 0
    for name, maximum in ICE_ITEMS.items():
        points = getattr(items, name)
        if isinstance(points, bool) or not isinstance(points, int):
            raise ValidationError(f"ICE item {name} must be a whole number; got {points!r}.")
        if not 0 <= points <= maximum:
            raise ValidationError(f"ICE item {name} scores 0 to {maximum} points; got {points}.")
        total += points
    return total


@dataclass(frozen=True, slots=True)
class IcansAssessment:
    """The findings at one ICANS assessment: the ICE score (adults and children aged 12 or
    over) or, for children under 12, the CAPD score (``capd``, 0-32)."""

    ice: IceItems | int | None = None
    capd: int | None = None
    consciousness: Consciousness = Consciousness.ALERT
    consciousness_other_cause: bool = False
    seizure: Seizure = Seizure.NONE
    motor: MotorFindings = MotorFindings.NONE
    raised_icp: RaisedIcp = RaisedIcp.NONE
    death_from_icans: bool = False


ICANS_ROWS = {
    "ice": {1: "ICE score 7-9", 2: "ICE score 3-6", 3: "ICE score 0-2"},
    "capd": {1: "CAPD score 1-8", 3: "CAPD score >= 9"},
    "consciousness": {
        1: "depressed level of consciousness: awakens spontaneously",
        2: "depressed level of consciousness: awakens to voice",
        3: "depressed level of consciousness: awakens only to tactile stimulus",
        4: "unarousable or requires vigorous or repetitive tactile stimuli to arouse; stupor "
        "or coma",
    },
    "seizure": {
        3: "any clinical seizure, focal or generalised, that resolves rapidly, or "
        "non-convulsive seizures on EEG that resolve with intervention",
        4: "life-threatening prolonged seizure (> 5 min), or repetitive clinical or electrical "
        "seizures without return to baseline in between",
    },
    "motor": {4: "deep focal motor weakness such as hemiparesis or paraparesis"},
    "raised_icp": {
        3: "focal/local oedema on neuroimaging",
        4: "diffuse cerebral oedema on neuroimaging; decerebrate or decorticate posturing; "
        "cranial nerve VI palsy; papilledema; or Cushing's triad",
    },
}


def _ice_domain_grade(score: int) -> int:
    if score >= 10:
        return 0
    if score >= 7:
        return 1
    if score >= 3:
        return 2
    return 3


#: The CAPD: 8 items scored 0-4 (Traube et al., Crit Care Med 2014;42:656-663).
CAPD_MAX = 32


def _capd_domain_grade(score: int) -> int:
    """ASTCT paediatric table (Lee et al. 2019, children under 12): CAPD 1-8 is grades 1-2
    (told apart by the level of consciousness), CAPD >= 9 grade 3; 0 is no encephalopathy."""
    if score == 0:
        return 0
    return 1 if score <= 8 else 3


def grade_icans(a: IcansAssessment) -> AstctGrade:
    """ASTCT ICANS grade (Lee et al. 2019): the table for adults and children aged 12 or over
    (ICE score), or the paediatric table for children under 12 (CAPD score in place of the ICE
    score; the other domains are the same; unable to perform the CAPD because unarousable is
    grade 4 through the consciousness domain)."""
    notes: list[str] = []
    unarousable = a.consciousness is Consciousness.UNAROUSABLE and not a.consciousness_other_cause
    if a.capd is not None:
        if a.ice is not None:
            raise ValidationError("Give the ICE score or the CAPD score, not both.")
        if isinstance(a.capd, bool) or not 0 <= a.capd <= CAPD_MAX:
            raise ValidationError(f"The CAPD score runs from 0 to {CAPD_MAX}; got {a.capd!r}.")
        return _grade_domains(
            a,
            {"capd": _capd_domain_grade(a.capd)},
            [f"CAPD score {a.capd} (paediatric table, children under 12)"],
            None,
            unarousable,
        )
    score: int | None
    if isinstance(a.ice, IceItems):
        score = ice_score(a.ice)
    elif a.ice is None:
        score = None
    else:
        if isinstance(a.ice, bool) or not 0 <= a.ice <= 10:
            raise ValidationError(f"The ICE score runs from 0 to 10; got {a.ice!r}.")
        score = a.ice
    if score is None and not unarousable and not a.death_from_icans:
        raise ValidationError(
            "ICANS grading needs the ICE score (its five items or the total 0-10), unless the "
            "patient is unarousable; record consciousness 'unarousable' in that case."
        )
    return _grade_domains(
        a, {"ice": 0 if score is None else _ice_domain_grade(score)}, notes, score, unarousable
    )


def _grade_domains(
    a: IcansAssessment,
    cognition: dict[str, int],
    notes: list[str],
    score: int | None,
    unarousable: bool,
) -> AstctGrade:
    domains = {
        **cognition,
        "consciousness": 0
        if a.consciousness_other_cause
        else _CONSCIOUSNESS_GRADE[a.consciousness],
        "seizure": _SEIZURE_GRADE[a.seizure],
        "motor": _MOTOR_GRADE[a.motor],
        "raised_icp": _ICP_GRADE[a.raised_icp],
    }
    if a.consciousness_other_cause and a.consciousness is not Consciousness.ALERT:
        notes.append("depressed consciousness attributed to another cause: not counted")
    if unarousable:
        test = "CAPD" if "capd" in cognition else "ICE"
        notes.append(f"unarousable: the {test} assessment cannot be performed (grade 4)")
    if a.death_from_icans:
        return AstctGrade(
            "ASTCT_ICANS", 5, "Grade 5: death due to ICANS", ("death",), domains, (), score
        )
    grade = max(domains.values())
    if grade == 0:
        return AstctGrade(
            "ASTCT_ICANS",
            0,
            "No ICANS: CAPD 0 and no finding in any domain"
            if "capd" in cognition
            else "No ICANS: ICE 10 and no finding in any domain",
            (),
            domains,
            tuple(notes),
            score,
        )
    decided = tuple(name for name, g in domains.items() if g == grade)
    rows = "; ".join(ICANS_ROWS[name][grade] for name in decided)
    return AstctGrade(
        "ASTCT_ICANS", grade, f"Grade {grade}: {rows}", decided, domains, tuple(notes), score
    )


# ------------------------------------------------------------------------- from plain data


def _enum(cls: type[enum.Enum], value: Any, field_name: str, where: str) -> Any:
    try:
        return cls(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(str(m.value) for m in cls)
        raise ValidationError(
            f"{where}: {field_name} {value!r} is not one of: {allowed}."
        ) from None


def _bool(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ValidationError(f"{where}: {key} must be true or false; got {value!r}.")
    return value


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            f"{where}: unknown field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}."
        )


_CRS_FIELDS = {
    "id",
    "time",
    "temperature_c",
    "fever_other_cause",
    "antipyretic_or_anticytokine_given",
    "hypotension",
    "vasopressors",
    "hypotension_other_cause",
    "oxygen_device",
    "oxygen_flow_l_min",
    "hypoxia_other_cause",
    "death_from_crs",
}
_ICANS_FIELDS = {
    "id",
    "time",
    "age_years",
    "ice",
    "ice_score",
    "capd_score",
    "consciousness",
    "consciousness_other_cause",
    "seizure",
    "motor",
    "raised_icp",
    "death_from_icans",
}


def crs_assessment_from_dict(
    data: Mapping[str, Any], *, where: str = "assessment"
) -> CrsAssessment:
    """Build a :class:`CrsAssessment` from a JSON/YAML mapping (see docs/formats/crs-icans.md)."""
    _check_keys(data, _CRS_FIELDS, where)
    temperature = data.get("temperature_c")
    flow = data.get("oxygen_flow_l_min")
    pressors = data.get("vasopressors", [])
    if not isinstance(pressors, list) or not all(isinstance(p, str) for p in pressors):
        raise ValidationError(f"{where}: vasopressors must be a list of names; got {pressors!r}.")
    distinct_vasopressors(pressors, where=f"{where}: vasopressors")  # unknown names refused here
    return CrsAssessment(
        temperature_c=None
        if temperature is None
        else to_decimal(temperature, field=f"{where}: temperature_c"),
        fever_other_cause=_bool(data, "fever_other_cause", where),
        antipyretic_or_anticytokine_given=_bool(data, "antipyretic_or_anticytokine_given", where),
        hypotension=_bool(data, "hypotension", where),
        vasopressors=tuple(pressors),
        hypotension_other_cause=_bool(data, "hypotension_other_cause", where),
        oxygen_device=_enum(
            OxygenDevice, data.get("oxygen_device", "none"), "oxygen_device", where
        ),
        oxygen_flow_l_min=None
        if flow is None
        else to_decimal(flow, field=f"{where}: oxygen_flow_l_min"),
        hypoxia_other_cause=_bool(data, "hypoxia_other_cause", where),
        death_from_crs=_bool(data, "death_from_crs", where),
    )


#: The ICE score is validated for adults and children aged 12 and over (Lee et al. 2019).
ICANS_MIN_AGE_YEARS = 12


def check_icans_age(age: Any, *, where: str = "assessment", capd: bool = False) -> None:
    """Refuse ICE-based ICANS grading of a child under 12, who is graded with the CAPD
    (``capd``: the assessment gives the CAPD score, which is accepted at any age)."""
    if isinstance(age, bool) or not isinstance(age, (int, float, Decimal, str)):
        raise ValidationError(f"{where}: age_years must be a number of years; got {age!r}.")
    years = to_decimal(age, field=f"{where}: age_years")
    if years > 120:
        raise ValidationError(f"{where}: age_years {age} is not a plausible age in years.")
    if years < ICANS_MIN_AGE_YEARS and not capd:
        raise ValidationError(
            f"{where}: age_years {age}: ASTCT ICANS grading with the ICE score is for adults "
            f"and children aged 12 or over; children under 12 are graded with the Cornell "
            f"Assessment of Pediatric Delirium (CAPD): record capd_score (0-{CAPD_MAX}) "
            f"instead of the ICE score (ASTCT paediatric table, Lee et al. 2019).",
            code="not_gradable",
        )


def icans_assessment_from_dict(
    data: Mapping[str, Any], *, where: str = "assessment", age_years: Any = None
) -> IcansAssessment:
    """Build an :class:`IcansAssessment` from a JSON/YAML mapping (docs/formats/crs-icans.md);
    ``age_years``: the subject's age when the mapping does not give it."""
    _check_keys(data, _ICANS_FIELDS, where)
    capd = data.get("capd_score")
    age = data.get("age_years", age_years)
    if age is not None:
        check_icans_age(age, where=where, capd=capd is not None)
    if capd is not None:
        if isinstance(capd, bool) or not isinstance(capd, int):
            raise ValidationError(
                f"{where}: capd_score must be a whole number 0-{CAPD_MAX}; got {capd!r}."
            )
        if "ice" in data or data.get("ice_score") is not None:
            raise ValidationError(f"{where}: give the ICE score or capd_score, not both.")
    ice: IceItems | int | None = None
    if "ice" in data and "ice_score" in data:
        raise ValidationError(f"{where}: give either ice (the five items) or ice_score, not both.")
    if "ice" in data:
        items = data["ice"]
        if not isinstance(items, Mapping):
            raise ValidationError(f"{where}: ice must map the five items to points.")
        _check_keys(items, set(ICE_ITEMS), f"{where}: ice")
        missing = [k for k in ICE_ITEMS if k not in items]
        if missing:
            raise ValidationError(f"{where}: ice is missing item(s) {', '.join(missing)}.")
        ice = IceItems(**{k: items[k] for k in ICE_ITEMS})
    elif data.get("ice_score") is not None:
        value = data["ice_score"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{where}: ice_score must be a whole number 0-10; got {value!r}.")
        ice = value
    return IcansAssessment(
        ice=ice,
        capd=capd,
        consciousness=_enum(
            Consciousness, data.get("consciousness", "alert"), "consciousness", where
        ),
        consciousness_other_cause=_bool(data, "consciousness_other_cause", where),
        seizure=_enum(Seizure, data.get("seizure", "none"), "seizure", where),
        motor=_enum(MotorFindings, data.get("motor", "none"), "motor", where),
        raised_icp=_enum(RaisedIcp, data.get("raised_icp", "none"), "raised_icp", where),
        death_from_icans=_bool(data, "death_from_icans", where),
    )


@dataclass(frozen=True, slots=True)
class GradedAssessment:
    """One assessment of a file, with its identifier and time as given."""

    id: str
    time: str | None
    result: AstctGrade


@dataclass(frozen=True, slots=True)
class AstctCourse:
    """All assessments of one subject and the worst grade among them."""

    subject_id: str | None
    scale: str
    assessments: tuple[GradedAssessment, ...]
    worst_grade: int
    worst_assessment: str | None = field(default=None)


def grade_assessments(
    assessments: Sequence[Mapping[str, Any]],
    *,
    scale: str,
    subject_id: str | None = None,
    age_years: Any = None,
) -> AstctCourse:
    """Grade a list of CRS or ICANS assessments given as mappings.

    ``age_years`` (the subject's age): under 12 years, ICANS is graded with the CAPD score
    and an assessment giving the ICE score instead is refused.
    """
    if age_years is not None and scale == "icans":  # a plausible age, checked once
        check_icans_age(
            age_years, where=f"subject {subject_id}" if subject_id else "subject", capd=True
        )
    graded: list[GradedAssessment] = []
    for index, item in enumerate(assessments, start=1):
        where = f"assessment {index}" + (
            f" ({item.get('id')})" if isinstance(item, Mapping) and item.get("id") else ""
        )
        if not isinstance(item, Mapping):
            raise ValidationError(f"{where}: each assessment must be an object.")
        if scale == "crs":
            result = grade_crs(crs_assessment_from_dict(item, where=where))
        elif scale == "icans":
            result = grade_icans(icans_assessment_from_dict(item, where=where, age_years=age_years))
        else:
            raise ValidationError(f"Unknown ASTCT scale {scale!r}; use crs or icans.")
        time = item.get("time")
        graded.append(
            GradedAssessment(
                str(item.get("id", index)), None if time is None else str(time), result
            )
        )
    if not graded:
        raise ValidationError("No assessments to grade: the file lists none.")
    worst = max(graded, key=lambda g: g.result.grade)
    return AstctCourse(
        subject_id, f"ASTCT_{scale.upper()}", tuple(graded), worst.result.grade, worst.id
    )
