"""CTCAE lab grading (v5.0 by default, v6.0 where it differs).

Each gradable term is a list of *bands*: "grade g when the value is below/above a threshold",
where the threshold is absolute (as printed by NCI, per unit), a multiple of LLN, ULN or
baseline, or a clinical fact. The grade is the highest band that holds, so grades are monotone
in the value by construction. The band that decided is returned with the NCI grade text, so a
data manager can check every grade.

Clinical facts are inputs, never guesses. Where the NCI text separates two grades by symptoms
(hypokalaemia 1 vs 2, hyponatraemia 2 vs 3, lipase/amylase 2–4) and ``symptomatic`` is not
given, the result reports both possible grades, returns the worse one as ``grade`` and lists
``symptomatic`` in ``missing_facts``. A reference limit (LLN, ULN, baseline) that would change
the grade but is missing is an error, never a silent grade 0.

Reading choices, each stated in the result notes when it applies:

* CTCAE v5.0 prints integer bands for sodium ("125-129 mmol/L"); values are compared on the
  continuous scale with 130/125/120 as the boundaries (v6.0 prints "125 - <130").
* QTc: "450 - 480 ms" is grade 1, above 480 grade 2, above 500 (">= 501 ms") grade 3.
* Hypo-/hypercalcaemia: the grade is decided by the value; the words "symptomatic" and
  "hospitalization indicated" in grades 2 and 3 do not move it (as in admiral).
* "Life-threatening consequences" (grade 4 of the electrolyte and glucose terms, of anaemia) is a
  clinical fact: ``life_threatening=True`` gives grade 4 when the value is abnormal.
* Baseline "abnormal" for ALT, AST, ALP and bilirubin is the caller's ``baseline_abnormal``
  flag when given; otherwise baseline > ULN, and without a baseline the ULN criteria apply. The
  result says which (``baseline_basis``).
* A row may name a CTCAE v5.0 term instead of (or beside) the analyte; only that term, in its
  direction, is then graded (:func:`resolve_lab_target`).
* CTCAE v5.0 Hyperglycemia is graded on clinical management, not on the glucose value: a glucose
  above ULN under v5.0 is an error that says so (v6.0 grades glucose values).

References
----------
.. [1] National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE) v5.0,
   27 November 2017 (term texts shipped in ``data/ctcae_v5.csv``).
.. [2] National Cancer Institute. CTCAE v6.0 (2025). Lab criteria as transcribed in
   pharmaverse/admiral ``data-raw/adlb_grading/ncictcaev6.json`` (Apache-2.0), re-derived here.
.. [3] pharmaverse/admiral, vignette "Lab Grading" (reading choices for ambiguous criteria).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.grading.catalogue import load_catalogue
from oncotrials.core.grading.units import FAMILIES, UnitFamily, resolve_unit

VERSIONS = ("5.0", "6.0")
DEFAULT_VERSION = "5.0"

Number = Decimal | float | int | str


class Ref(enum.StrEnum):
    ABSOLUTE = "absolute"
    LLN = "LLN"
    ULN = "ULN"
    BASELINE = "baseline"
    BASELINE_CHANGE = "change from baseline"
    FACT = "fact"


class When(enum.StrEnum):
    ALWAYS = "always"
    BASELINE_NORMAL = "baseline normal"  # baseline absent or <= ULN
    BASELINE_ABNORMAL = "baseline abnormal"  # baseline > ULN
    BASELINE_GIVEN = "baseline given"
    BASELINE_BELOW_LLN = "baseline below LLN"
    ABOVE_BASELINE = "above baseline"
    SYMPTOMATIC = "symptomatic"


@dataclass(frozen=True, slots=True)
class Band:
    """Grade ``grade`` when ``value <op> threshold`` and ``when`` holds."""

    grade: int
    ref: Ref
    op: str  # "<", "<=", ">", ">="
    factor: Decimal = Decimal(1)
    limits: Mapping[str, Decimal] = field(default_factory=dict)
    when: When = When.ALWAYS
    fact: str = ""


@dataclass(frozen=True, slots=True)
class TermCriteria:
    """The lab criteria of one CTCAE term in one version."""

    term: str
    version: str
    direction: str  # "low" or "high"
    bands: tuple[Band, ...]
    texts: Mapping[int, str] = field(default_factory=dict)  # grade texts not in the catalogue
    lab_gradable: bool = True
    note: str = ""


@dataclass(frozen=True, slots=True)
class Analyte:
    key: str
    label: str
    family: UnitFamily
    aliases: tuple[str, ...]
    criteria: Mapping[str, tuple[TermCriteria, ...]]  # version -> terms
    unavailable: Mapping[str, str] = field(default_factory=dict)  # version -> why


@dataclass(frozen=True, slots=True)
class LabGrade:
    """The CTCAE grade of one lab value, with the rule that decided it."""

    analyte: str
    version: str
    value: Decimal
    unit: str
    scale_unit: str
    value_in_scale: Decimal
    grade: int
    term: str | None
    meddra_code: int | None
    rule: str
    criterion: str
    grade_text: str
    possible_grades: tuple[int, ...]
    missing_facts: tuple[str, ...]
    notes: tuple[str, ...]
    #: Whether the baseline was taken as abnormal, for terms graded differently then (ALT, AST,
    #: ALP, bilirubin); None for other terms.
    baseline_abnormal: bool | None = None
    #: Where ``baseline_abnormal`` came from: "flag" (given), "inferred" (baseline > ULN or not),
    #: "assumed" (no baseline: normal assumed); "" when the term does not depend on it.
    baseline_basis: str = ""


# ----------------------------------------------------------------------------- band helpers


def _dec(text: str | int) -> Decimal:
    return Decimal(str(text))


def _abs(grade: int, op: str, when: When = When.ALWAYS, /, **limits: str) -> Band:
    table = {_SCALE_KEYS[k]: _dec(v) for k, v in limits.items()}
    return Band(grade, Ref.ABSOLUTE, op, limits=table, when=when)


def _rel(grade: int, ref: Ref, op: str, factor: str | int = 1, when: When = When.ALWAYS) -> Band:
    return Band(grade, ref, op, factor=_dec(factor), when=when)


def _fact(grade: int, fact: str) -> Band:
    return Band(grade, Ref.FACT, "=", fact=fact)


_SCALE_KEYS = {
    "count": "10^9/L",
    "gL": "g/L",
    "mmolL": "mmol/L",
    "mgdL": "mg/dL",
    "ms": "ms",
}

LT, GT, GE = "<", ">", ">="
NORMAL, ABNORMAL = When.BASELINE_NORMAL, When.BASELINE_ABNORMAL
SYMPT = When.SYMPTOMATIC
LIFE = "life_threatening"


def _low_count(term: str, version: str, g2: str, g3: str, g4: str, *, lln: bool) -> TermCriteria:
    bands = [_abs(2, LT, count=g2), _abs(3, LT, count=g3), _abs(4, LT, count=g4)]
    if lln:
        bands.insert(0, _rel(1, Ref.LLN, LT))
    return TermCriteria(term, version, "low", tuple(bands))


def _liver(
    term: str, version: str, g: tuple[str, str, str], bl: tuple[str, str, str, str], ge1: bool
) -> TermCriteria:
    """ALT/AST/ALP/bilirubin: multiples of ULN, or of baseline when baseline > ULN."""
    return TermCriteria(
        term,
        version,
        "high",
        (
            _rel(1, Ref.ULN, GT, 1, NORMAL),
            _rel(2, Ref.ULN, GT, g[0], NORMAL),
            _rel(3, Ref.ULN, GT, g[1], NORMAL),
            _rel(4, Ref.ULN, GT, g[2], NORMAL),
            _rel(1, Ref.BASELINE, GE if ge1 else GT, bl[0], ABNORMAL),
            _rel(2, Ref.BASELINE, GT, bl[1], ABNORMAL),
            _rel(3, Ref.BASELINE, GT, bl[2], ABNORMAL),
            _rel(4, Ref.BASELINE, GT, bl[3], ABNORMAL),
        ),
    )


def _pancreatic(term: str, version: str, g3_uln: str, texts: Mapping[int, str]) -> TermCriteria:
    return TermCriteria(
        term,
        version,
        "high",
        (
            _rel(1, Ref.ULN, GT),
            _rel(2, Ref.ULN, GT, "1.5"),
            _rel(3, Ref.ULN, GT, g3_uln, SYMPT),
            _rel(3, Ref.ULN, GT, 5),
            _rel(4, Ref.ULN, GT, 5, SYMPT),
        ),
        texts=texts,
    )


def _electrolyte_low(term: str, version: str, **g: str) -> TermCriteria:
    bands = [_rel(1, Ref.LLN, LT)]
    for grade in (2, 3, 4):
        limits = {k[:-1]: v for k, v in g.items() if k.endswith(str(grade))}
        bands.append(_abs(grade, LT, **limits))
    bands.append(_fact(4, LIFE))
    return TermCriteria(term, version, "low", tuple(bands))


def _electrolyte_high(term: str, version: str, **g: str) -> TermCriteria:
    bands = [_rel(1, Ref.ULN, GT)]
    for grade in (2, 3, 4):
        limits = {k[:-1]: v for k, v in g.items() if k.endswith(str(grade))}
        if limits:
            bands.append(_abs(grade, GT, **limits))
    bands.append(_fact(4, LIFE))
    return TermCriteria(term, version, "high", tuple(bands))


# ------------------------------------------------------------------------ the criteria tables


def _v5() -> dict[str, tuple[TermCriteria, ...]]:
    v = "5.0"
    return {
        "neutrophils": (
            _low_count("Neutrophil count decreased", v, "1.5", "1.0", "0.5", lln=True),
        ),
        "platelets": (_low_count("Platelet count decreased", v, "75", "50", "25", lln=True),),
        "wbc": (_low_count("White blood cell decreased", v, "3.0", "2.0", "1.0", lln=True),),
        "lymphocytes": (
            _low_count("Lymphocyte count decreased", v, "0.8", "0.5", "0.2", lln=True),
            TermCriteria(
                "Lymphocyte count increased",
                v,
                "high",
                (_abs(2, GT, count="4"), _abs(3, GT, count="20")),
            ),
        ),
        "hemoglobin": (
            TermCriteria(
                "Anemia",
                v,
                "low",
                (
                    _rel(1, Ref.LLN, LT),
                    _abs(2, LT, gL="100", mmolL="6.2"),
                    _abs(3, LT, gL="80", mmolL="4.9"),
                    _fact(4, LIFE),
                ),
            ),
        ),
        "alt": (
            _liver(
                "Alanine aminotransferase increased",
                v,
                ("3", "5", "20"),
                ("1.5", "3", "5", "20"),
                True,
            ),
        ),
        "ast": (
            _liver(
                "Aspartate aminotransferase increased",
                v,
                ("3", "5", "20"),
                ("1.5", "3", "5", "20"),
                True,
            ),
        ),
        "alp": (
            _liver(
                "Alkaline phosphatase increased",
                v,
                ("2.5", "5", "20"),
                ("2.0", "2.5", "5", "20"),
                True,
            ),
        ),
        "bilirubin": (
            _liver(
                "Blood bilirubin increased", v, ("1.5", "3", "10"), ("1.0", "1.5", "3", "10"), False
            ),
        ),
        "creatinine": (
            TermCriteria(
                "Creatinine increased",
                v,
                "high",
                (
                    _rel(1, Ref.ULN, GT),
                    _rel(2, Ref.ULN, GT, "1.5"),
                    _rel(2, Ref.BASELINE, GT, "1.5", When.BASELINE_GIVEN),
                    _rel(3, Ref.ULN, GT, "3"),
                    _rel(3, Ref.BASELINE, GT, "3", When.BASELINE_GIVEN),
                    _rel(4, Ref.ULN, GT, "6"),
                ),
            ),
        ),
        "sodium": (
            TermCriteria(
                "Hyponatremia",
                v,
                "low",
                (
                    _rel(1, Ref.LLN, LT),
                    _abs(2, LT, mmolL="130"),
                    _abs(3, LT, SYMPT, mmolL="130"),
                    _abs(3, LT, mmolL="125"),
                    _abs(4, LT, mmolL="120"),
                    _fact(4, LIFE),
                ),
                note="The 125-129 mmol/L band is read as 125 <= value < 130.",
            ),
            _electrolyte_high("Hypernatremia", v, mmolL2="150", mmolL3="155", mmolL4="160"),
        ),
        "potassium": (
            TermCriteria(
                "Hypokalemia",
                v,
                "low",
                (
                    _rel(1, Ref.LLN, LT),
                    _rel(2, Ref.LLN, LT, 1, SYMPT),
                    _abs(3, LT, mmolL="3.0"),
                    _abs(4, LT, mmolL="2.5"),
                    _fact(4, LIFE),
                ),
            ),
            _electrolyte_high("Hyperkalemia", v, mmolL2="5.5", mmolL3="6.0", mmolL4="7.0"),
        ),
        "calcium": (
            _electrolyte_low(
                "Hypocalcemia",
                v,
                mmolL2="2.0",
                mmolL3="1.75",
                mmolL4="1.5",
                mgdL2="8.0",
                mgdL3="7.0",
                mgdL4="6.0",
            ),
            _electrolyte_high(
                "Hypercalcemia",
                v,
                mmolL2="2.9",
                mmolL3="3.1",
                mmolL4="3.4",
                mgdL2="11.5",
                mgdL3="12.5",
                mgdL4="13.5",
            ),
        ),
        "ionized_calcium": (
            _electrolyte_low("Hypocalcemia", v, mmolL2="1.0", mmolL3="0.9", mmolL4="0.8"),
            _electrolyte_high("Hypercalcemia", v, mmolL2="1.5", mmolL3="1.6", mmolL4="1.8"),
        ),
        "magnesium": (
            _electrolyte_low(
                "Hypomagnesemia",
                v,
                mmolL2="0.5",
                mmolL3="0.4",
                mmolL4="0.3",
                mgdL2="1.2",
                mgdL3="0.9",
                mgdL4="0.7",
            ),
            _electrolyte_high(
                "Hypermagnesemia", v, mmolL3="1.23", mmolL4="3.30", mgdL3="3.0", mgdL4="8.0"
            ),
        ),
        "glucose": (
            _electrolyte_low(
                "Hypoglycemia",
                v,
                mmolL2="3.0",
                mmolL3="2.2",
                mmolL4="1.7",
                mgdL2="55",
                mgdL3="40",
                mgdL4="30",
            ),
            _V5_HYPERGLYCEMIA,
        ),
        "glucose_fasting": (
            _electrolyte_low(
                "Hypoglycemia",
                v,
                mmolL2="3.0",
                mmolL3="2.2",
                mmolL4="1.7",
                mgdL2="55",
                mgdL3="40",
                mgdL4="30",
            ),
            _V5_HYPERGLYCEMIA,
        ),
        "lipase": (_pancreatic("Lipase increased", v, "2", {}),),
        "amylase": (_pancreatic("Serum amylase increased", v, "2", {}),),
        "cpk": (
            TermCriteria(
                "CPK increased",
                v,
                "high",
                (
                    _rel(1, Ref.ULN, GT),
                    _rel(2, Ref.ULN, GT, "2.5"),
                    _rel(3, Ref.ULN, GT, "5"),
                    _rel(4, Ref.ULN, GT, "10"),
                ),
            ),
        ),
        "qtc": (
            TermCriteria(
                "Electrocardiogram QT corrected interval prolonged",
                v,
                "high",
                (
                    _abs(1, GE, ms="450"),
                    _abs(2, GT, ms="480"),
                    _abs(3, GT, ms="500"),
                    Band(3, Ref.BASELINE_CHANGE, GT, factor=_dec(60), when=When.BASELINE_GIVEN),
                    _fact(4, "serious_arrhythmia"),
                ),
                note="Read as: >= 450 ms grade 1, > 480 ms grade 2, > 500 ms grade 3.",
            ),
        ),
    }


_V5_HYPERGLYCEMIA = TermCriteria(
    "Hyperglycemia",
    "5.0",
    "high",
    (),
    lab_gradable=False,
    note=(
        "CTCAE v5.0 grades Hyperglycemia on clinical management (grade 1 no intervention, "
        "2 oral agent or change in daily management, 3 insulin or hospitalisation, "
        "4 life-threatening), not on the glucose value"
    ),
)

_V6_TEXTS: dict[str, dict[int, str]] = {
    "Neutrophil count decreased": {
        1: "<1500 - 1000/mm3; <1.5 - 1.0 x 10^9/L",
        2: "<1000 - 500/mm3; <1.0 - 0.5 x 10^9/L",
        3: "<500 - 100/mm3; <0.5 - 0.1 x 10^9/L",
        4: "<100/mm3; <0.1 x 10^9/L",
    },
    "Thrombocytopenia": {
        1: "<LLN - 75,000/mm3; <LLN - 75.0 x 10^9/L",
        2: "<75,000 - 50,000/mm3; <75.0 - 50.0 x 10^9/L",
        3: "<50,000 - 10,000/mm3; <50.0 - 10.0 x 10^9/L; transfusion indicated",
        4: "<10,000/mm3; <10.0 x 10^9/L; life-threatening consequences; urgent intervention "
        "indicated",
    },
    "Alanine aminotransferase increased": {
        1: ">ULN - 3.0 x ULN if baseline was normal or less than normal; 1.0 - 1.5 x baseline "
        "if baseline was >ULN",
        2: ">3.0 - 5.0 x ULN if baseline was normal or less than normal; >1.5 - 2.0 x baseline "
        "if baseline was >ULN",
        3: ">5.0 - 20.0 x ULN if baseline was normal or less than normal; >2.0 - 4.0 x baseline "
        "if baseline was >ULN up to 5 x ULN",
        4: ">20.0 x ULN if baseline was normal or less than normal; >4.0 x baseline if baseline "
        "was >ULN",
    },
    "Blood bilirubin increased": {
        1: ">ULN - 1.5 x ULN if baseline was normal or less than normal; 1.0 - 1.5 x baseline "
        "if baseline was >ULN",
        2: ">1.5 - 3.0 x ULN if baseline was normal or less than normal; >1.5 - 2.5 x baseline "
        "if baseline was >ULN",
        3: ">3.0 - 10.0 x ULN if baseline was normal or less than normal; >2.5 - 10.0 x "
        "baseline if baseline was >ULN",
        4: ">10.0 x ULN if baseline was normal or less than normal; >10.0 x baseline if "
        "baseline was >ULN",
    },
    "Alkaline phosphatase increased": {1: ">Baseline and ULN"},
    "Creatinine increased": {
        1: ">ULN - 1.5 x ULN",
        2: ">1.5 - 3.0 x if baseline is below LLN; >1.5 - 3.0 x ULN",
        3: ">3.0 x if baseline is below LLN; >3.0 - 6.0 x ULN",
        4: ">6.0 x ULN",
    },
    "Hyponatremia": {
        1: "<LLN - 130 mmol/L",
        2: "125 - <130 mmol/L and asymptomatic",
        3: "125 - <130 mmol/L symptomatic; 120 - <125 mmol/L regardless of symptoms",
        4: "<120 mmol/L; life-threatening consequences",
    },
    "Hyperglycemia": {
        3: ">250 - 500 mg/dL; >13.9 - 27.8 mmol/L; hospitalization indicated",
        4: ">500 mg/dL; >27.8 mmol/L; life-threatening consequences",
    },
    "Hyperglycemia (Fasting)": {
        1: "Fasting glucose value >ULN - 160 mg/dL; Fasting glucose value >ULN - 8.9 mmol/L",
        2: "Fasting glucose value >160 - 250 mg/dL; Fasting glucose value >8.9 - 13.9 mmol/L",
        3: ">250 - 500 mg/dL; >13.9 - 27.8 mmol/L; hospitalization indicated",
        4: ">500 mg/dL; >27.8 mmol/L; life-threatening consequences",
    },
    "Lipase increased": {
        1: ">ULN - 1.5 x ULN",
        2: ">1.5 - 3.0 x ULN; >3.0 - 5.0 x ULN and asymptomatic",
        3: ">3.0 - 5.0 x ULN with signs or symptoms; >5.0 x ULN and asymptomatic",
        4: ">5.0 x ULN and with signs or symptoms",
    },
    "Serum amylase increased": {
        1: ">ULN - 1.5 x ULN",
        2: ">1.5 - 2.0 x ULN; >2.0 - 5.0 x ULN and asymptomatic or with mild signs or symptoms",
        3: ">2.0 - 5.0 x ULN with moderate or severe signs or symptoms; >5.0 x ULN and "
        "asymptomatic",
        4: ">5.0 x ULN and with signs or symptoms",
    },
}
_V6_TEXTS["Aspartate aminotransferase increased"] = _V6_TEXTS["Alanine aminotransferase increased"]


def _v6(v5: Mapping[str, tuple[TermCriteria, ...]]) -> dict[str, tuple[TermCriteria, ...]]:
    """CTCAE v6.0: the v5.0 criteria with the lab differences of v6.0 applied."""
    v = "6.0"

    def same(key: str) -> tuple[TermCriteria, ...]:
        return tuple(
            TermCriteria(c.term, v, c.direction, c.bands, c.texts, c.lab_gradable, c.note)
            for c in v5[key]
        )

    def texts(term: str) -> dict[int, str]:
        return _V6_TEXTS[term]

    neut = _low_count("Neutrophil count decreased", v, "1.0", "0.5", "0.1", lln=False)
    neut = TermCriteria(
        neut.term,
        v,
        "low",
        (_abs(1, LT, count="1.5"), *neut.bands),
        texts=texts("Neutrophil count decreased"),
    )
    plt = _low_count("Thrombocytopenia", v, "75", "50", "10", lln=True)
    plt = TermCriteria(plt.term, v, "low", plt.bands, texts=texts("Thrombocytopenia"))

    def liver6(term: str, bl: tuple[str, str, str, str], g: tuple[str, str, str]) -> TermCriteria:
        c = _liver(term, v, g, bl, True)
        return TermCriteria(c.term, v, "high", c.bands, texts=texts(term))

    alp = TermCriteria(
        "Alkaline phosphatase increased",
        v,
        "high",
        (_rel(1, Ref.ULN, GT, 1, When.ABOVE_BASELINE),),
        texts=texts("Alkaline phosphatase increased"),
        note="CTCAE v6.0 defines only grade 1 for alkaline phosphatase: > baseline and > ULN.",
    )
    creat = TermCriteria(
        "Creatinine increased",
        v,
        "high",
        (
            _rel(1, Ref.ULN, GT),
            _rel(2, Ref.ULN, GT, "1.5"),
            _rel(2, Ref.BASELINE, GT, "1.5", When.BASELINE_BELOW_LLN),
            _rel(3, Ref.ULN, GT, "3"),
            _rel(3, Ref.BASELINE, GT, "3", When.BASELINE_BELOW_LLN),
            _rel(4, Ref.ULN, GT, "6"),
        ),
        texts=texts("Creatinine increased"),
    )
    hypo_na = v5["sodium"][0]
    hypo_na = TermCriteria(hypo_na.term, v, "low", hypo_na.bands, texts=texts("Hyponatremia"))
    hyper_na = same("sodium")[1]
    hyperglycemia = TermCriteria(
        "Hyperglycemia",
        v,
        "high",
        (_abs(3, GT, mmolL="13.9", mgdL="250"), _abs(4, GT, mmolL="27.8", mgdL="500")),
        texts=texts("Hyperglycemia"),
    )
    hyperglycemia_fasting = TermCriteria(
        "Hyperglycemia (Fasting)",
        v,
        "high",
        (
            _rel(1, Ref.ULN, GT),
            _abs(2, GT, mmolL="8.9", mgdL="160"),
            _abs(3, GT, mmolL="13.9", mgdL="250"),
            _abs(4, GT, mmolL="27.8", mgdL="500"),
        ),
        texts=texts("Hyperglycemia (Fasting)"),
    )
    hypoglycemia = same("glucose")[0]
    lipase = _pancreatic("Lipase increased", v, "3", texts("Lipase increased"))
    amylase = _pancreatic("Serum amylase increased", v, "2", texts("Serum amylase increased"))
    amylase = TermCriteria(
        amylase.term,
        v,
        "high",
        amylase.bands,
        amylase.texts,
        note="v6.0 amylase: symptomatic=True means moderate or severe signs or symptoms.",
    )
    return {
        "neutrophils": (neut,),
        "platelets": (plt,),
        "wbc": same("wbc"),
        "lymphocytes": (same("lymphocytes")[1],),
        "hemoglobin": same("hemoglobin"),
        "alt": (
            liver6(
                "Alanine aminotransferase increased", ("1.0", "1.5", "2", "4"), ("3", "5", "20")
            ),
        ),
        "ast": (
            liver6(
                "Aspartate aminotransferase increased", ("1.0", "1.5", "2", "4"), ("3", "5", "20")
            ),
        ),
        "alp": (alp,),
        "bilirubin": (
            liver6("Blood bilirubin increased", ("1.0", "1.5", "2.5", "10"), ("1.5", "3", "10")),
        ),
        "creatinine": (creat,),
        "sodium": (hypo_na, hyper_na),
        "potassium": same("potassium"),
        "calcium": same("calcium"),
        "ionized_calcium": same("ionized_calcium"),
        "magnesium": same("magnesium"),
        "glucose": (hypoglycemia, hyperglycemia),
        "glucose_fasting": (hypoglycemia, hyperglycemia_fasting),
        "lipase": (lipase,),
        "amylase": (amylase,),
    }


_V6_MISSING = (
    "CTCAE v6.0 lab criteria for {label} are not in this release's v6.0 source (admiral "
    "ncictcaev6.json lists no lab criteria for it); grade it with version 5.0 or from the "
    "NCI v6.0 document."
)


def _build() -> dict[str, Analyte]:
    v5 = _v5()
    v6 = _v6(v5)
    spec: list[tuple[str, str, str, tuple[str, ...]]] = [
        (
            "neutrophils",
            "neutrophils (ANC)",
            "count",
            ("anc", "neut", "neutrophil", "absolute neutrophil count", "neutrophil count"),
        ),
        ("platelets", "platelets", "count", ("plt", "platelet", "platelet count", "plat")),
        ("hemoglobin", "haemoglobin", "hemoglobin", ("hgb", "hb", "haemoglobin")),
        (
            "wbc",
            "white blood cells",
            "count",
            (
                "white cells",
                "white blood cells",
                "leukocytes",
                "leucocytes",
                "white blood cell count",
            ),
        ),
        ("lymphocytes", "lymphocytes", "count", ("lym", "lymph", "lymphocyte count", "alc")),
        ("alt", "ALT", "enzyme", ("alanine aminotransferase", "sgpt", "gpt")),
        ("ast", "AST", "enzyme", ("aspartate aminotransferase", "sgot", "got")),
        ("alp", "alkaline phosphatase", "enzyme", ("alkaline phosphatase", "alkp", "pal")),
        ("bilirubin", "total bilirubin", "bilirubin", ("bili", "tbili", "total bilirubin")),
        ("creatinine", "creatinine", "creatinine", ("creat", "crea")),
        ("sodium", "sodium", "monovalent_ion", ("na", "natremia")),
        ("potassium", "potassium", "monovalent_ion", ("k", "kalemia")),
        (
            "calcium",
            "corrected calcium",
            "calcium",
            ("ca", "corrected calcium", "calcium corrected", "cacorr"),
        ),
        (
            "ionized_calcium",
            "ionised calcium",
            "ionized_calcium",
            ("ionised calcium", "ionised_calcium", "ica", "ionized calcium"),
        ),
        ("magnesium", "magnesium", "magnesium", ("mg",)),
        ("glucose", "glucose", "glucose", ("glu", "glycemia", "glycaemia")),
        ("glucose_fasting", "fasting glucose", "glucose", ("fasting glucose", "glucose fasting")),
        ("lipase", "lipase", "enzyme", ("lip",)),
        ("amylase", "amylase", "enzyme", ("amy", "serum amylase")),
        ("cpk", "CPK", "enzyme", ("ck", "creatine kinase", "creatine phosphokinase")),
        ("qtc", "QTc", "qtc", ("qtcf", "qtcb", "qt corrected", "qtc interval")),
    ]
    out: dict[str, Analyte] = {}
    for key, label, family, aliases in spec:
        criteria = {"5.0": v5[key]}
        unavailable: dict[str, str] = {}
        if key in v6:
            criteria["6.0"] = v6[key]
        else:
            unavailable["6.0"] = _V6_MISSING.format(label=label)
        out[key] = Analyte(key, label, FAMILIES[family], aliases, criteria, unavailable)
    return out


ANALYTES: dict[str, Analyte] = _build()
_ALIASES: dict[str, str] = {}
for _a in ANALYTES.values():
    _ALIASES[_a.key] = _a.key
    for _alias in _a.aliases:
        _ALIASES[_alias.replace("_", " ")] = _a.key


#: CTCAE v5.0 term -> the analytes graded under it and the term's direction ("low"/"high").
LAB_TERMS: dict[str, tuple[tuple[str, str], ...]] = {}
for _a in ANALYTES.values():
    for _c in _a.criteria["5.0"]:
        LAB_TERMS[_c.term] = (*LAB_TERMS.get(_c.term, ()), (_a.key, _c.direction))


@dataclass(frozen=True, slots=True)
class LabTarget:
    """What a lab row asks to grade: the analyte, and the direction when a term names it."""

    analyte: Analyte
    term: str | None  # the CTCAE v5.0 term as the catalogue spells it
    direction: str | None  # "low" or "high"; None = every term of the analyte


def resolve_lab_target(analyte: str | None, term: str | None = None) -> LabTarget:
    """Resolve an analyte, a CTCAE v5.0 term, or both (which must agree), or a clear error.

    The term is checked against the shipped CTCAE v5.0 catalogue (with "did you mean" on a
    misspelling) and must be one graded from a lab value here.
    """
    analyte = (analyte or "").strip() or None
    term = (term or "").strip() or None
    if term is None:
        if analyte is None:
            raise ValidationError(
                "Give the analyte (e.g. neutrophils) or the CTCAE term (e.g. Neutrophil count "
                "decreased) to grade.",
                code="missing_analyte",
            )
        return LabTarget(find_analyte(analyte), None, None)
    entry = load_catalogue().term(term)
    targets = LAB_TERMS.get(entry.term)
    if not targets:
        raise ValidationError(
            f"CTCAE v5.0 term {entry.term!r} is not graded from a lab value; the lab terms are: "
            f"{', '.join(sorted(LAB_TERMS))}.",
            code="not_gradable",
        )
    direction = targets[0][1]
    labels = " or ".join(f"{ANALYTES[k].label} ({k})" for k, _ in targets)
    if analyte is not None:
        a = find_analyte(analyte)
        if a.key not in {k for k, _ in targets}:
            raise ValidationError(
                f"analyte {analyte!r} and term {entry.term!r} disagree: {entry.term} is graded "
                f"on {labels}, not on {a.label}.",
                code="term_analyte_mismatch",
            )
        return LabTarget(a, entry.term, direction)
    if len(targets) > 1:
        raise ValidationError(
            f"CTCAE term {entry.term!r} is graded on {labels}; give the analyte too to say which.",
            code="ambiguous_term",
        )
    return LabTarget(ANALYTES[targets[0][0]], entry.term, direction)


# ------------------------------------------------------------------------------- evaluation


def find_analyte(name: str) -> Analyte:
    """Resolve an analyte name or alias ("ANC", "neutrophils", "ALT"), or a clear error."""
    key = " ".join(name.strip().lower().replace("_", " ").split())
    found = _ALIASES.get(key) or _ALIASES.get(key.replace(" ", "_"))
    if found is None:
        raise NotFoundError(
            f"Unknown analyte {name!r}; gradable analytes are: {', '.join(ANALYTES)}.",
            code="unknown_analyte",
        )
    return ANALYTES[found]


def to_decimal(value: Number, *, field: str) -> Decimal:
    """Parse a number exactly (floats via their shortest repr) and refuse NaN, inf, negatives."""
    if isinstance(value, bool):
        raise ValidationError(f"{field} must be a number; got {value!r}.")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValidationError(f"{field} must be a number; got {value!r}.") from None
    if not number.is_finite():
        raise ValidationError(f"{field} must be a finite number; got {value!r}.")
    if number < 0:
        raise ValidationError(
            f"{field} cannot be negative; got {value!r}. Check the sign and the unit."
        )
    return number


@dataclass(frozen=True, slots=True)
class _Inputs:
    value: Decimal
    scale: str
    unit: str
    lln: Decimal | None
    uln: Decimal | None
    baseline: Decimal | None
    facts: Mapping[str, bool | None]
    baseline_abnormal: bool | None = None  # the explicit flag; None = infer from baseline/ULN


class _Missing(Exception):
    def __init__(self, what: str) -> None:
        self.what = what


def _fmt(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text


def _threshold(band: Band, x: _Inputs) -> tuple[Decimal, str] | None:
    """Threshold in the scale unit and its description; None if the band does not apply."""
    if band.ref is Ref.ABSOLUTE:
        limit = band.limits[x.scale]
        return limit, f"{limit} {x.scale}"
    ref_value = {Ref.LLN: x.lln, Ref.ULN: x.uln, Ref.BASELINE: x.baseline}.get(band.ref)
    if band.ref is Ref.BASELINE_CHANGE:
        if x.baseline is None:
            return None
        limit = x.baseline + band.factor
        return limit, f"baseline {_fmt(x.baseline)} + {_fmt(band.factor)} {x.scale}"
    if ref_value is None:
        if band.ref is Ref.BASELINE:
            return None
        raise _Missing(band.ref.value)
    limit = band.factor * ref_value
    factor = "" if band.factor == 1 else f"{_fmt(band.factor)} × "
    return limit, f"{factor}{band.ref.value} ({_fmt(limit)} {x.scale})"


def _when(band: Band, x: _Inputs) -> bool | None:
    """Whether the band's condition holds; None when it needs the unknown symptomatic fact."""
    w = band.when
    if w is When.ALWAYS:
        return True
    if w is When.SYMPTOMATIC:
        return x.facts.get("symptomatic")
    if w is When.BASELINE_GIVEN:
        return x.baseline is not None
    if w in (When.BASELINE_NORMAL, When.BASELINE_ABNORMAL):
        if x.baseline_abnormal is not None:
            return x.baseline_abnormal is (w is When.BASELINE_ABNORMAL)
        if x.baseline is None:
            return w is When.BASELINE_NORMAL
        if x.uln is None:
            raise _Missing("ULN")
        abnormal = x.baseline > x.uln
        return abnormal if w is When.BASELINE_ABNORMAL else not abnormal
    if w is When.BASELINE_BELOW_LLN:
        if x.baseline is None:
            return False
        if x.lln is None:
            raise _Missing("LLN")
        return x.baseline < x.lln
    if w is When.ABOVE_BASELINE:
        if x.baseline is None:
            raise _Missing("baseline")
        return x.value > x.baseline
    raise AssertionError(w)  # pragma: no cover


