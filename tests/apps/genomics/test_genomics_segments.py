"""Copy-number segments and loss of heterozygosity: import (all or nothing), the patient's
page with its plot, the API, and who may see them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from genomics_helpers import make_patients

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.issues import GenomicFileError

# TP53 p.R273H and KRAS p.G12C at their GRCh37 positions (COSMIC / cBioPortal hg19 loci).
MAF = (
    "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\tChromosome\t"
    "Start_Position\tEnd_Position\tNCBI_Build\n"
    "TP53\tT1\tMissense_Mutation\tp.R273H\t17\t7577120\t7577120\tGRCh37\n"
    "KRAS\tT1\tMissense_Mutation\tp.G12C\t12\t25398285\t25398285\tGRCh37\n"
)
SEG_HEADER = "ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\ttcn.em\tlcn.em\n"
# FACETS-style: chromosome 17p copy-neutral LOH (holds TP53), 12p gain with both alleles,
# a CDKN2A homozygous deletion (no copy left: not LOH).
SEG = SEG_HEADER + (
    "T1\t17\t1\t22000000\t900\t-0.05\t2\t0\n"
    "T1\t12\t1\t30000000\t1200\t0.6\t4\t1\n"
    "T1\t9\t21000000\t23000000\t80\t-3.5\t0\t0\n"
)
MAP = "sample_id,research_id,timepoint,collected_on\nT1,P-LOH,baseline,2026-02-01\n"


@dataclass
class Loh:
    unit: Any
    patient: Any
    other: Any
    seg: Path


@pytest.fixture
def loh(unit: Any, biologist: Any, tmp_path: Path) -> Loh:
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.subjects.services import screening_start
    from oncotrials.core.genomics.normalised import PatientMap

    (patient,) = make_patients(unit.main, ["P-LOH"], diagnosis="LUAD")
    (other,) = make_patients(unit.main, ["P-OTHER"], diagnosis="LUAD")
    # The monitor of T-MAIN sees the patients pre-screened in it: P-LOH, not P-OTHER.
    screening_start(
        patient=patient,
        trial=unit.trial_main,
        kind="pre_screening",
        started_on=dt.date(2026, 1, 5),
        by=unit.users["investigator"],
    )
    pmap = PatientMap.parse(MAP)
    maf = tmp_path / "t1.maf"
    maf.write_text(MAF)
    genomics_import(path=maf, by=biologist, patient_map=pmap)
    seg = tmp_path / "t1_hg19.seg"
    seg.write_text(SEG)
    genomics_import(path=seg, by=biologist, patient_map=pmap, assay="FACETS")
    return Loh(unit, patient, other, seg)


def _counts() -> tuple[int, int, int]:
    from oncotrials.apps.genomics.models import CopyNumberSegment, GenomicReport, Sample

    return (
        CopyNumberSegment.objects.count(),
        GenomicReport.objects.count(),
        Sample.objects.count(),
    )


def test_a_seg_file_imports_its_segments_as_a_report_audited_once(loh, biologist):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.genomics.models import CopyNumberSegment, GenomicReport
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap

    report = GenomicReport.objects.get(assay="FACETS")
    assert report.genome_build == "GRCh37"  # from the file name
    rows = list(CopyNumberSegment.objects.filter(report=report).order_by("pk"))
    assert [(g.chromosome, g.start, g.end, g.num_markers) for g in rows] == [
        ("17", 1, 22000000, 900),
        ("12", 1, 30000000, 1200),
        ("9", 21000000, 23000000, 80),
    ]
    assert [(g.log2_ratio, g.total_cn, g.minor_cn, g.loh) for g in rows] == [
        (-0.05, 2, 0, None),
        (0.6, 4, 1, None),
        (-3.5, 0, 0, None),
    ]
    assert {g.patient_id for g in rows} == {loh.patient.pk}
    event = AuditEvent.objects.get(object_type="genomics.genomicreport", object_id=str(report.pk))
    assert event.changes["segments"] == [None, 3]
    # the same file again changes nothing
    before = _counts()
    again = genomics_import(
        path=loh.seg, by=biologist, patient_map=PatientMap.parse(MAP), assay="FACETS"
    )
    assert (again.reports_created, again.reports_unchanged, again.segments) == (0, 1, 0)
    assert _counts() == before


def test_a_bad_line_leaves_the_database_unchanged(loh, biologist, tmp_path):
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap

    pmap = PatientMap.parse(MAP)
    before = _counts()
    bad = tmp_path / "bad.seg"
    bad.write_text(
        SEG_HEADER + "T1\t17\t1\t22000000\t900\t-0.05\t2\t0\nT1\t12\t500\t400\t3\t0.1\t2\t1\n"
    )
    with pytest.raises(GenomicFileError) as exc:
        genomics_import(path=bad, by=biologist, patient_map=pmap)
    assert exc.value.message.startswith("bad.seg, line 3, field loc.end: loc.end 400 is not after")
    assert _counts() == before
    # a sample of no known patient: nothing of the file is written, not even the known one's
    stray = tmp_path / "stray.seg"
    stray.write_text(SEG_HEADER + "T1\t1\t1\t100\t3\t0.1\t2\t1\nNOBODY\t1\t1\t100\t3\t0.1\t2\t1\n")
    with pytest.raises(ValidationError, match="NOBODY"):
        genomics_import(path=stray, by=biologist, patient_map=pmap)
    assert _counts() == before


def test_a_marker_count_beyond_the_stored_column_is_refused_with_its_line(loh, biologist, tmp_path):
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap

    big = tmp_path / "big.seg"
    big.write_text(SEG_HEADER + "T1\t1\t1\t100\t3000000000\t0.1\t2\t1\n")
    before = _counts()
    with pytest.raises(GenomicFileError) as exc:
        genomics_import(path=big, by=biologist, patient_map=PatientMap.parse(MAP))
    assert exc.value.message.startswith("big.seg, line 2, field num.mark:")
    assert _counts() == before


def test_a_new_segmentation_supersedes_the_old_one(loh, biologist, tmp_path):
    from oncotrials.apps.genomics.selectors import patient_segments
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap

    newer = tmp_path / "t1_v2_hg19.seg"
    newer.write_text(SEG_HEADER + "T1\t17\t1\t81000000\t2000\t-0.4\t1\t0\n")
    result = genomics_import(
        path=newer, by=biologist, patient_map=PatientMap.parse(MAP), assay="FACETS"
    )
    assert result.reports_superseded == 1
    current = list(patient_segments(patient=loh.patient, user=None))
    assert [(g.chromosome, g.end) for g in current] == [("17", 81000000)]


def test_the_loh_condition_of_the_database_is_the_core_rule(loh):
    from oncotrials.apps.genomics.models import CopyNumberSegment, GenomicReport
    from oncotrials.apps.genomics.selectors import LOH_CONDITION
    from oncotrials.core.genomics.model import segment_loh

    report = GenomicReport.objects.get(assay="FACETS")
    combos = [
        (flag, tcn, lcn)
        for flag in (None, True, False)
        for tcn in (None, 0, 2)
        for lcn in (None, 0, 1)
    ]
    CopyNumberSegment.objects.bulk_create(  # test set-up: every combination once
        CopyNumberSegment(
            report=report,
            sample_id=report.sample_id,
            patient=loh.patient,
            chromosome="5",
            start=i * 1000 + 1,
            end=i * 1000 + 900,
            num_markers=3,
            log2_ratio=0.0,
            total_cn=tcn,
            minor_cn=lcn,
            loh=flag,
        )
        for i, (flag, tcn, lcn) in enumerate(combos)
    )
    rows = CopyNumberSegment.objects.filter(report=report, chromosome="5")
    in_db = set(rows.filter(LOH_CONDITION).values_list("pk", flat=True))
    by_rule = {g.pk for g in rows if segment_loh(g.loh, g.total_cn, g.minor_cn)}
    assert in_db == by_rule
    assert len(by_rule) == 9 + 1  # every declared True, and (None, 2, 0)


def test_the_patient_page_plots_the_segments_and_names_the_gene_with_loh(loh, client_for):
    from django.urls import reverse

    url = reverse("genomics-patient", args=[loh.patient.pk])
    page = client_for("investigator").get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="segments-T1"' in html
    assert "3 segments" in html
    assert "1 segment with LOH" in html
    genes = html.split('data-testid="loh-genes"')[1].split("</table>")[0]
    assert "TP53" in genes
    assert "p.R273H" in genes
    assert "17:7577120" in genes
    assert "KRAS" not in genes  # 12p is gained with both alleles
    from oncotrials.apps.genomics.models import Sample

    sample = Sample.objects.get(sample_id="T1")
    plot_url = reverse("genomics-patient-segments-plot", args=[loh.patient.pk])
    plot_url += f"?sample={sample.pk}"
    assert plot_url in html
    svg = client_for("investigator").get(plot_url)
    assert svg.status_code == 200
    assert svg["Content-Type"].startswith("image/svg+xml")
    body = svg.content.decode()
    for gid in ("segment-17-1", "segment-12-1", "segment-9-21000000", "loh-17-1"):
        assert f'id="{gid}"' in body
    assert 'id="loh-9-21000000"' not in body  # a homozygous deletion is not LOH
    assert "GRCh37" in body
    download = client_for("investigator").get(plot_url + "&download=1")
    assert download["Content-Disposition"].startswith("attachment;")


def test_segments_are_seen_only_by_those_who_may_see_the_patient(loh, client_for):
    from django.urls import reverse

    from oncotrials.apps.genomics.models import Sample

    sample = Sample.objects.get(sample_id="T1")
    page = reverse("genomics-patient", args=[loh.patient.pk])
    plot = reverse("genomics-patient-segments-plot", args=[loh.patient.pk]) + f"?sample={sample.pk}"
    api = f"/api/v1/genomics/patients/{loh.patient.pk}/segments"
    api_loh = f"/api/v1/genomics/patients/{loh.patient.pk}/loh"
    # the monitor of the trial the patient was pre-screened in
    monitor = client_for("monitor")
    for url in (page, plot, api, api_loh):
        assert monitor.get(url).status_code == 200, url
    # another site, another trial, no membership: not found, as if the patient did not exist
    for persona in ("partner_investigator", "monitor_other", "outsider"):
        c = client_for(persona)
        for url in (page, plot, api, api_loh):
            assert c.get(url).status_code == 404, (persona, url)
    # a sample of another patient is not reached through this one
    other_plot = reverse("genomics-patient-segments-plot", args=[loh.other.pk])
    assert client_for("investigator").get(other_plot, {"sample": sample.pk}).status_code == 404
    assert client_for("investigator").get(plot.split("?")[0]).status_code == 404


def test_the_api_pages_the_segments_and_lists_loh(loh, client_for):
    c = client_for("investigator")
    base = f"/api/v1/genomics/patients/{loh.patient.pk}/segments"
    every = c.get(base).json()
    assert every["count"] == 3
    first = every["items"][0]
    assert {k: first[k] for k in ("sample_id", "chromosome", "start", "end", "num_markers")} == {
        "sample_id": "T1",
        "chromosome": "17",
        "start": 1,
        "end": 22000000,
        "num_markers": 900,
    }
    assert (first["total_cn"], first["minor_cn"], first["loh_declared"], first["loh"]) == (
        2,
        0,
        None,
        True,
    )
    page = c.get(base, {"page_size": 2, "page": 2}).json()
    assert (page["count"], [g["chromosome"] for g in page["items"]]) == (3, ["9"])
    only = c.get(base, {"loh": "true"}).json()
    assert [g["chromosome"] for g in only["items"]] == ["17"]
    assert c.get(base, {"loh": "false"}).json()["count"] == 2
    loh_doc = c.get(f"/api/v1/genomics/patients/{loh.patient.pk}/loh").json()
    assert len(loh_doc) == 1
    t1 = loh_doc[0]
    assert (t1["sample_id"], t1["genome_build"], t1["segments"], t1["assessed"]) == (
        "T1",
        "GRCh37",
        3,
        True,
    )
    assert t1["loh_megabases"] == pytest.approx(22.0, abs=1e-3)
    assert [(g["gene"], g["label"], g["position"]) for g in t1["genes"]] == [
        ("TP53", "p.R273H", 7577120)
    ]
