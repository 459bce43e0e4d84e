"""The cBioPortal export against the study format's shape rules, and the per-genome subset.

The rules checked are those of cBioPortal's validator (cbioportal-core
``scripts/importer/validateData.py`` and the File Formats documentation, summarised in the
project's genomics reference): required meta keys, every meta file naming the study and an
existing data file, the four ``#`` header lines of clinical files, sample identifiers, and the
case lists (``<study>_all`` holding every sample unless ``add_global_case_list: true``,
``<study>_sequenced`` when mutations are loaded, every listed sample in the sample file), and
the segment file of the validator's ``SegValidator`` (the six columns in their order and no
other, chromosomes 1-22, X, Y, 23, 24, whole-number positions with start not after end, whole
marker counts, numeric means, samples of the sample file, ``reference_genome_id`` the study's).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from genomics_helpers import STUDY, make_patients, make_study_patients, study_patient_map

from oncotrials.core.errors import ValidationError

META_STUDY_REQUIRED = ("cancer_study_identifier", "type_of_cancer", "name", "description")
CASE_LIST_REQUIRED = (
    "cancer_study_identifier",
    "stable_id",
    "case_list_name",
    "case_list_description",
    "case_list_ids",
)
PROFILE_REQUIRED = {
    "MUTATION_EXTENDED": (
        "cancer_study_identifier",
        "genetic_alteration_type",
        "datatype",
        "stable_id",
        "show_profile_in_analysis_tab",
        "profile_name",
        "profile_description",
        "data_filename",
    ),
    "CLINICAL": ("cancer_study_identifier", "genetic_alteration_type", "datatype", "data_filename"),
    "SEG": (
        "cancer_study_identifier",
        "genetic_alteration_type",
        "datatype",
        "reference_genome_id",
        "description",
        "data_filename",
    ),
}
SEG_COLUMNS = ["ID", "chrom", "loc.start", "loc.end", "num.mark", "seg.mean"]
SEG_CHROMOSOMES = {*(str(i) for i in range(1, 25)), "X", "Y"}
SAMPLE_ID = re.compile(r"^[A-Za-z0-9._-]+$")


def _meta(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.strip():
            key, _, value = line.partition(":")
            out[key.strip()] = value.strip()
    return out


def shape_problems(d: Path) -> list[str]:
    """Every breach of the study format's shape rules in directory ``d``."""
    problems: list[str] = []
    study = _meta(d / "meta_study.txt")
    sid = study.get("cancer_study_identifier", "")
    problems += [f"meta_study.txt lacks {k}" for k in META_STUDY_REQUIRED if not study.get(k)]
    if study.get("reference_genome", "hg19") not in {"hg19", "hg38"}:
        problems.append("reference_genome must be hg19 or hg38")
    samples: list[str] = []
    has_mutations = False
    segment_files: list[Path] = []
    for meta_path in sorted(d.glob("meta_*.txt")):
        if meta_path.name == "meta_study.txt":
            continue
        meta = _meta(meta_path)
        kind = meta.get("genetic_alteration_type", "")
        if kind != "CANCER_TYPE" and meta.get("cancer_study_identifier") != sid:
            problems.append(f"{meta_path.name}: cancer_study_identifier is not {sid!r}")
        required = PROFILE_REQUIRED.get(meta.get("datatype", "")) or PROFILE_REQUIRED.get(kind, ())
        problems += [f"{meta_path.name} lacks {k}" for k in required if k not in meta]
        data = d / meta.get("data_filename", "")
        if not data.is_file():
            problems.append(f"{meta_path.name}: data file {meta.get('data_filename')!r} missing")
            continue
        if kind == "MUTATION_EXTENDED":
            has_mutations = True
        if meta.get("datatype") == "SEG":
            segment_files.append(data)
            if meta.get("reference_genome_id") != study.get("reference_genome", "hg19"):
                problems.append(f"{meta_path.name}: reference_genome_id is not the study's")
        if kind == "CLINICAL":
            lines = data.read_text().splitlines()
            if not all(ln.startswith("#") for ln in lines[:4]) or lines[4].startswith("#"):
                problems.append(f"{data.name}: four '#' header lines expected")
            header = lines[4].split("\t")
            if meta.get("datatype") == "SAMPLE_ATTRIBUTES":
                if not {"SAMPLE_ID", "PATIENT_ID"} <= set(header):
                    problems.append(f"{data.name}: SAMPLE_ID and PATIENT_ID required")
                i = header.index("SAMPLE_ID")
                samples = [ln.split("\t")[i] for ln in lines[5:] if ln.strip()]
    problems += [f"sample id {s!r} has other characters" for s in samples if not SAMPLE_ID.match(s)]
    for data in segment_files:
        problems += _segment_problems(data, set(samples))
    lists: dict[str, list[str]] = {}
    for path in sorted((d / "case_lists").glob("*.txt")):
        meta = _meta(path)
        problems += [f"{path.name} lacks {k}" for k in CASE_LIST_REQUIRED if k not in meta]
        if meta.get("cancer_study_identifier") != sid:
            problems.append(f"{path.name}: cancer_study_identifier is not {sid!r}")
        stable = meta.get("stable_id", "")
        if not stable.startswith(f"{sid}_"):
            problems.append(f"{path.name}: stable_id {stable!r} must start with {sid}_")
        if stable in lists:
            problems.append(f"two case lists with stable_id {stable!r}")
        ids = [x for x in re.split(r"[\t ]+", meta.get("case_list_ids", "")) if x]
        lists[stable] = ids
        problems += [f"{path.name}: {x!r} not in the sample file" for x in ids if x not in samples]
    global_list = study.get("add_global_case_list", "").lower() == "true"
    if f"{sid}_all" in lists:
        if global_list:
            problems.append("a _all case list beside add_global_case_list: true")
        if sorted(lists[f"{sid}_all"]) != sorted(samples):
            problems.append("the _all case list does not hold every sample")
    elif not global_list:
        problems.append("no _all case list and no add_global_case_list: true")
    if has_mutations and f"{sid}_sequenced" not in lists:
        problems.append("mutations without a _sequenced case list")
    return problems