def _compare(value: Decimal, op: str, limit: Decimal) -> bool:
    if op == "<":
        return value < limit
    if op == "<=":
        return value <= limit
    if op == ">":
        return value > limit
    return value >= limit


@dataclass(frozen=True, slots=True)
class _Outcome:
    grade: int
    band: Band | None
    criterion: str
    grade_if_symptomatic: int
    band_if_symptomatic: Band | None
    criterion_if_symptomatic: str
    missing: tuple[str, ...]


def _evaluate(c: TermCriteria, x: _Inputs) -> _Outcome:
    best: tuple[int, Band | None, str] = (0, None, "no criterion met")
    best_sym: tuple[int, Band | None, str] = best
    missing: dict[int, str] = {}
    for band in c.bands:
        if band.ref is Ref.FACT:
            continue
        try:
            cond = _when(band, x)
            # A band whose condition does not hold needs no limit (e.g. the ULN bands when the
            # baseline is flagged abnormal).
            found = None if cond is False else _threshold(band, x)
        except _Missing as exc:
            missing[band.grade] = exc.what
            continue
        if found is None or cond is False:
            continue
        limit, described = found
        if not _compare(x.value, band.op, limit):
            continue
        criterion = f"{_fmt(x.value)} {x.scale} {band.op} {described}"
        if band.when is When.ABOVE_BASELINE and x.baseline is not None:
            criterion += f" and > baseline ({_fmt(x.baseline)} {x.scale})"
        if band.when is When.BASELINE_ABNORMAL and x.baseline_abnormal is not None:
            criterion += " (baseline abnormal: flag)"
        elif band.when is When.BASELINE_ABNORMAL and x.baseline is not None and x.uln is not None:
            criterion += f" (baseline {_fmt(x.baseline)} > ULN {_fmt(x.uln)})"
        if band.when is When.BASELINE_BELOW_LLN and x.baseline is not None:
            criterion += f" (baseline {_fmt(x.baseline)} < LLN)"
        if cond is None:  # symptomatic not known
            criterion += " and symptomatic"
            if band.grade > best_sym[0]:
                best_sym = (band.grade, band, criterion)
            continue
        if band.when is When.SYMPTOMATIC:
            criterion += " and symptomatic"
        if band.grade > best[0]:
            best = (band.grade, band, criterion)
        if band.grade > best_sym[0]:
            best_sym = (band.grade, band, criterion)
    # Clinical facts (life-threatening consequences, serious arrhythmia) count only for an
    # abnormal value: they qualify the term, they do not create it.
    if best_sym[0] >= 1 or best[0] >= 1:
        for band in c.bands:
            if band.ref is Ref.FACT and x.facts.get(band.fact):
                crit = f"{band.fact.replace('_', ' ')} reported with an abnormal value"
                if band.grade > best[0]:
                    best = (band.grade, band, crit)
                if band.grade > best_sym[0]:
                    best_sym = (band.grade, band, crit)
    blocking = sorted({what for g, what in missing.items() if g > best[0]})
    if blocking:
        raise _Missing(" and ".join(blocking))
    return _Outcome(
        best[0],
        best[1],
        best[2],
        best_sym[0],
        best_sym[1],
        best_sym[2],
        ("symptomatic",) if best_sym[0] > best[0] else (),
    )


