"""Writes of the clinical-genomic database: the import of genomic files.

``genomics_import`` is all or nothing: the file is read and validated by the core readers (every
error names file, line and field) and every sample is matched to an existing research patient
before one row is written; then reports and alterations are inserted in one transaction with one
audit event per report. A report whose content hash is already stored for its sample is skipped,
so re-importing a file changes nothing; new content for a sample and assay supersedes the old.

The path stays columnar from the file to the database: the reader gives polars frames, ESCAT
tiers are worked out per distinct alteration and joined back, and the rows go to PostgreSQL by
COPY (CSV rendered by polars in chunks) or to SQLite by ``executemany`` in batches; no row ever
becomes a model instance. ``bench/genomics_import.py`` times every step.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, Target, may, sites_where
from oncotrials.apps.accounts.core_messages import core_errors_translated
from oncotrials.apps.accounts.models import Actor, User
from oncotrials.apps.audit.services import audit_batch, audit_record
from oncotrials.apps.subjects.models import Patient
from oncotrials.apps.subjects.selectors import patients_visible_to
from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError
from oncotrials.core.genomics.actionability import KbEntry, annotate, escat_table, matches
from oncotrials.core.genomics.issues import GenomicFileError, Issue
from oncotrials.core.genomics.model import (
    Alteration,
    CnaCall,
    VariantClass,
    parse_limit_of_detection,
)
from oncotrials.core.genomics.model import (
    Biomarker as CoreBiomarker,
)
from oncotrials.core.genomics.model import (
    BiomarkerKind as CoreBiomarkerKind,
)
from oncotrials.core.genomics.model import (
    CopyNumber as CoreCopyNumber,
)
from oncotrials.core.genomics.model import (
    Mutation as CoreMutation,
)
from oncotrials.core.genomics.model import (
    StructuralVariant as CoreStructuralVariant,
)
from oncotrials.core.genomics.normalised import (
    KINDS,
    Limits,
    Parsed,
    PatientMap,
    SampleInfo,
    check_limits,
    content_hashes,
)
from oncotrials.core.genomics.oncotree import load_oncotree
from oncotrials.core.genomics.protein import normalise_protein_change
from oncotrials.core.genomics.reading import IMPORTABLE, read_any

from .file_messages import PATIENT_MAP_MESSAGES, genomic_file_errors_translated, issue_text
from .models import (
    Biomarker,
    CopyNumberAlteration,
    CopyNumberSegment,
    GenomicReport,
    Mutation,
    Origin,
    Sample,
    SampleKind,
    StructuralVariant,
)

SQLITE_BATCH = 20_000
HASH_IN_THREAD_ROWS = 10_000  # from this many rows, the content hashes are computed in a thread
COPY_CHUNK = 100_000
MODELS: dict[str, Any] = {
    "mutations": Mutation,
    "copy_numbers": CopyNumberAlteration,
    "structural_variants": StructuralVariant,
    "biomarkers": Biomarker,
    "segments": CopyNumberSegment,
}
# The kinds that carry an ESCAT tier (segments are not alterations of a gene).
TIERED = frozenset({"mutations", "copy_numbers", "structural_variants", "biomarkers"})
Progress = Callable[[str, int, int], None]
PROTEIN_ALTERING = [v.value for v in VariantClass if v.is_protein_altering]


@dataclass(frozen=True)
class ImportResult:
    source: str
    format: str
    reports_created: int
    reports_unchanged: int
    reports_superseded: int
    samples_created: int
    mutations: int
    copy_numbers: int
    structural_variants: int
    biomarkers: int
    notices: tuple[str, ...]
    report_ids: tuple[int, ...]
    # Older reports issued again (A, B, then A again): current once more, the later superseded.
    reports_reinstated: int = 0
    segments: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_INT_RANGES = {
    models.SmallIntegerField: (-32768, 32767),
    models.PositiveSmallIntegerField: (0, 32767),
    models.IntegerField: (-2147483648, 2147483647),
    models.BigIntegerField: (-9223372036854775808, 9223372036854775807),
}


def _limit(field: Any) -> int | tuple[int, int] | None:
    if isinstance(field, models.CharField):
        return int(field.max_length) if field.max_length else None
    return _INT_RANGES.get(type(field))


@lru_cache(maxsize=1)
def _column_limits() -> Limits:
    """What each stored column holds, read from the models: the checks before a write."""
    out: dict[str, dict[str, int | tuple[int, int]]] = {}
    for kind, model in MODELS.items():
        limits = {}
        for name in KINDS[kind]:
            if name == "sample_key":
                continue
            lim = _limit(model._meta.get_field(name))
            if lim is not None:
                limits[name] = lim
        out[kind] = limits
    samples: dict[str, int | tuple[int, int]] = {}
    for name in ("sample_id", "oncotree_code", "therapy"):
        lim = _limit(Sample._meta.get_field(name))
        if lim is not None:
            samples[name] = lim
    out["samples"] = samples
    reports: dict[str, int | tuple[int, int]] = {}
    for name in ("assay", "panel", "lab", "version", "genome_build"):
        lim = _limit(GenomicReport._meta.get_field(name))
        if lim is not None:
            reports[name] = lim
    out["reports"] = reports
    return out


def may_import_for(user: Actor, patient: Patient) -> bool:
    """Molecular biologists, data managers and administrators of the patient's site."""
    return may(user, Action.IMPORT_GENOMICS, on=Target(frozenset({patient.site_id})))


