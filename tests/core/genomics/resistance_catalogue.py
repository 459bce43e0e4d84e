"""Acquired-resistance mechanisms published in the Molecular Oncology Almanac, as a benchmark.

Each MOAlmanac assertion with ``therapy_resistance = 1`` on a somatic variant or a copy-number
change under a named drug (targeted, hormone, immune or a combination of drugs; radiation,
surgery and unnamed chemotherapy are out of scope) becomes one case: an empty baseline and a
progression sample holding the feature. The expected mechanism comes from the assertion's own
``therapy_strategy``, read independently of the shipped tables: a feature in a gene the strategy
inhibits (``EGFR inhibition`` and EGFR) is on-target, any other gene is bypass. A case is right
when the classifier gives that class; a drug the catalogue refuses counts as wrong.

Fixture: tests/fixtures/genomics/moalmanac/ (source, licence: tests/fixtures/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Genes each MOAlmanac therapy_strategy inhibits (on-target), read from the strategy's words.
STRATEGY_GENES: dict[str, frozenset[str]] = {
    "BCR-ABL inhibition": frozenset({"ABL1", "BCR"}),
    "EGFR inhibition": frozenset({"EGFR"}),
    "ALK inhibition": frozenset({"ALK"}),
    "Antiandrogen": frozenset({"AR"}),
    "B-RAF inhibition": frozenset({"BRAF"}),
    "MEK inhibition": frozenset({"MAP2K1", "MAP2K2"}),
    "targets FLT3": frozenset({"FLT3"}),
    "RET inhibition": frozenset({"RET"}),
    "PARP inhibition": frozenset({"PARP1", "PARP2", "BRCA1", "BRCA2"}),
    "Aromatase inhibition + ER signaling inhibition": frozenset({"CYP19A1", "ESR1"}),
    "PD-1/PD-L1 inhibition": frozenset({"PDCD1", "CD274"}),
    "MDM2-p53 inhibition": frozenset({"MDM2"}),
    "Immunomodulation": frozenset({"CRBN"}),
    "CDK4/6 inhibition": frozenset({"CDK4", "CDK6"}),
}
IN_SCOPE_TYPES = {"Targeted therapy", "Hormone therapy", "Immunotherapy", "Combination therapy"}
NOT_A_DRUG = ("radiation", "surgery", "chemotherapy", "chemoradiotherapy")


@dataclass(frozen=True)
class Case:
    assertion_id: int
    gene: str
    feature: str  # protein change, or Amplification / Deletion
    copy_number: bool
    drugs: tuple[str, ...]
    expected: str  # "on_target" or "bypass"


def load_cases(path: Path) -> list[Case]:
    rows: list[dict[str, Any]] = json.loads(path.read_text())
    cases = []
    for r in rows:
        if r.get("therapy_resistance") != 1 or r.get("therapy_type") not in IN_SCOPE_TYPES:
            continue
        if r["feature_type"] not in {"Somatic Variant", "Copy Number"}:
            continue
        name = r["therapy_name"]
        if any(w in name.lower() for w in NOT_A_DRUG):
            continue
        strategy = r["therapy_strategy"]
        if strategy not in STRATEGY_GENES:
            raise AssertionError(f"strategy {strategy!r} not read; add it to STRATEGY_GENES")
        cn = r["feature_type"] == "Copy Number"
        cases.append(
            Case(
                assertion_id=int(r["assertion_id"]),
                gene=r["gene"],
                feature=(r.get("direction") or "") if cn else (r.get("protein_change") or ""),
                copy_number=cn,
                drugs=tuple(d.strip() for d in name.split("+")),
                expected="on_target" if r["gene"] in STRATEGY_GENES[strategy] else "bypass",
            )
        )
    return cases


def classify_case(case: Case, classify: Callable[..., Any], model: Any) -> str:
    """The class the classifier gives (``on_target``, ``bypass``, another, or ``refused``)."""
    sample, patient = model.Sample("B", "P"), model.Sample("R", "P")
    if case.copy_number:
        call = (
            model.CnaCall.AMPLIFICATION
            if case.feature.lower().startswith("amp")
            else model.CnaCall.DEEP_DELETION
        )
        alteration = model.CopyNumber("R", case.gene, call)
    else:
        alteration = model.Mutation(
            "R",
            case.gene,
            model.VariantClass.MISSENSE,
            protein_change=case.feature or None,
            protein_change_raw=case.feature or None,
        )
    from oncotrials.core.genomics.resistance import SerialSample

    try:
        report = classify(
            SerialSample(sample, ()), SerialSample(patient, (alteration,)), list(case.drugs)
        )
    except Exception:
        return "refused"
    (acquired,) = report.acquired
    mechanism = acquired.mechanism.value
    return "on_target" if mechanism.startswith("on_target") else mechanism


def accuracy(path: Path) -> tuple[int, int, list[tuple[Case, str]]]:
    """(right, total, the wrong cases with what they were classified as)."""
    from oncotrials.core.genomics import model
    from oncotrials.core.genomics.resistance import classify_resistance

    cases = load_cases(path)
    wrong = []
    for c in cases:
        got = classify_case(c, classify_resistance, model)
        if got != c.expected:
            wrong.append((c, got))
    return len(cases) - len(wrong), len(cases), wrong
