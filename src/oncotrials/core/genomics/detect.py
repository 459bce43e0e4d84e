"""Tell what kind of genomic file a path is, from its name and first lines.

Used by ``oncotrials genomics read`` so that any single file of a cBioPortal study can be checked
on its own, as well as MAFs, VCFs, JSON reports, SEG copy-number segments and whole study
directories.
"""

from __future__ import annotations

import enum
import gzip
from pathlib import Path

__all__ = ["FileKind", "detect_format"]


class FileKind(enum.StrEnum):
    STUDY = "cbioportal_study"
    MAF = "maf"
    VCF = "vcf"
    REPORT = "json_report"
    CNA_LONG = "cna_long"
    CNA_WIDE = "cna_wide"
    SV = "structural_variants"
    TIMELINE = "timeline"
    CLINICAL_PATIENT = "clinical_patient"
    CLINICAL_SAMPLE = "clinical_sample"
    GENE_PANEL = "gene_panel"
    META = "meta"
    SEG = "seg"


def _head(path: Path, n: int = 8) -> list[str]:
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rb") as fh:
        data = fh.read(65536)
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")[:n]


def detect_format(path: str | Path) -> FileKind:
    """The kind of ``path``; MAF when nothing more specific matches."""
    p = Path(path)
    if p.is_dir():
        return FileKind.STUDY
    name = p.name.lower()
    if name.endswith((".vcf", ".vcf.gz", ".vcf.bgz")):
        return FileKind.VCF
    if name.endswith(".json"):
        return FileKind.REPORT
    if name.endswith((".seg", ".seg.gz", ".seg.txt")):
        return FileKind.SEG
    lines = _head(p)
    if lines and lines[0].startswith("##fileformat=VCF"):
        return FileKind.VCF
    first = lines[0] if lines else ""
    if first.startswith(("stable_id:", "description:", "gene_list:")):
        return FileKind.GENE_PANEL
    if first.split(":", 1)[0] in {
        "cancer_study_identifier",
        "type_of_cancer",
        "genetic_alteration_type",
    }:
        return FileKind.META
    header_line = next((ln for ln in lines if ln and not ln.startswith("#")), "")
    header = [h.strip() for h in header_line.split("\t")]
    cols = set(header)
    n_comments = sum(1 for ln in lines if ln.startswith("#"))
    if "Tumor_Sample_Barcode" in cols or "Variant_Classification" in cols:
        return FileKind.MAF
    if [h.lower() for h in header[1:4]] == ["chrom", "loc.start", "loc.end"]:
        return FileKind.SEG
    if header[:4] == ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE"]:
        return FileKind.TIMELINE
    if "SV_Status" in cols or "Site1_Hugo_Symbol" in cols:
        return FileKind.SV
    if "Value" in cols and (cols & {"Hugo_Symbol", "Entrez_Gene_Id"}):
        return FileKind.CNA_LONG
    if "SAMPLE_ID" in cols and "PATIENT_ID" in cols:
        return FileKind.CLINICAL_SAMPLE
    if ("PATIENT_ID" in cols and n_comments >= 4) or header[:1] == ["PATIENT_ID"]:
        return FileKind.CLINICAL_PATIENT
    if header[:1] and header[0] in {"Hugo_Symbol", "Entrez_Gene_Id"}:
        return FileKind.CNA_WIDE
    return FileKind.MAF
