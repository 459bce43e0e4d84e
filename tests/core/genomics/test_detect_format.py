from __future__ import annotations

from pathlib import Path

import pytest

from oncotrials.core.genomics.detect import FileKind, detect_format

STUDY = "cbioportal_study_es_0"


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        (STUDY, FileKind.STUDY),
        (f"{STUDY}/data_mutations_extended.maf", FileKind.MAF),
        (f"{STUDY}/data_cna_discrete.txt", FileKind.CNA_LONG),
        (f"{STUDY}/legacy_wide_cna/data_cna_discrete.txt", FileKind.CNA_WIDE),
        (f"{STUDY}/data_structural_variants.txt", FileKind.SV),
        (f"{STUDY}/timeline/data_timeline.txt", FileKind.TIMELINE),
        (f"{STUDY}/data_clinical_samples.txt", FileKind.CLINICAL_SAMPLE),
        (f"{STUDY}/data_clinical_patients.txt", FileKind.CLINICAL_PATIENT),
        (f"{STUDY}/data_gene_panel_testpanel1.txt", FileKind.GENE_PANEL),
        (f"{STUDY}/meta_study.txt", FileKind.META),
        ("cbioportal_negative/data_clinical_pat_no_hdr.txt", FileKind.CLINICAL_PATIENT),
        ("maftools/tcga_laml.maf.gz", FileKind.MAF),
        ("maftools/APL_relapse.maf.gz", FileKind.MAF),
        ("vcf2maf/test_strelka.vcf", FileKind.VCF),
        ("oncotree/oncotree_2025_10_03.json", FileKind.REPORT),
    ],
)
def test_detect_format(fixtures: Path, relative: str, kind: FileKind) -> None:
    assert detect_format(fixtures / relative) is kind
