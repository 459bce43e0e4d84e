"""cBioPortal study reader/writer against cbioportal-core's study_es_0 and its broken files."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from oncotrials.core.genomics.cbioportal import (
    count_values,
    read_clinical,
    read_cna,
    read_structural_variants,
    read_study,
    read_timeline,
    write_study,
)
from oncotrials.core.genomics.issues import GenomicFileError, IssueLog, Severity
from oncotrials.core.genomics.model import CnaCall, Sample


@pytest.fixture(scope="module")
def study_dir(fixtures: Path) -> Path:
    return fixtures / "cbioportal_study_es_0"


def test_clinical_counts(study_dir: Path) -> None:
    study = read_study(study_dir)
    # fixtures README: 845 samples, 841 patients, 3 patients with more than one sample
    assert len(study.samples) == 845
    assert len(study.patients) == 841
    per_patient = Counter(s.patient_id for s in study.samples)
    assert sum(1 for n in per_patient.values() if n > 1) == 3
    # fixtures README: OS_STATUS 0:LIVING 721 / 1:DECEASED 87 / [Not Available] 32 / blank 1
    assert count_values(study, "OS_STATUS") == {
        "0:LIVING": 721,
        "1:DECEASED": 87,
        "[Not Available]": 32,
        None: 1,
    }
    assert study.study_id == "study_es_0"
    assert study.genome_build.value == "GRCh37"


def test_genomic_profile_counts(study_dir: Path) -> None:
    study = read_study(study_dir)
    # fixtures README: MAF 36 rows, 21 samples; BRCA2 12 rows, BRCA1 5, ACP3 5
    assert len(study.mutations) == 36
    assert len({m.sample_id for m in study.mutations}) == 21
    genes = Counter(m.gene for m in study.mutations)
    assert (genes["BRCA2"], genes["BRCA1"], genes["ACP3"], genes["TP53"], genes["ATM"]) == (
        12,
        5,
        5,
        2,
        2,
    )
    # fixtures README: CNA long 6304 rows = 8 genes x 788 samples; 0:4561 -1:1491 1:189 2:49 -2:14
    assert len(study.copy_numbers) == 6304
    assert len({c.gene for c in study.copy_numbers}) == 8
    assert len({c.sample_id for c in study.copy_numbers}) == 788
    assert Counter(c.call.value for c in study.copy_numbers) == {
        0: 4561,
        -1: 1491,
        1: 189,
        2: 49,
        -2: 14,
    }
    # fixtures README: SV 48 rows, 36 samples; SND1-BRAF 10, AGK-BRAF 4, EML4-ALK 2
    svs = study.structural_variants
    assert len(svs) == 48
    assert len({v.sample_id for v in svs}) == 36
    pairs = Counter(f"{v.gene1}-{v.gene2}" for v in svs)
    assert (pairs["SND1-BRAF"], pairs["AGK-BRAF"], pairs["EML4-ALK"]) == (10, 4, 2)
    assert all(v.rna_support and not v.dna_support for v in svs)


def test_gene_panels_and_coverage(study_dir: Path) -> None:
    study = read_study(study_dir)
    assert set(study.gene_panels) == {"TESTPANEL1", "TESTPANEL2"}
    covered = study.covered_genes("TCGA-A1-A0SB-01")
    assert covered is not None
    assert {"BRCA1", "BRCA2", "TP53"} <= covered
    assert study.panel_matrix["TCGA-A1-A0SB-02"]["gistic"] is None
    assert {c.stable_id for c in study.case_lists} >= {"study_es_0_sequenced"}


def test_skipped_profiles_are_reported(study_dir: Path) -> None:
    study = read_study(study_dir)
    skipped = [i for i in study.issues if i.severity is Severity.INFO and "not read" in i.message]
    # the segments (meta_cna_hg19_seg.txt) are read, not skipped
    assert {i.file for i in skipped} == {"meta_cancer_type.txt"}
    assert len(study.segments) == 9


def test_wide_layout_equals_long_layout(study_dir: Path) -> None:
    wide = read_cna(study_dir / "legacy_wide_cna" / "data_cna_discrete.txt")
    long = read_cna(study_dir / "data_cna_discrete.txt")
    # fixtures README: legacy wide CNA is 8 genes x 788 sample columns, same study
    assert len(wide) == 6304
    assert set(wide) == set(long)


def test_round_trip_read_write_read(study_dir: Path, tmp_path: Path) -> None:
    first = read_study(study_dir)
    write_study(first, tmp_path / "out")
    second = read_study(tmp_path / "out")
    for part in (
        "meta",
        "patient_attributes",
        "sample_attributes",
        "patients",
        "sample_data",
        "samples",
        "mutations",
        "copy_numbers",
        "structural_variants",
        "gene_panels",
        "panel_matrix",
        "case_lists",
    ):
        assert getattr(second, part) == getattr(first, part), part


def test_timeline_with_unknown_patient_is_rejected(study_dir: Path, tmp_path: Path) -> None:
    events = read_timeline(study_dir / "timeline" / "data_timeline.txt")
    assert len(events) == 3  # fixtures README: 3 events
    # fixtures README: patient TCGA-BH-NEW is not in the clinical files
    copy = tmp_path / "study"
    shutil.copytree(study_dir, copy)
    shutil.copy(study_dir / "timeline" / "data_timeline.txt", copy)
    shutil.copy(study_dir / "timeline" / "meta_timeline.txt", copy)
    with pytest.raises(GenomicFileError) as exc:
        read_study(copy)
    assert (exc.value.extra["file"], exc.value.extra["line"], exc.value.extra["field"]) == (
        "data_timeline.txt",
        4,
        "PATIENT_ID",
    )


def test_timeline_round_trip(study_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "study"
    shutil.copytree(study_dir, copy)
    (copy / "data_timeline.txt").write_text(
        "\n".join(
            line
            for line in (study_dir / "timeline" / "data_timeline.txt").read_text().splitlines()
            if "TCGA-BH-NEW" not in line
        )
        + "\n"
    )
    shutil.copy(study_dir / "timeline" / "meta_timeline.txt", copy)
    first = read_study(copy)
    assert len(first.timeline) == 2
    write_study(first, tmp_path / "out")
    assert read_study(tmp_path / "out").timeline == first.timeline


def test_mismatched_genome_build_is_rejected(study_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "study"
    shutil.copytree(study_dir, copy)
    meta = copy / "meta_study.txt"
    meta.write_text(meta.read_text().replace("reference_genome: hg19", "reference_genome: hg38"))
    with pytest.raises(GenomicFileError) as exc:
        read_study(copy)
    assert exc.value.extra["field"] == "NCBI_Build"
    assert exc.value.extra["file"] == "data_mutations_extended.maf"
    assert exc.value.extra["line"] == 3


# ------------------------------------------------------------------ deliberately broken files
NEG = "cbioportal_negative"


def _samples_file(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    head = (
        "#Patient Identifier\tSample Identifier\n#p\ts\n#STRING\tSTRING\n#1\t1\n"
        "PATIENT_ID\tSAMPLE_ID\n"
    )
    p = tmp_path / "data_clinical_samples.txt"
    p.write_text(head + "".join(f"{a}\t{b}\n" for a, b in rows))
    return p


def _study_with(tmp_path: Path, patient_file: Path, samples: list[tuple[str, str]]) -> Path:
    d = tmp_path / "neg"
    d.mkdir()
    (d / "meta_study.txt").write_text(
        "type_of_cancer: brca\ncancer_study_identifier: neg\nname: n\ndescription: d\n"
    )
    for kind, name in (
        ("PATIENT", "data_clinical_patients.txt"),
        ("SAMPLE", "data_clinical_samples.txt"),
    ):
        (d / f"meta_{name[5:]}").write_text(
            f"cancer_study_identifier: neg\ngenetic_alteration_type: CLINICAL\n"
            f"datatype: {kind}_ATTRIBUTES\n"
            f"data_filename: {name}\n"
        )
    shutil.copy(patient_file, d / "data_clinical_patients.txt")
    _samples_file(d, samples)
    return d


def test_sample_of_unknown_patient(fixtures: Path, tmp_path: Path) -> None:
    # data_clin_missing_patient.txt lists TEST-PAT1,3,6,5,7,9,2: TEST-PAT4 is missing
    d = _study_with(
        tmp_path,
        fixtures / NEG / "data_clin_missing_patient.txt",
        [(f"TEST-PAT{i}", f"TEST-PAT{i}-S") for i in (1, 2, 3, 4, 5, 6, 7, 9)],
    )
    with pytest.raises(GenomicFileError) as exc:
        read_study(d)
    assert exc.value.extra["file"] == "data_clinical_samples.txt"
    assert exc.value.extra["field"] == "PATIENT_ID"
    assert "TEST-PAT4" in exc.value.message
    assert exc.value.extra["line"] == 9


def test_patient_without_samples(fixtures: Path, tmp_path: Path) -> None:
    d = _study_with(
        tmp_path,
        fixtures / NEG / "data_clin_patient_without_samples.txt",
        [(f"TEST-PAT{i}", f"TEST-PAT{i}-S") for i in (1, 2, 3, 4, 5, 6, 7, 9)],
    )
    with pytest.raises(GenomicFileError) as exc:
        read_study(d)
    messages = " ".join(exc.value.extra["issues"])
    assert "CASPER" in messages
    assert "has no sample" in messages
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (10, "PATIENT_ID")


def test_repeated_sample(fixtures: Path) -> None:
    path = fixtures / NEG / "data_clin_repeated_sample.txt"
    log = IssueLog.for_path(path)
    read_clinical(path, "sample", log)
    (err,) = [i for i in log.issues if i.severity is Severity.ERROR]
    assert (err.line, err.field) == (11, "SAMPLE_ID")
    assert "TEST-PAT1-SAMPLE2" in err.message


def test_wrong_ids(fixtures: Path) -> None:
    path = fixtures / NEG / "data_clin_wrong_ids.txt"
    log = IssueLog.for_path(path)
    read_clinical(path, "sample", log)
    bad = [(i.line, i.field) for i in log.issues if i.severity is Severity.ERROR]
    # rows 1-4 and 6-7 of the data carry ' ', ',', ';', '+', '/', '*', ':'
    assert bad == [
        (6, "SAMPLE_ID"),
        (7, "SAMPLE_ID"),
        (8, "SAMPLE_ID"),
        (9, "SAMPLE_ID"),
        (11, "SAMPLE_ID"),
        (12, "SAMPLE_ID"),
    ]


def test_patient_file_without_metadata_header(fixtures: Path) -> None:
    with pytest.raises(GenomicFileError, match="four '#' lines"):
        read_clinical(fixtures / NEG / "data_clinical_pat_no_hdr.txt", "patient")


def test_date_in_non_date_column_is_a_warning(fixtures: Path) -> None:
    path = fixtures / NEG / "data_clin_date_in_nondate_column.txt"
    log = IssueLog.for_path(path)
    read_clinical(path, "patient", log)
    warned = {
        i.line for i in log.issues if i.severity is Severity.WARNING and i.field == "SOME_SCORE"
    }
    assert {7, 8, 9} <= warned  # '31-77', 'Jan-14', '4-Oct'
    assert log.n_errors == 0


def test_invalid_wide_cna_values(fixtures: Path) -> None:
    with pytest.raises(GenomicFileError) as exc:
        read_cna(fixtures / NEG / "data_cna_invalid_values.txt")
    cells = {(i.line, i.field) for i in exc.value.issues}
    assert {
        (3, "TCGA-A2-A04U-01"),
        (5, "TCGA-A1-A0SD-01"),
        (6, "TCGA-A1-A0SB-01"),
        (7, "TCGA-A1-A0SH-01"),
    } <= cells


def test_duplicate_gene_in_wide_cna(fixtures: Path, tmp_path: Path) -> None:
    # The fixture's duplicate is CENTB5, an old alias without Entrez id (needs a gene database we
    # do not ship); its row also carries 'spam' and '3', which we do catch.
    with pytest.raises(GenomicFileError) as exc:
        read_cna(fixtures / NEG / "data_cna_duplicate_gene.txt")
    assert {(i.line, i.field) for i in exc.value.issues} == {
        (6, "TCGA-A1-A0SE-01"),
        (6, "TCGA-A2-A04U-01"),
    }
    p = tmp_path / "dup.txt"
    p.write_text("Hugo_Symbol\tS1\nKRAS\t0\nKRAS\t2\n")
    with pytest.raises(GenomicFileError, match="more than one row") as dup:
        read_cna(p)
    assert dup.value.extra["line"] == 2


def test_long_cna_problems(fixtures: Path) -> None:
    with pytest.raises(GenomicFileError, match="needs a Sample_Id column"):
        read_cna(fixtures / NEG / "data_cna_long_genecol_no_sample_id.txt", long=True)
    with pytest.raises(GenomicFileError) as exc:
        read_cna(fixtures / NEG / "data_cna_long_invalid_values.txt")
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (7, "Value")
    with pytest.raises(GenomicFileError, match="given twice"):
        read_cna(fixtures / NEG / "data_cna_long_duplicated_gene.txt")


def test_sv_requires_status(tmp_path: Path) -> None:
    p = tmp_path / "sv.txt"
    p.write_text(
        "Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\tSV_Status\nS1\tEML4\tALK\tsomewhat\n"
    )
    with pytest.raises(GenomicFileError) as exc:
        read_structural_variants(p)
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (2, "SV_Status")


def test_non_neutral_filter(study_dir: Path) -> None:
    calls = read_cna(study_dir / "data_cna_discrete.txt", keep_neutral=False)
    assert len(calls) == 6304 - 4561
    assert CnaCall.NEUTRAL not in {c.call for c in calls}


def test_writer_round_trip_of_a_small_study(tmp_path: Path) -> None:
    from oncotrials.core.genomics.cbioportal import (
        CaseList,
        ClinicalAttribute,
        GenePanel,
        Study,
        TimelineEvent,
    )
    from oncotrials.core.genomics.model import (
        CopyNumber,
        GenomeBuild,
        Mutation,
        Sample,
        StructuralVariant,
        VariantClass,
    )

    b38 = GenomeBuild.GRCH38
    study = Study(
        meta={"type_of_cancer": "nsclc", "cancer_study_identifier": "unit_test", "name": "n",
              "description": "d", "reference_genome": "hg38"},
        patient_attributes=(ClinicalAttribute("PATIENT_ID", "Patient", "Patient", "STRING", "1"),
                            ClinicalAttribute("AGE", "Age", "Age at diagnosis", "NUMBER", "1")),
        sample_attributes=(ClinicalAttribute("PATIENT_ID", "Patient", "Patient", "STRING", "1"),
                           ClinicalAttribute("SAMPLE_ID", "Sample", "Sample", "STRING", "1"),
                           ClinicalAttribute("ONCOTREE_CODE", "OncoTree", "OncoTree code", "STRING", "1")),
        patients={"P1": {"AGE": "61"}},
        sample_data={"P1-B": {"ONCOTREE_CODE": "LUAD"}, "P1-R": {"ONCOTREE_CODE": "LUAD"}},
        samples=(Sample("P1-B", "P1", oncotree_code="LUAD"), Sample("P1-R", "P1", oncotree_code="LUAD")),
        mutations=(Mutation("P1-B", "EGFR", VariantClass.MISSENSE, "p.L858R", "p.L858R", chromosome="7",
                            start=55191822, end=55191822, ref="T", alt="G", vaf=0.25, depth=400,
                            alt_count=100, genome_build=b38),),
        copy_numbers=(CopyNumber("P1-R", "MET", CnaCall.AMPLIFICATION), CopyNumber("P1-R", "CDKN2A", CnaCall.DEEP_DELETION)),
        structural_variants=(StructuralVariant("P1-R", "EML4", "ALK", "2", 42522656, "2", 29446394, True,
                                               "INVERSION", "Fusion", False, True, True, b38),),
        timeline=(TimelineEvent("P1", 0, 120, "TREATMENT", {"AGENT": "osimertinib"}),
                  TimelineEvent("P1", 130, None, "SPECIMEN", {"SAMPLE_ID": "P1-R"})),
        gene_panels={"P1PANEL": GenePanel("P1PANEL", "tiny", ("EGFR", "MET", "ALK", "CDKN2A"))},
        panel_matrix={"P1-B": {"mutations": "P1PANEL"}, "P1-R": {"mutations": "P1PANEL"}},
        case_lists=(CaseList("unit_test_all", "All", "All samples", ("P1-B", "P1-R")),),
    )  # fmt: skip
    write_study(study, tmp_path / "s")
    # one timeline file per event type, each with the columns its events use
    assert (tmp_path / "s" / "data_timeline_treatment.txt").read_text().splitlines()[0] == (
        "PATIENT_ID\tSTART_DATE\tSTOP_DATE\tEVENT_TYPE\tAGENT"
    )
    assert (tmp_path / "s" / "data_timeline_specimen.txt").read_text().splitlines()[1:] == [
        "P1\t130\t\tSPECIMEN\tP1-R"
    ]
    back = read_study(tmp_path / "s")
    # the lists cBioPortal requires for mutations and copy number were added
    added = {cl.stable_id: cl.sample_ids for cl in back.case_lists}
    assert added["unit_test_sequenced"] == ("P1-B", "P1-R")
    assert added["unit_test_cna"] == ("P1-R",)
    back = replace(
        back, case_lists=tuple(c for c in back.case_lists if c.stable_id == "unit_test_all")
    )
    for part in ("meta", "patients", "samples", "mutations", "copy_numbers", "structural_variants",
                 "timeline", "gene_panels", "panel_matrix", "case_lists"):  # fmt: skip
        assert getattr(back, part) == getattr(study, part), part


def test_tmb_and_msi_sample_attributes_become_biomarkers() -> None:
    from oncotrials.core.genomics.cbioportal import Study
    from oncotrials.core.genomics.model import BiomarkerKind

    study = Study(
        meta={"cancer_study_identifier": "s"},
        sample_data={
            "S1": {"TMB_NONSYNONYMOUS": "12.5", "MSI_SCORE": "0.4", "MSI_TYPE": "Stable"},
            "S2": {"TMB_NONSYNONYMOUS": "[Not Available]", "MSI_TYPE": "NA"},
        },
    )
    got = {(b.sample_id, b.kind, b.value, b.status) for b in study.biomarkers}
    assert got == {("S1", BiomarkerKind.TMB, 12.5, None), ("S1", BiomarkerKind.MSI, 0.4, "Stable")}


def test_percent_vaf_column_is_read_as_percent_with_a_warning(study_dir: Path) -> None:
    """study_es_0's tumor_vaf holds 13.64 ... 54.55 and no allele counts: percent."""
    study = read_study(study_dir)
    (warning,) = [i for i in study.issues if i.severity is Severity.WARNING]
    assert warning.field == "tumor_vaf"
    assert "read as percent" in warning.message
    vafs = [m.vaf for m in study.mutations if m.vaf is not None]
    assert vafs
    assert max(vafs) <= 1.0
    assert any(abs(v - 0.1364) < 1e-9 for v in vafs)
    statuses = {m.mutation_status for m in study.mutations}
    assert "Somatic" in statuses
    assert all(m.transcript_id for m in study.mutations if m.gene == "OR11H1")


