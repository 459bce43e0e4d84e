"""Fusion exons and a declared limit of detection, through the import (service, CLI, API,
upload page) to the patient's genomic and resistance pages. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from genomics_helpers import make_patients
from typer.testing import CliRunner

from oncotrials.core.errors import ValidationError


@pytest.fixture
def patient(unit: Any) -> Any:
    (p,) = make_patients(unit.main, ["P-LB1"], diagnosis="LUAD")
    return p


def _report(
    tmp_path: Path,
    *,
    sample: str,
    kind: str,
    timepoint: str,
    lod: float | None = None,
    variants: list[dict[str, Any]] = (),  # type: ignore[assignment]
    svs: list[dict[str, Any]] = (),  # type: ignore[assignment]
    covered: tuple[str, ...] = ("ALK", "EGFR", "EML4", "KRAS", "MET"),
) -> Path:
    assay: dict[str, Any] = {"name": f"{kind} panel", "covered_genes": list(covered)}
    if lod is not None:
        assay["limit_of_detection"] = lod
    doc = {
        "format_version": "1.0",
        "report_id": f"R-{sample}",
        "patient_id": "P-LB1",
        "sample": {"sample_id": sample, "kind": kind, "timepoint": timepoint,
                   "collected_on": "2026-03-01" if timepoint == "baseline" else "2026-09-01"},
        "assay": assay,
        "short_variants": [{"variant_class": "Missense_Mutation", **v} for v in variants],
        "structural_variants": list(svs),
    }  # fmt: skip
    path = tmp_path / f"{sample}.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


FUSION = {
    "gene1": "EML4",
    "gene2": "ALK",
    "exon1": 13,
    "exon2": 20,
    "transcript1": "ENST00000318522",
    "transcript2": "ENST00000389048",
    "event_info": "Fusion",
}


def test_exons_and_lod_are_stored_and_shown_on_the_patient_page(
    unit, biologist, patient, tmp_path, client_for
):
    from django.urls import reverse

    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.genomics.models import GenomicReport, StructuralVariant
    from oncotrials.apps.genomics.services import genomics_import

    path = _report(
        tmp_path,
        sample="LB1-cf",
        kind="cfdna",
        timepoint="progression",
        lod=0.002,
        variants=[{"gene": "MET", "protein_change": "p.D1228N", "vaf": 0.0012}],
        svs=[FUSION],
    )
    genomics_import(path=path, by=biologist)
    sv = StructuralVariant.objects.get()
    assert (sv.site1_exon, sv.site2_exon) == (13, 20)
    assert (sv.site1_transcript, sv.site2_transcript) == ("ENST00000318522", "ENST00000389048")
    report = GenomicReport.objects.get()
    assert report.limit_of_detection == 0.002
    event = AuditEvent.objects.get(action="import", object_id=str(report.pk))
    assert event.changes["limit_of_detection"] == [None, 0.002]

    page = client_for("biologist").get(reverse("genomics-patient", args=[patient.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "EML4 (exon 13) :: ALK (exon 20)" in html
    assert "ENST00000389048" in html
    assert "LoD 0.2 %" in html  # on the report line
    assert "VAF 0.0012 (below LoD 0.2 %)" in html  # the call below the limit is flagged
    # covered genes without a call are "not detected (below LoD)", not absent
    assert "Not detected (below LoD 0.2 %): EGFR, KRAS" in html
    api = client_for("biologist").get(f"/api/v1/genomics/patients/{patient.pk}/timeline")
    assert api.status_code == 200, api.content
    (sample,) = api.json()
    assert "EML4 (exon 13) :: ALK (exon 20)" in {a["label"] for a in sample["alterations"]}
    assert sample["not_detected"] == [
        {"assay": "cfdna panel", "limit_of_detection": 0.002, "genes": ["EGFR", "KRAS"]}
    ]


def test_a_liquid_biopsy_below_lod_gives_no_false_loss_or_acquisition(
    unit, biologist, patient, tmp_path, client_for
):
    from django.urls import reverse

    from oncotrials.apps.genomics.selectors import resistance_for_patient
    from oncotrials.apps.genomics.services import genomics_import

    genomics_import(
        path=_report(
            tmp_path,
            sample="LB1-base",
            kind="cfdna",
            timepoint="baseline",
            lod=0.005,
            variants=[{"gene": "EGFR", "protein_change": "p.L858R", "vaf": 0.04}],
        ),
        by=biologist,
    )
    genomics_import(
        path=_report(
            tmp_path,
            sample="LB1-prog",
            kind="cfdna",
            timepoint="progression",
            lod=0.002,
            variants=[
                {"gene": "EGFR", "protein_change": "p.C797S", "vaf": 0.003},
                {"gene": "MET", "protein_change": "p.Y1230C", "vaf": 0.03},
            ],
        ),
        by=biologist,
    )
    report = resistance_for_patient(patient=patient, drug="osimertinib")
    assert report is not None
    assert report.lost == ()  # L858R unseen in plasma at progression is not "lost"
    assert [(u.label, u.reason) for u in report.not_detected] == [
        ("EGFR p.L858R", "not detected in cfDNA (below LoD 0.2 %)")
    ]
    mechanisms = {a.label: a.mechanism.value for a in report.acquired}
    assert mechanisms == {"EGFR p.C797S": "not_evaluable", "MET p.Y1230C": "bypass"}
    page = client_for("biologist").get(
        reverse("genomics-patient-resistance", args=[patient.pk]), {"drug": "osimertinib"}
    )
    html = page.content.decode()
    assert "below the baseline assay&#x27;s LoD 0.5 %" in html
    assert "not detected in cfDNA (below LoD 0.2 %)" in html
    api = client_for("biologist").get(
        f"/api/v1/genomics/patients/{patient.pk}/resistance", {"drug": "osimertinib"}
    )
    assert api.status_code == 200, api.content
    assert api.json()["not_detected"] == [
        {"label": "EGFR p.L858R", "reason": "not detected in cfDNA (below LoD 0.2 %)"}
    ]


def test_the_import_option_declares_the_lod_and_a_conflict_writes_nothing(
    unit, biologist, patient, tmp_path
):
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.genomics.services import genomics_import

    plain = _report(
        tmp_path,
        sample="LB1-a",
        kind="cfdna",
        timepoint="baseline",
        variants=[{"gene": "KRAS", "protein_change": "p.G12D", "vaf": 0.001}],
    )
    with pytest.raises(ValidationError, match="write 5%"):
        genomics_import(path=plain, by=biologist, limit_of_detection="5")
    declared = _report(tmp_path, sample="LB1-b", kind="cfdna", timepoint="baseline", lod=0.002)
    with pytest.raises(ValidationError, match=r"declares 0\.002, the import option 0\.005"):
        genomics_import(path=declared, by=biologist, limit_of_detection="0.5%")
    assert GenomicReport.objects.count() == 0
    result = genomics_import(path=plain, by=biologist, limit_of_detection="0.25%")
    assert GenomicReport.objects.get().limit_of_detection == pytest.approx(0.0025)
    assert "sample LB1-a: 1 call(s) with a VAF below the assay's limit of detection" in (
        " ".join(result.notices)
    )
    # the same value as the file's is no conflict
    genomics_import(path=declared, by=biologist, limit_of_detection=0.002)
    assert GenomicReport.objects.count() == 2


def test_cli_and_api_take_the_lod(unit, biologist, patient, tmp_path, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.cli.commands.genomics import app

    path = _report(tmp_path, sample="LB1-c", kind="cfdna", timepoint="baseline")
    runner = CliRunner()
    args = ["import", str(path), "--user", "biologist", "--format", "json"]
    bad = runner.invoke(app, [*args, "--lod", "abc"])
    assert bad.exit_code == 1
    assert "limit_of_detection" in bad.output
    ok = runner.invoke(app, [*args, "--lod", "0.002"])
    assert ok.exit_code == 0, ok.output
    assert GenomicReport.objects.get(sample__sample_id="LB1-c").limit_of_detection == 0.002

    other = _report(tmp_path, sample="LB1-d", kind="cfdna", timepoint="baseline")
    response = client_for("biologist").post(
        "/api/v1/genomics/imports",
        {
            "file": SimpleUploadedFile("LB1-d.json", other.read_bytes()),
            "limit_of_detection": "0.1%",
        },
    )
    assert response.status_code == 201, response.content
    got = GenomicReport.objects.get(sample__sample_id="LB1-d").limit_of_detection
    assert got == pytest.approx(0.001)


def test_upload_page_takes_the_lod(unit, biologist, patient, tmp_path, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from oncotrials.apps.genomics.models import GenomicReport

    client = client_for("biologist")
    form = client.get(reverse("genomics-upload")).content.decode()
    assert 'name="limit_of_detection"' in form
    path = _report(tmp_path, sample="LB1-e", kind="cfdna", timepoint="baseline")
    bad = client.post(
        reverse("genomics-upload"),
        {"file": SimpleUploadedFile("e.json", path.read_bytes()), "limit_of_detection": "75"},
    )
    assert bad.status_code == 422
    assert "limit_of_detection" in bad.content.decode()
    assert not GenomicReport.objects.exists()
    good = client.post(
        reverse("genomics-upload"),
        {"file": SimpleUploadedFile("e.json", path.read_bytes()), "limit_of_detection": "0.002"},
    )
    assert good.status_code == 200
    assert GenomicReport.objects.get().limit_of_detection == 0.002


def test_an_import_job_carries_the_lod(unit, biologist, patient, tmp_path):
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.jobs.models import Job, JobKind
    from oncotrials.apps.jobs.services import job_submit

    path = _report(tmp_path, sample="LB1-f", kind="cfdna", timepoint="baseline")
    with pytest.raises(ValidationError, match="limit_of_detection"):
        job_submit(kind=JobKind.GENOMICS_IMPORT, by=None, path=path, limit_of_detection="x")
    assert not Job.objects.exists()
    job = job_submit(kind=JobKind.GENOMICS_IMPORT, by=None, path=path, limit_of_detection="0.2%")
    assert job.params["limit_of_detection"] == pytest.approx(0.002)
    assert GenomicReport.objects.get().limit_of_detection == pytest.approx(0.002)
