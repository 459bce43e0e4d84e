"""Matching benchmark: a seeded synthetic precision-oncology programme.

Workload (issue 6; design in shared/reference/matching.md §4): 50,000 patients with
heavy-tailed alteration counts (5-500 per sample, ~2.4 M rows: ~77% mutations with long-tailed
gene frequencies and hotspots, ~20% copy-number calls, ~3% fusions), TMB/MSI/signatures,
OncoTree diagnoses (~90% solid), and 300 trials with 1,000 cohorts (40% with dose levels),
including deep baskets (OR of 30-60 genes) and DNF-stress clauses (AND of 3-4 ORs of 5 leaves).

Prints: index build, full re-match, one new report (p50/p99 over 1,000 reports), one trial
amendment, a weekly batch (70 reports + 5 amendments), and the bandwidth floor of a full scan.
Targets (2-core machine): full re-match <= 2 s; one new report <= 10 ms p99.

MatchMiner is not run here (it needs MongoDB; on mongomock it took 27 s for 500 samples x 30
arms, reference §1.5), so there is no side-by-side figure.

Usage: ``python bench/matching.py [--patients 50000] [--seed 7]``
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import time
from importlib import resources
from typing import Any

import numpy as np

from oncotrials.core.matching import (
    Alteration,
    GenomicReport,
    Matcher,
    OncoTreeMap,
    Patient,
    PatientIndex,
    Trial,
    trial_from_dict,
)
from oncotrials.core.matching.index import CAT_BIT, NONE, PatientColumns, RowColumns, Vocab
from oncotrials.core.matching.oncotree import is_liquid

AA = "ACDEFGHIKLMNPQRSTVWY"
ALTS = [*AA, "*", "fs"]  # 22 kinds of change per codon
N_CODONS = 1200
HOTSPOTS = {
    "KRAS": [12, 13, 61],
    "BRAF": [600],
    "PIK3CA": [545, 1047],
    "EGFR": [858, 790, 719],
    "NRAS": [61, 12],
    "IDH1": [132],
    "TP53": [175, 248, 273],
    "ERBB2": [777],
    "AKT1": [17],
    "FGFR3": [249],
}
SIGS = ["apobec", "pole", "tobacco", "temozolomide", "uva"]


def protein_string(codon: int, alt: int) -> str:
    return f"p.{AA[codon % 20]}{codon}{ALTS[alt]}"


def load_tree() -> OncoTreeMap:
    """The OncoTree release shipped with oncotrials.core.genomics (898 nodes, CC BY 4.0)."""
    data = resources.files("oncotrials.core.genomics").joinpath("data/oncotree_2025_10_03.json")
    with resources.as_file(data) as path:
        return OncoTreeMap.from_path(path)


def build_workload(
    n: int, rng: np.random.Generator, tree: OncoTreeMap
) -> tuple[PatientIndex, list[str], dict[str, Any]]:
    n_genes = 700
    gene_names = list(HOTSPOTS) + [f"G{i:04d}" for i in range(n_genes - len(HOTSPOTS))]
    gene_names[10:13] = ["ALK", "ROS1", "RET"]
    gene_names[13:16] = ["EML4", "CD74", "KIF5B"]
    weights = 1.0 / np.arange(1, n_genes + 1) ** 1.05
    weights[gene_names.index("TP53")] *= 6
    weights /= weights.sum()
    genes = Vocab(gene_names)
    proteins = Vocab(protein_string(c, a) for c in range(N_CODONS) for a in range(len(ALTS)))
    wildcards = Vocab(f"P.{AA[c % 20]}{c}" for c in range(N_CODONS))
    vclasses = Vocab(["Missense_Mutation", "Nonsense_Mutation", "Frame_Shift_Del", "Splice_Site"])

    # alterations per sample: lognormal body + 5% hypermutated
    counts = np.clip(rng.lognormal(np.log(24), 0.75, n), 5, 200).astype(np.int64)
    hyper = rng.random(n) < 0.05
    counts[hyper] = rng.integers(200, 501, hyper.sum())
    total = int(counts.sum())
    patient = np.repeat(np.arange(n, dtype=np.int32), counts)
    gene = rng.choice(n_genes, size=total, p=weights).astype(np.int32)
    u = rng.random(total)
    category = np.where(
        u < 0.77, CAT_BIT["mutation"], np.where(u < 0.97, CAT_BIT["cnv"], CAT_BIT["sv"])
    ).astype(np.uint8)
    is_mut = category == CAT_BIT["mutation"]
    codon = rng.integers(1, N_CODONS, total)
    alt = rng.integers(0, len(ALTS), total)
    hot_rows = np.zeros(total, dtype=bool)
    for g, spots in HOTSPOTS.items():
        rows = np.flatnonzero((gene == genes.ids[g]) & is_mut)
        pick = rows[rng.random(len(rows)) < 0.6]
        codon[pick] = rng.choice(spots, len(pick))
        alt[pick] = rng.integers(0, 20, len(pick))
        hot_rows[pick] = True
    protein = np.where(is_mut, codon * len(ALTS) + alt, NONE).astype(np.int32)
    wildcard = np.where(is_mut & (alt < 20), codon, NONE).astype(np.int32)
    exon = np.where(is_mut, rng.integers(1, 30, total), NONE).astype(np.int16)
    cn = np.where(
        category == CAT_BIT["cnv"], rng.choice(4, total, p=[0.3, 0.3, 0.3, 0.1]), NONE
    ).astype(np.int8)
    is_sv = category == CAT_BIT["sv"]
    partner = np.where(is_sv, rng.integers(0, n_genes, total), NONE).astype(np.int32)
    partner[is_sv & (rng.random(total) < 0.1)] = -3  # intergenic
    vclass = np.where(is_mut, rng.choice(4, total, p=[0.7, 0.1, 0.1, 0.1]), NONE).astype(np.int32)
    oncogenic = hot_rows | (is_mut & (alt >= 20) & (rng.random(total) < 0.3))
    rows = RowColumns(
        patient,
        gene,
        category,
        protein,
        wildcard,
        exon,
        cn,
        partner,
        vclass,
        {"oncogenic": oncogenic},
    )

    codes = [c for c in tree.codes() if tree.parent(c) is not None]
    liquid = [c for c in codes if is_liquid(tree, c)]
    solid = [c for c in codes if not is_liquid(tree, c)]
    diag_codes = solid + liquid
    diagnosis = np.where(
        rng.random(n) < 0.9,
        rng.integers(0, len(solid), n),
        len(solid) + rng.integers(0, len(liquid), n),
    ).astype(np.int32)
    age = rng.uniform(18, 90, n)
    paed = rng.random(n) < 0.02
    age[paed] = rng.uniform(0.2, 18, paed.sum())
    sig = {s: rng.random(n) < 0.05 for s in SIGS}
    pc = PatientColumns(
        ids=[f"S{i:06d}" for i in range(n)],
        reported=np.ones(n, dtype=bool),
        deceased=rng.random(n) < 0.2,
        diagnosis=diagnosis,
        diagnosis_codes=diag_codes,
        age=age,
        sex=rng.integers(0, 2, n).astype(np.int8),
        ecog=rng.choice([-1, 0, 1, 2, 3], n, p=[0.1, 0.35, 0.35, 0.15, 0.05]).astype(np.int8),
        prior_lines=rng.integers(0, 6, n).astype(np.int16),
        therapies_known=np.ones(n, dtype=bool),
        therapies={"carboplatin": rng.random(n) < 0.4, "sotorasib": rng.random(n) < 0.02},
        labs={"creatinine_clearance": rng.normal(80, 25, n)},
        tmb=counts / 1.2,
        msi=np.where(rng.random(n) < 0.03, 0, 1).astype(np.int8),
        signatures=sig,
    )
    index = PatientIndex(
        pc, rows, genes=genes, proteins=proteins, wildcards=wildcards, vclasses=vclasses
    )
    info = {
        "rows": total,
        "weights": weights,
        "gene_names": gene_names,
        "solid": solid,
        "liquid": liquid,
    }
    return index, gene_names, info


def random_leaf(rng: np.random.Generator, info: dict[str, Any]) -> dict[str, Any]:
    names, weights = info["gene_names"], info["weights"]
    g = names[int(rng.choice(len(names), p=weights))]
    u = rng.random()
    if u < 0.40:
        return {"genomic": {"gene": g}}
    if u < 0.65:
        hot = HOTSPOTS.get(g)
        codon = int(rng.choice(hot)) if hot else int(rng.integers(1, N_CODONS))
        return {
            "genomic": {
                "gene": g,
                "protein_change": protein_string(codon, int(rng.integers(0, 20))),
            }
        }
    if u < 0.80:
        hot = HOTSPOTS.get(g)
        codon = int(rng.choice(hot)) if hot else int(rng.integers(1, N_CODONS))
        return {"genomic": {"gene": g, "wildcard_protein_change": f"{AA[codon % 20]}{codon}"}}
    if u < 0.90:
        call = ["amplification", "gain", "heterozygous_deletion", "homozygous_deletion"][
            int(rng.integers(0, 4))
        ]
        return {"genomic": {"gene": g, "category": "cnv", "cn_call": call}}
    if u < 0.95:
        partner = ["any_gene", "EML4", "CD74", "KIF5B"][int(rng.integers(0, 4))]
        return {
            "genomic": {
                "gene": ["ALK", "ROS1", "RET", g][int(rng.integers(0, 4))],
                "category": "sv",
                "fusion_partner": partner,
            }
        }
    if u < 0.98:
        return {"genomic": {"gene": g, "exon": int(rng.integers(1, 30)), "category": "mutation"}}
    return [{"tmb": {"gte": 10}}, {"msi": "high"}, {"signature": SIGS[int(rng.integers(0, 5))]}][
        int(rng.integers(0, 3))
    ]


def random_cohort_criteria(rng: np.random.Generator, info: dict[str, Any]) -> dict[str, Any]:
    u = rng.random()
    if u < 0.03:  # basket: OR of 30-60 genes
        k = int(rng.integers(30, 61))
        genomic: dict[str, Any] = {"or": [random_leaf(rng, info) for _ in range(k)]}
    elif u < 0.05:  # DNF stress: AND of 3-4 ORs x 5
        genomic = {
            "and": [
                {"or": [random_leaf(rng, info) for _ in range(5)]}
                for _ in range(int(rng.integers(3, 5)))
            ]
        }
    else:
        k = int(min(30, 1 + rng.geometric(0.25)))
        genomic = {"or": [random_leaf(rng, info) for _ in range(k)]}
    parts: list[dict[str, Any]] = [genomic]
    if rng.random() < 0.10:
        parts.append({"not": random_leaf(rng, info)})
    v = rng.random()
    solid = info["solid"]
    if v < 0.40:
        parts.append({"diagnosis": solid[int(rng.integers(0, len(solid)))]})
    elif v < 0.70:
        parts.append(
            {"or": [{"diagnosis": solid[int(rng.integers(0, len(solid)))]} for _ in range(3)]}
        )
    elif v < 0.95:
        parts.append({"diagnosis": "_SOLID_"})
    else:
        parts.append({"diagnosis": "_LIQUID_"})
    return {"and": parts}


def random_trial(
    tid: str, n_cohorts: int, rng: np.random.Generator, info: dict[str, Any], tree: OncoTreeMap
) -> Trial:
    trial_crit: list[dict[str, Any]] = [{"ecog": {"lte": 1}}]
    if rng.random() < 0.8:
        trial_crit.append({"age": {"gte": 18}})
    if rng.random() < 0.3:
        trial_crit.append({"lab": {"name": "creatinine_clearance", "gte": 50}})
    cohorts = []
    for c in range(n_cohorts):
        cohort: dict[str, Any] = {
            "id": f"C{c}",
            "slots": int(rng.integers(0, 10)),
            "criteria": random_cohort_criteria(rng, info),
        }
        if rng.random() < 0.4:
            cohort["dose_levels"] = [
                {
                    "id": f"DL{d}",
                    "slots": int(rng.integers(0, 4)),
                    **({"criteria": {"prior_lines": {"lte": 3}}} if d else {}),
                }
                for d in range(int(rng.integers(2, 4)))
            ]
        cohorts.append(cohort)
    doc = {
        "trial_id": tid,
        "status": "open" if rng.random() < 0.9 else "closed",
        "criteria": {"and": trial_crit},
        "cohorts": cohorts,
    }
    return trial_from_dict(doc, source=f"{tid}.yaml", oncotree=tree)


def random_patient(
    pid: str, n_alts: int, rng: np.random.Generator, info: dict[str, Any]
) -> Patient:
    names, weights = info["gene_names"], info["weights"]
    alts = []
    for g in rng.choice(len(names), size=n_alts, p=weights):
        gene = names[int(g)]
        u = rng.random()
        if u < 0.77:
            hot = HOTSPOTS.get(gene)
            codon = (
                int(rng.choice(hot))
                if hot and rng.random() < 0.6
                else int(rng.integers(1, N_CODONS))
            )
            a = int(rng.integers(0, len(ALTS)))
            alts.append(
                Alteration(
                    gene,
                    "mutation",
                    protein_change=protein_string(codon, a),
                    exon=int(rng.integers(1, 30)),
                    classes=frozenset({"oncogenic"}) if hot else frozenset(),
                )
            )
        elif u < 0.97:
            call = ["amplification", "gain", "heterozygous_deletion", "homozygous_deletion"][
                int(rng.integers(0, 4))
            ]
            alts.append(Alteration(gene, "cnv", cn_call=call))
        else:
            alts.append(
                Alteration(gene, "sv", fusion_partner=names[int(rng.integers(0, len(names)))])
            )
    solid = info["solid"]
    return Patient(
        pid,
        diagnosis=solid[int(rng.integers(0, len(solid)))],
        age=float(rng.uniform(18, 90)),
        sex="female" if rng.random() < 0.5 else "male",
        ecog=int(rng.integers(0, 3)),
        prior_lines=int(rng.integers(0, 5)),
        prior_therapies=frozenset({"carboplatin"}),
        labs={"creatinine_clearance": float(rng.normal(80, 25))},
        report=GenomicReport(tuple(alts), tmb=n_alts / 1.2, msi="stable"),
    )


def bandwidth_gbs() -> float:
    a = np.ones(64 * 1024 * 1024 // 8)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.nbytes / best / 1e9  # read + write


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=50_000)
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--cohorts", type=int, default=1_000)
    ap.add_argument("--reports", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    tree = load_tree()

    t0 = time.perf_counter()
    index, _, info = build_workload(args.patients, rng, tree)
    t_index = time.perf_counter() - t0
    per_trial = rng.multinomial(args.cohorts - args.trials, np.ones(args.trials) / args.trials) + 1
    trials = [random_trial(f"NCT{i:05d}", int(k), rng, info, tree) for i, k in enumerate(per_trial)]
    n_levels = sum(len(t.levels) for t in trials)
    print(
        f"workload: {index.n:,} patients, {info['rows']:,} alteration rows ({index.n_rows:,} indexed incl. mirrored fusions), "
        f"{len(trials)} trials, {args.cohorts} cohorts, {n_levels} match levels (seed {args.seed})"
    )
    print(f"index build from columns:          {t_index:8.3f} s (generation included)")

    t0 = time.perf_counter()
    m = Matcher(trials, index, tree)
    t_first = time.perf_counter() - t0
    print(
        f"compile + first full re-match:     {t_first:8.3f} s  ({len(m.plan):,} distinct DAG nodes)"
    )
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        m.run_full()
        runs.append(time.perf_counter() - t0)
    n_matches = sum(len(lm.patient_ids) for lm in m.matches())
    print(
        f"full re-match (warm, best of 3):   {min(runs):8.3f} s  target <= 2 s   ({n_matches:,} open-level matches of living patients)"
    )

    # A long-running matcher freezes its start-up objects out of the cyclic garbage collector
    # (gc.freeze), so that collections during report handling stay short.
    gc.collect()
    gc.freeze()

    # one new report against everything
    sizes = np.clip(rng.lognormal(np.log(24), 0.75, args.reports), 5, 200).astype(int)
    sizes[rng.random(args.reports) < 0.05] = 500
    new = [random_patient(f"NEW{i:05d}", int(k), rng, info) for i, k in enumerate(sizes)]
    lat = []
    for p in new:
        t0 = time.perf_counter()
        m.upsert_patient(p)
        lat.append((time.perf_counter() - t0) * 1e3)
    q = statistics.quantiles(lat, n=100)
    big = [x for x, k in zip(lat, sizes, strict=True) if k == 500]
    print(
        f"one new report ({args.reports} reports):     p50 {q[49]:6.2f} ms  p99 {q[98]:6.2f} ms  target p99 <= 10 ms"
        f"   (500-variant reports: median {statistics.median(big):.2f} ms, max {max(big):.2f} ms)"
    )

    # trial amendment: add a basket gene and tighten ECOG, against every patient
    amend = []
    for _ in range(20):
        tr = trials[int(rng.integers(0, len(trials)))]
        doc_trial = random_trial(
            tr.id, len([lv for lv in tr.levels if lv.kind == "cohort"]), rng, info, tree
        )
        t0 = time.perf_counter()
        m.upsert_trial(doc_trial)
        amend.append((time.perf_counter() - t0) * 1e3)
        trials[trials.index(tr)] = doc_trial

    print(
        f"one trial amendment (20 trials):   median {statistics.median(amend):6.1f} ms  max {max(amend):6.1f} ms"
        "  (the first one also indexes the reports received since start-up)"
    )

    t0 = time.perf_counter()
    for p in [random_patient(f"WK{i:03d}", 30, rng, info) for i in range(70)]:
        m.upsert_patient(p)
    for _ in range(5):
        tr = trials[int(rng.integers(0, len(trials)))]
        m.upsert_trial(random_trial(tr.id, 3, rng, info, tree))
    print(
        f"weekly batch (70 reports + 5 amendments, incremental): {time.perf_counter() - t0:6.3f} s"
    )

    # incremental == full at scale: fold every update into a new index, re-match from scratch
    def snapshot() -> dict[tuple[str, str], tuple[str, ...]]:
        return {
            lm.level.key: lm.patient_ids
            for lm in m.matches(include_closed=True, include_deceased=True)
        }

    incremental = snapshot()
    t0 = time.perf_counter()
    m.compact()
    t_compact = time.perf_counter() - t0
    full = snapshot()
    same = incremental.keys() == full.keys() and all(
        set(incremental[k]) == set(full[k]) for k in full
    )
    print(
        f"compaction (new index + full re-match): {t_compact:6.3f} s; incremental == full re-match: {same}"
    )

    # MatchMiner side by side: not run here (needs MongoDB). The reference note measured the
    # CTIMS/DFCI engine on mongomock (an upper bound, 1 CPU): 500 samples x 20 variants with
    # 10 trials / 30 arms in 27 s, 2,000 samples in 366 s. Same shape with this engine:
    small_rng = np.random.default_rng(args.seed + 1)
    small_index, _, small_info = build_workload(2_000, small_rng, tree)
    small_trials = [random_trial(f"REF{i}", 3, small_rng, small_info, tree) for i in range(10)]
    t0 = time.perf_counter()
    Matcher(small_trials, small_index, tree)
    t_small = time.perf_counter() - t0
    print(
        f"MatchMiner-sized run (2,000 samples, 10 trials / 30 arms): {t_small * 1e3:6.1f} ms here; "
        "reference: MatchMiner on mongomock 366 s (shared/reference/matching.md §1.5, not re-run)"
    )
    rate = index.n * n_levels / min(runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"throughput: {rate / 1e6:,.0f} M sample-level evaluations/s; peak RSS {peak:,.0f} MB")

    bw = bandwidth_gbs()
    scan_bytes = index.n_rows * 13
    print(
        f"bandwidth floor: {bw:5.1f} GB/s copy -> full scan of {scan_bytes / 1e6:.0f} MB columnar rows >= {scan_bytes / bw / 1e6:.1f} ms; "
        f"efficiency of full re-match = {scan_bytes / bw / 1e9 / min(runs):.1%} of the scan floor"
    )


if __name__ == "__main__":
    main()
