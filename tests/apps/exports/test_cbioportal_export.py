"""The precision-medicine programme exported as a cBioPortal study, held to the shape rules of
cBioPortal's own validator (cbioportal-core ``scripts/importer/validateData.py``; the README
records the run of the validator itself on the demo).

Rules checked by :func:`study_problems`:
- every meta file names the study, its ``genetic_alteration_type`` and ``datatype`` (timelines:
  ``CLINICAL``/``TIMELINE``) and an existing ``data_filename``; profiles carry ``stable_id``,
  ``profile_name``, ``profile_description``, ``show_profile_in_analysis_tab``;
- clinical files start with four ``#`` lines; timeline files start with ``PATIENT_ID,
  START_DATE, STOP_DATE, EVENT_TYPE`` in this order (REQUIRE_COLUMN_ORDER), START_DATE a whole
  number (``Invalid START_DATE``), and every patient is in the patient file;
- case lists: stable ids ``<study>_...`` and unique, a valid ``case_list_category``
  (VALID_CATEGORIES), samples known to the sample file; ``_all`` holds every sample,
  ``_sequenced`` every sample with mutations, ``_cna`` / ``_sv`` exactly the samples with copy
  number / structural variants (validate_defined_caselists and the ``_sequenced`` check);
- and, the project's own rule, no calendar date anywhere in a timeline.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from oncotrials.core.errors import ValidationError

VALID_CATEGORIES = {
    "all_cases_in_study",
    "all_cases_with_mutation_data",
    "all_cases_with_cna_data",
    "all_cases_with_log2_cna_data",
    "all_cases_with_methylation_data",
    "all_cases_with_mrna_array_data",
    "all_cases_with_mrna_rnaseq_data",
    "all_cases_with_rppa_data",
    "all_cases_with_microrna_data",
    "all_cases_with_mutation_and_cna_data",
    "all_cases_with_mutation_and_cna_and_mrna_data",
    "all_cases_with_gsva_data",
    "all_cases_with_sv_data",
    "other",
}
EXPECTED_CATEGORY = {
    "all": "all_cases_in_study",
    "sequenced": "all_cases_with_mutation_data",
    "cna": "all_cases_with_cna_data",
    "cnaseq": "all_cases_with_mutation_and_cna_data",
    "sv": "all_cases_with_sv_data",
}
PROFILE_KEYS = (
    "stable_id",
    "profile_name",
    "profile_description",
    "show_profile_in_analysis_tab",
)
TIMELINE_HEAD = ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE"]
CALENDAR_DATE = re.compile(r"\b(19|20)\d\d-[01]\d-[0-3]\d\b")


def _meta(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.strip():
            key, _, value = line.partition(":")
            out[key.strip()] = value.strip()
    return out


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
    header = lines[0].split("\t")
    return header, [dict(zip(header, ln.split("\t"), strict=False)) for ln in lines[1:] if ln]


def study_problems(d: Path) -> list[str]:
    """Every breach of the validator's shape rules (module docstring) in study ``d``."""
    problems: list[str] = []
    sid = _meta(d / "meta_study.txt").get("cancer_study_identifier", "")
    samples: list[str] = []
    patients: set[str] = set()
    with_data: dict[str, set[str]] = {"sequenced": set(), "cna": set(), "sv": set()}
    timelines: list[Path] = []
    for meta_path in sorted(d.glob("meta_*.txt")):
        if meta_path.name == "meta_study.txt":
            continue
        meta = _meta(meta_path)
        kind, datatype = meta.get("genetic_alteration_type"), meta.get("datatype")
        if meta.get("cancer_study_identifier") != sid:
            problems.append(f"{meta_path.name}: cancer_study_identifier is not {sid!r}")
        if not kind or not datatype:
            problems.append(f"{meta_path.name}: genetic_alteration_type and datatype needed")
        data = d / meta.get("data_filename", "-")
        if not data.is_file():
            problems.append(f"{meta_path.name}: no data file {meta.get('data_filename')!r}")
            continue
        if kind != "CLINICAL":
            problems += [f"{meta_path.name} lacks {k}" for k in PROFILE_KEYS if k not in meta]
        header, rows = _rows(data)
        if kind == "CLINICAL" and datatype in {"SAMPLE_ATTRIBUTES", "PATIENT_ATTRIBUTES"}:
            head = data.read_text().splitlines()[:5]
            if not all(h.startswith("#") for h in head[:4]) or head[4].startswith("#"):
                problems.append(f"{data.name}: four '#' lines expected before the header")
            if datatype == "SAMPLE_ATTRIBUTES":
                samples = [r["SAMPLE_ID"] for r in rows]
            else:
                patients = {r["PATIENT_ID"] for r in rows}
        elif datatype == "TIMELINE":
            if kind != "CLINICAL":
                problems.append(f"{meta_path.name}: a timeline is genetic_alteration_type CLINICAL")
            timelines.append(data)
        elif kind == "MUTATION_EXTENDED":
            with_data["sequenced"] |= {r["Tumor_Sample_Barcode"] for r in rows}
        elif kind == "COPY_NUMBER_ALTERATION":
            with_data["cna"] |= {r["Sample_Id"] for r in rows}
        elif kind == "STRUCTURAL_VARIANT":
            with_data["sv"] |= {r["Sample_Id"] for r in rows}
    for data in timelines:
        header, rows = _rows(data)
        if header[:4] != TIMELINE_HEAD:
            problems.append(f"{data.name}: columns start {header[:4]}, not {TIMELINE_HEAD}")
            continue
        for i, r in enumerate(rows, start=2):
            if not re.fullmatch(r"-?\d+", r["START_DATE"]):
                problems.append(f"{data.name} line {i}: START_DATE {r['START_DATE']!r}")
            if r["STOP_DATE"] and not re.fullmatch(r"-?\d+", r["STOP_DATE"]):
                problems.append(f"{data.name} line {i}: STOP_DATE {r['STOP_DATE']!r}")
            if r["PATIENT_ID"] not in patients:
                problems.append(f"{data.name} line {i}: patient {r['PATIENT_ID']!r} unknown")
        if CALENDAR_DATE.search(data.read_text()):
            problems.append(f"{data.name}: holds a calendar date")
    lists: dict[str, list[str]] = {}
    for path in sorted((d / "case_lists").glob("*.txt")):
        meta = _meta(path)
        stable = meta.get("stable_id", "")
        if not stable.startswith(f"{sid}_") or stable in lists:
            problems.append(f"{path.name}: stable_id {stable!r} not {sid}_... or repeated")
        category = meta.get("case_list_category")
        if category not in VALID_CATEGORIES:
            problems.append(f"{path.name}: case_list_category {category!r}")
        suffix = stable.removeprefix(f"{sid}_")
        if suffix in EXPECTED_CATEGORY and category != EXPECTED_CATEGORY[suffix]:
            problems.append(f"{path.name}: category {category!r} for _{suffix}")
        ids = [x for x in meta.get("case_list_ids", "").split("\t") if x]
        lists[suffix] = ids
        problems += [
            f"{path.name}: {x!r} is not in the sample file" for x in ids if x not in samples
        ]
    if sorted(lists.get("all", [])) != sorted(samples):
        problems.append("the _all case list does not hold every sample")
    for suffix, have in with_data.items():
        if have and suffix not in lists:
            problems.append(f"data without a _{suffix} case list")
        if suffix in lists and not have <= set(lists[suffix]):
            problems.append(f"samples with data missing from _{suffix}")
    for suffix in ("cna", "sv"):  # exactly the samples with data
        if suffix in lists and set(lists[suffix]) != with_data[suffix]:
            problems.append(f"_{suffix} holds samples without data")
    if with_data["cna"] and with_data["sequenced"] and "cnaseq" not in lists:
        problems.append("mutations and copy number without a _cnaseq case list")
    return problems


