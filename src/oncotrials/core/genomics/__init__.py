"""Framework-free clinical genomics: variant model, readers, OncoTree, actionability, resistance.

>>> from oncotrials.core.genomics import read_any, read_maf, to_long
>>> to_long("p.G12C")
'p.Gly12Cys'
"""

from __future__ import annotations

from oncotrials.core.genomics.actionability import (
    Annotation,
    Evidence,
    KbEntry,
    annotate,
    annotate_all,
    escat_table,
    load_civic,
    load_moalmanac,
)
from oncotrials.core.genomics.cbioportal import Study, read_study, write_study
from oncotrials.core.genomics.detect import FileKind, detect_format
from oncotrials.core.genomics.genes import normalise_gene, normalise_variant_class
from oncotrials.core.genomics.issues import GenomicFileError, Issue, Severity
from oncotrials.core.genomics.maf import MafTable, read_maf, write_maf
from oncotrials.core.genomics.model import (
    Alteration,
    Biomarker,
    BiomarkerKind,
    CnaCall,
    CopyNumber,
    GenomeBuild,
    GenomicReport,
    Mutation,
    Sample,
    SampleKind,
    StructuralVariant,
    Timepoint,
    VariantClass,
)
from oncotrials.core.genomics.normalised import Parsed, PatientMap, content_hashes
from oncotrials.core.genomics.oncotree import OncoTree, load_oncotree
from oncotrials.core.genomics.protein import (
    ProteinChange,
    normalise_protein_change,
    parse_protein_change,
    to_long,
    to_short,
)
from oncotrials.core.genomics.reading import IMPORTABLE, GenomicFile, read_any
from oncotrials.core.genomics.report import read_report_json, write_report_json
from oncotrials.core.genomics.resistance import (
    Mechanism,
    ResistanceReport,
    SerialSample,
    classify_resistance,
    find_drug,
    resistance_atlas,
    resistance_from_study,
)
from oncotrials.core.genomics.vcf import VcfResult, read_vcf

__all__ = [
    "IMPORTABLE",
    "Alteration",
    "Annotation",
    "Biomarker",
    "BiomarkerKind",
    "CnaCall",
    "CopyNumber",
    "Evidence",
    "FileKind",
    "GenomeBuild",
    "GenomicFile",
    "GenomicFileError",
    "GenomicReport",
    "Issue",
    "KbEntry",
    "MafTable",
    "Mechanism",
    "Mutation",
    "OncoTree",
    "Parsed",
    "PatientMap",
    "ProteinChange",
    "ResistanceReport",
    "Sample",
    "SampleKind",
    "SerialSample",
    "Severity",
    "StructuralVariant",
    "Study",
    "Timepoint",
    "VariantClass",
    "VcfResult",
    "annotate",
    "annotate_all",
    "classify_resistance",
    "content_hashes",
    "detect_format",
    "escat_table",
    "find_drug",
    "load_civic",
    "load_moalmanac",
    "load_oncotree",
    "normalise_gene",
    "normalise_protein_change",
    "normalise_variant_class",
    "parse_protein_change",
    "read_any",
    "read_maf",
    "read_report_json",
    "read_study",
    "read_vcf",
    "resistance_atlas",
    "resistance_from_study",
    "to_long",
    "to_short",
    "write_maf",
    "write_report_json",
    "write_study",
]
