"""Input records and result objects of RECIST 1.1 and iRECIST.

Inputs are plain frozen dataclasses a notebook, an app or the JSON reader can build. Diameters are
given in millimetres as :class:`~decimal.Decimal`, ``int`` or ``float`` (a float is read through its
shortest decimal representation, so ``25.2`` means exactly 25.2 mm). They are checked and turned
into integer hundredths of a millimetre when a record is evaluated: every sum and every threshold
comparison is then exact integer arithmetic, so "exactly -30 %" and "exactly +20 %" fall on the
side the paper intends (binary floats would put ``(25.2 - 21) / 21`` just below 0.20).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import Decimal

Millimetres = Decimal | int | float

#: Number of internal units in one millimetre (measurements are exact to 0.01 mm).
UNITS_PER_MM = 100


class Response(enum.StrEnum):
    """A RECIST 1.1 response, for target, non-target or overall assessment."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    NON_CR_NON_PD = "NON-CR/NON-PD"
    PD = "PD"
    NE = "NE"


class IResponse(enum.StrEnum):
    """An iRECIST time-point response (Seymour et al. 2017)."""

    ICR = "iCR"
    IPR = "iPR"
    ISD = "iSD"
    NON_ICR_NON_IUPD = "NON-iCR/NON-iUPD"
    IUPD = "iUPD"
    ICPD = "iCPD"
    NE = "NE"


class LesionRole(enum.StrEnum):
    TARGET = "target"
    NON_TARGET = "non_target"


class Method(enum.StrEnum):
    """How a lesion was measured; it sets the minimum measurable size."""

    CT = "CT"
    MRI = "MRI"
    CALIPER = "caliper"
    CHEST_XRAY = "chest_xray"


class LesionKind(enum.StrEnum):
    """What a baseline lesion is; the truly non-measurable kinds are never targets."""

    SOFT_TISSUE = "soft_tissue"
    LYTIC_BONE = "lytic_bone"  # lytic or mixed lytic-blastic with a soft-tissue component
    CYSTIC = "cystic"
    BLASTIC_BONE = "blastic_bone"
    LEPTOMENINGEAL = "leptomeningeal"
    ASCITES = "ascites"
    PLEURAL_EFFUSION = "pleural_effusion"
    PERICARDIAL_EFFUSION = "pericardial_effusion"
    INFLAMMATORY_BREAST = "inflammatory_breast"
    LYMPHANGITIC = "lymphangitic"
    ABDOMINAL_MASS_EXAM = "abdominal_mass_exam"
    PREVIOUSLY_IRRADIATED = "previously_irradiated"


#: Kinds RECIST 1.1 section 3.1.2 calls truly non-measurable, whatever their size.
NON_MEASURABLE_KINDS = frozenset(
    {
        LesionKind.BLASTIC_BONE,
        LesionKind.LEPTOMENINGEAL,
        LesionKind.ASCITES,
        LesionKind.PLEURAL_EFFUSION,
        LesionKind.PERICARDIAL_EFFUSION,
        LesionKind.INFLAMMATORY_BREAST,
        LesionKind.LYMPHANGITIC,
        LesionKind.ABDOMINAL_MASS_EXAM,
    }
)


class LesionStatus(enum.StrEnum):
    """What a reader recorded for a lesion at a follow-up assessment.

    Target lesions take a ``diameter_mm`` or one of ``absent`` (0 mm), ``too_small`` (present but
    too small to measure: 5 mm by convention) and ``not_evaluated``. Non-target lesions and new
    lesions take ``absent``, ``present``, ``increased`` (larger than at the previous assessment but
    not unequivocal progression; it confirms iRECIST progression), ``unequivocal_progression`` or
    ``not_evaluated``.
    """

    ABSENT = "absent"
    PRESENT = "present"
    TOO_SMALL = "too_small"
    INCREASED = "increased"
    UNEQUIVOCAL_PROGRESSION = "unequivocal_progression"
    NOT_EVALUATED = "not_evaluated"