# ------------------------------------------------------------------------------------ data
def _genomics(trial_data: Any, tmp_path: Path) -> None:
    """Reports for the two registered patients: a KRAS mutation and an EML4-ALK fusion on
    patient A's baseline biopsy, a MET amplification on patient B's plasma."""
    from oncotrials.apps.genomics.models import Sample
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.cbioportal import Study, write_study
    from oncotrials.core.genomics.model import (
        CnaCall,
        CopyNumber,
        GenomeBuild,
        Mutation,
        StructuralVariant,
        VariantClass,
    )
    from oncotrials.core.genomics.model import Sample as CoreSample

    a, b = trial_data.patient.research_id, trial_data.partner_patient.research_id
    b38 = GenomeBuild.GRCH38
    study = Study(
        meta={"cancer_study_identifier": "src", "type_of_cancer": "mixed", "name": "s",
              "description": "s", "reference_genome": "hg38"},
        samples=(CoreSample("SA-1", a), CoreSample("SB-1", b)),
        mutations=(Mutation("SA-1", "KRAS", VariantClass.MISSENSE, "p.G12D", "p.G12D",
                            genome_build=b38),),
        copy_numbers=(CopyNumber("SB-1", "MET", CnaCall.AMPLIFICATION),),
        structural_variants=(StructuralVariant("SA-1", "EML4", "ALK", "2", 42522656, "2",
                                               29446394, True, "INVERSION", "Fusion", False,
                                               True, True, b38, site1_exon=13, site2_exon=20,
                                               site1_transcript="ENST00000318522",
                                               site2_transcript="ENST00000389048"),),
    )  # fmt: skip
    write_study(study, tmp_path / "source")
    genomics_import(path=tmp_path / "source", by=None)
    # set-up: the collection days a report import would carry
    Sample.objects.filter(sample_id="SA-1").update(
        collected_on=dt.date(2026, 11, 3), timepoint="baseline", kind="tissue"
    )
    Sample.objects.filter(sample_id="SB-1").update(collected_on=dt.date(2026, 11, 20))