def may_import_anything(user: Actor) -> bool:
    return bool(sites_where(user, Action.IMPORT_GENOMICS))


def _resolve_patients(
    parsed: Parsed, patient_map: PatientMap | None, by: User | None
) -> dict[str, Patient]:
    """Sample key -> patient, or a ValidationError naming every unmatched sample."""
    pmap = patient_map or PatientMap()
    wanted: dict[str, str | None] = {}
    for sid, info in parsed.samples.items():
        rid = pmap.by_sample.get(sid)
        if rid is None and info.file_patient is not None:
            rid = pmap.by_patient.get(info.file_patient, info.file_patient)
        wanted[sid] = rid
    pool = patients_visible_to(by) if by is not None else Patient.objects.all()
    rids = {r for r in wanted.values() if r}
    found: dict[str, Patient] = {}
    rid_list = sorted(rids)
    for i in range(0, len(rid_list), 900):
        for p in pool.filter(research_id__in=rid_list[i : i + 900]):
            found[p.research_id] = p
    # Samples without a patient in the file: an existing sample of that id names its patient.
    orphan = [s for s, r in wanted.items() if r is None]
    by_existing: dict[str, Patient] = {}
    if orphan:
        existing = (
            Sample.objects.filter(sample_id__in=orphan, patient__in=pool)
            .select_related("patient")
            .order_by("pk")
        )
        seen: dict[str, set[int]] = {}
        for s in existing:
            seen.setdefault(s.sample_id, set()).add(s.patient_id)
            by_existing[s.sample_id] = s.patient
        for sid, pids in seen.items():
            if len(pids) > 1:
                del by_existing[sid]
    out: dict[str, Patient] = {}
    missing: list[str] = []
    for sid, rid in wanted.items():
        patient = found.get(rid) if rid else by_existing.get(sid)
        if patient is None:
            missing.append(
                f"sample {sid!r} (patient {rid!r})" if rid else f"sample {sid!r} (no patient)"
            )
        else:
            out[sid] = patient
    if missing:
        raise ValidationError(
            gettext(
                "%(source)s, field %(patient_field)s: %(n_missing)s sample(s) match no "
                "research patient you may import for, e.g. %(missing)s. Register the patient "
                "first, or map samples to research ids with a patient map (CSV: sample_id or "
                "patient_id, research_id); nothing was imported."
            )
            % {
                "source": parsed.source,
                "patient_field": parsed.patient_field,
                "n_missing": len(missing),
                "missing": "; ".join(missing[:3]),
            },
            field=parsed.patient_field,
            unmatched=missing[:50],
        )
    if by is not None:
        refused = sorted({p.research_id for p in out.values() if not may_import_for(by, p)})
        if refused:
            raise PermissionDeniedError(
                gettext(
                    "Your role does not allow genomic imports for patient(s) %(refused)s; "
                    "molecular biologists, data managers and administrators of the patient's site "
                    "may import."
                )
                % {"refused": ", ".join(refused[:5])}
            )
    return out


# --------------------------------------------------------------------------- ESCAT annotation
@lru_cache(maxsize=1)
def _kb_by_gene() -> dict[str, tuple[KbEntry, ...]]:
    """The shipped ESCAT entries per gene ('' for genome-wide biomarkers)."""
    out: dict[str, list[KbEntry]] = {}
    for e in escat_table():
        out.setdefault(e.gene, []).append(e)
    return {g: tuple(v) for g, v in out.items()}


def _entries_for(alteration: Alteration) -> tuple[KbEntry, ...]:
    kb = _kb_by_gene()
    if isinstance(alteration, CoreStructuralVariant):
        return tuple(e for g in alteration.genes for e in kb.get(g, ()))
    if isinstance(alteration, CoreBiomarker):
        return kb.get("", ())
    return kb.get(alteration.gene, ())


def _tier(alteration: Alteration, tumour: str, entries: tuple[KbEntry, ...]) -> str:
    """ESCAT tier of an alteration that matches ``entries`` (and no other entry) in ``tumour``."""
    try:
        return annotate(alteration, tumour, knowledge=entries).tier or ""
    except ValidationError:  # a diagnosis that is not an OncoTree code: no tier
        return ""


def _valid_tumour(code: str) -> str:
    if not code:
        return ""
    tree = load_oncotree()
    return code if tree.resolve(code) else ""


def _core_alteration(kind: str, row: dict[str, Any]) -> Alteration | None:
    if kind == "mutations":
        try:
            vc = VariantClass(row["variant_class"])
        except ValueError:
            return None
        return CoreMutation("", row["gene"], vc, protein_change=row["protein_change"])
    if kind == "copy_numbers":
        return CoreCopyNumber("", row["gene"], CnaCall(int(row["call"])))
    if kind == "structural_variants":
        return CoreStructuralVariant(
            "", row["gene1"], row["gene2"], in_frame=row["in_frame"], event_info=row["event_info"]
        )
    try:
        bk = CoreBiomarkerKind(row["kind"])
    except ValueError:
        return None
    return CoreBiomarker("", bk, row["value"], row["status"], row["unit"])


_TIER_KEYS = {
    "mutations": ["gene", "protein_change", "variant_class"],
    "copy_numbers": ["gene", "call"],
    "structural_variants": ["gene1", "gene2", "in_frame", "event_info"],
    "biomarkers": ["kind", "value", "status", "unit"],
}