@dataclass(frozen=True, slots=True)
class BaselineLesion:
    """A lesion recorded at baseline.

    ``diameter_mm`` is the longest diameter of a non-nodal lesion or the short axis of a lymph
    node. ``role`` is ``None`` when targets are to be selected automatically (then every lesion of
    the record must leave it ``None``).
    """

    lesion_id: str
    organ: str
    diameter_mm: Millimetres | None = None
    nodal: bool = False
    role: LesionRole | None = None
    method: Method = Method.CT
    slice_thickness_mm: Millimetres | None = None
    kind: LesionKind = LesionKind.SOFT_TISSUE
    progressed_after_local_therapy: bool = False


@dataclass(frozen=True, slots=True)
class Baseline:
    date: dt.date
    lesions: tuple[BaselineLesion, ...]


@dataclass(frozen=True, slots=True)
class LesionObservation:
    """One baseline lesion seen again at a follow-up assessment."""

    lesion_id: str
    diameter_mm: Millimetres | None = None
    status: LesionStatus | None = None


@dataclass(frozen=True, slots=True)
class NewLesion:
    """A lesion absent at baseline.

    An ``equivocal`` finding does not count yet; if a later assessment confirms the same
    ``lesion_id``, progression is dated from the first assessment that showed it. A new lymph node
    counts only with a short axis of at least 10 mm, so nodal new lesions need ``diameter_mm``.
    """

    lesion_id: str
    organ: str = ""
    nodal: bool = False
    diameter_mm: Millimetres | None = None
    status: LesionStatus = LesionStatus.PRESENT
    equivocal: bool = False


@dataclass(frozen=True, slots=True)
class Assessment:
    """A follow-up tumour assessment.

    ``tumour_markers_normal`` is ``False`` when a tumour marker is above the upper normal limit
    (non-target CR is then impossible), ``None`` when no marker is followed. ``clinical_symptoms``
    records a scan done for a new symptom or sign (iRECIST lets such a scan confirm progression
    earlier than 4 weeks if it shows a further new lesion).
    """

    date: dt.date
    lesions: tuple[LesionObservation, ...] = ()
    new_lesions: tuple[NewLesion, ...] = ()
    tumour_markers_normal: bool | None = None
    clinical_symptoms: bool = False


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """Everything needed to evaluate one patient.

    ``start_date`` is the start of treatment (or randomisation): the minimum duration of stable
    disease counts from it. Assessments on or after ``new_therapy_date`` (start of a further
    anticancer therapy) are evaluated but never count towards the best overall response.
    """

    patient_id: str
    start_date: dt.date
    baseline: Baseline
    assessments: tuple[Assessment, ...]
    new_therapy_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class RecistOptions:
    """Protocol choices for RECIST 1.1 evaluation.

    Parameters
    ----------
    confirmation
        Whether the headline best overall response requires confirmation of CR/PR (single-arm
        trials with response as an endpoint). Both readings are always computed.
    min_confirmation_days
        Minimum interval between a CR/PR and the assessment confirming it (RECIST 1.1 section
        4.4: "generally 4 weeks").
    min_sd_days
        Minimum interval from ``start_date`` at which stable disease (or an unconfirmed response)
        must be met to count as SD; earlier, it counts as NE (inclusive: ``date >= start + days``).
    max_ne_between
        Most NE assessments allowed between a response and its confirmation.
    accept_sd_between
        Whether one SD assessment may lie between a PR and its confirmation.
    continuing_pr
        The EORTC reading (default): once the target response has been PR or CR, it stays PR
        while the PD criteria are not met, even if the sum creeps back above 70 % of baseline.
        ``False`` applies the table strictly (SD unless 30 % below baseline). The time-point
        rule keys on any earlier target PR/CR; whether that PR was confirmed is decided by the
        best-overall-response step, which needs a later CR/PR anyway.
    reappearance_after_cr_is_pd
        EORTC FAQ: a lesion that reappears after a CR at the previous assessment is progression,
        even below the +20 %/+5 mm thresholds. "CR" here means all baseline disease gone (target
        and non-target CR), whether or not a new lesion was also seen.
    """

    confirmation: bool = False
    min_confirmation_days: int = 28
    min_sd_days: int = 42
    max_ne_between: int = 1
    accept_sd_between: bool = False
    continuing_pr: bool = True
    reappearance_after_cr_is_pd: bool = True