@pytest.fixture
def programme(trial_data: Any, tmp_path: Path) -> Any:
    _genomics(trial_data, tmp_path)
    return trial_data


def test_the_shape_rules_catch_what_the_validator_refuses(tmp_path: Path) -> None:
    """The checker refuses what the validator refuses: a timeline with a real date, a case list
    with a sample outside the sample file, a ``_sequenced`` list missing a mutated sample, an
    unknown category."""
    from oncotrials.core.genomics.cbioportal import Study, TimelineEvent, write_study
    from oncotrials.core.genomics.model import Mutation, Sample, VariantClass

    study = Study(
        meta={"cancer_study_identifier": "t", "type_of_cancer": "mixed", "name": "t",
              "description": "t"},
        patients={"P1": {}},
        patient_attributes=(),
        samples=(Sample("S1", "P1"), Sample("S2", "P1")),
        mutations=(Mutation("S2", "KRAS", VariantClass.MISSENSE, "p.G12D", "p.G12D"),),
        timeline=(TimelineEvent("P1", 4, 9, "TREATMENT", {"AGENT": "X"}),),
    )  # fmt: skip
    d = write_study(study, tmp_path / "t")
    assert study_problems(d) == [
        "data_timeline_treatment.txt line 2: patient 'P1' unknown"  # no patient file
    ]
    tl = d / "data_timeline_treatment.txt"
    tl.write_text(tl.read_text().replace("\t4\t9\t", "\t2026-01-04\t9\t"))
    seq = d / "case_lists" / "cases_sequenced.txt"
    seq.write_text(
        seq.read_text()
        .replace("S1\tS2", "S1\tS9")
        .replace("all_cases_with_mutation_data", "mutated")
    )
    problems = study_problems(d)
    assert "data_timeline_treatment.txt line 2: START_DATE '2026-01-04'" in problems
    assert "data_timeline_treatment.txt: holds a calendar date" in problems
    assert "cases_sequenced.txt: 'S9' is not in the sample file" in problems
    assert "samples with data missing from _sequenced" in problems
    assert "cases_sequenced.txt: case_list_category 'mutated'" in problems