_CODON_ANY = re.compile(r"^p\.([A-Z*])(\d+)X$")
_EXON_RULES = frozenset({"exon19_deletion", "exon20_insertion", "exon14_skipping"})
_NOT_MUTATION_RULES = frozenset({"", "amplification", "deletion", "MSI-H", "TMB-H"})


@lru_cache(maxsize=1)
def _mutation_prefilter_parts() -> tuple[set[str], set[str], list[tuple[str, str]], set[str]]:
    any_change: set[str] = set()  # genes with a rule this filter does not narrow ("mutation")
    exact: set[str] = set()  # "GENE p.X"
    codons: list[tuple[str, str]] = []  # (gene, "p.G719"): any substitution at the codon
    exons: set[str] = set()
    for e in escat_table():
        rule = e.alteration
        if not e.gene or rule in _NOT_MUTATION_RULES or rule.startswith("fusion"):
            continue
        if rule in _EXON_RULES:
            exons.add(e.gene)
        elif rule.startswith("p."):
            for part in (p.strip() for p in rule.split(";")):
                if m := _CODON_ANY.match(part):
                    codons.append((e.gene, f"p.{m[1]}{m[2]}"))
                elif short := normalise_protein_change(part):
                    exact.add(f"{e.gene} {short}")
        else:
            any_change.add(e.gene)
    return any_change, exact, codons, exons


def _mutation_prefilter() -> pl.Expr:
    """Mutations some ESCAT entry may match: a vectorised superset of ``matches``.

    Protein rules are compared with the normalised change (exact, or the codon's prefix for
    ``p.G719X``), exon rules keep in-frame and splice events of their gene, and any rule this
    filter does not narrow keeps every change of its gene; ``matches`` then decides exactly,
    once per distinct alteration, instead of once per row.
    """
    any_change, exact, codons, exons = _mutation_prefilter_parts()
    gene, change = pl.col("gene"), pl.col("protein_change")
    keep = gene.is_in(sorted(any_change)) | pl.concat_str([gene, change], separator=" ").is_in(
        sorted(exact)
    )
    for g, prefix in codons:
        keep = keep | ((gene == g) & change.str.starts_with(prefix))
    if exons:
        keep = keep | (
            gene.is_in(sorted(exons))
            & (
                change.str.contains("del|ins|dup|splice")
                | (pl.col("variant_class") == VariantClass.SPLICE_SITE.value)
            )
        )
    return keep.fill_null(False)


def _tiers(kind: str, frame: pl.DataFrame, tumour_of: dict[str, str]) -> pl.Series:
    """ESCAT tier of each row for its patient's tumour type ('' when none).

    Two steps over distinct values, never over rows: each distinct alteration of a gene the
    ESCAT table names is matched once against that gene's entries (which entries match does
    not depend on the tumour), then each distinct (set of matching entries, tumour type) is
    tiered once (OncoTree ancestry); the tiers are joined back onto the rows.
    """
    if frame.height == 0:
        return pl.Series("escat_tier", [], dtype=pl.String)
    genes = [g for g in _kb_by_gene() if g]
    if kind == "mutations":  # ESCAT rules only match protein-altering changes
        candidate = pl.col("gene").is_in(genes) & pl.col("variant_class").is_in(PROTEIN_ALTERING)
    elif kind == "copy_numbers":
        candidate = pl.col("gene").is_in(genes)
    elif kind == "structural_variants":
        candidate = pl.col("gene1").is_in(genes) | pl.col("gene2").is_in(genes)
    else:
        candidate = pl.lit(True)
    keys = _TIER_KEYS[kind]
    rows = (
        frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"), *keys, "sample_key")
        .filter(candidate)  # cheap tests on every row first, the prefilter on the rest
        .filter(_mutation_prefilter() if kind == "mutations" else pl.lit(True))
        .with_columns(
            pl.col("sample_key")
            .replace_strict(tumour_of, default="", return_dtype=pl.String)
            .alias("_tumour")
        )
        .filter(pl.col("_tumour") != "")
    )
    empty = pl.Series("escat_tier", [""] * frame.height, dtype=pl.String)
    if rows.height == 0:
        return empty

    # 1. Which entries each distinct alteration matches (0: none).
    distinct = rows.select(keys).unique()
    match_ids: list[int] = []
    sets: dict[tuple[KbEntry, ...], int] = {(): 0}
    example: dict[int, Alteration] = {}
    for values in distinct.iter_rows(named=True):
        alt = _core_alteration(kind, values)
        found = tuple(e for e in _entries_for(alt) if matches(e, alt)) if alt is not None else ()
        match = sets.setdefault(found, len(sets))
        if alt is not None:
            example.setdefault(match, alt)
        match_ids.append(match)
    if len(sets) == 1:
        return empty
    entries_of = {m: found for found, m in sets.items()}
    distinct = distinct.with_columns(pl.Series("_match", match_ids, dtype=pl.Int64))
    hits = rows.join(distinct, on=keys, how="inner", nulls_equal=True).filter(pl.col("_match") > 0)

    # 2. The tier of each distinct (matching entries, tumour type).
    pairs = hits.select("_match", "_tumour").unique()
    tiers = [_tier(example[m], tumour, entries_of[m]) for m, tumour in pairs.iter_rows()]
    pairs = pairs.with_columns(pl.Series("escat_tier", tiers, dtype=pl.String))
    tiered = hits.join(pairs, on=["_match", "_tumour"], how="inner").filter(
        pl.col("escat_tier") != ""
    )
    return empty.scatter(tiered.get_column("_row"), tiered.get_column("escat_tier"))