def _grade_text(c: TermCriteria, grade: int) -> str:
    if grade == 0:
        return ""
    if grade in c.texts:
        return c.texts[grade]
    if c.version == "5.0":
        catalogue = load_catalogue()
        if catalogue.has_term(c.term):
            return catalogue.term(c.term).grade_definition(grade)
    # v6.0 terms whose text did not change from v5.0
    catalogue = load_catalogue()
    if catalogue.has_term(c.term) and catalogue.term(c.term).grade_exists(grade):
        return catalogue.term(c.term).grades[grade] or ""
    return ""


def _meddra(term: str | None) -> int | None:
    if term is None:
        return None
    catalogue = load_catalogue()
    return catalogue.term(term).meddra_code if catalogue.has_term(term) else None


#: Plausible reference limits of adults' and children's laboratory ranges, in the scale unit:
#: analyte -> scale unit -> limit -> (lowest, highest). Wide on purpose: they catch a limit
#: given in another unit (a factor of 10, 17, 88 or 1000), not an unusual laboratory.
PLAUSIBLE_LIMITS: Mapping[str, Mapping[str, Mapping[str, tuple[str, str]]]] = {
    "neutrophils": {"10^9/L": {"LLN": ("0.5", "4"), "ULN": ("3", "15")}},
    "platelets": {"10^9/L": {"LLN": ("50", "250"), "ULN": ("150", "1000")}},
    "wbc": {"10^9/L": {"LLN": ("1", "6"), "ULN": ("5", "30")}},
    "lymphocytes": {"10^9/L": {"LLN": ("0.2", "4"), "ULN": ("1.5", "15")}},
    "hemoglobin": {
        "g/L": {"LLN": ("70", "160"), "ULN": ("110", "250")},
        "mmol/L": {"LLN": ("4.3", "10"), "ULN": ("6.8", "15.5")},
    },
    "alt": {"U/L": {"LLN": ("0", "60"), "ULN": ("10", "250")}},
    "ast": {"U/L": {"LLN": ("0", "60"), "ULN": ("10", "250")}},
    "alp": {"U/L": {"LLN": ("0", "300"), "ULN": ("30", "1500")}},
    "bilirubin": {"umol/L": {"LLN": ("0", "10"), "ULN": ("5", "60")}},
    "creatinine": {"umol/L": {"LLN": ("5", "120"), "ULN": ("15", "250")}},
    "sodium": {"mmol/L": {"LLN": ("120", "145"), "ULN": ("135", "160")}},
    "potassium": {"mmol/L": {"LLN": ("2.5", "4.5"), "ULN": ("4", "6.5")}},
    "calcium": {
        "mmol/L": {"LLN": ("1.5", "2.7"), "ULN": ("2.2", "3.2")},
        "mg/dL": {"LLN": ("6", "11"), "ULN": ("9", "13")},
    },
    "ionized_calcium": {"mmol/L": {"LLN": ("0.8", "1.4"), "ULN": ("1.1", "1.7")}},
    "magnesium": {
        "mmol/L": {"LLN": ("0.4", "1.0"), "ULN": ("0.8", "1.5")},
        "mg/dL": {"LLN": ("1", "2.5"), "ULN": ("1.9", "3.6")},
    },
    "glucose": {
        "mmol/L": {"LLN": ("2.5", "6"), "ULN": ("4.5", "11.1")},
        "mg/dL": {"LLN": ("45", "110"), "ULN": ("80", "200")},
    },
    "glucose_fasting": {
        "mmol/L": {"LLN": ("2.5", "6"), "ULN": ("4.5", "11.1")},
        "mg/dL": {"LLN": ("45", "110"), "ULN": ("80", "200")},
    },
    "lipase": {"U/L": {"LLN": ("0", "200"), "ULN": ("10", "800")}},
    "amylase": {"U/L": {"LLN": ("0", "200"), "ULN": ("30", "600")}},
    "cpk": {"U/L": {"LLN": ("0", "200"), "ULN": ("50", "1200")}},
    "qtc": {"ms": {"LLN": ("250", "450"), "ULN": ("350", "550")}},
}