def test_mutation_outside_the_sample_panel_is_a_warning(study_dir: Path, tmp_path: Path) -> None:
    assert not [
        i
        for i in read_study(study_dir).issues
        if i.severity is Severity.WARNING and i.field != "tumor_vaf"
    ]
    copy = tmp_path / "study"
    shutil.copytree(study_dir, copy)
    panel = copy / "data_gene_panel_testpanel1.txt"
    panel.write_text(panel.read_text().replace("BRCA2\t", ""))
    study = read_study(copy)
    (warning,) = [
        i for i in study.issues if i.severity is Severity.WARNING and i.field != "tumor_vaf"
    ]
    assert "outside the sample's gene panel" in warning.message
    assert study.covered_genes("TCGA-A1-A0SB-01") is not None
    assert "BRCA2" not in study.covered_genes("TCGA-A1-A0SB-01")  # type: ignore[operator]


def test_clinical_metadata_rows_are_checked(tmp_path: Path) -> None:
    p = tmp_path / "data_clinical_patients.txt"
    p.write_text(
        "#Patient\tAge\n#Patient id\tAge\n#STRING\tINTEGER\n#1\tfirst\nPATIENT_ID\tAGE\nP1\t61\n"
    )
    with pytest.raises(GenomicFileError) as exc:
        read_clinical(p, "patient")
    assert [(i.line, i.field) for i in exc.value.issues] == [(3, "AGE"), (4, "AGE")]


