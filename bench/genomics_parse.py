"""MAF reader speed: a realistic 1,000,000-row MAF, our reader beside the raw parse floor.

Generates (in a temporary directory) a MAF with the 34 columns of a cBioPortal/GDC-style
mutation file: 10,000 samples, genes drawn with a heavy-tailed frequency, hotspots repeated and a
long tail of private protein changes, both HGVSp (three-letter) and HGVSp_Short columns, allele
counts. Then times

- the floor: ``polars.read_csv`` of the same file, every column as text (and ``pyarrow.csv`` when
  pyarrow is installed);
- ``oncotrials.core.genomics.read_maf``: the same parse plus validation (required columns, field
  counts, UTF-8, integers, variant classes, genome build), gene and protein-change normalisation
  and VAF, producing the narrow normalised table.

Usage: ``python bench/genomics_parse.py [--rows 1000000] [--seed 7]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from oncotrials.core.genomics._tabular import load_table
from oncotrials.core.genomics.issues import IssueLog
from oncotrials.core.genomics.maf import _NULLS, _wanted_columns, read_maf
from oncotrials.core.genomics.protein import ONE_TO_THREE

AA = [a for a in ONE_TO_THREE if a not in "*XUO"]
CANCER_GENES = [
    "TP53", "KRAS", "PIK3CA", "EGFR", "BRAF", "APC", "PTEN", "ARID1A", "KMT2D", "NRAS", "IDH1",
    "FLT3", "DNMT3A", "NPM1", "CTNNB1", "FBXW7", "SMAD4", "CDKN2A", "RB1", "NF1", "ERBB2", "ATM",
    "BRCA1", "BRCA2", "ALK", "MET", "RET", "ROS1", "ESR1", "AKT1",
]  # fmt: skip
CLASSES = np.array(
    [
        "Missense_Mutation",
        "Silent",
        "Nonsense_Mutation",
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "Splice_Site",
        "In_Frame_Del",
        "In_Frame_Ins",
        "3'UTR",
        "Intron",
    ]
)
CLASS_P = np.array([0.55, 0.2, 0.06, 0.05, 0.03, 0.04, 0.02, 0.01, 0.02, 0.02])


def make_maf(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    genes = np.array(CANCER_GENES + [f"GENE{i:05d}" for i in range(18000)])
    weights = 1.0 / np.arange(1, genes.size + 1) ** 0.9
    gi = rng.choice(genes.size, size=n, p=weights / weights.sum())
    gene = genes[gi]
    samples = np.array([f"P-{i:06d}-T01-IM6" for i in range(10000)])
    sample = samples[rng.integers(0, samples.size, n)]
    vclass = CLASSES[rng.choice(CLASSES.size, size=n, p=CLASS_P)]
    # Protein changes: 30 % at a few hotspots per gene, the rest private.
    pos = np.where(rng.random(n) < 0.3, (gi % 50) * 7 + 12, rng.integers(1, 3000, n))
    ref = np.array(AA)[rng.integers(0, len(AA), n)]
    alt = np.array(AA)[rng.integers(0, len(AA), n)]
    short = np.char.add(np.char.add(np.char.add("p.", ref), pos.astype(str)), alt)
    three = {a: ONE_TO_THREE[a] for a in AA}
    ref3 = np.vectorize(three.__getitem__)(ref)
    alt3 = np.vectorize(three.__getitem__)(alt)
    long = np.char.add(np.char.add(np.char.add("p.", ref3), pos.astype(str)), alt3)
    depth = rng.integers(20, 1500, n)
    alt_count = np.maximum(1, (depth * rng.beta(2, 6, n)).astype(int))
    start = rng.integers(10_000, 240_000_000, n)
    bases = np.array(list("ACGT"))
    frame = pl.DataFrame(
        {
            "Hugo_Symbol": gene,
            "Entrez_Gene_Id": gi.astype(str),
            "Center": np.full(n, "centre.example.org"),
            "NCBI_Build": np.full(n, "GRCh37"),
            "Chromosome": (gi % 22 + 1).astype(str),
            "Start_Position": start.astype(str),
            "End_Position": start.astype(str),
            "Strand": np.full(n, "+"),
            "Variant_Classification": vclass,
            "Variant_Type": np.full(n, "SNP"),
            "Reference_Allele": bases[rng.integers(0, 4, n)],
            "Tumor_Seq_Allele1": bases[rng.integers(0, 4, n)],
            "Tumor_Seq_Allele2": bases[rng.integers(0, 4, n)],
            "dbSNP_RS": np.full(n, "novel"),
            "dbSNP_Val_Status": np.full(n, ""),
            "Tumor_Sample_Barcode": sample,
            "Matched_Norm_Sample_Barcode": np.char.replace(sample, "T01", "N01"),
            "Match_Norm_Seq_Allele1": np.full(n, ""),
            "Match_Norm_Seq_Allele2": np.full(n, ""),
            "Verification_Status": np.full(n, "Unknown"),
            "Validation_Status": np.full(n, "Untested"),
            "Mutation_Status": np.full(n, "Somatic"),
            "Sequencing_Phase": np.full(n, ""),
            "Sequence_Source": np.full(n, "Targeted"),
            "Sequencer": np.full(n, "Illumina NovaSeq"),
            "HGVSc": np.char.add("c.", (pos * 3).astype(str)),
            "HGVSp": long,
            "HGVSp_Short": short,
            "Transcript_ID": np.char.add("ENST", gi.astype(str)),
            "t_depth": depth.astype(str),
            "t_ref_count": (depth - alt_count).astype(str),
            "t_alt_count": alt_count.astype(str),
            "n_depth": rng.integers(20, 500, n).astype(str),
            "Protein_position": pos.astype(str),
        }
    )
    with path.open("w") as fh:
        fh.write("#version 2.4\n")
        frame.write_csv(fh, separator="\t", quote_style="never")


def best_of(k: int, fn: object) -> float:
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.maf"
        t0 = time.perf_counter()
        make_maf(path, args.rows, args.seed)
        size = path.stat().st_size / 2**20
        print(
            f"generated {args.rows:,} rows, 34 columns, {size:.0f} MiB in {time.perf_counter() - t0:.1f} s"
        )

        floor = best_of(
            args.repeat,
            lambda: pl.read_csv(
                path, separator="\t", comment_prefix="#", infer_schema=False, quote_char=None
            ),
        )
        print(
            f"floor  polars.read_csv (all text)    {floor:6.2f} s  {args.rows / floor:12,.0f} rows/s"
        )
        try:
            import pyarrow.csv as pacsv  # type: ignore[import-not-found]

            opts = pacsv.ParseOptions(delimiter="\t", quote_char=False)
            ropts = pacsv.ReadOptions(skip_rows=1)
            arrow = best_of(
                args.repeat, lambda: pacsv.read_csv(path, read_options=ropts, parse_options=opts)
            )
            print(
                f"floor  pyarrow.csv.read_csv          {arrow:6.2f} s  {args.rows / arrow:12,.0f} rows/s"
            )
        except ImportError:
            print("floor  pyarrow.csv.read_csv          (pyarrow not installed)")

        log = IssueLog.for_path(path)
        parse = best_of(
            args.repeat,
            lambda: load_table(path, log, kind="MAF", columns=_wanted_columns, null_values=_NULLS),
        )
        ours = best_of(args.repeat, lambda: read_maf(path))
        table = read_maf(path)
        print(
            f"ours   oncotrials read_maf           {ours:6.2f} s  {args.rows / ours:12,.0f} rows/s"
        )
        print(
            f"  of which parse and shape checks    {parse:6.2f} s  (bytes, gzip, UTF-8, field "
            "counts, polars parse of the used columns, blanks)"
        )
        print(
            f"  validation and normalisation       {ours - parse:6.2f} s  (classes, genes, "
            "protein changes, integers, VAF, build)"
        )
        print(f"ratio  ours / polars floor           {ours / floor:6.2f}x")
        t0 = time.perf_counter()
        n = sum(1 for _ in table.mutations())
        it = time.perf_counter() - t0
        print(f"extra  {n:,} Mutation objects         {it:6.2f} s  {n / it:12,.0f} rows/s")
        assert len(table) == args.rows


if __name__ == "__main__":
    main()
