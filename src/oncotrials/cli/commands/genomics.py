"""``oncotrials genomics``: read and validate genomic files, OncoTree, actionability, resistance.

``read`` accepts a MAF (plain or gzipped), a VCF, a JSON genomic report, a cBioPortal study
directory or any single file of one (clinical, CNA, SV, timeline, gene panel, meta), and prints
what it holds (counts per gene, variant classes, notices) or every error with its file, line and
field. ``oncotree`` shows a code's ancestry and subtree, ``annotate`` ESCAT tiers and evidence for
a tumour type, ``resistance`` the alterations acquired between two samples under a therapy.
``--format json`` prints one JSON document on stdout; progress goes to stderr.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar, cast

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from oncotrials.cli.output import (
    FormatOption,
    OutputFormat,
    command_errors,
    print_json,
    stderr,
    stdout,
)
from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.actionability import (
    Annotation,
    KbEntry,
    annotate_all,
    escat_table,
    load_civic,
    load_moalmanac,
)
from oncotrials.core.genomics.cbioportal import GenePanel, Study, TimelineEvent
from oncotrials.core.genomics.detect import FileKind
from oncotrials.core.genomics.issues import GenomicFileError, Issue
from oncotrials.core.genomics.maf import MafTable
from oncotrials.core.genomics.model import (
    Alteration,
    CopyNumber,
    GenomicReport,
    Sample,
    SampleKind,
    StructuralVariant,
    Timepoint,
)
from oncotrials.core.genomics.oncotree import load_oncotree
from oncotrials.core.genomics.reading import IMPORTABLE, Clinical, GenomicFile, read_any
from oncotrials.core.genomics.resistance import (
    Mechanism,
    ResistanceReport,
    SerialSample,
    alteration_label,
    classify_resistance,
)
from oncotrials.core.genomics.seg import SegTable
from oncotrials.core.genomics.vcf import VcfResult

if TYPE_CHECKING:  # the app's models load only after django_setup.setup()
    from oncotrials.apps.accounts.models import User

app = typer.Typer(
    help="Genomic files (MAF, VCF, SEG, cBioPortal study, JSON report), OncoTree, ESCAT, resistance.",
    no_args_is_help=True,
)

PathArg = Annotated[
    Path, typer.Argument(help="A MAF, VCF, SEG, cBioPortal study directory or JSON report.")
]
T = TypeVar("T")


@contextmanager
def _progress(label: str, fmt: OutputFormat) -> Iterator[Callable[[int], None]]:
    """Progress on stderr while a file is read (human mode only).

    Yields a callback taking the number of records read so far (readers that stream, such as
    the VCF reader, call it); others show a spinner with the elapsed time.
    """
    if fmt is OutputFormat.json:
        yield lambda _n: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,.0f} records", style="dim"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)
        yield lambda n: progress.update(task, completed=n)


def _issues_doc(issues: Sequence[Issue]) -> list[dict[str, Any]]:
    return [
        {
            "file": i.file,
            "line": i.line,
            "field": i.field,
            "severity": i.severity.value,
            "message": i.message,
        }
        for i in issues
    ]


def _fail_with_issues(exc: GenomicFileError, fmt: OutputFormat) -> NoReturn:
    if fmt is OutputFormat.json:
        print_json({"valid": False, "errors": _issues_doc(exc.issues)})
    else:
        for issue in exc.issues:
            stderr.print(f"[bold red]error:[/] {escape(str(issue))}", markup=True)
    raise typer.Exit(code=1)


def _guard(fmt: OutputFormat, func: Callable[[], T]) -> T:
    try:
        return func()
    except GenomicFileError as exc:
        _fail_with_issues(exc, fmt)


def _summarise(path: Path, fmt: OutputFormat, strict: bool, build: str | None) -> dict[str, Any]:
    with _progress(f"Reading {path.name}", fmt) as tick:
        read = _guard(fmt, lambda: read_any(path, strict=strict, genome_build=build, progress=tick))
    base: dict[str, Any] = {"format": read.label}
    match read.content:
        case MafTable() as maf:
            return {
                **base,
                "file": path.name,
                "rows": len(maf),
                "samples": len(maf.samples),
                "genes": maf.frame["gene"].n_unique(),
                "mutated_samples_per_gene": maf.mutated_samples_per_gene(),
                "variant_classes": maf.variant_class_counts(),
                "nonstandard_columns": list(maf.nonstandard_columns),
                "notices": _issues_doc(read.notices),
            }
        case VcfResult() as vcf:
            genes = Counter(m.gene or "(unannotated)" for m in vcf.mutations)
            return {
                **base,
                "file": path.name,
                "tumour_sample": vcf.tumour_sample,
                "normal_sample": vcf.normal_sample,
                "genome_build": vcf.genome_build.value if vcf.genome_build else None,
                "records": vcf.n_records,
                "filters": vcf.filter_counts,
                "mutations": len(vcf.mutations),
                "structural_variants": len(vcf.structural_variants),
                "mutations_per_gene": dict(genes.most_common()),
                "notices": _issues_doc(read.notices),
            }
        case GenomicReport() as report:
            return {
                **base,
                "file": path.name,
                "report_id": report.report_id,
                "patient_id": report.sample.patient_id,
                "sample_id": report.sample.sample_id,
                "short_variants": len(report.mutations),
                "copy_number_alterations": len(report.copy_numbers),
                "structural_variants": len(report.structural_variants),
                "biomarkers": len(report.biomarkers),
                "mutations_per_gene": dict(Counter(m.gene for m in report.mutations).most_common()),
                "notices": _issues_doc(read.notices),
            }
        case SegTable() as seg:
            loh = sum(1 for s in seg.to_segments() if s.is_loh)
            return {
                **base,
                "file": path.name,
                "genome_build": seg.genome_build.value if seg.genome_build else None,
                "segments": seg.frame.height,
                "samples": len(seg.samples),
                "loh_segments": loh,
                "notices": _issues_doc(read.notices),
            }
        case Study() as study:
            per_gene: Counter[str] = Counter()
            for gene, _sample in {
                (m.gene, m.sample_id)
                for m in study.mutations
                if m.variant_class.is_protein_altering
            }:
                per_gene[gene] += 1
            return {
                **base,
                "study": study.study_id,
                "genome_build": study.genome_build.value,
                "patients": len(study.patients),
                "samples": len(study.samples),
                "mutations": len(study.mutations),
                "copy_number_calls": len(study.copy_numbers),
                "structural_variants": len(study.structural_variants),
                "segments": len(study.segments),
                "timeline_events": len(study.timeline),
                "gene_panels": sorted(study.gene_panels),
                "mutated_samples_per_gene": dict(per_gene.most_common()),
                "notices": _issues_doc(read.notices),
            }
    return {**base, "file": path.name, **_summarise_study_file(read)}


def _summarise_study_file(read: GenomicFile) -> dict[str, Any]:
    """One data or meta file of a cBioPortal study, checked on its own."""
    kind = read.kind
    if kind in (FileKind.CNA_LONG, FileKind.CNA_WIDE):
        calls = cast(tuple[CopyNumber, ...], read.content)
        values = Counter(c.call.value for c in calls)
        return {
            "calls": len(calls),
            "samples": len({c.sample_id for c in calls}),
            "genes": len({c.gene for c in calls}),
            "values": {str(k): values[k] for k in sorted(values)},
        }
    if kind is FileKind.SV:
        svs = cast(tuple[StructuralVariant, ...], read.content)
        pairs = Counter(f"{v.gene1 or '?'}::{v.gene2 or '?'}" for v in svs)
        return {
            "rows": len(svs),
            "samples": len({v.sample_id for v in svs}),
            "pairs": dict(pairs.most_common()),
        }
    if kind is FileKind.TIMELINE:
        events = cast(tuple[TimelineEvent, ...], read.content)
        return {
            "events": len(events),
            "patients": len({e.patient_id for e in events}),
            "event_types": dict(Counter(e.event_type for e in events)),
        }
    if isinstance(read.content, Clinical):
        return {
            "rows": len(read.content.rows),
            "attributes": [a.attr_id for a in read.content.attributes],
            "notices": _issues_doc(read.notices),
        }
    if isinstance(read.content, GenePanel):
        return {"panel": read.content.stable_id, "genes": len(read.content.genes)}
    return {"keys": sorted(cast(dict[str, str], read.content))}


@app.command("read")
@command_errors
def read(
    path: PathArg,
    fmt: FormatOption = OutputFormat.human,
    strict: Annotated[bool, typer.Option(help="cBioPortal's stricter MAF rules.")] = False,
    genome_build: Annotated[
        str | None, typer.Option("--genome-build", help="Expected build: GRCh37 or GRCh38.")
    ] = None,
    top: Annotated[int, typer.Option(help="Genes to show in human output.")] = 15,
) -> None:
    """Validate and summarise a genomic file; errors name the file, line and field."""
    if not path.exists():
        raise ValidationError(
            f"{path} does not exist; give a MAF, VCF, SEG, JSON report or study directory."
        )
    doc = _summarise(path, fmt, strict, genome_build)
    if fmt is OutputFormat.json:
        print_json({"valid": True, **doc})
        return
    stdout.print(
        f"[bold]{escape(str(doc.get('file') or doc.get('study')))}[/] ({doc['format']}): valid"
    )
    for key, value in doc.items():
        if isinstance(value, str | int | float) and key not in {"file", "format"}:
            stdout.print(f"  {key.replace('_', ' ')}: {escape(str(value))}")
    per_gene = doc.get("mutated_samples_per_gene") or doc.get("mutations_per_gene") or {}
    if per_gene:
        table = Table(
            "gene",
            "samples" if "mutated_samples_per_gene" in doc else "mutations",
            title="Top genes",
        )
        for gene, n in list(per_gene.items())[:top]:
            table.add_row(escape(gene), str(n))
        stdout.print(table)
    for notice in doc.get("notices", []):
        where = notice["file"] + (f", line {notice['line']}" if notice["line"] else "")
        where += f", field {notice['field']}" if notice["field"] else ""
        stderr.print(
            f"[yellow]{notice['severity']}:[/] {escape(where)}: {escape(notice['message'])}"
        )


@app.command("oncotree")
@command_errors
def oncotree(
    code: Annotated[str, typer.Argument(help="OncoTree code, e.g. LUAD or NSCLC.")],
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Show an OncoTree code: its name, ancestry and everything under it."""
    tree = load_oncotree()
    node = tree.get(code)
    doc = {
        "version": tree.version,
        "code": node.code,
        "name": node.name,
        "main_type": node.main_type,
        "tissue": node.tissue,
        "level": node.level,
        "ancestors": [{"code": c, "name": tree.nodes[c].name} for c in tree.ancestors(node.code)],
        "subtree": sorted(tree.descendants(node.code)),
    }
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    stdout.print(
        f"[bold]{node.code}[/] {escape(node.name)} (level {node.level}, OncoTree {tree.version})"
    )
    stdout.print("  ancestry: " + " > ".join(reversed([node.code, *tree.ancestors(node.code)])))
    sub = sorted(tree.descendants(node.code))
    stdout.print(f"  subtree: {len(sub)} code(s)" + (": " + ", ".join(sub) if sub else ""))


