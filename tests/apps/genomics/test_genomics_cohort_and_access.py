"""Cohort queries, pages and API: what each persona may see and do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from genomics_helpers import make_patients

from oncotrials.core.errors import OncotrialsError

# A small MAF of known content: sample, gene, class, protein change (three-letter in one row).
ROWS = [
    ("S1", "KRAS", "Missense_Mutation", "p.G12C"),
    ("S1", "TP53", "Missense_Mutation", "p.R175H"),
    ("S1", "TP53", "Silent", "p.R213="),
    ("S2", "KRAS", "Missense_Mutation", "p.Gly12Cys"),
    ("S2", "KRAS", "Missense_Mutation", "p.Y96D"),
    ("S3", "EGFR", "Missense_Mutation", "p.L858R"),
    ("S4", "KRAS", "Missense_Mutation", "p.G12C"),
    ("S4", "BRAF", "Missense_Mutation", "p.V600E"),
    ("S5", "KRAS", "Missense_Mutation", "p.G12C"),
]
MAP = """sample_id,research_id,timepoint,collected_on,therapy
S1,P-LUAD1,baseline,2026-01-10,
S2,P-LUAD1,progression,2026-06-10,sotorasib
S3,P-LUAD2,baseline,2026-02-01,
S4,P-COAD,baseline,2026-03-01,
S5,P-PARTNER,baseline,2026-03-02,
"""


def write_maf(path: Path, rows: list[tuple[str, str, str, str]] = ROWS) -> Path:
    lines = [
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\tt_depth\tt_alt_count"
    ]
    lines += [f"{g}\t{s}\t{vc}\t{p}\t500\t100" for s, g, vc, p in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Cohort:
    unit: Any
    patients: dict[str, Any]
    maf: Path


@pytest.fixture
def cohort(unit: Any, biologist: Any, tmp_path: Path) -> Cohort:
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.subjects.services import screening_start
    from oncotrials.core.genomics.normalised import PatientMap

    patients = {}
    for rid, site, dx in [
        ("P-LUAD1", unit.main, "LUAD"),
        ("P-LUAD2", unit.main, "LUAD"),
        ("P-COAD", unit.main, "COAD"),
        ("P-PARTNER", unit.partner, "LUAD"),
    ]:
        (patients[rid],) = make_patients(site, [rid], diagnosis=dx)
    # The monitor of T-MAIN sees the patients pre-screened in it.
    screening_start(
        patient=patients["P-LUAD1"],
        trial=unit.trial_main,
        kind="pre_screening",
        started_on=dt.date(2026, 1, 5),
        by=unit.users["investigator"],
    )
    maf = write_maf(tmp_path / "cohort.maf")
    genomics_import(path=maf, by=unit.users["admin"], patient_map=PatientMap.parse(MAP))
    return Cohort(unit, patients, maf)


def _query(user: Any, **kw: Any) -> Any:
    from oncotrials.apps.genomics.selectors import CohortQuery, cohort_query

    return cohort_query(user=user, query=CohortQuery(**kw))


def _samples(result: Any) -> set[str]:
    return {r["sample_id"] for r in result.rows}


def test_cohort_query_by_gene_and_protein_change_in_either_style(cohort):
    admin = cohort.unit.users["admin"]
    for change in ("p.G12C", "p.Gly12Cys", "G12C"):
        r = _query(admin, gene="KRAS", alteration=change)
        assert _samples(r) == {"S1", "S2", "S4", "S5"}
        assert (r.n_alterations, r.n_samples, r.n_patients) == (4, 4, 3)


def test_cohort_query_is_scoped_to_the_patients_the_caller_may_see(cohort):
    users = cohort.unit.users
    assert _samples(_query(users["investigator"], gene="KRAS")) == {"S1", "S2", "S4"}
    assert _samples(_query(users["partner_investigator"], gene="KRAS")) == {"S5"}
    assert _samples(_query(users["monitor"], gene="KRAS")) == {"S1", "S2"}
    assert _query(users["outsider"], gene="KRAS").rows == []


def test_tumour_type_subtree_timepoint_and_class_filters(cohort):
    admin = cohort.unit.users["admin"]
    # OncoTree: LUAD is under NSCLC, COAD is not.
    assert _samples(_query(admin, gene="KRAS", tumour="NSCLC")) == {"S1", "S2", "S5"}
    assert _samples(_query(admin, gene="KRAS", timepoint="progression")) == {"S2"}
    tp53 = _query(admin, gene="TP53")
    assert [r["alteration"] for r in tp53.rows] == ["p.R175H"]  # silent left out by default
    assert len(_query(admin, gene="TP53", include_silent=True).rows) == 2
    assert len(_query(admin, variant_class="Silent").rows) == 1


def test_tier_filter_agrees_with_the_core_annotation_for_each_patients_tumour(cohort):
    from oncotrials.core.genomics import (
        Mutation,
        VariantClass,
        annotate,
        normalise_protein_change,
    )

    admin = cohort.unit.users["admin"]
    dx = {"S1": "LUAD", "S2": "LUAD", "S3": "LUAD", "S4": "COAD", "S5": "LUAD"}
    expected: dict[str, set[tuple[str, str, str]]] = {}
    for s, g, vc, p in ROWS:
        change = normalise_protein_change(p)
        tier = annotate(Mutation(s, g, VariantClass(vc), protein_change=change), dx[s]).tier
        if tier:
            expected.setdefault(tier, set()).add((s, g, change))
    assert expected  # the small cohort holds actionable alterations
    for tier, rows in expected.items():
        found = _query(admin, tier=tier)
        assert {(r["sample_id"], r["gene"], r["alteration"]) for r in found.rows} == rows


def test_bad_queries_are_refused_with_the_field(cohort):
    admin = cohort.unit.users["admin"]
    for kw, field in [
        ({"gene": "KRAS", "tumour": "NOTATYPE"}, "tumour"),
        ({"gene": "KRAS", "timepoint": "later"}, "timepoint"),
        ({"kind": "rna"}, "kind"),
        ({}, "gene"),
        ({"kind": "cna", "gene": "MET", "alteration": "huge"}, "alteration"),
    ]:
        with pytest.raises(OncotrialsError) as info:
            _query(admin, **kw)
        assert info.value.extra["field"] == field


def test_patient_genomic_page_shows_tiers_and_evidence_to_those_who_may_see(cohort, client_for):
    from django.urls import reverse

    url = reverse("genomics-patient", args=[cohort.patients["P-LUAD1"].pk])
    page = client_for("investigator").get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "S1" in html
    assert "S2" in html
    assert "p.Y96D" in html
    assert "II-B" in html  # KRAS G12C in LUAD: the core ESCAT table's tier
    assert client_for("monitor").get(url).status_code == 200
    for persona in ("partner_investigator", "outsider"):
        assert client_for(persona).get(url).status_code == 404
    other = reverse("genomics-patient", args=[cohort.patients["P-LUAD2"].pk])
    assert client_for("monitor").get(other).status_code == 404


def test_cohort_and_oncoprint_pages(cohort, client_for):
    from django.urls import reverse

    c = client_for("investigator")
    page = c.get(reverse("genomics-cohort"), {"gene": "KRAS", "alteration": "p.G12C"})
    assert page.status_code == 200
    assert "P-PARTNER" not in page.content.decode()
    assert "P-COAD" in page.content.decode()
    partial = c.get(reverse("genomics-cohort"), {"gene": "KRAS"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content
    bad = c.get(reverse("genomics-cohort"), {"gene": "KRAS", "tumour": "NOPE"})
    assert bad.status_code == 422
    op = c.get(reverse("genomics-oncoprint"), {"gene": "KRAS"})
    assert op.status_code == 200
    html = op.content.decode()
    assert html.count('class="sample"') == 3  # S1, S2, S4
    assert "BRAF" in html
    assert "TP53" in html


def test_oncoprint_grid_marks_each_altered_gene_of_each_sample(cohort):
    from oncotrials.apps.genomics.selectors import CohortQuery, oncoprint

    op = oncoprint(user=cohort.unit.users["admin"], query=CohortQuery(gene="KRAS"))
    assert op.genes[0] == "KRAS"
    assert op.gene_counts == {"KRAS": 4, "TP53": 1, "BRAF": 1}
    ids = [s["sample_id"] for s in op.samples]
    assert sorted(ids) == ["S1", "S2", "S4", "S5"]
    grid = {g: dict(zip(ids, row, strict=True)) for g, _n, row in op.grid()}
    assert grid["TP53"]["S1"] == ["missense"]  # the silent TP53 change is not drawn
    assert grid["BRAF"]["S2"] == []


def test_resistance_view_classifies_the_acquired_kras_y96d_under_sotorasib(cohort, client_for):
    from django.urls import reverse

    from oncotrials.apps.genomics.selectors import resistance_for_patient

    rep = resistance_for_patient(patient=cohort.patients["P-LUAD1"])
    assert [(a.label, a.mechanism.value) for a in rep.acquired] == [
        ("KRAS p.Y96D", "on_target_secondary")
    ]
    url = reverse("genomics-patient-resistance", args=[cohort.patients["P-LUAD1"].pk])
    page = client_for("investigator").get(url)
    assert page.status_code == 200
    assert "KRAS p.Y96D" in page.content.decode()
    assert client_for("outsider").get(url).status_code == 404
    assert client_for("investigator").get(url, {"drug": "unobtainium"}).status_code == 422
    atlas = client_for("investigator").get(reverse("genomics-atlas"))
    assert atlas.status_code == 200
    assert "on_target_secondary" in atlas.content.decode()


def test_timelines_of_several_patients_are_each_patients_timeline_in_six_queries(cohort):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oncotrials.apps.genomics.selectors import (
        patient_genomic_timeline,
        patients_genomic_timelines,
    )

    users = cohort.unit.users
    patients = list(cohort.patients.values())
    for user in (None, users["admin"], users["investigator"], users["monitor"]):
        for origin in ("", "somatic"):
            batch = patients_genomic_timelines(patients=patients, user=user, origin=origin)
            assert list(batch) == [p.pk for p in patients]
            for p in patients:
                assert batch[p.pk] == patient_genomic_timeline(patient=p, user=user, origin=origin)
    assert [t.sample.sample_id for t in batch[cohort.patients["P-LUAD1"].pk]] == ["S1", "S2"]
    assert batch[cohort.patients["P-PARTNER"].pk] == []  # the monitor sees T-MAIN's patient only
    with CaptureQueriesContext(connection) as all_four:
        patients_genomic_timelines(patients=patients, user=None)
    assert len(all_four) == 6


def test_api_cohort_timeline_and_resistance_are_scoped(cohort, client_for):
    pk = cohort.patients["P-LUAD1"].pk
    inv = client_for("investigator")
    r = inv.get("/api/v1/genomics/cohort", {"gene": "KRAS", "alteration": "p.G12C"})
    assert r.status_code == 200
    assert (r.json()["n_samples"], r.json()["n_patients"]) == (3, 2)
    assert (
        client_for("outsider").get("/api/v1/genomics/cohort", {"gene": "KRAS"}).json()["rows"] == []
    )
    timeline = inv.get(f"/api/v1/genomics/patients/{pk}/timeline").json()
    assert [t["sample"]["sample_id"] for t in timeline] == ["S1", "S2"]
    g12c = next(a for a in timeline[0]["alterations"] if a["label"] == "p.G12C")
    assert g12c["tier"] == "II-B"
    assert g12c["evidence"]
    assert all(e["citation"] for e in g12c["evidence"])
    for persona in ("partner_investigator", "outsider"):
        c = client_for(persona)
        assert c.get(f"/api/v1/genomics/patients/{pk}/timeline").status_code == 404
        assert c.get(f"/api/v1/genomics/patients/{pk}/resistance").status_code == 404
    res = inv.get(f"/api/v1/genomics/patients/{pk}/resistance").json()
    assert res["acquired"][0]["mechanism"] == "on_target_secondary"
    atlas = inv.get("/api/v1/genomics/resistance-atlas").json()
    assert atlas["rows"] == [{"mechanism": "on_target_secondary", "gene": "KRAS", "patients": 1}]


def test_api_upload_by_role_idempotent_and_bad_files_change_nothing(cohort, client_for, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from oncotrials.apps.genomics.models import GenomicReport

    def upload(persona: str, content: bytes, name: str = "more.maf") -> Any:
        return client_for(persona).post(
            "/api/v1/genomics/imports",
            {
                "file": SimpleUploadedFile(name, content),
                "patient_map": SimpleUploadedFile("map.csv", b"sample_id,research_id\nS6,P-COAD\n"),
            },
        )

    maf = write_maf(tmp_path / "more.maf", [("S6", "NRAS", "Missense_Mutation", "p.Q61K")])
    for persona in ("monitor", "investigator", "outsider"):
        assert upload(persona, maf.read_bytes()).status_code == 403
    before = GenomicReport.objects.count()
    first = upload("datamanager", maf.read_bytes())
    assert first.status_code == 201, first.content
    assert (first.json()["reports_created"], first.json()["mutations"]) == (1, 1)
    again = upload("datamanager", maf.read_bytes())
    assert (again.json()["reports_created"], again.json()["reports_unchanged"]) == (0, 1)
    assert GenomicReport.objects.count() == before + 1
    broken = maf.read_bytes().replace(b"Missense_Mutation", b"")
    bad = upload("datamanager", broken)
    assert bad.status_code == 422
    body = bad.json()
    assert body["code"] == "genomic_file_invalid"
    assert body["extra"]["line"] == 2
    assert body["extra"]["field"] == "Variant_Classification"
    assert GenomicReport.objects.count() == before + 1


def test_upload_page_for_importers_only(cohort, client_for, biologist, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant

    url = reverse("genomics-upload")
    for persona in ("monitor", "outsider", "investigator"):
        assert client_for(persona).get(url).status_code == 403
    c = client_for("datamanager")
    assert c.get(url).status_code == 200
    maf = write_maf(tmp_path / "page.maf", [("S7", "PIK3CA", "Missense_Mutation", "p.H1047R")])
    ok = c.post(
        url,
        {
            "file": SimpleUploadedFile("page.maf", maf.read_bytes()),
            "patient_map": SimpleUploadedFile("m.csv", b"sample_id,research_id\nS7,P-LUAD2\n"),
        },
        HTTP_HX_REQUEST="true",
    )
    assert ok.status_code == 200
    assert b'data-testid="upload-result"' in ok.content
    # A biologist of the main site may not import for a partner-site patient.
    membership_grant(user=biologist, role=Role.MOLECULAR_BIOLOGIST, site=cohort.unit.main)
    refused = client_for("biologist").post(
        url,
        {
            "file": SimpleUploadedFile("p.maf", maf.read_bytes()),
            "patient_map": SimpleUploadedFile("m.csv", b"sample_id,research_id\nS7,P-PARTNER\n"),
        },
    )
    assert refused.status_code == 422
    assert b"P-PARTNER" in refused.content


def test_cohort_api_answers_in_a_fixed_number_of_queries(
    cohort, client_for, django_assert_max_num_queries
):
    c = client_for("investigator")
    c.get("/api/v1/genomics/cohort", {"gene": "KRAS"})  # warm the session and scope
    with django_assert_max_num_queries(8):
        r = c.get("/api/v1/genomics/cohort", {"gene": "KRAS", "limit": 1})
    assert r.json()["truncated"] is True
    assert r.json()["n_samples"] == 3  # counted in the database beyond the page


def test_a_zipped_study_uploads_and_an_escaping_archive_is_refused(unit, biologist, client_for):
    import io
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile
    from genomics_helpers import STUDY, make_study_patients

    from oncotrials.apps.genomics.models import GenomicReport

    make_study_patients(unit.main)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in STUDY.rglob("*"):
            if f.is_file():
                zf.write(f, f"study_es_0/{f.relative_to(STUDY)}")
    pmap = b"patient_id,research_id\nTEST_PATIENT_NAMESPACE,TEST-PAT-NS\n"
    ok = client_for("datamanager").post(
        "/api/v1/genomics/imports",
        {
            "file": SimpleUploadedFile("study.zip", buf.getvalue()),
            "patient_map": SimpleUploadedFile("m.csv", pmap),
        },
    )
    assert ok.status_code == 201, ok.content
    # fixtures README (study_es_0): 845 samples, 36 mutations, 48 structural variants; the
    # MAF names the blood normal (TCGA "-10") of 13 tumours of 11 patients: 11 normals made;
    # the normal the test samples of another patient also name is linked to none
    assert (ok.json()["samples_created"], ok.json()["mutations"]) == (845 + 11, 36)
    assert ok.json()["structural_variants"] == 48
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../meta_study.txt", "type_of_cancer: brca\n")
    n = GenomicReport.objects.count()
    bad = client_for("datamanager").post(
        "/api/v1/genomics/imports", {"file": SimpleUploadedFile("evil.zip", evil.getvalue())}
    )
    assert bad.status_code == 422
    assert "escapes" in bad.json()["message"]
    assert GenomicReport.objects.count() == n