def test_the_programme_study_passes_the_shape_rules(programme: Any, tmp_path: Path) -> None:
    from oncotrials.apps.exports.cbioportal import cbioportal_export

    out = cbioportal_export(directory=tmp_path / "pm", study_id="pm", by=None)
    assert study_problems(out) == []
    lists = {p.name: _meta(p) for p in (out / "case_lists").iterdir()}
    assert lists["cases_sv.txt"]["case_list_ids"] == "SA-1"
    assert lists["cases_cna.txt"]["case_list_ids"] == "SB-1"
    assert lists["cases_cnaseq.txt"]["case_list_ids"] == "SB-1"  # both samples were sequenced
    # the fusion's breakpoint exons and transcripts go back out in the SV columns
    _, (sv,) = _rows(out / "data_sv.txt")
    assert (sv["Site1_Region"], sv["Site1_Region_Number"], sv["Site2_Region_Number"]) == (
        "EXON",
        "13",
        "20",
    )
    assert sv["Site2_Ensembl_Transcript_Id"] == "ENST00000389048"


def test_the_timeline_counts_days_from_referral(programme: Any, tmp_path: Path) -> None:
    """Patient A was referred on 2026-10-01 (day 0), registered on 11-12 (day 42), dosed on
    11-13 (day 43), biopsied on 11-03 (day 33); the follow-up scan of 11-19 (day 49) took the
    sum of diameters from 50 to 32 mm (-36 %: PR, RECIST 1.1 section 4.3.1)."""
    from oncotrials.apps.exports.cbioportal import cbioportal_export

    out = cbioportal_export(directory=tmp_path / "pm", study_id="pm", by=None)
    a = programme.patient.research_id
    _, treatment = _rows(out / "data_timeline_treatment.txt")
    assert [
        (r["START_DATE"], r["STOP_DATE"], r["AGENT"], r["TREATMENT_TYPE"], r["TRIAL"])
        for r in treatment
        if r["PATIENT_ID"] == a
    ] == [("43", "43", "Drug B", "Medical Therapy", "T-SHARED")]
    _, imaging = _rows(out / "data_timeline_imaging.txt")
    assert [(r["START_DATE"], r["RESPONSE"], r["CRITERIA"], r["SUM_DIAMETERS_MM"]) for r in imaging
            if r["PATIENT_ID"] == a] == [("49", "PR", "RECIST 1.1", "32")]  # fmt: skip
    _, status = _rows(out / "data_timeline_status.txt")
    assert [(r["START_DATE"], r["STATUS"]) for r in status if r["PATIENT_ID"] == a] == [
        ("42", "Registered"),
        ("43", "On treatment"),
    ]
    _, specimen = _rows(out / "data_timeline_specimen.txt")
    assert [(r["START_DATE"], r["SAMPLE_ID"], r["TIMEPOINT"]) for r in specimen
            if r["PATIENT_ID"] == a] == [("33", "SA-1", "Baseline")]  # fmt: skip
    for meta in out.glob("meta_timeline_*.txt"):
        assert _meta(meta)["genetic_alteration_type"] == "CLINICAL"
        assert _meta(meta)["datatype"] == "TIMELINE"


def test_subset_by_dates_trial_and_programme(programme: Any, tmp_path: Path) -> None:
    from oncotrials.apps.exports.cbioportal import cbioportal_export
    from oncotrials.apps.subjects.services import consent_form_create, consent_sign
    from oncotrials.apps.trials.models import Trial
    from oncotrials.core.genomics import read_study

    # dates: only SB-1 (collected 11-20) from 11-10 on; its patient's events in range only
    late = cbioportal_export(
        directory=tmp_path / "late", study_id="late", by=None, since=dt.date(2026, 11, 10)
    )
    assert study_problems(late) == []
    study = read_study(late)
    assert [s.sample_id for s in study.samples] == ["SB-1"]
    assert all(
        e.start >= (dt.date(2026, 11, 10) - dt.date(2026, 10, 2)).days for e in study.timeline
    )
    with pytest.raises(ValidationError, match="starts after it ends"):
        cbioportal_export(directory=tmp_path / "x", study_id="x", by=None,
                          since=dt.date(2026, 12, 1), until=dt.date(2026, 11, 1))  # fmt: skip
    # trial: another trial has none of these patients
    other = Trial.objects.exclude(pk=programme.cohort.trial_id).order_by("pk").first()
    assert other is not None
    with pytest.raises(ValidationError, match=f"trial {other.protocol_code}"):
        cbioportal_export(directory=tmp_path / "o", study_id="o", by=None, trial=other)
    assert not (tmp_path / "o").exists()
    shared = cbioportal_export(
        directory=tmp_path / "t", study_id="t", by=None, trial=programme.cohort.trial
    )
    assert len(read_study(shared).samples) == 2
    # programme: patient A consented to the serial-biopsy programme
    admin = programme.unit.users["admin"]
    form = consent_form_create(kind="translational", programme="Serial biopsies", version="1",
                               version_date=dt.date(2026, 1, 5),
                               ethics_approval_date=dt.date(2026, 2, 1),
                               valid_from=dt.date(2026, 2, 1), by=admin)  # fmt: skip
    consent_sign(patient=programme.patient, form=form, signed_on=dt.date(2026, 10, 1), by=admin)
    prog = cbioportal_export(
        directory=tmp_path / "p", study_id="p", by=None, programme="Serial biopsies"
    )
    assert study_problems(prog) == []
    assert [s.sample_id for s in read_study(prog).samples] == ["SA-1"]