def _alterations(
    path: Path, fmt: OutputFormat
) -> tuple[tuple[Alteration, ...], Sample | None, frozenset[str] | None]:
    with _progress(f"Reading {path.name}", fmt) as tick:
        read = _guard(fmt, lambda: read_any(path, accept=IMPORTABLE, progress=tick))
    match read.content:
        case MafTable() as maf:
            return maf.to_mutations(), None, None
        case VcfResult() as v:
            return (*v.mutations, *v.structural_variants), None, None
        case GenomicReport() as report:
            return report.alterations, report.sample, report.covered_genes
        case Study() as study:
            return (*study.mutations, *study.copy_numbers, *study.structural_variants), None, None
    raise AssertionError(f"{read.kind} is not an importable kind")  # refused by read_any


def _annotation_doc(a: Annotation) -> dict[str, Any]:
    return {
        "sample_id": a.alteration.sample_id,
        "alteration": alteration_label(a.alteration),
        "tier": a.tier,
        "drugs": list(a.drugs),
        "evidence": [
            {
                "source": e.entry.source,
                "level": e.entry.level,
                "tumour": e.entry.tumour,
                "tumour_match": e.tumour_match,
                "drugs": list(e.entry.drugs),
                "resistance": e.entry.resistance,
                "citation": e.entry.citation,
            }
            for e in a.evidence
        ],
    }