@dataclass(frozen=True, slots=True)
class IRecistOptions:
    """Protocol choices for iRECIST, on top of the RECIST 1.1 ones.

    ``confirm_min_days`` and ``confirm_tolerance_days``: a scan fewer than ``confirm_min_days -
    confirm_tolerance_days`` days after iUPD cannot confirm or reset it (Seymour 2017: the next
    assessment 4-8 weeks later; EORTC FAQ allows a ±2 day protocol variance), unless it was done
    for clinical symptoms and shows a further new lesion. ``confirm_max_days``: a scan more than
    ``confirm_max_days + confirm_tolerance_days`` days after iUPD still confirms, remains or resets
    it, with a warning on that time point (the confirmation window is 4-8 weeks).
    """

    recist: RecistOptions = field(default_factory=RecistOptions)
    confirm_min_days: int = 28
    confirm_tolerance_days: int = 2
    confirm_max_days: int = 56


@dataclass(frozen=True, slots=True)
class TimepointResult:
    """The RECIST 1.1 response at one assessment and the rules that decided it.

    ``sum_mm`` is the sum of diameters (``None`` when not all targets were evaluated),
    ``nadir_mm`` the smallest sum before this assessment (baseline included): the reference for
    PD. ``rule`` names the row of RECIST 1.1 Table 1 or Table 2 that gave ``overall``. The
    percentage changes are shown rounded to 0.01 %; decisions never use them (they compare exact
    sums).
    """

    date: dt.date
    target: Response | None
    non_target: Response | None
    new_lesions: bool
    overall: Response
    rule: str
    target_rule: str | None
    non_target_rule: str | None
    sum_mm: Decimal | None
    nadir_mm: Decimal | None
    baseline_sum_mm: Decimal | None

    @property
    def change_from_baseline_pct(self) -> Decimal | None:
        return _percent_change(self.sum_mm, self.baseline_sum_mm)

    @property
    def change_from_nadir_pct(self) -> Decimal | None:
        return _percent_change(self.sum_mm, self.nadir_mm)


def _percent_change(value: Decimal | None, reference: Decimal | None) -> Decimal | None:
    if value is None or not reference:
        return None
    return ((value - reference) * 100 / reference).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class BestOverallResponse:
    """Best overall response; ``date`` is the assessment that gave it (the first, on ties)."""

    response: Response | IResponse
    date: dt.date | None
    rule: str
    confirmed_by: dt.date | None = None


@dataclass(frozen=True, slots=True)
class RecistResult:
    """RECIST 1.1 evaluation of one patient.

    ``bor`` follows ``options.confirmation``; both readings are given. ``response_date`` is the
    first date CR/PR criteria were met in the chosen reading (the start of duration of response),
    ``progression_date`` the date of first progression (backdated to the first scan that showed a
    new lesion first reported as equivocal), ``last_adequate_date`` the last assessment before
    progression with a response other than NE (the censoring date for PFS).
    """

    patient_id: str
    target_ids: tuple[str, ...]
    non_target_ids: tuple[str, ...]
    baseline_sum_mm: Decimal | None
    timepoints: tuple[TimepointResult, ...]
    bor: BestOverallResponse
    bor_unconfirmed: BestOverallResponse
    bor_confirmed: BestOverallResponse
    response_date: dt.date | None
    progression_date: dt.date | None
    last_adequate_date: dt.date | None
    selection_notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ITimepointResult:
    """The iRECIST response at one assessment, beside the RECIST 1.1 one it builds on."""

    date: dt.date
    overall: IResponse
    rule: str
    recist: TimepointResult
    iupd_categories: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IRecistResult:
    """iRECIST evaluation of one patient.

    ``progression_date`` is the date of the iUPD that was later confirmed (the PFS event date);
    ``icpd_date`` the assessment that confirmed it. ``response_date`` starts iDOR.
    """

    patient_id: str
    timepoints: tuple[ITimepointResult, ...]
    ibor: BestOverallResponse
    ibor_unconfirmed: BestOverallResponse
    ibor_confirmed: BestOverallResponse
    response_date: dt.date | None
    progression_date: dt.date | None
    icpd_date: dt.date | None
    last_adequate_date: dt.date | None