def test_a_site_user_exports_only_its_site(programme: Any, tmp_path: Path) -> None:
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.exports.cbioportal import cbioportal_export
    from oncotrials.core.genomics import read_study

    nurse = programme.unit.users["nurse"]  # main site
    out = cbioportal_export(directory=tmp_path / "n", study_id="n", by=nurse)
    study = read_study(out)
    assert {s.patient_id for s in study.samples} == {programme.patient.research_id}
    assert {e.patient_id for e in study.timeline} == {programme.patient.research_id}
    event = AuditEvent.objects.filter(object_type="genomics.study", object_id="n").get()
    assert event.changes["samples"] == [None, 1]


def test_the_data_cut_format_gives_a_valid_study_twice_the_same(
    programme: Any, tmp_path: Path
) -> None:
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files

    admin = programme.unit.users["admin"]
    cut = data_cut_create(
        trial=programme.cohort.trial, name="cbio-1", formats=["cbioportal"], by=admin
    )
    files = data_cut_files(cut=cut, fmt="cbioportal", by=admin)
    assert files == data_cut_files(cut=cut, fmt="cbioportal", by=admin)
    assert cut.subjects == 2
    for name, data in files.items():
        (tmp_path / "cut" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "cut" / name).write_bytes(data)
    assert study_problems(tmp_path / "cut") == []
    assert _meta(tmp_path / "cut" / "meta_study.txt")["cancer_study_identifier"] == "t_shared"


def test_the_export_command_takes_the_subset_options(programme: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from oncotrials.cli.commands.genomics import app

    runner = CliRunner()
    ok = runner.invoke(app, ["export", str(tmp_path / "c"), "--study-id", "c", "--trial",
                             "T-SHARED", "--until", "2026-11-05"])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "c" / "case_lists" / "cases_sequenced.txt").is_file()
    bad = runner.invoke(
        app, ["export", str(tmp_path / "d"), "--study-id", "d", "--since", "11/2026"]
    )
    assert bad.exit_code == 1
    assert "--since takes a day as YYYY-MM-DD; got '11/2026'" in bad.output


def test_a_cut_over_two_reference_genomes_is_refused_with_the_way_out(
    programme: Any, tmp_path: Path
) -> None:
    from oncotrials.apps.exports.services import data_cut_create
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap

    maf = tmp_path / "old.maf"
    maf.write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\tNCBI_Build\n"
        "EGFR\tSB-OLD\tMissense_Mutation\tp.L858R\tGRCh37\n"
    )
    rid = programme.partner_patient.research_id
    genomics_import(
        path=maf, by=None, patient_map=PatientMap.parse(f"sample_id,research_id\nSB-OLD,{rid}\n")
    )
    with pytest.raises(ValidationError) as exc:
        data_cut_create(trial=programme.cohort.trial, name="c", formats=["cbioportal"], by=None)
    assert "two reference genomes" in exc.value.message
    assert "--trial T-SHARED --genome GRCh38" in exc.value.message


