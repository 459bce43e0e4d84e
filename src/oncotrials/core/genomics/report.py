"""The oncotrials JSON genomic report (format 1.0): read, validate, write.

The format is documented in ``docs/formats/genomic-report.md`` with its JSON Schema
(``genomic-report.schema.json``, shipped here as ``data/genomic-report.schema.json``) and an
example. Errors name the file, the line where the offending value starts and the field as a JSON
path (``short_variants/1/vaf``). Beyond the schema, the reader checks the OncoTree code, and reports
as notices protein changes it cannot parse, gene aliases it resolved and reported genes outside
``covered_genes``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from oncotrials.core.genomics.genes import normalise_gene, normalise_variant_class
from oncotrials.core.genomics.issues import Issue, IssueLog
from oncotrials.core.genomics.model import (
    MUTATION_STATUS_ALIASES,
    MUTATION_STATUSES,
    ONCOGENICITY_ALIASES,
    Biomarker,
    BiomarkerKind,
    CnaCall,
    CopyNumber,
    GenomeBuild,
    GenomicReport,
    Mutation,
    Oncogenicity,
    Origin,
    Sample,
    SampleKind,
    StructuralVariant,
    Timepoint,
    VariantClass,
    below_limit_of_detection,
    origin_of,
)
from oncotrials.core.genomics.oncotree import OncoTree, load_oncotree
from oncotrials.core.genomics.protein import normalise_protein_change

__all__ = [
    "FORMAT_VERSION",
    "read_report_json",
    "report_schema",
    "report_to_dict",
    "write_report_json",
]

FORMAT_VERSION = "1.0"
_CALLS = {
    "amplification": CnaCall.AMPLIFICATION,
    "gain": CnaCall.GAIN,
    "neutral": CnaCall.NEUTRAL,
    "shallow_deletion": CnaCall.SHALLOW_DELETION,
    "deep_deletion": CnaCall.DEEP_DELETION,
}
_CALL_NAMES = {v: k for k, v in _CALLS.items()}


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    ref = resources.files("oncotrials.core.genomics").joinpath("data/genomic-report.schema.json")
    with ref.open(encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


_WS = re.compile(r"[ \t\n\r]*")


def _value_positions(text: str) -> dict[tuple[str | int, ...], int]:
    """Character offset where each JSON value starts, keyed by its path (valid JSON only)."""
    decoder = json.JSONDecoder()
    out: dict[tuple[str | int, ...], int] = {}

    def skip(i: int) -> int:
        m = _WS.match(text, i)
        return m.end() if m else i

    def value(i: int, path: tuple[str | int, ...]) -> int:
        i = skip(i)
        out[path] = i
        c = text[i]
        if c == "{":
            i = skip(i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                i = skip(i)
                key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
                i = skip(i) + 1  # ':'
                i = skip(value(i, (*path, key)))
                if text[i] == ",":
                    i += 1
                    continue
                return i + 1
        if c == "[":
            i = skip(i + 1)
            if text[i] == "]":
                return i + 1
            k = 0
            while True:
                i = skip(value(i, (*path, k)))
                k += 1
                if text[i] == ",":
                    i += 1
                    continue
                return i + 1
        _, end = decoder.raw_decode(text, i)
        return int(end)

    value(0, ())
    return out


def _date(v: object) -> dt.date | None:
    return dt.date.fromisoformat(v) if isinstance(v, str) else None


class _Where:
    """Line and field (a JSON path such as ``short_variants/1/vaf``) of a value of the file."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.positions: dict[tuple[str | int, ...], int] | None = None  # computed when needed

    def line(self, path_: tuple[str | int, ...]) -> int | None:
        if self.positions is None:
            self.positions = _value_positions(self.text)
        while path_ and path_ not in self.positions:
            path_ = path_[:-1]
        pos = self.positions.get(path_)
        return None if pos is None else self.text.count("\n", 0, pos) + 1

    @staticmethod
    def field(path_: tuple[str | int, ...]) -> str:
        return "/".join(str(x) for x in path_) or "(document)"