# --------------------------------------------------------------------------- bulk inserts
def _insert(model: Any, frame: pl.DataFrame, tick: Callable[[int], None]) -> None:
    if frame.height == 0:
        return
    if connection.vendor == "postgresql":
        _copy(model, frame, tick)
    else:
        _executemany(model, frame, tick)


def _executemany(model: Any, frame: pl.DataFrame, tick: Callable[[int], None]) -> None:
    """Batched parameterised INSERTs on SQLite.

    ``bulk_create`` builds one model instance per row and is bound by SQLite's 999 parameters
    per statement (about 45 rows of this width): some 4,000 rows/s. The same batches through
    ``executemany`` on the same connection and transaction insert an order of magnitude faster.
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(c) for c in frame.columns)
    marks = ", ".join(["%s"] * frame.width)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - model names, quoted
    text = [
        pl.col(c).fill_null("")
        for c, t in zip(frame.columns, frame.dtypes, strict=True)
        if t == pl.String
    ]
    with connection.cursor() as cur:
        for offset in range(0, frame.height, SQLITE_BATCH):
            part = frame.slice(offset, SQLITE_BATCH).with_columns(text)
            cur.executemany(sql, part.rows())
            tick(part.height)


def _copy(model: Any, frame: pl.DataFrame, tick: Callable[[int], None]) -> None:
    meta = model._meta
    columns = frame.columns  # the frame is built with the tables' column names
    strings = [c for c, t in zip(columns, frame.dtypes, strict=True) if t == pl.String]
    quote = connection.ops.quote_name
    options = "FORMAT csv"
    if strings:
        options += ", FORCE_NOT_NULL (" + ", ".join(quote(c) for c in strings) + ")"
    sql = (
        f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"FROM STDIN ({options})"
    )
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for offset in range(0, frame.height, COPY_CHUNK):
            part = frame.slice(offset, COPY_CHUNK)
            buf = io.BytesIO()
            part.write_csv(buf, include_header=False)
            copy.write(buf.getvalue())
            tick(part.height)


# --------------------------------------------------------------------------- the import
def _sample_fields(info: SampleInfo, override: SampleInfo | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for src in (info, override):
        if src is None:
            continue
        for name in (
            "kind",
            "timepoint",
            "collected_on",
            "tumour_fraction",
            "oncotree_code",
            "therapy",
        ):
            v = getattr(src, name)
            if v is not None and v != "unknown":
                out[name] = v
    return out


def _with_germline_default(f: pl.DataFrame, normal_keys: frozenset[str]) -> pl.DataFrame:
    """Origin 'germline' for the unstated calls of a normal sample; OncoKB's 'unknown' for an
    unstated oncogenicity (the stored default)."""
    germline = (pl.col("origin") == Origin.UNKNOWN) & pl.col("sample_key").is_in(
        sorted(normal_keys)
    )
    return f.with_columns(
        pl.when(germline)
        .then(pl.lit(Origin.GERMLINE.value))
        .otherwise(pl.col("origin"))
        .alias("origin"),
        pl.col("oncogenicity").fill_null("unknown"),
    )


def _create_or_conflict(model: Any, objs: list[Any], batch_size: int) -> None:
    """bulk_create; a concurrent import that created the same rows first is a conflict."""
    try:
        with transaction.atomic():
            model.objects.bulk_create(objs, batch_size=batch_size)
    except IntegrityError:
        raise ConflictError(
            gettext(
                "Another import of the same samples finished first; import again (identical "
                "reports will be recognised and skipped). Nothing was imported."
            )
        ) from None


def _audit_report(
    sid: str,
    report: GenomicReport,
    patients: dict[str, Patient],
    per_report: dict[str, dict[int, int]],
    superseded: dict[str, list[int]],
    sample_changes: dict[str, dict[str, list[Any]]],
    by: User | None,
) -> None:
    changes: dict[str, Any] = {
        "sample": [None, sid],
        "patient": [None, patients[sid].research_id],
        "content_hash": [None, report.content_hash],
        "source_file": [None, report.source_file],
        "assay": [None, report.assay],
    }
    if report.limit_of_detection is not None:
        changes["limit_of_detection"] = [None, report.limit_of_detection]
    for kind in KINDS:
        n = per_report[kind].get(report.pk, 0)
        if n:
            changes[kind] = [None, n]
    if report.normal_sample is not None:
        changes["normal_sample"] = [None, report.normal_sample.sample_id]
    if sid in superseded:
        changes["supersedes"] = [None, superseded[sid]]
    if sid in sample_changes:
        changes["sample_fields"] = [None, sample_changes[sid]]
    audit_record(action="import", instance=report, changes=changes, by=by)


@dataclass(frozen=True)
class _Normals:
    """The matched normal of each tumour sample key, and the keys whose calls are germline."""

    of: dict[str, str]  # tumour sample key -> normal sample id (same patient)
    normal_keys: frozenset[str]  # sample keys of the file that are normal (blood) samples


def _check_normals(parsed: Parsed, patients: dict[str, Patient]) -> _Normals:
    """The matched normals the file declares, checked before anything is written.

    A normal is the same patient's sample: another patient's sample, a tumour sample of the
    file or a stored tissue or cfDNA sample is refused. A normal sample (blood, or named as a
    normal) cannot carry a somatic call. Errors name the file, line and field.
    """
    of = {sid: r.normal_sample for sid, r in parsed.reports.items() if r.normal_sample}
    issues: list[Issue] = []
    field = (
        "Matched_Norm_Sample_Barcode"
        if parsed.fmt in ("MAF", "cBioPortal study")
        else ("matched_normal/sample_id" if parsed.fmt == "JSON report" else "normal sample column")
    )

    def fail(message: str) -> None:
        if len(issues) < 50:
            issues.append(Issue(parsed.source, None, field, message))

    # One normal named by tumours of several patients: refused, except in a cBioPortal study
    # (cBioPortal takes Matched_Norm_Sample_Barcode as free text and its own test study names
    # one patient's normal for another's samples), where those tumours are left unlinked.
    owners: dict[str, set[int]] = {}
    for sid, nid in of.items():
        owners.setdefault(nid, set()).add(patients[sid].pk)
    shared = sorted(n for n, pks in owners.items() if len(pks) > 1)
    for nid in shared:
        if parsed.fmt == "cBioPortal study":
            of = {sid: n for sid, n in of.items() if n != nid}
            parsed.notices.append(
                gettext(
                    "%(source)s: matched normal %(normal)s is named by samples of several "
                    "patients; it is linked to none of them."
                )
                % {"source": parsed.source, "normal": repr(nid)}
            )
        else:
            fail(
                gettext(
                    "the matched normal %(normal)s is named by samples of several patients; a "
                    "normal is one patient's sample."
                )
                % {"normal": repr(nid)}
            )
    stored: dict[str, list[Sample]] = {}
    wanted = sorted(set(of.values()))
    for i in range(0, len(wanted), 900):
        for s in Sample.objects.filter(sample_id__in=wanted[i : i + 900]):
            stored.setdefault(s.sample_id, []).append(s)
    for sid, nid in sorted(of.items()):
        patient = patients[sid]
        if nid in parsed.samples:
            info = parsed.samples[nid]
            if patients[nid].pk != patient.pk:
                fail(
                    gettext(
                        "the matched normal %(normal)s of sample %(sample)s is another patient's "
                        "sample; a normal must be the same patient's."
                    )
                    % {"normal": repr(nid), "sample": repr(sid)}
                )
            elif info.kind in (SampleKind.TISSUE, SampleKind.CFDNA):
                fail(
                    gettext(
                        "the matched normal %(normal)s of sample %(sample)s is a tumour (%(kind)s)."
                    )
                    % {"normal": repr(nid), "sample": repr(sid), "kind": info.kind}
                )
        same = [s for s in stored.get(nid, []) if s.patient_id == patient.pk]
        if stored.get(nid) and not same:
            fail(
                gettext(
                    "the matched normal %(normal)s of sample %(sample)s is registered for another "
                    "patient; a normal must be the same patient's."
                )
                % {"normal": repr(nid), "sample": repr(sid)}
            )
        for s in same:
            if s.kind in (SampleKind.TISSUE, SampleKind.CFDNA):
                fail(
                    gettext(
                        "the matched normal %(normal)s of sample %(sample)s is stored as a "
                        "%(kind)s sample; a normal is a blood (germline) sample."
                    )
                    % {"normal": repr(nid), "sample": repr(sid), "kind": s.get_kind_display()}
                )
    normal_keys = {nid for nid in of.values() if nid in parsed.samples}
    normal_keys |= {k for k, info in parsed.samples.items() if info.kind == SampleKind.BLOOD}
    keys = sorted(parsed.samples.keys() - normal_keys)
    for i in range(0, len(keys), 900):
        blood = Sample.objects.filter(sample_id__in=keys[i : i + 900], kind=SampleKind.BLOOD)
        for s in blood.only("sample_id", "patient_id"):
            if patients[s.sample_id].pk == s.patient_id:
                normal_keys.add(s.sample_id)
    f = parsed.frames["mutations"]
    if normal_keys and f.height:
        somatic = f.select(pl.int_range(pl.len()).alias("_row"), "sample_key", "origin").filter(
            pl.col("sample_key").is_in(sorted(normal_keys)) & (pl.col("origin") == Origin.SOMATIC)
        )
        lines = parsed.lines.get("mutations")
        status = parsed.field_names.get("mutations", {}).get("mutation_status", "mutation_status")
        for row, key, _ in somatic.head(50).iter_rows():
            issues.append(
                Issue(
                    parsed.source,
                    int(lines[row]) if lines is not None else None,
                    status,
                    gettext(
                        "sample %(sample)s is a normal (germline) sample: it cannot carry a "
                        "somatic call."
                    )
                    % {"sample": repr(key)},
                )
            )
    if issues:
        raise GenomicFileError(issues[:50])
    return _Normals(of, frozenset(normal_keys))


@genomic_file_errors_translated()
def genomics_import(
    *,
    path: str | Path,
    by: User | None,
    patient_map: PatientMap | None = None,
    assay: str | None = None,
    source_name: str | None = None,
    progress: Progress | None = None,
    vaf_unit: str | None = None,
    limit_of_detection: float | str | None = None,
) -> ImportResult:
    """Import a MAF, VCF, SEG, JSON report or cBioPortal study directory, all or nothing.

    ``by`` is the importing user (None for a system import from the command line); the user
    must be a molecular biologist, data manager or administrator of every patient's site.
    ``vaf_unit`` declares the unit of a MAF's VAF column (``fraction`` or ``percent``).
    ``limit_of_detection`` declares the assay's LoD (a VAF fraction, or text such as ``0.2%``)
    for reports whose file does not; a file that declares another value is refused.
    Every text and whole-number value is checked against the limits of the column that will
    store it before anything is written (errors name the file, line and field).
    """
    if vaf_unit not in (None, "fraction", "percent"):
        raise ValidationError(
            gettext("VAF unit must be 'fraction' or 'percent'; got %(vaf_unit)s.")
            % {"vaf_unit": repr(vaf_unit)},
            field="vaf_unit",
        )
    say = progress or (lambda _stage, _done, _total: None)
    say("reading", 0, 0)
    parsed = read_any(
        path, accept=IMPORTABLE, keep_neutral_cna=False, vaf_unit=vaf_unit
    ).normalised(assay=assay)
    if source_name:
        parsed.source = source_name
    if limit_of_detection is not None and limit_of_detection != "":
        _declare_lod(parsed, parse_limit_of_detection(limit_of_detection))
    check_limits(parsed, _column_limits())
    therapy_max = Sample._meta.get_field("therapy").max_length or 0
    for sid, extra in (patient_map.sample_info if patient_map else {}).items():
        if extra.therapy and len(extra.therapy) > therapy_max:
            raise ValidationError(
                gettext(
                    "patient map, sample %(sid)s, field therapy: %(n_therapy)s characters; at most "
                    "%(therapy_max)s. Nothing was imported."
                )
                % {"sid": repr(sid), "n_therapy": len(extra.therapy), "therapy_max": therapy_max},
                field="therapy",
            )
    if not parsed.samples:
        raise ValidationError(
            gettext("%(source)s: no sample to import.") % {"source": parsed.source}, field="path"
        )
    say("matching", 0, 0)
    patients = _resolve_patients(parsed, patient_map, by)
    normals = _check_normals(parsed, patients)
    say("hashing", 0, 0)
    # The content hashes (a sort and a rendering of every row; polars and hashlib release the
    # GIL) are computed in a thread while the samples are written and the rows are given
    # their tiers and their order; only the reports wait for them.
    if sum(f.height for f in parsed.frames.values()) < HASH_IN_THREAD_ROWS:
        # A small file (a laboratory's report): starting a thread costs more than it saves.
        done: Future[dict[str, str]] = Future()
        done.set_result(content_hashes(parsed))
        return _write(parsed, patients, normals, done, patient_map, by, say)
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashes = pool.submit(content_hashes, parsed)
        return _write(parsed, patients, normals, hashes, patient_map, by, say)


def _notices_translated(parsed: Parsed) -> list[str]:
    """The readers' notices in the user's language, then the import's own."""
    n = len(parsed.notice_issues)
    return [issue_text(i) for i in parsed.notice_issues] + parsed.notices[n:]