def test_the_exports_page_and_api_serve_the_study(programme: Any, client_for: Any) -> None:
    """A data manager's path: the Exports page makes a cBioPortal cut, its zip keeps the
    study's case_lists/ folder, and one case list downloads by its path (page and API)."""
    import io
    import zipfile

    client = client_for("admin")
    trial = programme.cohort.trial
    assert 'value="cbioportal"' in client.get("/exports/").content.decode()
    answer = client.post(
        "/exports/", {"trial": trial.pk, "name": "cbio", "formats": ["cbioportal"], "reason": ""}
    )
    assert answer.status_code == 302
    cut_id = int(answer["Location"].rstrip("/").rsplit("/", 1)[1])
    assert "data_timeline_treatment.txt" in client.get(answer["Location"]).content.decode()
    archive = client.get(f"/exports/cuts/{cut_id}/cbioportal.zip")
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert "T-SHARED-cbio-cbioportal/case_lists/cases_all.txt" in names
    page_file = client.get(f"/exports/cuts/{cut_id}/cbioportal/case_lists/cases_all.txt")
    assert page_file.status_code == 200
    assert page_file["Content-Disposition"] == 'attachment; filename="cases_all.txt"'
    api_file = client.get(
        f"/api/v1/exports/cuts/{cut_id}/files/cbioportal/case_lists/cases_all.txt"
    )
    assert api_file.status_code == 200
    assert b"stable_id: t_shared_all" in api_file.content
    assert (
        client.get(f"/api/v1/exports/cuts/{cut_id}/files/cbioportal/case_lists/x.txt").status_code
        == 404
    )


def test_a_blinded_arm_stays_blinded_in_the_programme_study(programme: Any, tmp_path: Path) -> None:
    """The programme export (not a data cut) of a blinded randomised trial: a viewer who may
    not know the arm gets the patient's status and imaging events with the cohort "Blinded" and
    no treatment event (the agent is the arm); an administrator gets them as recorded."""
    from oncotrials.apps.accounts.access import forget_scope
    from oncotrials.apps.exports.cbioportal import cbioportal_export
    from oncotrials.apps.subjects.models import Registration
    from oncotrials.apps.subjects.services import randomisation_scheme_create
    from oncotrials.apps.trials.services import cohort_create

    unit = programme.unit
    admin, nurse = unit.users["admin"], unit.users["nurse"]
    trial = programme.cohort.trial
    arm = cohort_create(trial=trial, code="ARM-A", name="ARM-A", kind="randomised_arm", by=admin)
    cohort_create(trial=trial, code="ARM-B", name="ARM-B", kind="randomised_arm", by=admin)
    randomisation_scheme_create(
        trial=trial, method="blocks", arms={"ARM-A": 1, "ARM-B": 1}, blinded=True, by=admin
    )
    Registration.objects.filter(trial=trial).update(cohort=arm)  # set-up: randomised to ARM-A
    for user in unit.users.values():
        forget_scope(user)
    a = programme.patient.research_id

    blind = cbioportal_export(directory=tmp_path / "n", study_id="n", by=nurse)
    treatments = blind / "data_timeline_treatment.txt"  # written only when it has events
    assert (
        not treatments.exists() or [r for r in _rows(treatments)[1] if r["PATIENT_ID"] == a] == []
    )
    _, status = _rows(blind / "data_timeline_status.txt")
    mine = [r for r in status if r["PATIENT_ID"] == a]
    assert mine
    assert {r["COHORT"] for r in mine} == {"Blinded"}
    every = "".join(p.read_text() for p in blind.glob("*.txt"))
    assert "Drug B" not in every
    assert "ARM-A" not in every

    full = cbioportal_export(directory=tmp_path / "a", study_id="a", by=admin)
    _, treatment = _rows(full / "data_timeline_treatment.txt")
    assert [r["AGENT"] for r in treatment if r["PATIENT_ID"] == a] == ["Drug B"]
    _, status = _rows(full / "data_timeline_status.txt")
    assert {r["COHORT"] for r in status if r["PATIENT_ID"] == a} == {"ARM-A"}