def _load(p: Path, log: IssueLog) -> tuple[str, Any]:
    """The text and the parsed document; UTF-8 and JSON syntax errors name their line."""
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise log.fatal(
            raw.count(b"\n", 0, exc.start) + 1,
            None,
            "not valid UTF-8.",
            code="genomic_not_valid_utf",
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise log.fatal(
            exc.lineno,
            None,
            "not valid JSON: %(msg)s (column %(colno)s).",
            code="genomic_not_valid_json_column",
            msg=exc.msg,
            colno=exc.colno,
        ) from None
    return text, data


def _check_schema(data: Any, where: _Where, log: IssueLog) -> None:
    validator = jsonschema.Draft202012Validator(
        report_schema(), format_checker=jsonschema.FormatChecker()
    )
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(x) for x in e.absolute_path]):
        path_ = tuple(err.absolute_path)
        msg = err.message if len(err.message) < 200 else err.message[:200] + "..."
        log.error(where.line(path_), where.field(path_), msg)
    log.raise_if_errors()


def _sample(
    data: Any, tree: OncoTree, where: _Where, log: IssueLog
) -> tuple[Sample, dt.date | None]:
    """The sample (its OncoTree code resolved) and the report date; bad values are errors."""
    s = data["sample"]
    code = s.get("oncotree_code")
    if code is not None:
        resolved = tree.resolve(code)
        if resolved is None:
            log.error(
                where.line(("sample", "oncotree_code")),
                "sample/oncotree_code",
                "unknown OncoTree code %(code_value)s (%(version)s).",
                code="genomic_unknown_oncotree_code",
                code_value=repr(code),
                version=tree.version,
            )
        elif resolved != code:
            log.info(
                where.line(("sample", "oncotree_code")),
                "sample/oncotree_code",
                "%(code_value)s read as %(resolved)s.",
                code="genomic_code_read_as",
                code_value=repr(code),
                resolved=repr(resolved),
            )
        code = resolved
    for key in ("collected_on",):
        try:
            _date(s.get(key))
        except ValueError:
            log.error(
                where.line(("sample", key)),
                f"sample/{key}",
                "%(value)s is not a date (YYYY-MM-DD).",
                code="genomic_not_date",
                value=repr(s[key]),
            )
    try:
        reported_on = _date(data.get("reported_on"))
    except ValueError:
        reported_on = None
        log.error(
            where.line(("reported_on",)),
            "reported_on",
            "%(value)s is not a date (YYYY-MM-DD).",
            code="genomic_not_date",
            value=repr(data["reported_on"]),
        )
    log.raise_if_errors()
    sample = Sample(
        sample_id=s["sample_id"],
        patient_id=data["patient_id"],
        kind=SampleKind(s["kind"]),
        timepoint=Timepoint(s.get("timepoint", "unknown")),
        collected_on=_date(s.get("collected_on")),
        tumour_fraction=s.get("tumour_fraction"),
        oncotree_code=code,
        mean_depth=s.get("mean_depth"),
    )
    return sample, reported_on