@app.command("annotate")
@command_errors
def annotate(
    path: PathArg,
    tumour: Annotated[
        str, typer.Option("--tumour", "--tumor", help="OncoTree code of the tumour.")
    ],
    fmt: FormatOption = OutputFormat.human,
    moalmanac: Annotated[
        Path | None, typer.Option(help="Add MOAlmanac evidence (molecular-oncology-almanac.json).")
    ] = None,
    civic: Annotated[
        Path | None, typer.Option(help="Add CIViC ClinicalEvidenceSummaries TSV.")
    ] = None,
    all_alterations: Annotated[
        bool, typer.Option("--all", help="Also list alterations without any evidence.")
    ] = False,
) -> None:
    """ESCAT tier and evidence of every alteration in a file, for one tumour type."""
    code = load_oncotree().validate(tumour)
    knowledge: tuple[KbEntry, ...] = escat_table()
    if moalmanac is not None:
        knowledge += _guard(fmt, lambda: load_moalmanac(moalmanac))
    if civic is not None:
        knowledge += _guard(fmt, lambda: load_civic(civic))
    alterations, _, _ = _alterations(path, fmt)
    annotations = [
        a
        for a in annotate_all(alterations, code, knowledge=knowledge)
        if all_alterations or a.evidence
    ]
    if fmt is OutputFormat.json:
        print_json({"tumour": code, "annotations": [_annotation_doc(a) for a in annotations]})
        return
    table = Table(
        "sample", "alteration", "ESCAT", "drugs", "other evidence", title=f"Actionability in {code}"
    )
    for a in annotations:
        other = Counter(
            f"{e.entry.source}{' (R)' if e.entry.resistance else ''}"
            for e in a.evidence
            if e.entry.source != "ESCAT"
        )
        escat_drugs = list(
            dict.fromkeys(
                d
                for e in a.evidence
                if e.entry.source == "ESCAT" and e.tumour_match == "same"
                for d in e.entry.drugs
            )
        )
        shown = ", ".join(escat_drugs[:4]) + (", ..." if len(escat_drugs) > 4 else "")
        table.add_row(
            escape(a.alteration.sample_id),
            escape(alteration_label(a.alteration)),
            a.tier or "-",
            escape(shown) or "-",
            escape(", ".join(f"{k} x{v}" for k, v in other.items())) or "-",
        )
    stdout.print(table)


