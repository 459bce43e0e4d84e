"""Demo genomic reports and machine criteria, so that trial matching has something to match.

``demo_genomics_load`` gives ~120 demo patients (those in molecular pre-screening or screening,
and some of those included) a tissue panel or a cfDNA report whose alterations fit the target of
the trial they are screened for: most carry the target (KRAS G12C, EGFR exon 20 insertion,
FGFR2 and NTRK fusions, BRAF V600E, ERBB2 amplification, MSI-H with a high TMB, MET exon 14
skipping, BRCA2 loss...), the rest are target-negative, and everyone has some background (TP53,
CDKN2A...). A few included patients also have serial samples: a baseline tissue report and a
progression cfDNA report with an acquired resistance alteration. Reports go in as JSON genomic
reports (``docs/formats/genomic-report.md``) through the genomics app's import service, as a
laboratory's files would, so ESCAT tiers and the audit trail are those of real use.

``demo_criteria_load`` writes machine criteria (``docs/formats/criteria.md``) for the demo's
open precision trials: the tumour types, adult age and the molecular target, at the trial level
(every cohort inherits them). Both are deterministic: the same seed gives the same reports.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oncotrials.apps.audit.context import audit_context
from oncotrials.apps.audit.services import audit_batch
from oncotrials.apps.genomics.services import genomics_import
from oncotrials.apps.matching.criteria import match_criteria_set
from oncotrials.apps.subjects.models import Registration, ScreeningEpisode
from oncotrials.apps.trials.models import Trial, TrialStatus

from .journeys import demo_today

Say = Callable[[str], None]

# target text of a demo trial -> alterations carrying it (one is drawn per patient)
_VARIANT = "short_variants"
_CNA = "copy_number_alterations"
_SV = "structural_variants"
_BIO = "biomarkers"
_TARGETS: dict[str, list[list[tuple[str, dict[str, Any]]]]] = {
    "KRAS G12C": [[(_VARIANT, {"gene": "KRAS", "protein_change": "p.G12C"})]],
    "KRAS G12D": [[(_VARIANT, {"gene": "KRAS", "protein_change": "p.G12D"})]],
    "PIK3CA": [
        [(_VARIANT, {"gene": "PIK3CA", "protein_change": "p.H1047R"})],
        [(_VARIANT, {"gene": "PIK3CA", "protein_change": "p.E545K"})],
    ],
    "EGFR exon 20 insertion": [
        [
            (
                _VARIANT,
                {
                    "gene": "EGFR",
                    "protein_change": "p.A767_V769dup",
                    "variant_class": "In_Frame_Ins",
                },
            )
        ]
    ],
    "FGFR2 fusion": [
        [(_SV, {"gene1": "FGFR2", "gene2": "BICC1", "event_info": "Fusion", "in_frame": True})]
    ],
    "NTRK fusion": [
        [(_SV, {"gene1": "ETV6", "gene2": "NTRK3", "event_info": "Fusion", "in_frame": True})],
        [(_SV, {"gene1": "TPM3", "gene2": "NTRK1", "event_info": "Fusion", "in_frame": True})],
    ],
    "BRAF V600E": [[(_VARIANT, {"gene": "BRAF", "protein_change": "p.V600E"})]],
    "BRAF V600": [
        [(_VARIANT, {"gene": "BRAF", "protein_change": "p.V600E"})],
        [(_VARIANT, {"gene": "BRAF", "protein_change": "p.V600K"})],
    ],
    "HER2": [[(_CNA, {"gene": "ERBB2", "call": "amplification", "copy_number": 14.0})]],
    "ERBB2": [[(_CNA, {"gene": "ERBB2", "call": "amplification", "copy_number": 11.0})]],
    "MSI-H": [
        [
            (_BIO, {"kind": "MSI", "status": "MSI-H"}),
            (_BIO, {"kind": "TMB", "value": 38.5, "unit": "mut/Mb"}),
        ]
    ],
    "TMB-H": [[(_BIO, {"kind": "TMB", "value": 16.2, "unit": "mut/Mb"})]],
    "MET exon 14": [
        [
            (
                _VARIANT,
                {"gene": "MET", "protein_change": "p.X1010_splice", "variant_class": "Splice_Site"},
            )
        ]
    ],
    "BRCA2": [
        [
            (
                _VARIANT,
                {
                    "gene": "BRCA2",
                    "protein_change": "p.S1982Rfs*22",
                    "variant_class": "Frame_Shift_Del",
                },
            )
        ]
    ],
    "BRCA1": [
        [
            (
                _VARIANT,
                {
                    "gene": "BRCA1",
                    "protein_change": "p.E1836Gfs*2",
                    "variant_class": "Frame_Shift_Del",
                },
            )
        ]
    ],
    "AR": [[(_CNA, {"gene": "AR", "call": "amplification", "copy_number": 9.0})]],
}
_BACKGROUND: list[tuple[str, dict[str, Any]]] = [
    (_VARIANT, {"gene": "TP53", "protein_change": "p.R273H"}),
    (_VARIANT, {"gene": "TP53", "protein_change": "p.R175H"}),
    (_VARIANT, {"gene": "TP53", "protein_change": "p.Y220C"}),
    (_VARIANT, {"gene": "STK11", "protein_change": "p.Q37*", "variant_class": "Nonsense_Mutation"}),
    (_VARIANT, {"gene": "APC", "protein_change": "p.R1450*", "variant_class": "Nonsense_Mutation"}),
    (
        _VARIANT,
        {"gene": "ARID1A", "protein_change": "p.Q563*", "variant_class": "Nonsense_Mutation"},
    ),
    (_CNA, {"gene": "CDKN2A", "call": "deep_deletion"}),
    (_CNA, {"gene": "MYC", "call": "amplification", "copy_number": 8.0}),
    (_CNA, {"gene": "CCND1", "call": "gain"}),
]
# acquired at progression on a targeted agent (serial samples)
_RESISTANCE: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "KRAS": [
        (_VARIANT, {"gene": "KRAS", "protein_change": "p.Y96D"}),
        (_CNA, {"gene": "MET", "call": "amplification", "copy_number": 12.0}),
    ],
    "EGFR": [(_VARIANT, {"gene": "EGFR", "protein_change": "p.C797S"})],
    "BRAF": [(_VARIANT, {"gene": "MAP2K1", "protein_change": "p.K57N"})],
    "PIK3CA": [
        (
            _VARIANT,
            {"gene": "PTEN", "protein_change": "p.R130*", "variant_class": "Nonsense_Mutation"},
        )
    ],
}
_TARGET_GENE = {
    "KRAS G12C": "KRAS",
    "KRAS G12D": "KRAS",
    "EGFR exon 20 insertion": "EGFR",
    "BRAF V600E": "BRAF",
    "BRAF V600": "BRAF",
    "PIK3CA": "PIK3CA",
}

# target text -> machine criterion (docs/formats/criteria.md)
_CRITERIA: dict[str, dict[str, Any]] = {
    "KRAS G12C": {"genomic": {"gene": "KRAS", "protein_change": "p.G12C"}},
    "KRAS G12D": {"genomic": {"gene": "KRAS", "protein_change": "p.G12D"}},
    "PIK3CA": {"genomic": {"gene": "PIK3CA", "category": "mutation"}},
    "EGFR exon 20 insertion": {
        "genomic": {"gene": "EGFR", "variant_classification": "In_Frame_Ins"}
    },
    "FGFR2 fusion": {"genomic": {"gene": "FGFR2", "category": "sv", "fusion_partner": "any_gene"}},
    "NTRK fusion": {
        "or": [
            {"genomic": {"gene": g, "category": "sv", "fusion_partner": "any_gene"}}
            for g in ("NTRK1", "NTRK2", "NTRK3")
        ]
    },
    "BRAF V600E": {"genomic": {"gene": "BRAF", "protein_change": "p.V600E"}},
    "BRAF V600": {"genomic": {"gene": "BRAF", "wildcard_protein_change": "p.V600"}},
    "HER2": {"genomic": {"gene": "ERBB2", "category": "cnv", "cn_call": "amplification"}},
    "ERBB2": {"genomic": {"gene": "ERBB2", "category": "cnv", "cn_call": "amplification"}},
    "MSI-H": {"msi": "high"},
    "TMB-H": {"tmb": {"gte": 10}},
    "MET exon 14": {"genomic": {"gene": "MET", "variant_classification": "Splice_Site"}},
    "BRCA1": {"genomic": {"gene": "BRCA1", "category": "mutation"}},
    "BRCA2": {"genomic": {"gene": "BRCA2", "category": "mutation"}},
    "AR": {"genomic": {"gene": "AR", "category": "cnv", "cn_call": "amplification"}},
}


def _valid_code(code: str) -> str | None:
    from oncotrials.core.genomics.oncotree import load_oncotree

    return load_oncotree().resolve(code) if code else None


def _candidates(rng: random.Random, total: int = 120) -> list[tuple[Any, Any, bool]]:
    """(patient, trial, included) for ~``total`` patients: everyone in pre-screening or
    screening for a trial with a molecular target first, then included patients (targeted
    trials first), in a stable order."""
    seen: dict[int, tuple[Any, Any, bool]] = {}
    for ep in ScreeningEpisode.objects.select_related("patient", "trial").order_by(
        "started_on", "pk"
    ):
        if ep.patient_id not in seen or (ep.trial.targets and not seen[ep.patient_id][1].targets):
            seen[ep.patient_id] = (ep.patient, ep.trial, False)
    for reg in Registration.objects.select_related("patient", "trial").order_by(
        "registered_on", "pk"
    ):
        seen[reg.patient_id] = (reg.patient, reg.trial, True)
    screened = sorted(
        (v for v in seen.values() if not v[2] and v[1].targets), key=lambda v: v[0].research_id
    )
    included = sorted(
        (v for v in seen.values() if v[2]),
        key=lambda v: (not v[1].targets, rng.random(), v[0].research_id),
    )
    picked = screened[: total * 2 // 3]
    picked += included[: total - len(picked)]
    return sorted(picked, key=lambda v: v[0].research_id)


def _report(
    patient: Any,
    n: int,
    *,
    kind: str,
    timepoint: str,
    collected: dt.date,
    tumour: str | None,
    rows: list[tuple[str, dict[str, Any]]],
    rng: random.Random,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format_version": "1.0",
        "report_id": f"DEMO-{n:05d}",
        "patient_id": patient.research_id,
        "sample": {
            "sample_id": f"{patient.research_id}-{'T' if kind == 'tissue' else 'L'}{n}",
            "kind": kind,
            "timepoint": timepoint,
            "collected_on": collected.isoformat(),
            "tumour_fraction": round(rng.uniform(0.05, 0.6), 2),
        },
        "assay": {
            "name": "Tissue NGS panel" if kind == "tissue" else "Liquid biopsy panel",
            "panel": "DEMO-500" if kind == "tissue" else "DEMO-LB-74",
            "version": "1.0",
        },
        "lab": "Molecular pathology laboratory (demo)",
        "reported_on": (collected + dt.timedelta(days=rng.randrange(8, 20))).isoformat(),
        "genome_build": "GRCh38",
        _VARIANT: [],
        _CNA: [],
        _SV: [],
        _BIO: [],
    }
    if tumour:
        doc["sample"]["oncotree_code"] = tumour
    for section, row in rows:
        entry = dict(row)
        if section == _VARIANT:
            entry.setdefault("variant_class", "Missense_Mutation")
            vaf = rng.uniform(0.02, 0.45) if kind == "tissue" else rng.uniform(0.002, 0.12)
            entry["vaf"] = round(vaf, 3)
            entry["depth"] = (
                rng.randrange(300, 900) if kind == "tissue" else rng.randrange(2000, 9000)
            )
        doc[section].append(entry)
    if not any(b["kind"] == "TMB" for b in doc[_BIO]):
        doc[_BIO].append(
            {"kind": "TMB", "value": round(rng.uniform(0.8, 9.5), 1), "unit": "mut/Mb"}
        )
    if not any(b["kind"] == "MSI" for b in doc[_BIO]):
        doc[_BIO].append({"kind": "MSI", "status": "MSS"})
    return doc


def demo_report_documents(rng: random.Random) -> list[dict[str, Any]]:
    """The demo's JSON genomic reports (deterministic for a given generator state)."""
    today = demo_today()

    documents: list[dict[str, Any]] = []
    n = 0
    for patient, trial, included in _candidates(rng):
        tumour = _valid_code(patient.diagnosis)
        options = [_TARGETS[t] for t in (trial.targets or []) if t in _TARGETS]
        rows: list[tuple[str, dict[str, Any]]] = list(rng.sample(_BACKGROUND, rng.randrange(1, 4)))
        positive = bool(options) and (included or rng.random() < 0.6)
        target = next((t for t in (trial.targets or []) if t in _TARGETS), None)
        if positive:
            rows += rng.choice(rng.choice(options))
        n += 1
        kind = "cfdna" if rng.random() < 0.3 else "tissue"
        baseline = today - dt.timedelta(days=rng.randrange(30, 400))
        documents.append(
            _report(
                patient,
                n,
                kind=kind,
                timepoint="baseline",
                collected=baseline,
                tumour=tumour,
                rows=rows,
                rng=rng,
            )
        )
        gene = _TARGET_GENE.get(target or "")
        if included and positive and gene in _RESISTANCE and rng.random() < 0.35:
            n += 1
            later = min(
                today - dt.timedelta(days=3),
                baseline + dt.timedelta(days=rng.randrange(120, 300)),
            )
            documents.append(
                _report(
                    patient,
                    n,
                    kind="cfdna",
                    timepoint="progression",
                    collected=later,
                    tumour=tumour,
                    rows=[*rows, rng.choice(_RESISTANCE[gene])],
                    rng=rng,
                )
            )
    return documents