class _Alterations:
    """The alteration lists of a report, for one sample, with the notices they call for."""

    def __init__(
        self,
        sid: str,
        build: GenomeBuild | None,
        covered: frozenset[str] | None,
        where: _Where,
        log: IssueLog,
        normal: str | None = None,
        lod: float | None = None,
    ) -> None:
        self.sid, self.build, self.covered, self.where, self.log = sid, build, covered, where, log
        self.normal = normal
        self.lod = lod
        self.blood = False  # the sample is a normal (germline) sample: no somatic call

    def vocabulary(
        self, value: str | None, at: tuple[str | int, ...], exact: set[str], aliases: dict[str, str]
    ) -> str | None:
        """``value`` in the vocabulary's spelling: mapped spellings with a warning, else an
        error naming the vocabulary (values are case-sensitive)."""
        if value is None or value in exact:
            return value
        line, name = self.where.line(at), self.where.field(at)
        if value in aliases:
            self.log.warning(
                line,
                name,
                "%(value)s read as %(aliases)s (mapped spelling).",
                code="genomic_value_read_mapped_spelling",
                value=repr(value),
                aliases=repr(aliases[value]),
            )
            return aliases[value]
        self.log.error(
            line,
            name,
            "%(value)s is not in the vocabulary (%(exact)s; values are case-sensitive).",
            code="genomic_not_vocabulary_values_are_case",
            value=repr(value),
            exact=", ".join(sorted(exact)),
        )
        return None

    def gene_at(self, value: str, at: tuple[str | int, ...]) -> str:
        """The gene symbol (alias resolved, a notice); a warning when outside the panel."""
        where, log = self.where, self.log
        g = normalise_gene(value)
        if g != value:
            log.info(
                where.line(at),
                where.field(at),
                "gene symbol %(value)s read as %(g)s.",
                code="genomic_gene_symbol_read",
                value=repr(value),
                g=repr(g),
            )
        if self.covered is not None and g not in self.covered:
            log.warning(
                where.line(at),
                where.field(at),
                "%(g)s is reported but not in assay/covered_genes.",
                code="genomic_reported_but_not_assay_covered",
                g=g,
            )
        return g

    def short_variants(self, items: list[Any]) -> tuple[Mutation, ...]:
        out = (self.short_variant(i, v) for i, v in enumerate(items))
        return tuple(m for m in out if m is not None)

    def short_variant(self, i: int, v: Any) -> Mutation | None:
        where, log = self.where, self.log
        base = ("short_variants", i)
        gene = self.gene_at(v["gene"], (*base, "gene"))
        raw_p = v.get("protein_change")
        protein = normalise_protein_change(raw_p)
        if raw_p and protein is None:
            log.warning(
                where.line((*base, "protein_change")),
                where.field((*base, "protein_change")),
                "protein change %(raw_p)s not recognised; kept raw.",
                code="genomic_protein_change_not_recognised_kept",
                raw_p=repr(raw_p),
            )
        ref, alt = v.get("ref"), v.get("alt")
        vclass = (
            VariantClass(v["variant_class"])
            if "variant_class" in v
            else normalise_variant_class(v["consequence"], _variant_type(ref, alt))
        )
        if vclass is None:
            log.error(
                where.line((*base, "consequence")),
                where.field((*base, "consequence")),
                "consequence %(consequence)s is not a known Sequence Ontology term.",
                code="genomic_consequence_not_known_sequence_ontology",
                consequence=repr(v["consequence"]),
            )
            return None
        status = self.vocabulary(
            v.get("mutation_status"),
            (*base, "mutation_status"),
            set(MUTATION_STATUSES),
            MUTATION_STATUS_ALIASES,
        )
        if self.blood and status is not None and origin_of(status) is Origin.SOMATIC:
            log.error(
                where.line((*base, "mutation_status")),
                where.field((*base, "mutation_status")),
                "a blood (germline) sample cannot carry a somatic call; report it on the tumour sample.",
                code="genomic_blood_germline_sample_cannot_carry",
            )
        if below_limit_of_detection(v.get("vaf"), self.lod):
            log.warning(
                where.line((*base, "vaf")),
                where.field((*base, "vaf")),
                "VAF %(vaf)s is below the assay's limit of detection %(lod)s; kept, flagged below LoD.",
                code="genomic_vaf_below_assay_s_limit",
                vaf=format(v["vaf"], "g"),
                lod=format(self.lod, "g"),
            )
        start = v.get("position")
        end = None
        if start is not None and ref and ref != "-":
            end = start + len(ref) - 1
        return Mutation(
            sample_id=self.sid,
            gene=gene,
            variant_class=vclass,
            protein_change=protein,
            protein_change_raw=raw_p,
            hgvsc=v.get("hgvsc"),
            chromosome=v.get("chromosome"),
            start=start,
            end=end,
            ref=ref,
            alt=alt,
            vaf=v.get("vaf"),
            depth=v.get("depth"),
            alt_count=v.get("alt_count"),
            consequence=v.get("consequence"),
            genome_build=self.build,
            normal_sample_id=self.normal,
            mutation_status=status,
            transcript_id=v.get("transcript"),
            oncogenicity=self.oncogenicity(v.get("oncogenicity"), (*base, "oncogenicity")),
            reported=v.get("reported"),
        )

    def oncogenicity(self, value: str | None, at: tuple[str | int, ...]) -> Oncogenicity | None:
        labels = {o.label for o in Oncogenicity}
        aliases = {k: o.label for k, o in ONCOGENICITY_ALIASES.items()}
        label = self.vocabulary(value, at, labels, aliases)
        return Oncogenicity.from_label(label) if label is not None else None

    def copy_numbers(self, items: list[Any]) -> tuple[CopyNumber, ...]:
        return tuple(
            CopyNumber(
                self.sid,
                self.gene_at(c["gene"], ("copy_number_alterations", i, "gene")),
                _CALLS[c["call"]],
                c.get("copy_number"),
            )
            for i, c in enumerate(items)
        )

    def structural_variants(self, items: list[Any]) -> tuple[StructuralVariant, ...]:
        svs = []
        for i, v in enumerate(items):
            genes = [
                self.gene_at(v[k], ("structural_variants", i, k)) if v.get(k) else None
                for k in ("gene1", "gene2")
            ]
            svs.append(
                StructuralVariant(
                    sample_id=self.sid,
                    gene1=genes[0],
                    gene2=genes[1],
                    chromosome1=v.get("chromosome1"),
                    position1=v.get("position1"),
                    chromosome2=v.get("chromosome2"),
                    position2=v.get("position2"),
                    in_frame=v.get("in_frame"),
                    sv_class=v.get("sv_class"),
                    event_info=v.get("event_info"),
                    dna_support=v.get("dna_support"),
                    rna_support=v.get("rna_support"),
                    genome_build=self.build,
                    site1_exon=v.get("exon1"),
                    site2_exon=v.get("exon2"),
                    site1_transcript=v.get("transcript1"),
                    site2_transcript=v.get("transcript2"),
                )
            )
        return tuple(svs)

    def biomarkers(self, items: list[Any]) -> tuple[Biomarker, ...]:
        return tuple(
            Biomarker(
                self.sid,
                BiomarkerKind(b["kind"]),
                b.get("value"),
                b.get("status"),
                b.get("unit"),
                b.get("name"),
            )
            for b in items
        )