def _declare_lod(parsed: Parsed, lod: float) -> None:
    """Give every report of the file the declared LoD; a file that says otherwise is refused."""
    for sid, info in parsed.reports.items():
        if info.limit_of_detection is not None and abs(info.limit_of_detection - lod) > 1e-12:
            raise ValidationError(
                gettext(
                    "%(source)s, report of sample %(sid)s, field limit_of_detection: the file "
                    "declares %(limit_of_detection)s, the import option %(lod)s; leave the option "
                    "out or correct the file. Nothing was imported."
                )
                % {
                    "source": parsed.source,
                    "sid": repr(sid),
                    "limit_of_detection": format(info.limit_of_detection, "g"),
                    "lod": format(lod, "g"),
                },
                field="limit_of_detection",
            )
        info.limit_of_detection = lod
    # Calls below the declared limit are kept and flagged (the pages show them so).
    f = parsed.frames["mutations"]
    if f.height:
        below = f.filter(pl.col("vaf") < lod).group_by("sample_key").len().sort("sample_key")
        for sid, n in below.iter_rows():
            parsed.notices.append(
                gettext(
                    "%(source)s, sample %(sample)s: %(n)s call(s) with a VAF below the assay's "
                    "limit of detection %(lod)s; kept, flagged below LoD."
                )
                % {"source": parsed.source, "sample": sid, "n": n, "lod": format(lod, "g")}
            )