def _check_limit_plausible(
    a: Analyte, name: str, converted: Decimal, scale: str, given: Number | None, unit: str
) -> None:
    bounds = PLAUSIBLE_LIMITS.get(a.key, {}).get(scale, {}).get(name)
    if bounds is None:
        return
    low, high = Decimal(bounds[0]), Decimal(bounds[1])
    if low <= converted <= high:
        return
    shown = f"{given} {unit}" + ("" if unit == scale else f" = {_fmt(converted)} {scale}")
    raise ValidationError(
        f"{a.label}: {name} {shown} is not a plausible {name} (expected {bounds[0]}-{bounds[1]} "
        f"{scale}); was it given in another unit than the value? Give the limits in the value's "
        f"unit, or name their unit (--limit-unit, or the limit_unit column).",
        code="implausible_limit",
    )


def grade_lab(
    analyte: str | None,
    value: Number,
    unit: str,
    *,
    lln: Number | None = None,
    uln: Number | None = None,
    baseline: Number | None = None,
    version: str = DEFAULT_VERSION,
    symptomatic: bool | None = None,
    life_threatening: bool = False,
    serious_arrhythmia: bool = False,
    limit_unit: str | None = None,
    term: str | None = None,
    baseline_abnormal: bool | None = None,
) -> LabGrade:
    """Grade one lab value with CTCAE.

    Parameters
    ----------
    analyte
        Analyte name or alias: neutrophils (ANC), platelets, hemoglobin, wbc, lymphocytes, alt,
        ast, alp, bilirubin, creatinine, sodium, potassium, calcium (corrected), ionized_calcium,
        magnesium, glucose, glucose_fasting, lipase, amylase, cpk, qtc. May be None when
        ``term`` is given.
    term
        A CTCAE v5.0 term ("Neutrophil count decreased", "Hypokalemia"): only that term (one
        direction) is graded, so a potassium at or above LLN graded as Hypokalemia needs no
        ULN. With ``analyte`` too, the two must agree (:func:`resolve_lab_target`).
    baseline_abnormal
        Whether the baseline was abnormal, for the terms CTCAE grades on multiples of the
        baseline then (ALT, AST, ALP, bilirubin). None (default) infers it: baseline > ULN,
        normal when no baseline is given. The result says which was used.
    value, unit
        The result and its unit; SI and conventional units are converted explicitly.
    lln, uln, baseline
        Reference limits and the subject's baseline, in the same unit as ``value`` unless
        ``limit_unit`` names the limits' unit (the baseline stays in the value's unit). After
        conversion each limit must be plausible for the analyte (:data:`PLAUSIBLE_LIMITS`): a
        limit given in another unit (an LLN of 2.0 meant as 10^9/L beside a value in /mm3) is
        refused with the reason rather than converted silently. A ULN of 0 or less is refused,
        and so is an LLN of 0 or less where the grade depends on the LLN.
    limit_unit
        The unit of ``lln`` and ``uln`` when it differs from the value's unit.
    version
        ``"5.0"`` (default) or ``"6.0"``.
    symptomatic, life_threatening, serious_arrhythmia
        Clinical facts some grades depend on. ``symptomatic=None`` means unknown: the result
        then lists both possible grades and returns the worse.

    Returns
    -------
    LabGrade
        Grade, the term and the rule (term, version, grade text, threshold) that decided it.

    References
    ----------
    NCI CTCAE v5.0 (2017) and v6.0; see the module docstring.
    """
    if version not in VERSIONS:
        raise ValidationError(
            f"Unknown CTCAE version {version!r}; use one of {', '.join(VERSIONS)}."
        )
    target = resolve_lab_target(analyte, term)
    a = target.analyte
    if version not in a.criteria:
        raise NotFoundError(a.unavailable[version], code="not_gradable")
    selected = tuple(
        c
        for c in a.criteria[version]
        if target.direction is None or c.direction == target.direction
    )
    if not selected:
        raise NotFoundError(
            f"CTCAE v{version} has no {target.term} criteria for {a.label} in this release's "
            f"source; grade it with another version.",
            code="not_gradable",
        )
    scale, factor = resolve_unit(unit, family=a.family, what=a.label)
    raw = to_decimal(value, field=f"{a.label} value")
    limit_factor, limits_in = factor, unit.strip()
    if limit_unit is not None and limit_unit.strip():
        limit_scale, limit_factor = resolve_unit(limit_unit, family=a.family, what=a.label)
        limits_in = limit_unit.strip()
        if limit_scale != scale:
            raise ValidationError(
                f"{a.label}: the limits' unit {limit_unit!r} is on the {limit_scale} scale and "
                f"the value's unit {unit!r} on the {scale} scale; give both in units of one "
                f"scale (e.g. {scale})."
            )
    refs: dict[str, Decimal | None] = {}
    for name, given in (("LLN", lln), ("ULN", uln), ("baseline", baseline)):
        f = factor if name == "baseline" else limit_factor
        refs[name] = None if given is None else to_decimal(given, field=f"{a.label} {name}") * f
    uses_lln = any(
        band.ref is Ref.LLN or band.when is When.BASELINE_BELOW_LLN
        for criteria in selected
        for band in criteria.bands
    )
    for name, given in (("LLN", lln), ("ULN", uln)):
        converted = refs[name]
        if converted is None:
            continue
        if converted <= 0 and (name == "ULN" or uses_lln):
            raise ValidationError(
                f"{a.label}: {name} {given} {limits_in} is not a reference limit; a {name} must "
                f"be above 0. Check the reference range.",
                code="implausible_limit",
            )
    if refs["LLN"] is not None and refs["ULN"] is not None and refs["LLN"] >= refs["ULN"]:
        raise ValidationError(
            f"{a.label}: LLN ({lln}) must be below ULN ({uln}); check the reference range."
        )
    for name, given in (("LLN", lln), ("ULN", uln)):
        converted = refs[name]
        if converted is not None:
            _check_limit_plausible(a, name, converted, scale, given, limits_in)
    x = _Inputs(
        value=raw * factor,
        scale=scale,
        unit=unit,
        lln=refs["LLN"],
        uln=refs["ULN"],
        baseline=refs["baseline"],
        facts={
            "symptomatic": symptomatic,
            LIFE: life_threatening,
            "serious_arrhythmia": serious_arrhythmia,
        },
        baseline_abnormal=baseline_abnormal,
    )
    notes: list[str] = []
    if x.scale != unit.strip() and factor != 1:
        notes.append(f"{_fmt(raw)} {unit.strip()} = {_fmt(x.value)} {x.scale}")
    bl_abnormal, bl_basis = _baseline_status(selected, x, a, version, notes)
    others = (
        [c.term for c in a.criteria[version] if c.direction != target.direction]
        if target.direction is not None
        else []
    )
    if target.direction == "low" and x.uln is not None and x.value > x.uln and others:
        notes.append(
            f"the value is above ULN: {' / '.join(others)} is not graded, as the row names "
            f"{target.term}"
        )
    if target.direction == "high" and x.lln is not None and x.value < x.lln and others:
        notes.append(
            f"the value is below LLN: {' / '.join(others)} is not graded, as the row names "
            f"{target.term}"
        )
    graded: list[tuple[TermCriteria, _Outcome]] = []
    problems: list[ValidationError] = []
    for criteria in selected:
        try:
            if not criteria.lab_gradable:
                _check_not_lab_gradable(criteria, x, a)
                continue
            graded.append((criteria, _evaluate(criteria, x)))
        except _Missing as exc:
            problems.append(
                ValidationError(
                    f"{a.label} {_fmt(raw)} {unit.strip()}: the {criteria.term} grade depends "
                    f"on the {exc.what}, which was not given; give --{exc.what.lower()} (same "
                    f"unit as the value)"
                    + (
                        f", or name the CTCAE term to grade one direction only (e.g. "
                        f"{_other_term(selected, criteria)})."
                        if target.direction is None and len(selected) > 1
                        else "."
                    ),
                    code="missing_reference",
                )
            )
        except ValidationError as exc:
            problems.append(exc)
    # A value already abnormal in one direction (e.g. hypokalaemia) cannot be abnormal in the
    # other, so a limit missing only for the other direction does not matter.
    if problems and not any(o.grade_if_symptomatic >= 1 for _, o in graded):
        raise problems[0]
    final_grade = max((o.grade_if_symptomatic for _, o in graded), default=0)
    if final_grade == 0:
        terms = " / ".join(c.term for c in selected)
        return LabGrade(
            analyte=a.key,
            version=version,
            value=raw,
            unit=unit.strip(),
            scale_unit=x.scale,
            value_in_scale=x.value,
            grade=0,
            term=None,
            meddra_code=None,
            rule=f"CTCAE v{version} {terms}: no grade criterion met",
            criterion=_normal_criterion(x),
            grade_text="",
            possible_grades=(0,),
            missing_facts=(),
            notes=tuple(notes),
            baseline_abnormal=bl_abnormal,
            baseline_basis=bl_basis,
        )
    criteria, outcome = max(graded, key=lambda item: item[1].grade_if_symptomatic)
    band_grade = final_grade
    criterion = outcome.criterion_if_symptomatic
    possible = tuple(sorted({outcome.grade, outcome.grade_if_symptomatic}))
    if outcome.missing:
        notes.append(
            f"grade {outcome.grade_if_symptomatic} if symptomatic, grade {outcome.grade} if "
            f"asymptomatic; symptoms not reported, so the worse grade is returned"
        )
    if criteria.note:
        notes.append(criteria.note)
    if (
        x.baseline is None
        and x.baseline_abnormal is None
        and any(b.when is ABNORMAL for b in criteria.bands)
    ):
        notes.append("no baseline given: graded against ULN as for a normal baseline")
    text = _grade_text(criteria, band_grade)
    return LabGrade(
        analyte=a.key,
        version=version,
        value=raw,
        unit=unit.strip(),
        scale_unit=x.scale,
        value_in_scale=x.value,
        grade=band_grade,
        term=criteria.term,
        meddra_code=_meddra(criteria.term),
        rule=f"CTCAE v{version} {criteria.term}, grade {band_grade}: {text}",
        criterion=criterion,
        grade_text=text,
        possible_grades=possible,
        missing_facts=outcome.missing,
        notes=tuple(notes),
        baseline_abnormal=bl_abnormal,
        baseline_basis=bl_basis,
    )