def _variant_type(ref: str | None, alt: str | None) -> str | None:
    """INS, DEL or SNP from the alleles (``-`` for an empty one), None without both."""
    if not (ref and alt):
        return None
    if ref == "-" or len(alt) > len(ref):
        return "INS"
    if alt == "-" or len(alt) < len(ref):
        return "DEL"
    return "SNP"


def read_report_json(
    path: str | Path, *, oncotree: OncoTree | None = None
) -> tuple[GenomicReport, tuple[Issue, ...]]:
    """Read and validate a JSON genomic report; returns the report and its notices.

    Raises
    ------
    GenomicFileError
        For invalid JSON (line of the syntax error), schema violations (line and JSON path of
        each), an unknown OncoTree code or an unparseable date.
    """
    p = Path(path)
    log = IssueLog.for_path(p)
    text, data = _load(p, log)
    where = _Where(text)
    _check_schema(data, where, log)
    sample, reported_on = _sample(data, oncotree or load_oncotree(), where, log)
    assay = data["assay"]
    covered = (
        frozenset(normalise_gene(g) for g in assay["covered_genes"])
        if "covered_genes" in assay
        else None
    )
    build = GenomeBuild(data["genome_build"]) if "genome_build" in data else None
    normal = data.get("matched_normal", {}).get("sample_id")
    if normal is not None and normal == sample.sample_id:
        log.error(
            where.line(("matched_normal", "sample_id")),
            "matched_normal/sample_id",
            "%(normal)s is the tumour sample itself; the matched normal is another sample.",
            code="genomic_tumour_sample_itself_matched_normal",
            normal=repr(normal),
        )
    if normal is not None and sample.kind is SampleKind.BLOOD:
        log.error(
            where.line(("matched_normal",)),
            "matched_normal",
            "the report's sample is a blood (germline) sample: a normal sample has no matched normal.",
            code="genomic_report_s_sample_blood_germline",
        )
    alterations = _Alterations(
        sample.sample_id, build, covered, where, log, normal, assay.get("limit_of_detection")
    )
    alterations.blood = sample.kind is SampleKind.BLOOD
    mutations = alterations.short_variants(data.get("short_variants", []))
    cnas = alterations.copy_numbers(data.get("copy_number_alterations", []))
    svs = alterations.structural_variants(data.get("structural_variants", []))
    biomarkers = alterations.biomarkers(data.get("biomarkers", []))
    log.raise_if_errors()
    report = GenomicReport(
        report_id=data["report_id"],
        sample=sample,
        assay=assay["name"],
        panel=assay.get("panel"),
        lab=data.get("lab"),
        reported_on=reported_on,
        version=assay.get("version"),
        genome_build=build,
        covered_genes=covered,
        normal_sample_id=normal,
        limit_of_detection=assay.get("limit_of_detection"),
        mutations=mutations,
        copy_numbers=cnas,
        structural_variants=svs,
        biomarkers=biomarkers,
    )
    return report, log.notices()


