"""Genomic import into the database: a realistic 1,000,000-row MAF into SQLite and PostgreSQL.

Generates (in a temporary directory) a GDC/cBioPortal-style MAF: 2,000 samples of 1,500 patients
(serial samples for some), 500 mutations per sample (exome-like), genes drawn with a heavy-tailed
frequency, a few hotspots per gene (KRAS p.G12C, BRAF p.V600E, EGFR p.L858R ... at realistic
rates) and a long tail of private changes. Then prints, side by side:

- the parse floor: ``polars.read_csv`` of the file, every column as text;
- ``read_maf``: the core reader (validation and normalisation), which the import includes;
- ``genomics_import`` into SQLite (batched ``executemany``) and into PostgreSQL (COPY), each
  in a fresh database: read, match patients, hash, ESCAT tiers, insert, one audit event per
  report; time, rows per second and the ratio to the floor measured again beside the import
  (with the load average: the machine may be shared); the wall time of each step; the same
  mutation rows inserted again into a bare copy of the table and into one with its indexes
  (what the database alone costs); then the re-import of the same file (changes nothing);
- the cohort query over 3,000,000 alterations (two more such files imported) on PostgreSQL, as
  a site investigator (the visibility filter applies): median of 7 warm runs per query.

Targets (issue 5): >= 50,000 rows/s into PostgreSQL; import within 3x of the parse floor;
cohort query <= 200 ms over 3 million alterations.

    .venv/bin/python bench/genomics_import.py [--rows 1000000] [--samples 2000] [--seed 5] \
        [--pg postgres://postgres@127.0.0.1:5432/oncotrials_bench] [--skip-sqlite] [--no-cohort]

The PostgreSQL URL also comes from ``ONCOTRIALS_BENCH_DATABASE_URL``; the database is created
and dropped by the script.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/oncotrials_bench"
TARGET_PG_ROWS_PER_S = 50_000
TARGET_QUERY_MS = 200.0

AA = list("ACDEFGHIKLMNPQRSTVWY")
HOTSPOTS = [  # gene, protein change, share of that gene's mutations
    ("KRAS", "p.G12C", 0.12),
    ("KRAS", "p.G12D", 0.25),
    ("KRAS", "p.G12V", 0.2),
    ("BRAF", "p.V600E", 0.5),
    ("EGFR", "p.L858R", 0.3),
    ("PIK3CA", "p.H1047R", 0.3),
    ("PIK3CA", "p.E545K", 0.2),
    ("IDH1", "p.R132H", 0.6),
    ("TP53", "p.R175H", 0.05),
    ("TP53", "p.R273H", 0.05),
]
CANCER_GENES = [
    "TP53", "KRAS", "PIK3CA", "EGFR", "BRAF", "APC", "PTEN", "ARID1A", "KMT2D", "NRAS", "IDH1",
    "FLT3", "DNMT3A", "NPM1", "CTNNB1", "FBXW7", "SMAD4", "CDKN2A", "RB1", "NF1", "ERBB2", "ATM",
    "BRCA1", "BRCA2", "ALK", "MET", "RET", "ROS1", "ESR1", "AKT1",
]  # fmt: skip
CLASSES = np.array(
    ["Missense_Mutation", "Silent", "Nonsense_Mutation", "Frame_Shift_Del", "Frame_Shift_Ins",
     "Splice_Site", "In_Frame_Del", "In_Frame_Ins", "3'UTR", "Intron"]
)  # fmt: skip
CLASS_P = np.array([0.55, 0.2, 0.06, 0.05, 0.03, 0.04, 0.02, 0.01, 0.02, 0.02])
DIAGNOSES = ["LUAD", "LUSC", "COAD", "BRCA", "SKCM", "PAAD", "PRAD", "HGSOC", "GBM", "AML"]


def make_maf(path: Path, n: int, n_samples: int, seed: int, prefix: str) -> list[str]:
    """Write the MAF; returns its sample ids (``<prefix>-S000001``...)."""
    rng = np.random.default_rng(seed)
    genes = np.array(CANCER_GENES + [f"GENE{i:05d}" for i in range(18000)])
    weights = 1.0 / np.arange(1, genes.size + 1) ** 0.9
    gi = rng.choice(genes.size, size=n, p=weights / weights.sum())
    gene = genes[gi]
    samples = np.array([f"{prefix}-S{i:06d}" for i in range(n_samples)])
    sample = samples[np.sort(rng.integers(0, samples.size, n))]
    vclass = CLASSES[rng.choice(CLASSES.size, size=n, p=CLASS_P)]
    pos = rng.integers(1, 3000, n)
    ref = np.array(AA)[rng.integers(0, len(AA), n)]
    alt = np.array(AA)[rng.integers(0, len(AA), n)]
    short = np.char.add(np.char.add(np.char.add("p.", ref), pos.astype(str)), alt)
    u = rng.random(n)
    for g, change, share in HOTSPOTS:
        hit = (gene == g) & (u < share)
        short[hit] = change
        vclass[hit] = "Missense_Mutation"
        u = np.where(hit, 2.0, u - share * (gene == g))
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
            "Tumor_Sample_Barcode": sample,
            "Matched_Norm_Sample_Barcode": np.char.add(sample, "-N"),
            "Verification_Status": np.full(n, "Unknown"),
            "Validation_Status": np.full(n, "Untested"),
            "Mutation_Status": np.full(n, "Somatic"),
            "Sequencer": np.full(n, "Illumina NovaSeq"),
            "HGVSc": np.char.add("c.", (pos * 3).astype(str)),
            "HGVSp_Short": short,
            "Transcript_ID": np.char.add("ENST", gi.astype(str)),
            "t_depth": depth.astype(str),
            "t_ref_count": (depth - alt_count).astype(str),
            "t_alt_count": alt_count.astype(str),
        }
    )
    with path.open("w") as fh:
        fh.write("#version 2.4\n")
        frame.write_csv(fh, separator="\t", quote_style="never")
    return samples.tolist()


def write_map(path: Path, samples: list[str], prefix: str, n_patients: int) -> None:
    """Samples -> research ids; the first samples of a file share patients (serial biopsies)."""
    lines = ["sample_id,research_id,timepoint"]
    for i, s in enumerate(samples):
        patient = i % n_patients
        timepoint = "baseline" if i < n_patients else "progression"
        lines.append(f"{s},{prefix}-{patient:06d},{timepoint}")
    path.write_text("\n".join(lines) + "\n")


def parse_floor(path: Path, k: int = 2) -> float:
    """The floor: polars parses the whole file, every column as text (best of ``k``)."""
    return best_of(
        k,
        lambda: pl.read_csv(
            path, separator="\t", comment_prefix="#", infer_schema=False, quote_char=None
        ),
    )


def best_of(k: int, fn: Any) -> float:
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# ------------------------------------------------------------------------------ breakdown
class Stages:
    """Wall time spent in named functions of the import, by wrapping them (bench only)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.captured: dict[str, Any] = {}

    def wrap(self, owner: Any, name: str, label: str, capture: bool = False) -> None:
        fn = getattr(owner, name)

        def timed(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t0
                if capture and a and getattr(a[0], "__name__", "") == "Mutation":
                    self.captured["mutations"] = a[1]

        setattr(owner, name, timed)

    def wrap_context(self, owner: Any, name: str, label: str) -> None:
        cm = getattr(owner, name)
        stages = self

        @contextlib.contextmanager
        def timed(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            with cm(*a, **kw):
                yield
            stages.seconds[label] = stages.seconds.get(label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, timed)


def instrument(connection: Any) -> Stages:
    """Time the steps of ``genomics_import`` (read, match, hash, tiers, insert, audit, commit)."""
    from oncotrials.apps.genomics import services
    from oncotrials.core.genomics import _tabular, maf, reading

    st = Stages()
    st.wrap(maf, "load_table", "parse: bytes, UTF-8, shape, polars parse")
    st.wrap(reading, "read_maf", "read_maf (parse + validate + normalise)")
    st.wrap(services, "read_any", "read (file to frames)")
    st.wrap(services, "_resolve_patients", "match samples to patients")
    st.wrap(services, "content_hashes", "content hashes")
    st.wrap(services, "_create_or_conflict", "insert samples and reports")
    st.wrap(services, "_tiers", "ESCAT tiers")
    st.wrap(services, "_insert", "insert alterations (COPY / executemany)", capture=True)
    st.wrap_context(services, "audit_batch", "audit events")
    st.wrap(services, "_write", "transaction (from samples to commit)")
    st.wrap(connection, "commit", "commit")
    del _tabular
    return st


def index_cost(connection: Any, frame: Any) -> dict[str, float]:
    """The same mutation rows inserted again into scratch tables with and without indexes.

    Separates what the database itself costs: the insert path used by the import (COPY on
    PostgreSQL, executemany on SQLite) into a bare table, then into one with the indexes of
    ``genomics_mutation``; each in its own transaction, commit included.
    """
    from types import SimpleNamespace

    from django.db import transaction

    from oncotrials.apps.genomics import services

    out: dict[str, float] = {}
    scratch = SimpleNamespace(_meta=SimpleNamespace(db_table="bench_copy"))
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'genomics_mutation'")
            ddl = [r[0] for r in cur.fetchall() if "_pkey" not in r[0]]
            bare = "CREATE TABLE bench_copy (LIKE genomics_mutation INCLUDING DEFAULTS " + (
                "INCLUDING IDENTITY)"
            )
        else:
            cur.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'genomics_mutation' AND sql IS NOT NULL"
            )
            ddl = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT sql FROM sqlite_master WHERE name = 'genomics_mutation'")
            bare = cur.fetchone()[0].replace('"genomics_mutation"', '"bench_copy"', 1)
    ddl = [
        re.sub(
            r"INDEX\s+(\"?)(\w+)", r"INDEX \1bench_\2", d.replace("genomics_mutation", "bench_copy")
        )
        for d in ddl
    ]
    for label, indexes in (("bare table", []), ("with the table's indexes", ddl)):
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench_copy")
            cur.execute(bare)
            if connection.vendor == "postgresql":
                cur.execute("ALTER TABLE bench_copy ADD PRIMARY KEY (id)")
            for d in indexes:
                cur.execute(d)
            if connection.vendor == "postgresql":
                cur.execute("CHECKPOINT")
        t0 = time.perf_counter()
        with transaction.atomic():
            services._insert(scratch, frame, lambda _n: None)
        out[label] = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_copy")
    return out


# ------------------------------------------------------------------------------ the worker
def worker(args: argparse.Namespace) -> None:
    """Runs in a child process with DATABASE_URL set: migrate, seed, import, query."""
    import datetime as dt

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from oncotrials.apps.accounts.models import Role, Site
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.genomics.selectors import CohortQuery, cohort_query
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.subjects.models import Patient
    from oncotrials.core.genomics.normalised import PatientMap

    call_command("migrate", verbosity=0)
    site = Site.objects.create(code="bench", name="Bench centre")
    files = [Path(f) for f in args.files]
    out: dict[str, Any] = {"vendor": connection.vendor, "imports": []}
    for k, maf in enumerate(files):
        prefix = f"B{k}"
        n_patients = int(args.patients)
        Patient.objects.bulk_create(
            Patient(
                research_id=f"{prefix}-{i:06d}",
                site=site,
                sex="U",
                year_of_birth=1960,
                diagnosis=DIAGNOSES[i % len(DIAGNOSES)],
                referral_source="department",
                referral_date=dt.date(2026, 1, 5),
            )
            for i in range(n_patients)
        )
        pmap = PatientMap.read(maf.with_suffix(".map.csv"))
        stages = instrument(connection) if k == 0 else None  # wall times of wrapped steps
        floors, load = [], [os.getloadavg()[0]]
        if k == 0:  # the floor beside the import, in the same conditions (a shared machine)
            floors.append(parse_floor(maf))
        t0 = time.perf_counter()
        result = genomics_import(path=maf, by=None, patient_map=pmap)
        elapsed = time.perf_counter() - t0
        load.append(os.getloadavg()[0])
        entry = {
            "file": maf.name,
            "rows": result.mutations,
            "seconds": elapsed,
            "reports": result.reports_created,
            "load": load,
        }
        if stages is not None:
            floors.append(parse_floor(maf))
            entry["floor"] = min(floors)
            entry["stages"] = dict(stages.seconds)
            entry["database"] = index_cost(connection, stages.captured["mutations"])
            stages.captured.clear()
        if k == 0:
            t0 = time.perf_counter()
            again = genomics_import(path=maf, by=None, patient_map=pmap)
            entry["reimport_seconds"] = time.perf_counter() - t0
            entry["reimport_created"] = again.reports_created
        out["imports"].append(entry)
        print(json.dumps({"progress": entry}), file=sys.stderr, flush=True)
        if k == 0 and args.no_cohort:
            break
    if not args.no_cohort and len(files) > 1:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("VACUUM ANALYZE")  # as autovacuum would, after a bulk load
        user = user_create(username="bench-investigator", password=secrets.token_urlsafe(24))
        membership_grant(user=user, role=Role.INVESTIGATOR, site=site)
        total = sum(e["rows"] for e in out["imports"])
        queries = {
            "KRAS p.G12C": CohortQuery(gene="KRAS", alteration="p.G12C"),
            "BRAF p.V600E in MEL subtree": CohortQuery(
                gene="BRAF", alteration="p.V600E", tumour="MEL"
            ),
            "EGFR, NSCLC subtree, tier I-A": CohortQuery(gene="EGFR", tumour="NSCLC", tier="I-A"),
            "TP53 (any change)": CohortQuery(gene="TP53"),
            "KRAS p.G12C at progression": CohortQuery(
                gene="KRAS", alteration="p.G12C", timepoint="progression"
            ),
        }
        timings = {}
        for label, q in queries.items():
            cohort_query(user=user, query=q)  # warm
            runs = []
            for _ in range(7):
                t0 = time.perf_counter()
                r = cohort_query(user=user, query=q)
                runs.append((time.perf_counter() - t0) * 1000)
            timings[label] = {
                "median_ms": statistics.median(runs),
                "alterations": r.n_alterations,
                "samples": r.n_samples,
            }
        out["cohort"] = {"total_alterations": total, "queries": timings}
    print(json.dumps(out))


# --------------------------------------------------------------------------------- the parent
def _env(database_url: str | None, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ONCOTRIALS_TESTING", None)
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "oncotrials.web.settings",
            "ONCOTRIALS_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
            "ONCOTRIALS_DATA_DIR": str(data_dir),
            "ONCOTRIALS_LOG_LEVEL": "ERROR",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _run_worker(
    env: dict[str, str], files: list[Path], args: argparse.Namespace, cohort: bool
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--patients",
        str(args.patients),
        *(["--no-cohort"] if not cohort else []),
        "--files",
        *map(str, files),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"worker failed ({proc.returncode})")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _admin_sql(url: str, sql: str) -> None:
    import psycopg

    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql)


STEPS = (  # (label, indent): nested steps are part of the step above them
    ("read (file to frames)", 1),
    ("read_maf (parse + validate + normalise)", 2),
    ("parse: bytes, UTF-8, shape, polars parse", 3),
    ("match samples to patients", 1),
    ("transaction (from samples to commit)", 1),
    ("content hashes", 2),
    ("insert samples and reports", 2),
    ("ESCAT tiers", 2),
    ("insert alterations (COPY / executemany)", 2),
    ("audit events", 2),
    ("commit", 2),
)


def _report(label: str, res: dict[str, Any], floor: float) -> None:
    first = res["imports"][0]
    rate = first["rows"] / first["seconds"]
    floor = first.get("floor", floor)
    load = first.get("load", [])
    print(
        f"{'  floor beside this import':<34}{floor:7.2f} s  "
        + (f"(1-min load average {load[0]:.1f} -> {load[-1]:.1f} on {os.cpu_count()} CPUs)")
    )
    print(
        f"{label:<34}{first['seconds']:7.2f} s  {rate:12,.0f} rows/s  "
        f"{first['seconds'] / floor:5.1f}x floor   ({first['reports']:,} reports, "
        f"one audit event each)"
    )
    stages = first.get("stages", {})
    for step, depth in STEPS:
        if step in stages:
            name = "  " * depth + step
            note = "  (in a thread, beside the next two steps)" if step == "content hashes" else ""
            print(f"{name:<48}{stages[step]:7.2f} s  {stages[step] / floor:5.1f}x floor{note}")
    if "transaction (from samples to commit)" in stages:
        inner = sum(
            stages.get(k, 0.0)
            for k, d in STEPS
            if d == 2
            and k in stages
            and k not in ("read_maf (parse + validate + normalise)", "content hashes")
        )
        rest = stages["transaction (from samples to commit)"] - inner
        print(f"{'    other (waits, report rows, joins, sort)':<48}{rest:7.2f} s")
    for what, seconds in first.get("database", {}).items():
        name = f"  same rows alone: {what}"
        print(f"{name:<48}{seconds:7.2f} s  {seconds / floor:5.1f}x floor")
    print(
        f"{'  re-import (changes nothing)':<34}{first['reimport_seconds']:7.2f} s  "
        f"reports created: {first['reimport_created']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--patients", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--pg", default=os.environ.get("ONCOTRIALS_BENCH_DATABASE_URL", DEFAULT_PG))
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--no-cohort", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    with tempfile.TemporaryDirectory(prefix="oncotrials-bench-") as tmp:
        tmpdir = Path(tmp)
        files = []
        t0 = time.perf_counter()
        for k in range(1 if args.no_cohort else 3):
            path = tmpdir / f"bench{k}.maf"
            samples = make_maf(path, args.rows, args.samples, args.seed + k, f"B{k}")
            write_map(path.with_suffix(".map.csv"), samples, f"B{k}", args.patients)
            files.append(path)
        size = files[0].stat().st_size / 2**20
        print(
            f"generated {len(files)} x {args.rows:,} rows ({args.samples:,} samples, "
            f"{args.patients:,} patients, {size:.0f} MiB each) in {time.perf_counter() - t0:.1f} s"
        )
        floor = parse_floor(files[0])
        print(
            f"{'floor: polars.read_csv (all text)':<34}{floor:7.2f} s  "
            f"{args.rows / floor:12,.0f} rows/s"
        )
        from oncotrials.core.genomics.maf import read_maf

        parse = best_of(1, lambda: read_maf(files[0]))
        print(
            f"{'core read_maf (in the import)':<34}{parse:7.2f} s  "
            f"{args.rows / parse:12,.0f} rows/s"
        )

        if not args.skip_sqlite:
            data = tmpdir / "sqlite"
            data.mkdir()
            res = _run_worker(_env(None, data), files[:1], args, cohort=False)
            _report("import into SQLite (executemany)", res, floor)

        _admin_sql(args.pg, f'DROP DATABASE IF EXISTS "{args.pg.rsplit("/", 1)[1]}"')
        _admin_sql(args.pg, f'CREATE DATABASE "{args.pg.rsplit("/", 1)[1]}"')
        try:
            pgdata = tmpdir / "pg"
            pgdata.mkdir()
            res = _run_worker(_env(args.pg, pgdata), files, args, cohort=not args.no_cohort)
        finally:
            _admin_sql(args.pg, f'DROP DATABASE IF EXISTS "{args.pg.rsplit("/", 1)[1]}"')
        _report("import into PostgreSQL (COPY)", res, floor)
        first = res["imports"][0]
        rate = first["rows"] / first["seconds"]
        print(
            f"{'  target':<34}>= {TARGET_PG_ROWS_PER_S:,} rows/s: "
            f"{'met' if rate >= TARGET_PG_ROWS_PER_S else 'NOT met'}; within 3x floor: "
            f"{'met' if first['seconds'] <= 3 * first.get('floor', floor) else 'NOT met'} "
            f"(import / floor {first['seconds'] / first.get('floor', floor):.1f}x)"
        )
        if "cohort" in res:
            c = res["cohort"]
            print(
                f"cohort queries over {c['total_alterations']:,} alterations "
                f"(PostgreSQL, site investigator, median of 7):"
            )
            for label, t in c["queries"].items():
                verdict = "ok" if t["median_ms"] <= TARGET_QUERY_MS else "OVER"
                print(
                    f"  {label:<34}{t['median_ms']:8.1f} ms  {t['alterations']:>8,} alterations "
                    f"in {t['samples']:,} samples  [{verdict} <= {TARGET_QUERY_MS:.0f} ms]"
                )


if __name__ == "__main__":
    main()