def _other_term(selected: tuple[TermCriteria, ...], missing_in: TermCriteria) -> str:
    """The term of the other direction, which a row can name to avoid the missing limit."""
    return next((c.term for c in selected if c is not missing_in), missing_in.term)


def _baseline_status(
    selected: tuple[TermCriteria, ...], x: _Inputs, a: Analyte, version: str, notes: list[str]
) -> tuple[bool | None, str]:
    """Whether the baseline counts as abnormal, and whether that was given or inferred."""
    depends = any(
        b.when in (When.BASELINE_NORMAL, When.BASELINE_ABNORMAL) for c in selected for b in c.bands
    )
    terms = " / ".join(c.term for c in selected)
    if not depends:
        if x.baseline_abnormal is not None:
            notes.append(
                f"baseline_abnormal does not change the {terms} grade in CTCAE v{version}; "
                f"it was not used"
            )
        return None, ""
    if x.baseline_abnormal is not None:
        if x.baseline_abnormal and x.baseline is None:
            raise ValidationError(
                f"{a.label}: baseline_abnormal is yes, so CTCAE v{version} grades {terms} as "
                f"multiples of the baseline; give the baseline (same unit as the value).",
                code="missing_reference",
            )
        stated = "abnormal" if x.baseline_abnormal else "normal"
        notes.append(f"baseline {stated} as flagged (baseline_abnormal given)")
        if (
            x.baseline is not None
            and x.uln is not None
            and (x.baseline > x.uln) is not (x.baseline_abnormal)
        ):
            relation = ">" if x.baseline > x.uln else "<="
            notes.append(
                f"the flag overrides the baseline {_fmt(x.baseline)} {relation} ULN "
                f"{_fmt(x.uln)}, which alone would say the opposite"
            )
        return x.baseline_abnormal, "flag"
    if x.baseline is None:
        return False, "assumed"
    if x.uln is None:
        return None, ""  # the grade needs the ULN: an error names it
    abnormal = x.baseline > x.uln
    notes.append(
        f"baseline {'abnormal' if abnormal else 'normal'} inferred: baseline {_fmt(x.baseline)} "
        f"{'>' if abnormal else '<='} ULN {_fmt(x.uln)}"
    )
    return abnormal, "inferred"


