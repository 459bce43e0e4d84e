"""Germline and somatic: a report's matched normal, each mutation's origin, OncoKB oncogenicity
and the reported flag, from import to the patient and report pages, the API and the cBioPortal
export. Run on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from genomics_helpers import make_patients

from oncotrials.core.genomics.issues import GenomicFileError
from oncotrials.core.genomics.normalised import PatientMap

HEADER = (
    "Hugo_Symbol\tTumor_Sample_Barcode\tMatched_Norm_Sample_Barcode\tVariant_Classification\t"
    "HGVSp_Short\tMutation_Status\tONCOGENIC\tFILTER\n"
)


def _row(
    gene: str = "KRAS",
    sample: str = "T1",
    normal: str = "N1",
    vc: str = "Missense_Mutation",
    protein: str = "p.G12C",
    status: str = "Somatic",
    oncogenic: str = "Oncogenic",
    filt: str = "PASS",
) -> str:
    return "\t".join([gene, sample, normal, vc, protein, status, oncogenic, filt]) + "\n"


GERMLINE_BRCA2 = {
    "gene": "BRCA2",
    "vc": "Frame_Shift_Del",
    "protein": "p.S1982fs",
    "status": "Germline",
    "oncogenic": "Likely Oncogenic",
}


def _maf(tmp_path: Path, rows: list[str], name: str = "x.maf") -> Path:
    p = tmp_path / name
    p.write_text(HEADER + "".join(rows))
    return p


def _pmap(**samples: str) -> PatientMap:
    """sample id -> research id."""
    return PatientMap.parse(
        "sample_id,research_id\n" + "".join(f"{s},{r}\n" for s, r in samples.items())
    )


@pytest.fixture
def patients(unit: Any) -> None:
    make_patients(unit.main, ["P-1", "P-2"], diagnosis="BRCA")


def _stored() -> tuple[int, int, int]:
    from oncotrials.apps.genomics.models import GenomicReport, Mutation, Sample

    return Sample.objects.count(), GenomicReport.objects.count(), Mutation.objects.count()


def _import_pair(tmp_path: Path, by: Any, *extra: str) -> Any:
    from oncotrials.apps.genomics.services import genomics_import

    rows = [
        _row(),
        _row(**GERMLINE_BRCA2),
        _row(gene="TP53", protein="p.R175H", status="", oncogenic="VUS", filt="common_variant"),
        *extra,
    ]
    return genomics_import(path=_maf(tmp_path, rows), by=by, patient_map=_pmap(T1="P-1"))


def test_the_matched_normal_is_made_as_the_patients_blood_sample_and_linked(
    unit, biologist, patients, tmp_path
):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.genomics.models import GenomicReport, Mutation, Sample

    result = _import_pair(tmp_path, biologist)
    assert result.samples_created == 2
    normal = Sample.objects.get(sample_id="N1")
    assert (normal.patient.research_id, normal.kind) == ("P-1", "blood")
    report = GenomicReport.objects.get()
    assert report.normal_sample == normal
    assert not report.tumour_only
    got = {
        m.gene: (m.origin, m.mutation_status, m.oncogenicity, m.reported)
        for m in Mutation.objects.all()
    }
    assert got == {
        "KRAS": ("somatic", "Somatic", "oncogenic", None),
        "BRCA2": ("germline", "Germline", "likely_oncogenic", None),
        "TP53": ("unknown", "", "vus", False),  # FILTER common_variant: not reported
    }
    event = AuditEvent.objects.get(action="import", object_id=str(report.pk))
    assert event.changes["normal_sample"] == [None, "N1"]
    # A second tumour of the same patient links the same normal; nothing new is made.
    from oncotrials.apps.genomics.services import genomics_import

    again = _maf(tmp_path, [_row(sample="T2", protein="p.G12D")], name="t2.maf")
    genomics_import(path=again, by=biologist, patient_map=_pmap(T2="P-1"))
    assert Sample.objects.filter(sample_id="N1").count() == 1
    assert GenomicReport.objects.get(sample__sample_id="T2").normal_sample == normal


def test_a_report_without_a_normal_is_tumour_only(unit, biologist, patients, tmp_path):
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.genomics.services import genomics_import

    path = _maf(tmp_path, [_row(normal=""), _row(sample="T2", normal="NORMAL")])
    genomics_import(path=path, by=biologist, patient_map=_pmap(T1="P-1", T2="P-2"))
    assert [r.tumour_only for r in GenomicReport.objects.order_by("sample__sample_id")] == [
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("rows", "samples", "message"),
    [
        (  # a normal's somatic call
            [_row(), _row(sample="N1", normal="", status="Somatic")],
            {"T1": "P-1", "N1": "P-1"},
            "line 3, field Mutation_Status: sample 'N1' is a normal (germline) sample",
        ),
        (  # one normal for two patients
            [_row(), _row(sample="T2")],
            {"T1": "P-1", "T2": "P-2"},
            "'N1' is named by samples of several patients",
        ),
        (  # the normal is another patient's sample in the file
            [_row(), _row(sample="N1", normal="", status="Germline")],
            {"T1": "P-1", "N1": "P-2"},
            "is another patient's sample",
        ),
        (  # a sample as its own normal
            [_row(normal="T1")],
            {"T1": "P-1"},
            "line 2, field Matched_Norm_Sample_Barcode: sample 'T1' is named as its own normal",
        ),
        (  # two normals for one tumour
            [_row(), _row(normal="N2", protein="p.G13D")],
            {"T1": "P-1"},
            "line 3, field Matched_Norm_Sample_Barcode: sample 'T1' names two matched normals",
        ),
        (  # outside the GDC vocabulary
            [_row(status="Somatik")],
            {"T1": "P-1"},
            "line 2, field Mutation_Status: mutation status 'Somatik' is not in the vocabulary",
        ),
        (  # OncoKB's spelling is case-sensitive; only the documented spellings are mapped
            [_row(oncogenic="ONCOGENIC")],
            {"T1": "P-1"},
            "line 2, field ONCOGENIC: oncogenicity 'ONCOGENIC' is not in the vocabulary",
        ),
    ],
    ids=[
        "somatic-on-normal",
        "shared-normal",
        "other-patients-normal",
        "own-normal",
        "two-normals",
        "status",
        "oncogenicity",
    ],
)
def test_bad_germline_records_are_refused_by_line_and_field_and_nothing_is_written(
    unit, biologist, patients, tmp_path, rows, samples, message
):
    from oncotrials.apps.genomics.services import genomics_import

    with pytest.raises(GenomicFileError) as err:
        genomics_import(path=_maf(tmp_path, rows), by=biologist, patient_map=_pmap(**samples))
    assert message in str(err.value)
    assert _stored() == (0, 0, 0)


def test_a_stored_sample_of_another_patient_or_a_tumour_is_refused_as_normal(
    unit, biologist, patients, tmp_path
):
    from oncotrials.apps.genomics.models import Sample
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.subjects.models import Patient

    Sample.objects.create(patient=Patient.objects.get(research_id="P-2"), sample_id="N1")
    Sample.objects.create(patient=Patient.objects.get(research_id="P-1"), sample_id="X1")
    Sample.objects.filter(sample_id="X1").update(kind="tissue")
    for normal, message in (
        ("N1", "'N1' of sample 'T1' is registered for another patient"),
        ("X1", "'X1' of sample 'T1' is stored as a Tissue sample"),
    ):
        with pytest.raises(GenomicFileError, match=message):
            genomics_import(
                path=_maf(tmp_path, [_row(normal=normal)]),
                by=biologist,
                patient_map=_pmap(T1="P-1"),
            )
    assert _stored() == (2, 0, 0)


def test_mapped_spellings_are_read_with_a_warning(unit, biologist, patients, tmp_path):
    from oncotrials.apps.genomics.models import Mutation
    from oncotrials.apps.genomics.services import genomics_import

    path = _maf(tmp_path, [_row(status="GERMLINE", oncogenic="Likely oncogenic")])
    result = genomics_import(path=path, by=biologist, patient_map=_pmap(T1="P-1"))
    assert any("'GERMLINE' read as 'Germline'" in n for n in result.notices)
    assert any("'Likely oncogenic' read as 'Likely Oncogenic'" in n for n in result.notices)
    m = Mutation.objects.get()
    assert (m.origin, m.oncogenicity) == ("germline", "likely_oncogenic")


def test_a_json_report_links_its_normal_and_a_blood_sample_calls_are_germline(
    unit, biologist, patients, tmp_path
):
    from oncotrials.apps.genomics.models import GenomicReport, Mutation, Sample
    from oncotrials.apps.genomics.services import genomics_import

    base = {
        "format_version": "1.0",
        "patient_id": "P-1",
        "assay": {"name": "Panel"},
        "genome_build": "GRCh38",
    }
    tumour = dict(
        base,
        report_id="R1",
        sample={"sample_id": "T1", "kind": "tissue"},
        matched_normal={"sample_id": "B1"},
        short_variants=[
            {
                "gene": "KRAS",
                "variant_class": "Missense_Mutation",
                "protein_change": "p.G12C",
                "mutation_status": "Somatic",
                "oncogenicity": "Oncogenic",
                "reported": True,
            }
        ],
    )
    blood = dict(
        base,
        report_id="R2",
        sample={"sample_id": "B1", "kind": "blood"},
        short_variants=[{"gene": "BRCA1", "variant_class": "Nonsense_Mutation"}],
    )
    for name, doc in (("t.json", tumour), ("b.json", blood)):
        (tmp_path / name).write_text(json.dumps(doc))
        genomics_import(path=tmp_path / name, by=biologist)
    t = GenomicReport.objects.get(sample__sample_id="T1")
    assert t.normal_sample == Sample.objects.get(sample_id="B1", kind="blood")
    b = GenomicReport.objects.get(sample__sample_id="B1")
    assert not b.tumour_only
    assert b.normal_sample is None
    got = {m.gene: (m.origin, m.oncogenicity, m.reported) for m in Mutation.objects.all()}
    assert got == {
        "KRAS": ("somatic", "oncogenic", True),
        "BRCA1": ("germline", "unknown", None),  # a blood sample's unstated call
    }
    # A somatic call on the blood sample is refused, with its JSON path.
    blood["short_variants"][0]["mutation_status"] = "Somatic"
    blood["report_id"] = "R3"
    (tmp_path / "b2.json").write_text(json.dumps(blood, indent=1))
    with pytest.raises(GenomicFileError, match="short_variants/0/mutation_status: a blood"):
        genomics_import(path=tmp_path / "b2.json", by=biologist)


def test_pages_and_api_show_origin_apart_and_filter_it(
    unit, biologist, patients, tmp_path, client_for
):
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.subjects.models import Patient

    _import_pair(tmp_path, biologist)
    report = GenomicReport.objects.get()
    patient = Patient.objects.get(research_id="P-1")
    c = client_for("biologist")

    page = c.get(f"/genomics/reports/{report.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "matched normal N1" in html
    tumour, germline = html.split('data-testid="germline-findings"')
    tumour = tumour.split('data-testid="tumour-alterations"')[1]
    assert "KRAS" in tumour
    assert "TP53" in tumour
    assert "BRCA2" not in tumour
    assert "BRCA2" in germline
    assert "Likely Oncogenic" in germline
    assert "not reported (filtered)" in tumour

    only = c.get(f"/genomics/reports/{report.pk}/?origin=germline").content.decode()
    assert "BRCA2" in only
    assert "KRAS" not in only
    assert c.get(f"/genomics/reports/{report.pk}/?origin=inherited").status_code == 422

    timeline = c.get(f"/genomics/patients/{patient.pk}/").content.decode()
    assert 'data-testid="germline-findings"' in timeline
    assert timeline.index("KRAS") < timeline.index('data-testid="germline-findings"')
    assert f'href="/genomics/reports/{report.pk}/"' in timeline

    api = c.get(f"/api/v1/genomics/reports/{report.pk}")
    assert api.status_code == 200
    doc = api.json()
    assert (doc["normal_sample"], doc["tumour_only"]) == ("N1", False)
    rows = {m["gene"]: (m["origin"], m["oncogenicity"], m["reported"]) for m in doc["mutations"]}
    assert rows["BRCA2"] == ("germline", "likely_oncogenic", None)
    assert rows["TP53"] == ("unknown", "vus", False)
    somatic = c.get(f"/api/v1/genomics/patients/{patient.pk}/timeline?origin=somatic").json()
    assert [a["gene"] for s in somatic for a in s["alterations"]] == ["KRAS"]
    assert c.get(f"/api/v1/genomics/reports/{report.pk}?origin=x").status_code == 422


def test_another_sites_report_is_not_found(unit, biologist, patients, tmp_path, client_for):
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.subjects.models import Patient

    _import_pair(tmp_path, biologist)
    Patient.objects.filter(research_id="P-1").update(site=unit.partner)
    pk = GenomicReport.objects.get().pk
    c = client_for("biologist")
    assert c.get(f"/genomics/reports/{pk}/").status_code == 404
    assert c.get(f"/api/v1/genomics/reports/{pk}").status_code == 404


def test_the_cbioportal_export_carries_germline_status_and_driver_annotation(
    unit, biologist, patients, tmp_path
):
    import polars as pl

    from oncotrials.apps.genomics.export import study_from_database
    from oncotrials.apps.subjects.models import Patient
    from oncotrials.core.genomics.cbioportal import write_study

    _import_pair(tmp_path, biologist)
    study = study_from_database(patients=Patient.objects.all(), study_id="s")
    out = tmp_path / "study"
    write_study(study, out)
    maf = pl.read_csv(out / "data_mutations.txt", separator="\t", comment_prefix="#")
    got = {
        r["Hugo_Symbol"]: (r["Mutation_Status"], r["cbp_driver"], r["cbp_driver_annotation"])
        for r in maf.iter_rows(named=True)
    }
    assert got == {
        "KRAS": ("Somatic", "Putative_Driver", "OncoKB oncogenicity: Oncogenic"),
        "BRCA2": ("Germline", "Putative_Driver", "OncoKB oncogenicity: Likely Oncogenic"),
        "TP53": (None, "Unknown", "OncoKB oncogenicity: VUS"),
    }


def test_cli_import_names_the_line_of_a_somatic_call_on_a_normal(
    unit, biologist, patients, tmp_path
):
    from typer.testing import CliRunner

    from oncotrials.cli.commands.genomics import app

    rows = [_row(), _row(sample="N1", normal="", status="Somatic")]
    pmap = tmp_path / "map.csv"
    pmap.write_text("sample_id,research_id\nT1,P-1\nN1,P-1\n")
    args = ["import", str(_maf(tmp_path, rows)), "--patient-map", str(pmap)]
    bad = CliRunner().invoke(app, [*args, "--user", "biologist"])
    assert bad.exit_code == 1
    assert "line 3, field Mutation_Status" in bad.output
    assert _stored() == (0, 0, 0)
    rows[1] = _row(sample="N1", normal="", status="", gene="BRCA1", protein="p.E23fs")
    good = CliRunner().invoke(
        app, ["import", str(_maf(tmp_path, rows)), "--patient-map", str(pmap), "--format", "json"]
    )
    assert good.exit_code == 0, good.output
    from oncotrials.apps.genomics.models import Mutation, Sample

    assert Sample.objects.get(sample_id="N1").kind == "blood"
    assert Mutation.objects.get(gene="BRCA1").origin == "germline"


def test_a_stored_sample_of_unknown_kind_named_as_normal_becomes_blood_audited(
    unit, biologist, patients, tmp_path
):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.genomics.models import GenomicReport, Sample
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.subjects.models import Patient

    stored = Sample.objects.create(patient=Patient.objects.get(research_id="P-1"), sample_id="U1")
    genomics_import(
        path=_maf(tmp_path, [_row(normal="U1")]), by=biologist, patient_map=_pmap(T1="P-1")
    )
    stored.refresh_from_db()
    assert stored.kind == "blood"
    assert GenomicReport.objects.get().normal_sample == stored
    event = AuditEvent.objects.get(
        action="update", object_type__endswith="sample", object_id=str(stored.pk)
    )
    assert event.changes == {"kind": ["unknown", "blood"]}