def demo_genomics_load(rng: random.Random, say: Say | None = None) -> int:
    """Create the demo's genomic reports through the import service; returns how many."""
    tell = say or (lambda _msg: None)
    documents = demo_report_documents(rng)
    with (
        tempfile.TemporaryDirectory(prefix="oncotrials-demo-genomics-") as tmp,
        audit_context(channel="system"),
        audit_batch(),  # one append to the audit chain (nothing caught here undoes a change)
    ):
        for i, doc in enumerate(documents):
            path = Path(tmp) / f"{doc['report_id']}.json"
            path.write_text(json.dumps(doc), encoding="utf-8")
            genomics_import(path=path, by=None, source_name=f"{doc['report_id']}.json")
            if i % 20 == 19:
                tell(f"genomic reports {i + 1}/{len(documents)}")
    tell("genomic reports")
    return len(documents)


def _diagnosis_node(tumours: list[str]) -> dict[str, Any] | None:
    codes: list[str] = []
    for t in tumours:
        if t == "SOLID":
            codes.append("_SOLID_")
        elif (code := _valid_code(t)) is not None:
            codes.append(code)
    if not codes:
        return None
    nodes: list[dict[str, Any]] = [{"diagnosis": c} for c in dict.fromkeys(codes)]
    return nodes[0] if len(nodes) == 1 else {"or": nodes}


def demo_criteria_load(say: Say | None = None) -> int:
    """Machine criteria for the demo's open precision trials; returns how many trials."""
    tell = say or (lambda _msg: None)
    done = 0
    with audit_context(channel="system"):
        for trial in Trial.objects.filter(status=TrialStatus.OPEN).order_by("protocol_code"):
            molecular = [_CRITERIA[t] for t in trial.targets if t in _CRITERIA]
            if not molecular:
                continue
            parts: list[dict[str, Any]] = [{"age": {"gte": 18}}]
            diagnosis = _diagnosis_node(list(trial.tumour_types))
            if diagnosis is not None:
                parts.append(diagnosis)
            parts.append(molecular[0] if len(molecular) == 1 else {"or": molecular})
            match_criteria_set(
                trial=trial,
                criteria={"and": parts},
                by=None,
                reason="Demo: machine criteria written from the protocol's eligibility",
                expected_version=trial.version,
            )
            done += 1
    tell("matching criteria")
    return done
