"""The genomic part of a cBioPortal study from the database (samples, reports, panels); the
programme export that writes it with its clinical files and timeline is
``oncotrials.apps.exports.cbioportal``."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from typing import Any

from django.utils.translation import gettext

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.cbioportal import ClinicalAttribute, GenePanel, Study
from oncotrials.core.genomics.model import GenomeBuild
from oncotrials.core.genomics.model import Sample as CoreSample

from .models import CopyNumberSegment, GenomicReport, Sample
from .selectors import (
    _alterations_by_report,
    _core_cna,
    _core_mutation,
    _core_segment,
    _core_sv,
    genomic_samples_within,
)

_SAMPLE_ATTRS = (
    ClinicalAttribute("SAMPLE_ID", "Sample Identifier", "Sample identifier", "STRING", "1"),
    ClinicalAttribute("PATIENT_ID", "Patient Identifier", "Patient identifier", "STRING", "1"),
    ClinicalAttribute("ONCOTREE_CODE", "Oncotree Code", "OncoTree code", "STRING", "1"),
    ClinicalAttribute("SAMPLE_TYPE", "Sample Type", "Timepoint of the sample", "STRING", "1"),
    ClinicalAttribute("TMB_NONSYNONYMOUS", "TMB", "Mutations per megabase", "NUMBER", "1"),
    ClinicalAttribute("MSI_SCORE", "MSI score", "Microsatellite instability score", "NUMBER", "1"),
    ClinicalAttribute("MSI_TYPE", "MSI type", "Microsatellite status", "STRING", "1"),
)
_SAMPLE_TYPE = {"baseline": "Primary", "progression": "Progression", "on_treatment": "On treatment"}


def _genome(text: str | None) -> GenomeBuild | None:
    if text is None or not text.strip():
        return None
    build = GenomeBuild.parse(text)
    if build is None:
        raise ValidationError(
            gettext("Unknown genome build %(text)s; use GRCh37 or GRCh38.") % {"text": repr(text)},
            field="genome",
        )
    return build


def study_from_database(
    *,
    patients: Any,
    study_id: str,
    registrations: Any = None,
    name: str = "",
    type_of_cancer: str = "mixed",
    genome: str | None = None,
    collected_from: dt.date | None = None,
    collected_to: dt.date | None = None,
) -> Study:
    """A core :class:`Study` holding the current reports of ``patients`` (a queryset).

    ``genome`` (GRCh37 or GRCh38) keeps only the reports on that reference and the samples
    they describe; without it, reports on both references are refused (a cBioPortal study has
    one ``reference_genome``). ``collected_from``/``collected_to`` keep the samples collected
    in that range (both days included; a sample without a collection date counts on its
    report's date). Only samples with a current report are exported: a sample in the study
    always has data. ``registrations``: the export's registrations; a sample whose specimen was
    collected under another registration is left out (``genomics.selectors``
    ``genomic_samples_within``; None: every sample of ``patients``).
    """
    wanted = _genome(genome)
    pool = (
        Sample.objects.filter(patient__in=patients)
        if registrations is None
        else genomic_samples_within(patients=patients, registrations=registrations)
    )
    samples = list(pool.select_related("patient").order_by("patient__research_id", "sample_id"))
    current = GenomicReport.objects.filter(sample__in=samples, superseded=False)
    if wanted is not None:
        current = current.filter(genome_build=wanted.value)
    if collected_from is not None or collected_to is not None:
        day_of = {s.pk: s.collected_on for s in samples}
        low, high = collected_from or dt.date.min, collected_to or dt.date.max
        in_range = [
            r.pk
            for r in current.only("pk", "sample_id", "reported_on")
            if (day := day_of[r.sample_id] or r.reported_on) is not None and low <= day <= high
        ]
        current = current.filter(pk__in=in_range)
    kept = set(current.values_list("sample_id", flat=True))
    samples = [s for s in samples if s.pk in kept]
    reports = list(current.order_by("pk"))
    by_report = _alterations_by_report(r.pk for r in reports)
    sample_of = {s.pk: s for s in samples}
    mutations, cnas, svs = [], [], []
    markers: dict[str, dict[str, str | None]] = {}
    panels: dict[str, GenePanel] = {}
    matrix: dict[str, dict[str, str | None]] = {}
    per_build = Counter(r.genome_build for r in reports if r.genome_build)
    if len(per_build) > 1:
        counts = " and ".join(f"{b} ({n} report(s))" for b, n in sorted(per_build.items()))
        raise ValidationError(
            gettext(
                "The reports to export are on two reference genomes, %(counts)s; a cBioPortal "
                "study has one. Export each reference apart (--genome GRCh37, --genome GRCh38)."
            )
            % {"counts": counts},
            field="genome",
        )
    build = wanted or (GenomeBuild(next(iter(per_build))) if per_build else GenomeBuild.GRCH37)
    for r in reports:
        s = sample_of[r.sample_id]
        data = by_report[r.pk]
        mutations += [
            replace(_core_mutation(m, s.sample_id), genome_build=build) for m in data["mutations"]
        ]
        cnas += [_core_cna(c, s.sample_id) for c in data["copy_numbers"]]
        svs += [
            replace(_core_sv(v, s.sample_id), genome_build=build)
            for v in data["structural_variants"]
        ]
        # TMB and MSI travel as the conventional sample attributes of MSK/GENIE studies.
        for b in data["biomarkers"]:
            rec = markers.setdefault(s.sample_id, {})
            if b.kind == "TMB" and b.value is not None:
                rec["TMB_NONSYNONYMOUS"] = f"{b.value:g}"
            elif b.kind == "MSI":
                rec["MSI_SCORE"] = f"{b.value:g}" if b.value is not None else None
                rec["MSI_TYPE"] = b.status or None
        if r.covered_genes is not None and r.panel:
            panels.setdefault(r.panel, GenePanel(r.panel, r.panel, tuple(r.covered_genes)))
            matrix[s.sample_id] = {"mutations": r.panel}
    # Copy-number segments of the exported reports (cBioPortal's data_cna_<ref>.seg).
    key_of = {s.pk: s.sample_id for s in samples}
    segments = tuple(
        _core_segment(g, key_of[g.sample_id])
        for g in CopyNumberSegment.objects.filter(report__in=[r.pk for r in reports]).order_by(
            "sample__patient__research_id", "sample__sample_id", "report_id", "pk"
        )
    )
    core_samples = tuple(
        CoreSample(s.sample_id, s.patient.research_id, oncotree_code=s.oncotree_code or None)
        for s in samples
    )
    sample_data = {
        s.sample_id: {
            "ONCOTREE_CODE": s.oncotree_code or s.patient.diagnosis or None,
            "SAMPLE_TYPE": _SAMPLE_TYPE.get(s.timepoint),
            **markers.get(s.sample_id, {}),
        }
        for s in samples
    }
    meta = {
        "cancer_study_identifier": study_id,
        "type_of_cancer": type_of_cancer,
        "name": name or study_id,
        "description": "Exported from oncotrials",
        "reference_genome": "hg38" if build is GenomeBuild.GRCH38 else "hg19",
    }
    return Study(
        meta=meta,
        sample_attributes=_SAMPLE_ATTRS,
        patients={s.patient.research_id: {} for s in samples},
        sample_data=sample_data,
        samples=core_samples,
        mutations=tuple(mutations),
        copy_numbers=tuple(cnas),
        structural_variants=tuple(svs),
        gene_panels=panels,
        panel_matrix=matrix,
        segments=segments,
    )