@transaction.atomic
def _write(
    parsed: Parsed,
    patients: dict[str, Patient],
    normals: _Normals,
    pending_hashes: Future[dict[str, str]],
    patient_map: PatientMap | None,
    by: User | None,
    say: Progress,
) -> ImportResult:
    now = timezone.now()
    overrides = patient_map.sample_info if patient_map else {}

    # Samples: existing ones (per patient and sample id) are reused, the rest created.
    existing: dict[tuple[int, str], Sample] = {}
    keys = sorted(parsed.samples)
    for i in range(0, len(keys), 900):
        for s in Sample.objects.select_for_update().filter(sample_id__in=keys[i : i + 900]):
            existing[(s.patient_id, s.sample_id)] = s
    to_create: list[Sample] = []
    sample_changes: dict[str, dict[str, list[Any]]] = {}
    for sid in keys:
        patient = patients[sid]
        fields = _sample_fields(parsed.samples[sid], overrides.get(sid))
        if sid in normals.normal_keys and fields.get("kind", SampleKind.UNKNOWN) in (
            SampleKind.UNKNOWN,
            SampleKind.BLOOD,
        ):
            fields["kind"] = SampleKind.BLOOD
        found = existing.get((patient.pk, sid))
        if found is None:
            new = Sample(patient=patient, sample_id=sid, **fields)
            to_create.append(new)
            existing[(patient.pk, sid)] = new
        else:
            s = found
            changed = {k: [getattr(s, k), v] for k, v in fields.items() if getattr(s, k) != v}
            if changed:
                for k, (_, v) in changed.items():
                    setattr(s, k, v)
                s.save(update_fields=list(changed))
                sample_changes[sid] = changed
    # Matched normals declared but not in the file: the patient's blood sample, linked or made.
    declared = sorted({n for n in normals.of.values() if n not in parsed.samples})
    for i in range(0, len(declared), 900):
        for s in Sample.objects.select_for_update().filter(sample_id__in=declared[i : i + 900]):
            existing.setdefault((s.patient_id, s.sample_id), s)
    for sid, nid in sorted(normals.of.items()):
        key = (patients[sid].pk, nid)
        normal = existing.get(key)
        if normal is None:
            normal = Sample(patient=patients[sid], sample_id=nid, kind=SampleKind.BLOOD)
            to_create.append(normal)
            existing[key] = normal
        elif normal.kind == SampleKind.UNKNOWN and normal.pk is not None:
            # A stored sample of unknown kind named as the normal: a blood sample from now on.
            normal.kind = SampleKind.BLOOD
            normal.save(update_fields=["kind"])
            changes = {"kind": [SampleKind.UNKNOWN.value, SampleKind.BLOOD.value]}
            audit_record(action="update", instance=normal, changes=changes, by=by)
    _create_or_conflict(Sample, to_create, 900)
    sample_of = {sid: existing[(patients[sid].pk, sid)] for sid in keys}
    normal_of = {sid: existing[(patients[sid].pk, nid)] for sid, nid in normals.of.items()}

    # Every row with its ESCAT tier for the patient's tumour type. Rows keep the file's order:
    # sorting them by gene would let PostgreSQL fill the cohort index in sequence (about a third
    # less time in the COPY), but the cohort query reads its first page in id order and relies
    # on each gene being spread over the ids (TP53 over 3M rows: 1.1 s instead of 0.1 s).
    say("annotating", 0, 0)
    tumour_of = {
        sid: _valid_tumour(patients[sid].diagnosis or (sample_of[sid].oncotree_code or ""))
        for sid in keys
    }
    prepared: dict[str, pl.DataFrame] = {}
    for kind in KINDS:
        f = parsed.frames[kind]
        if kind in TIERED:
            f = f.with_columns(_tiers(kind, f, tumour_of))
        if kind == "mutations":
            f = _with_germline_default(f, normals.normal_keys)
        prepared[kind] = f

    # Reports: identical content already stored for the sample is skipped.
    say("hashing", 0, 0)
    hashes = pending_hashes.result()
    known: dict[tuple[int, str], GenomicReport] = {}
    sample_pks = [s.pk for s in sample_of.values()]
    for i in range(0, len(sample_pks), 900):
        for r in GenomicReport.objects.select_for_update().filter(
            sample__in=sample_pks[i : i + 900]
        ):
            known[(r.sample_id, r.content_hash)] = r
    new_keys = [sid for sid in keys if (sample_of[sid].pk, hashes[sid]) not in known]
    # A report issued again after a later version (A, then B, then A): A is current again.
    reinstated = {
        sid: known[(sample_of[sid].pk, hashes[sid])]
        for sid in keys
        if sid not in new_keys and known[(sample_of[sid].pk, hashes[sid])].superseded
    }
    reports: dict[str, GenomicReport] = {}
    for sid in new_keys:
        info = parsed.reports[sid]
        reports[sid] = GenomicReport(
            sample=sample_of[sid],
            assay=info.assay,
            panel=info.panel,
            covered_genes=info.covered_genes,
            lab=info.lab,
            reported_on=info.reported_on,
            version=info.version,
            genome_build=info.genome_build,
            limit_of_detection=info.limit_of_detection,
            content_hash=hashes[sid],
            source_file=parsed.source[:255],
            imported_by=by,
            imported_at=now,
            normal_sample=normal_of.get(sid),
        )
    superseded: dict[str, list[int]] = {}
    incoming = {**reports, **reinstated}
    if incoming:
        olds = GenomicReport.objects.select_for_update().filter(
            sample__in=[sample_of[s].pk for s in incoming], superseded=False
        )
        by_sample_assay = {(r.sample.pk, r.assay): sid for sid, r in incoming.items()}
        old_ids: list[int] = []
        for old in olds.order_by("pk"):
            sid_new = by_sample_assay.get((old.sample_id, old.assay))
            if sid_new is not None and old.pk != incoming[sid_new].pk:
                superseded.setdefault(sid_new, []).append(old.pk)
                old_ids.append(old.pk)
        GenomicReport.objects.filter(pk__in=old_ids).update(superseded=True)
        for model in MODELS.values():
            model.objects.filter(report_id__in=old_ids).update(current=False)
    if reinstated:
        back = [r.pk for r in reinstated.values()]
        GenomicReport.objects.filter(pk__in=back).update(superseded=False)
        for model in MODELS.values():
            model.objects.filter(report_id__in=back).update(current=True)
    _create_or_conflict(GenomicReport, list(reports.values()), 500)

    # Alterations of the new reports, with their ESCAT tier for the patient's tumour type.
    counts: dict[str, int] = {}
    ids = pl.DataFrame(
        {
            "sample_key": list(reports),
            "report_id": [r.pk for r in reports.values()],
            "sample_id": [reports[s].sample.pk for s in reports],
            "patient_id": [patients[s].pk for s in reports],
        },
        schema={
            "sample_key": pl.String,
            "report_id": pl.Int64,
            "sample_id": pl.Int64,
            "patient_id": pl.Int64,
        },
    )
    frames: dict[str, pl.DataFrame] = {}
    for kind, schema in KINDS.items():
        f = prepared[kind].join(ids, on="sample_key", how="inner", maintain_order="left")
        # Text columns keep their nulls here: COPY reads them as '' (FORCE_NOT_NULL) and the
        # SQLite path fills them in, batch by batch.
        frames[kind] = f.select(
            "report_id",
            "sample_id",
            "patient_id",
            *(["escat_tier"] if kind in TIERED else []),
            pl.lit(True).alias("current"),
            *[c for c in schema if c != "sample_key"],
        )
        counts[kind] = f.height
    total = sum(counts.values())
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        say("writing", done, total)

    say("writing", 0, total)
    for kind, f in frames.items():
        _insert(MODELS[kind], f, tick)

    # One audit event per report.
    say("auditing", 0, len(reports))
    per_report = {
        kind: dict(frames[kind].group_by("report_id").len().iter_rows()) for kind in KINDS
    }
    with audit_batch():  # one lock and one insert for the events of every report
        for sid, report in reports.items():
            _audit_report(sid, report, patients, per_report, superseded, sample_changes, by)
        for sid, report in reinstated.items():
            audit_record(
                action="update",
                instance=report,
                changes={
                    "superseded": [True, False],
                    "reissued_from": [None, parsed.source[:255]],
                    "supersedes": [None, superseded.get(sid, [])],
                },
                by=by,
            )
        for sid, changed in sample_changes.items():
            if sid not in reports:  # sample facts corrected without a new report
                audit_record(action="update", instance=sample_of[sid], changes=changed, by=by)
    say("done", total, total)
    return ImportResult(
        source=parsed.source,
        format=parsed.fmt,
        reports_created=len(reports),
        reports_unchanged=len(keys) - len(reports) - len(reinstated),
        reports_superseded=sum(len(v) for v in superseded.values()),
        reports_reinstated=len(reinstated),
        samples_created=len(to_create),
        mutations=counts["mutations"],
        copy_numbers=counts["copy_numbers"],
        structural_variants=counts["structural_variants"],
        biomarkers=counts["biomarkers"],
        segments=counts["segments"],
        notices=tuple(_notices_translated(parsed)[:200]),
        report_ids=tuple(r.pk for r in reports.values()),
    )