def _segment_problems(data: Path, samples: set[str]) -> list[str]:
    lines = data.read_text().splitlines()
    if lines[0].split("\t") != SEG_COLUMNS:
        return [f"{data.name}: the header must be {' '.join(SEG_COLUMNS)} and nothing else"]
    out: list[str] = []
    for n, line in enumerate(lines[1:], start=2):
        sid, chrom, start, end, marks, mean = line.split("\t")
        if sid not in samples:
            out.append(f"{data.name} line {n}: sample {sid!r} not in the sample file")
        if chrom not in SEG_CHROMOSOMES:
            out.append(f"{data.name} line {n}: unknown chromosome {chrom!r}")
        if not (start.isdigit() and end.isdigit() and int(start) <= int(end)):
            out.append(f"{data.name} line {n}: positions {start!r}-{end!r}")
        if not marks.isdigit():
            out.append(f"{data.name} line {n}: num.mark {marks!r} is not an integer")
        try:
            float(mean)
        except ValueError:
            out.append(f"{data.name} line {n}: seg.mean {mean!r} is not a number")
    return out


def test_the_shape_rules_catch_what_the_validator_refuses(tmp_path: Path) -> None:
    """The checker itself: the public study passes with add_global_case_list, and fails
    without it and without a cases_all.txt (the validator's complaint about the export)."""
    import shutil

    copy = tmp_path / "study"
    shutil.copytree(STUDY, copy)
    meta = (copy / "meta_study.txt").read_text()
    assert "add_global_case_list: true" in meta
    assert shape_problems(copy) == []
    (copy / "meta_study.txt").write_text(meta.replace("add_global_case_list: true", ""))
    assert "no _all case list and no add_global_case_list: true" in shape_problems(copy)
    seg = copy / "data_cna_hg19.seg"
    seg.write_text(seg.read_text().replace("\t1\t3218610\t", "\tchr1\t3218610\t"))
    found = shape_problems(copy)
    assert "data_cna_hg19.seg line 2: unknown chromosome 'chr1'" in found