def _drop_none(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def report_to_dict(report: GenomicReport) -> dict[str, Any]:
    """The report as a JSON-ready dict in format 1.0 (protein changes as the source wrote them)."""
    s = report.sample
    assay = _drop_none(
        {
            "name": report.assay,
            "panel": report.panel,
            "version": report.version,
            "covered_genes": sorted(report.covered_genes)
            if report.covered_genes is not None
            else None,
            "limit_of_detection": report.limit_of_detection,
        }
    )
    return _drop_none(
        {
            "format_version": FORMAT_VERSION,
            "report_id": report.report_id,
            "patient_id": s.patient_id,
            "sample": _drop_none(
                {
                    "sample_id": s.sample_id,
                    "kind": s.kind.value if s.kind is not SampleKind.UNKNOWN else "tissue",
                    "timepoint": s.timepoint.value,
                    "collected_on": s.collected_on.isoformat() if s.collected_on else None,
                    "tumour_fraction": s.tumour_fraction,
                    "oncotree_code": s.oncotree_code,
                    "mean_depth": s.mean_depth,
                }
            ),
            "assay": assay,
            "matched_normal": {"sample_id": report.normal_sample_id}
            if report.normal_sample_id
            else None,
            "lab": report.lab,
            "reported_on": report.reported_on.isoformat() if report.reported_on else None,
            "genome_build": report.genome_build.value if report.genome_build else None,
            "short_variants": [
                _drop_none(
                    {
                        "gene": m.gene,
                        "protein_change": m.protein_change_raw or m.protein_change,
                        "hgvsc": m.hgvsc,
                        "transcript": m.transcript_id,
                        "mutation_status": m.mutation_status,
                        "oncogenicity": m.oncogenicity.label if m.oncogenicity else None,
                        "reported": m.reported,
                        "variant_class": m.variant_class.value,
                        "consequence": m.consequence,
                        "chromosome": m.chromosome,
                        "position": m.start,
                        "ref": m.ref,
                        "alt": m.alt,
                        "vaf": m.vaf,
                        "depth": m.depth,
                        "alt_count": m.alt_count,
                    }
                )
                for m in report.mutations
            ],
            "copy_number_alterations": [
                _drop_none(
                    {"gene": c.gene, "call": _CALL_NAMES[c.call], "copy_number": c.copy_number}
                )
                for c in report.copy_numbers
            ],
            "structural_variants": [
                _drop_none(
                    {
                        "gene1": v.gene1,
                        "gene2": v.gene2,
                        "chromosome1": v.chromosome1,
                        "position1": v.position1,
                        "chromosome2": v.chromosome2,
                        "position2": v.position2,
                        "exon1": v.site1_exon,
                        "exon2": v.site2_exon,
                        "transcript1": v.site1_transcript,
                        "transcript2": v.site2_transcript,
                        "in_frame": v.in_frame,
                        "sv_class": v.sv_class,
                        "event_info": v.event_info,
                        "dna_support": v.dna_support,
                        "rna_support": v.rna_support,
                    }
                )
                for v in report.structural_variants
            ],
            "biomarkers": [
                _drop_none(
                    {
                        "kind": b.kind.value,
                        "value": b.value,
                        "status": b.status,
                        "unit": b.unit,
                        "name": b.name,
                    }
                )
                for b in report.biomarkers
            ],
        }
    )


def write_report_json(report: GenomicReport, path: str | Path) -> None:
    """Write ``report`` in format 1.0 (validated against the schema before writing)."""
    doc = report_to_dict(report)
    jsonschema.validate(doc, report_schema())
    Path(path).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