MAX_UNZIPPED_BYTES = 2_000_000_000


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip()
    if not base or base in {".", ".."}:
        raise ValidationError(
            gettext("Invalid file name %(name)s.") % {"name": repr(name)}, field="file"
        )
    return base


def _unzip_study(archive: Path, into: Path) -> Path:
    """Extract a zipped cBioPortal study safely; returns the directory holding meta files."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise ValidationError(
            gettext("%(archive)s is not a valid zip archive.") % {"archive": archive.name},
            field="file",
        ) from None
    with zf:
        total = 0
        for info in zf.infolist():
            parts = Path(info.filename).parts
            if info.filename.startswith(("/", "\\")) or ".." in parts:
                raise ValidationError(
                    gettext("%(archive)s: member %(filename)s escapes the archive.")
                    % {"archive": archive.name, "filename": repr(info.filename)},
                    field="file",
                )
            total += info.file_size
            if total > MAX_UNZIPPED_BYTES:
                raise ValidationError(
                    gettext("%(archive)s unpacks to more than 2 GB.") % {"archive": archive.name},
                    field="file",
                )
        zf.extractall(into)
    metas = sorted(into.rglob("meta_study.txt")) or sorted(
        p for p in into.rglob("meta*.txt") if "type_of_cancer" in p.read_text(errors="replace")
    )
    if not metas:
        raise ValidationError(
            gettext("%(archive)s holds no cBioPortal study (no meta_study.txt).")
            % {"archive": archive.name},
            field="file",
        )
    return metas[0].parent


def genomics_import_upload(
    *,
    name: str,
    chunks: Iterable[bytes],
    by: User,
    patient_map_text: str | None = None,
    assay: str | None = None,
    limit_of_detection: float | str | None = None,
) -> ImportResult:
    """Import an uploaded file (a MAF, VCF, SEG, JSON report, or a zipped study directory)."""
    filename = _safe_name(name)
    pmap = None
    if patient_map_text:
        with core_errors_translated(PATIENT_MAP_MESSAGES):
            pmap = PatientMap.parse(patient_map_text, name=gettext("patient map"))
    with tempfile.TemporaryDirectory(prefix="oncotrials-genomics-") as tmp:
        target = Path(tmp) / filename
        with target.open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        path = target
        if filename.lower().endswith(".zip"):
            path = _unzip_study(target, Path(tmp) / "study")
        return genomics_import(
            path=path,
            by=by,
            patient_map=pmap,
            assay=assay or None,
            source_name=filename,
            limit_of_detection=limit_of_detection,
        )