def test_the_export_passes_the_shape_rules_with_an_all_case_list(unit, biologist, tmp_path):
    from oncotrials.apps.exports.cbioportal import cbioportal_export as genomics_export_study
    from oncotrials.apps.genomics.services import genomics_import

    make_study_patients(unit.main)
    genomics_import(path=STUDY, by=biologist, patient_map=study_patient_map())
    out = genomics_export_study(directory=tmp_path / "export", study_id="exp", by=biologist)
    assert shape_problems(out) == []
    all_list = _meta(out / "case_lists" / "cases_all.txt")
    assert all_list["stable_id"] == "exp_all"
    assert all_list["case_list_category"] == "all_cases_in_study"
    # mutations and copy number: the per-type lists too
    lists = {p.name for p in (out / "case_lists").iterdir()}
    assert {"cases_sequenced.txt", "cases_cna.txt", "cases_cnaseq.txt"} <= lists
    # the study's segments leave as cBioPortal's hg19 segment file, segment for segment
    # (the fixture's "-8e-04" is written -0.0008)
    from oncotrials.core.genomics.seg import read_seg

    seg_meta = _meta(out / "meta_cna_hg19_seg.txt")
    assert (seg_meta["datatype"], seg_meta["reference_genome_id"]) == ("SEG", "hg19")
    exported = read_seg(out / seg_meta["data_filename"]).to_segments()
    assert len(exported) == 9
    assert exported == read_seg(STUDY / "data_cna_hg19.seg").to_segments()


def _two_references(unit: Any, biologist: Any, tmp_path: Path) -> None:
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap

    make_patients(unit.main, ["P-OLD", "P-NEW"], diagnosis="LUAD")
    head = "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\tNCBI_Build\n"
    for sample, build in (("OLD1", "GRCh37"), ("NEW1", "GRCh38")):
        p = tmp_path / f"{sample}.maf"
        p.write_text(head + f"EGFR\t{sample}\tMissense_Mutation\tp.L858R\t{build}\n")
        pmap = PatientMap.parse(f"sample_id,research_id\n{sample},P-{sample[:3]}\n")
        genomics_import(path=p, by=biologist, patient_map=pmap)


def test_a_database_on_two_references_exports_one_at_a_time(unit, biologist, tmp_path):
    from oncotrials.apps.exports.cbioportal import cbioportal_export as genomics_export_study
    from oncotrials.core.genomics import read_study

    _two_references(unit, biologist, tmp_path)
    with pytest.raises(ValidationError) as exc:
        genomics_export_study(directory=tmp_path / "mixed", study_id="mixed", by=biologist)
    assert "GRCh37 (1 report(s)) and GRCh38 (1 report(s))" in exc.value.message
    assert "--genome" in exc.value.message
    assert not (tmp_path / "mixed").exists()
    for build, sample, ref in (("GRCh38", "NEW1", "hg38"), ("hg19", "OLD1", "hg19")):
        out = genomics_export_study(
            directory=tmp_path / build, study_id=f"s_{build}", by=biologist, genome=build
        )
        assert shape_problems(out) == []
        study = read_study(out)
        assert [s.sample_id for s in study.samples] == [sample]
        assert study.meta["reference_genome"] == ref
    with pytest.raises(ValidationError):
        genomics_export_study(directory=tmp_path / "x", study_id="x", by=biologist, genome="hg18")


def test_the_export_command_takes_the_genome(unit, biologist, tmp_path):
    from typer.testing import CliRunner

    from oncotrials.cli.commands.genomics import app

    _two_references(unit, biologist, tmp_path)
    runner = CliRunner()
    mixed = runner.invoke(app, ["export", str(tmp_path / "m"), "--study-id", "m"])
    assert mixed.exit_code != 0
    assert "--genome" in mixed.output
    ok = runner.invoke(
        app,
        ["export", str(tmp_path / "g"), "--study-id", "g", "--genome", "GRCh38"],
    )
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "g" / "case_lists" / "cases_all.txt").is_file()