def test_number_and_survival_status_values(tmp_path: Path) -> None:
    p = tmp_path / "data_clinical_patients.txt"
    p.write_text(
        "#P\tOS status\tOS months\n#P\ts\tm\n#STRING\tSTRING\tNUMBER\n#1\t1\t1\n"
        "PATIENT_ID\tOS_STATUS\tOS_MONTHS\nP1\tDECEASED\t12\nP2\t0:LIVING\ttwelve\nP3\t[Not Available]\tNA\n"
    )
    log = IssueLog.for_path(p)
    read_clinical(p, "patient", log)
    assert [(i.line, i.field) for i in log.issues if i.severity is Severity.ERROR] == [
        (6, "OS_STATUS"),
        (7, "OS_MONTHS"),
    ]


def test_cna_frame_fast_path(study_dir: Path) -> None:
    from oncotrials.core.genomics.cbioportal import read_cna_frame

    frame = read_cna_frame(
        study_dir / "legacy_wide_cna" / "data_cna_discrete.txt", keep_neutral=False
    )
    # fixtures README: non-zero calls -1:1491, 1:189, 2:49, -2:14
    assert frame.height == 1491 + 189 + 49 + 14
    assert frame.columns == ["line", "gene", "sample_id", "call"]
    assert frame["line"].min() == 2
    study = read_study(study_dir, keep_neutral_cna=False)
    assert len(study.copy_numbers) == frame.height


def test_a_calendar_date_never_leaves_in_a_timeline(tmp_path: Path) -> None:
    """Timelines carry days from the patient's anchor; a real date in any column is refused."""
    from oncotrials.core.errors import ValidationError
    from oncotrials.core.genomics.cbioportal import Study, TimelineEvent

    study = Study(
        meta={"cancer_study_identifier": "t", "type_of_cancer": "mixed", "name": "t",
              "description": "t"},
        samples=(Sample("S1", "P1"),),
        timeline=(TimelineEvent("P1", 3, None, "IMAGING", {"NOTE": "scan of 2024-03-01"}),),
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        write_study(study, tmp_path / "s")
    assert "NOTE holds a calendar date" in exc.value.message