def _serial(
    path: Path, sample_id: str | None, role: str, fmt: OutputFormat, cfdna: bool
) -> SerialSample:
    alterations, sample, covered = _alterations(path, fmt)
    ids = sorted({a.sample_id for a in alterations})
    if sample is None:
        if sample_id is None:
            if len(ids) != 1:
                raise ValidationError(
                    f"{path.name} holds {len(ids)} samples; choose one with --{role}-sample "
                    f"(e.g. {', '.join(ids[:3])})."
                )
            sample_id = ids[0]
        elif sample_id not in ids:
            raise ValidationError(f"Sample {sample_id!r} is not in {path.name}.")
        sample = Sample(
            sample_id,
            "patient",
            kind=SampleKind.CFDNA if cfdna else SampleKind.UNKNOWN,
            timepoint=Timepoint.BASELINE if role == "baseline" else Timepoint.PROGRESSION,
        )
        alterations = tuple(a for a in alterations if a.sample_id == sample_id)
    return SerialSample(sample, alterations, covered)


@app.command("resistance")
@command_errors
def resistance(
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline sample: MAF, VCF or JSON report.")
    ] = None,
    progression: Annotated[
        Path | None, typer.Option(help="Progression sample: MAF, VCF or JSON report.")
    ] = None,
    drug: Annotated[
        list[str] | None,
        typer.Option(help="Drug received in between (repeat for combinations)."),
    ] = None,
    patient: Annotated[
        str | None,
        typer.Option(
            help="Research id of a patient in the database: its reference baseline and latest "
            "progression samples (drug: --drug, else the agents of the patient's registrations "
            "in between, else the therapy recorded on the sample)."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.human,
    baseline_sample: Annotated[
        str | None, typer.Option(help="Sample id in a multi-sample file.")
    ] = None,
    progression_sample: Annotated[
        str | None, typer.Option(help="Sample id in a multi-sample file.")
    ] = None,
    cfdna: Annotated[
        bool, typer.Option(help="The progression sample is cfDNA (flags CH genes).")
    ] = False,
    show_unclassified: Annotated[
        bool, typer.Option(help="Also list unclassified acquired events.")
    ] = False,
) -> None:
    """Acquired alterations between baseline and progression, classified by mechanism.

    Either two files (--baseline, --progression, --drug) or a patient of the database
    (--patient).
    """
    if patient is not None:
        report = _resistance_from_database(patient, "; ".join(drug or []))
    else:
        if baseline is None or progression is None or not drug:
            raise ValidationError(
                "Give --baseline, --progression and --drug (files), or --patient (database)."
            )
        b = _serial(baseline, baseline_sample, "baseline", fmt, False)
        p = _serial(progression, progression_sample, "progression", fmt, cfdna)
        if "patient" in (b.sample.patient_id, p.sample.patient_id):
            # A file without patient ids: the user vouches that both samples are one patient's.
            pid = p.sample.patient_id if b.sample.patient_id == "patient" else b.sample.patient_id
            b = replace(b, sample=replace(b.sample, patient_id=pid))
            p = replace(p, sample=replace(p.sample, patient_id=pid))
        report = classify_resistance(b, p, drug)
    rows = [
        a for a in report.acquired if show_unclassified or a.mechanism is not Mechanism.UNCLASSIFIED
    ]
    if fmt is OutputFormat.json:
        print_json(
            {
                "baseline_sample": report.baseline_sample,
                "progression_sample": report.progression_sample,
                "drugs": list(report.drugs),
                "targets": sorted(report.targets),
                "acquired": [
                    {
                        "alteration": a.label,
                        "gene": a.gene,
                        "mechanism": a.mechanism.value,
                        "reason": a.reason,
                        "possible_clonal_haematopoiesis": a.possible_clonal_haematopoiesis,
                    }
                    for a in rows
                ],
                "n_acquired": len(report.acquired),
                "n_shared": len(report.shared),
                "n_lost": len(report.lost),
                "not_detected": [
                    {"alteration": u.label, "reason": u.reason} for u in report.not_detected
                ],
            }
        )
        return
    title = (
        f"{report.baseline_sample} -> {report.progression_sample} under {' + '.join(report.drugs)}"
    )
    table = Table("alteration", "mechanism", "reason", "CH?", title=title)
    for a in rows:
        table.add_row(
            escape(a.label),
            a.mechanism.value,
            escape(a.reason),
            "yes" if a.possible_clonal_haematopoiesis else "",
        )
    stdout.print(table)
    stdout.print(
        f"acquired {len(report.acquired)}, shared {len(report.shared)}, lost {len(report.lost)}, "
        f"not detected {len(report.not_detected)}; targets: {', '.join(sorted(report.targets))}"
    )
    for u in report.not_detected:
        stdout.print(f"not detected: {escape(u.label)} ({escape(u.reason)})")


# ------------------------------------------------------------------------- database commands
def _resistance_from_database(research_id: str, drug: str) -> ResistanceReport:
    from oncotrials.cli import django_setup

    django_setup.setup()
    from oncotrials.apps.genomics.selectors import resistance_for_patient
    from oncotrials.apps.subjects.models import Patient

    found = Patient.objects.filter(research_id=research_id).first()
    if found is None:
        raise ValidationError(f"No patient with research id {research_id!r}.")
    report = resistance_for_patient(patient=found, drug=drug)
    if report is None:
        raise ValidationError(
            f"Patient {research_id} has no baseline and progression sample pair; set the "
            "timepoints at import (patient map column 'timepoint')."
        )
    return report


def _user(username: str | None) -> User | None:
    if username is None:
        return None
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError(f"No active user {username!r}; give an existing --user or none.")
    return user


@app.command("import")
@command_errors
def import_cmd(
    path: PathArg,
    patient_map: Annotated[
        Path | None,
        typer.Option(
            help="CSV mapping sample_id or patient_id to research_id (optional columns: "
            "timepoint, kind, collected_on, tumour_fraction, therapy)."
        ),
    ] = None,
    assay: Annotated[str | None, typer.Option(help="Assay name (default: from the file).")] = None,
    vaf_unit: Annotated[
        str | None,
        typer.Option(
            help="Unit of a MAF VAF column (tumor_f, VAF): fraction or percent (default: a "
            "fraction, or percent when the allele counts show it; values above 1 are refused)."
        ),
    ] = None,
    lod: Annotated[
        str | None,
        typer.Option(
            "--lod",
            help="The assay's limit of detection, a VAF fraction (0.002) or a percent (0.2%), "
            "for reports that do not declare it: covered genes without a call then read 'not "
            "detected (below LoD)' and calls below it are flagged.",
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            help="Import as this user (checked: molecular biologist, data manager or "
            "administrator of each patient's site); default: a system import."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Import a MAF, VCF, SEG, JSON report or cBioPortal study into the database, all or nothing.

    Samples are matched to registered research patients (by the file's patient id or the
    patient map). Re-importing the same content changes nothing.
    """
    from oncotrials.cli import django_setup

    django_setup.setup()
    from rich.progress import BarColumn, MofNCompleteColumn

    from oncotrials.apps.audit.context import audit_context
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap

    by = _user(user)
    pmap = PatientMap.read(patient_map) if patient_map is not None else None

    def run(progress: Callable[[str, int, int], None]) -> Any:
        with audit_context(channel="cli", user=by):
            return genomics_import(
                path=path,
                by=by,
                patient_map=pmap,
                assay=assay,
                progress=progress,
                vaf_unit=vaf_unit,
                limit_of_detection=lod,
            )

    if fmt is OutputFormat.json:
        result = _guard(fmt, lambda: run(lambda _s, _d, _t: None))
    else:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
        ) as bar:
            task = bar.add_task(f"Reading {path.name}", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                label = {
                    "reading": f"Reading {path.name}",
                    "matching": "Matching patients",
                    "hashing": "Comparing with stored reports",
                    "annotating": "ESCAT tiers",
                    "writing": "Writing alterations",
                    "auditing": "Audit trail",
                    "done": "Done",
                }.get(stage, stage)
                bar.update(task, description=label, completed=done, total=total or None)

            result = _guard(fmt, lambda: run(progress))
    doc = result.as_dict()
    doc.pop("report_ids")
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    table = Table("", "count", title=f"{escape(result.source)} ({result.format})")
    for key in (
        "reports_created",
        "reports_unchanged",
        "reports_superseded",
        "reports_reinstated",
        "samples_created",
        "mutations",
        "copy_numbers",
        "structural_variants",
        "biomarkers",
        "segments",
    ):
        table.add_row(key.replace("_", " "), f"{doc[key]:,}")
    stdout.print(table)
    for notice in result.notices[:20]:
        stderr.print(f"[yellow]notice:[/] {escape(notice)}", markup=True)


@app.command("export")
@command_errors
def export_cmd(
    directory: Annotated[Path, typer.Argument(help="Directory to write the study into.")],
    study_id: Annotated[str, typer.Option(help="cancer_study_identifier of the study.")],
    name: Annotated[str, typer.Option(help="Study name.")] = "",
    genome: Annotated[
        str | None,
        typer.Option(
            help="Only the reports on this reference genome (GRCh37 or GRCh38); needed when "
            "the database holds both."
        ),
    ] = None,
    programme: Annotated[
        str | None,
        typer.Option(help="Only the patients consented to this translational programme."),
    ] = None,
    trial: Annotated[
        str | None,
        typer.Option(help="Only the patients registered in this trial (protocol code)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only the samples collected on or after this day (YYYY-MM-DD)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Only the samples collected on or before this day (YYYY-MM-DD)."),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="Export what this user may see (default: everything).")
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Export the programme's current genomic reports, clinical files and timeline as a
    cBioPortal study directory (subset by genome, programme, trial and collection dates)."""
    from oncotrials.cli import django_setup

    django_setup.setup()
    from oncotrials.apps.audit.context import audit_context
    from oncotrials.apps.exports.cbioportal import cbioportal_export
    from oncotrials.apps.trials.models import Trial

    def day(text: str | None, option: str) -> dt.date | None:
        if text is None:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                f"{option} takes a day as YYYY-MM-DD; got {text!r}.", field=option
            ) from None

    chosen = None
    if trial is not None:
        chosen = Trial.objects.filter(protocol_code=trial).first()
        if chosen is None:
            raise ValidationError(f"No trial with protocol code {trial!r}.", field="--trial")
    by = _user(user)
    with audit_context(channel="cli", user=by):
        out = cbioportal_export(
            directory=directory,
            study_id=study_id,
            name=name,
            by=by,
            genome=genome,
            programme=programme,
            trial=chosen,
            since=day(since, "--since"),
            until=day(until, "--until"),
        )
    if fmt is OutputFormat.json:
        print_json({"directory": str(out), "study_id": study_id})
    else:
        stdout.print(f"cBioPortal study {escape(study_id)} written to {escape(str(out))}")