def _normal_criterion(x: _Inputs) -> str:
    parts = [f"{_fmt(x.value)} {x.scale}"]
    if x.lln is not None:
        parts.append(f"LLN {_fmt(x.lln)}")
    if x.uln is not None:
        parts.append(f"ULN {_fmt(x.uln)}")
    if x.baseline is not None:
        parts.append(f"baseline {_fmt(x.baseline)}")
    return ", ".join(parts)


def _check_not_lab_gradable(c: TermCriteria, x: _Inputs, a: Analyte) -> None:
    if x.uln is None:
        raise ValidationError(
            f"{a.label}: give the ULN so that a value above it can be told apart; "
            f"{c.note} in CTCAE v{c.version}.",
            code="missing_reference",
        )
    if x.value > x.uln:
        raise ValidationError(
            f"{a.label} {_fmt(x.value)} {x.scale} is above ULN: {c.note}. Record the "
            f"{c.term} grade from the clinical course, or grade with CTCAE version 6.0.",
            code="not_gradable",
        )


def criteria_for(analyte: str, version: str = DEFAULT_VERSION) -> tuple[TermCriteria, ...]:
    """The criteria used for ``analyte`` in ``version`` (for documentation and tests)."""
    a = find_analyte(analyte)
    if version not in a.criteria:
        raise NotFoundError(a.unavailable.get(version, f"Unknown version {version!r}."))
    return a.criteria[version]
