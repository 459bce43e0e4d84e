"""PDX models: creation from a consented specimen, passages, engraftment, QC, arms and caliper
measurements; mRECIST computed from the stored volumes (never stored), the page, the API and the
CancerModels export checked against the dictionary."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pdx_helpers import at, xenograft_consent

from fixtures import FIXTURES
from oncotrials.core.biobank.pdx import read_growth_csv
from oncotrials.core.errors import PermissionDeniedError, ValidationError

pytestmark = pytest.mark.django_db

# PDXE series X.1008.uned (tests/fixtures/biobank/xeva-pdxe, source in its README): Xeva's
# mRECIST is PD with BR 37.0501 (day 11) and BAR 19.9922 (day 11).
X1008_UNED = next(
    (s.times, s.volumes)
    for s in read_growth_csv(FIXTURES / "biobank" / "xeva-pdxe" / "experiments.csv")
    if s.model_id == "X.1008.uned"
)


def _specimen(bank: Any, specimen_type: str = "tissue_frozen", unit: str = "mg") -> Any:
    """A surgical specimen of 2026-08-03, before the patient's registration (tests run on
    2026-11-20, so growth curves need an early implant)."""
    from oncotrials.apps.biobank.services import specimen_collect

    return specimen_collect(
        patient=bank.patient,
        specimen_type=specimen_type,
        quantity="20",
        unit=unit,
        collected_at=at(dt.date(2026, 8, 3)),
        anatomic_site="C34.1",
        pathology="malignant",
        by=bank.tech,
    )


def _model(bank: Any, specimen: Any, **kw: Any) -> Any:
    from oncotrials.apps.biobank.services_pdx import pdx_model_create

    args: dict[str, Any] = {
        "specimen": specimen,
        "model_id": "OT-PDX-001",
        "host_strain_name": "NSG",
        "host_strain_nomenclature": "NOD.Cg-Prkdcscid Il2rgtm1Wjl/SzJ",
        "engraftment_site": "subcutaneous flank",
        "engraftment_type": "heterotopic",
        "diagnosis": "lung adenocarcinoma",
        "primary_site": "lung",
        "contact_name": "Translational unit",
        "contact_email": "pdx@example.org",
        "implanted_on": dt.date(2026, 8, 4),
        "mice_implanted": 5,
        "by": bank.tech,
    }
    args.update(kw)
    return pdx_model_create(**args)


@pytest.fixture
def pdx(bank: Any) -> Any:
    """A model with P0 (5 implanted, 4 took) and P1 (6 implanted, 6 took), a control arm of 2
    mice measured like X.1008.uned, and a treated arm."""
    from oncotrials.apps.biobank.services_pdx import (
        pdx_arm_create,
        pdx_engraftment_record,
        pdx_measurements_record,
        pdx_passage_add,
    )

    xenograft_consent(bank)
    model = _model(bank, _specimen(bank))
    p0 = model.passages.get(number=0)
    pdx_engraftment_record(passage=p0, mice_engrafted=4, by=bank.tech)
    p1 = pdx_passage_add(
        parent=p0, implanted_on=dt.date(2026, 9, 1), mice_implanted=6, by=bank.tech
    )
    pdx_engraftment_record(passage=p1, mice_engrafted=6, by=bank.tech)
    start = dt.date(2026, 9, 20)
    control = pdx_arm_create(
        passage=p1,
        name="Control",
        treatment_name="",
        started_on=start,
        mice=["M1", "M2"],
        is_control=True,
        by=bank.tech,
    )
    pdx_measurements_record(
        arm=control,
        rows=[
            {"mouse": m, "measured_on": start + dt.timedelta(days=int(d)), "volume_mm3": v}
            for m in ("M1", "M2")
            for d, v in zip(*X1008_UNED, strict=True)
        ],
        by=bank.tech,
    )
    return model


def test_a_model_needs_the_xenograft_tier(bank):
    specimen = _specimen(bank)
    with pytest.raises(ValidationError, match="covers “Xenograft / animal work”") as info:
        _model(bank, specimen)
    assert info.value.extra["field"] == "consent"
    from oncotrials.apps.biobank.models_pdx import PdxModel

    assert not PdxModel.objects.exists()


def test_a_model_is_grown_from_viable_tissue_only(bank):
    xenograft_consent(bank)
    with pytest.raises(ValidationError, match="fresh or frozen tissue or cells"):
        _model(bank, _specimen(bank, "tissue_ffpe"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("engraftment_type", "subcutaneous", "heterotopic or orthotopic"),
        ("model_id", "OT PDX é", "CancerModels format"),
        ("contact_email", "nobody", "CancerModels format"),
        ("implanted_on", dt.date(2026, 8, 1), "cannot precede the collection"),
        ("mice_implanted", 0, "At least one mouse"),
    ],
)
def test_bad_model_input_names_the_field_and_writes_nothing(bank, field, value, message):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.biobank.models_pdx import PdxModel

    xenograft_consent(bank)
    specimen = _specimen(bank)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match=message):
        _model(bank, specimen, **{field: value})
    assert not PdxModel.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_monitor_cannot_create_a_model(bank):
    xenograft_consent(bank)
    with pytest.raises(PermissionDeniedError):
        _model(bank, _specimen(bank), by=bank.unit.users["monitor"])


def test_passages_engraftment_and_derived_status(pdx, bank):
    from oncotrials.apps.biobank.selectors_pdx import pdx_passages, pdx_status
    from oncotrials.apps.biobank.services_pdx import pdx_engraftment_record

    rows = pdx_passages(pdx)
    assert [(r.passage.number, r.rate) for r in rows] == [(0, 0.8), (1, 1.0)]
    assert pdx_status(pdx) == "established"
    with pytest.raises(ValidationError, match="between 0 and the 6 implanted"):
        pdx_engraftment_record(passage=rows[1].passage, mice_engrafted=7, by=bank.tech)
    with pytest.raises(ValidationError, match="needs a reason"):
        pdx_engraftment_record(passage=rows[1].passage, mice_engrafted=5, by=bank.tech)
    with pytest.raises(ValidationError, match="already in treatment arms"):
        pdx_engraftment_record(
            passage=rows[1].passage, mice_engrafted=1, reason="recount", by=bank.tech
        )


def test_arm_mice_cannot_outnumber_engrafted_mice(pdx, bank):
    from oncotrials.apps.biobank.services_pdx import pdx_arm_create

    p1 = pdx.passages.get(number=1)
    with pytest.raises(ValidationError, match="4 engrafted mice left"):
        pdx_arm_create(
            passage=p1,
            name="Big",
            treatment_name="binimetinib",
            started_on=dt.date(2026, 9, 20),
            mice=["A", "B", "C", "D", "E"],
            by=bank.tech,
        )


def test_mrecist_of_the_arm_is_xevas_answer_for_the_same_volumes(pdx):
    from oncotrials.apps.biobank.selectors_pdx import pdx_growth

    (control,) = pdx_growth(pdx)
    # Both mice follow X.1008.uned: Xeva answers PD with BR 37.0501 (day 11), BAR 19.9922.
    assert control.call == "PD"
    assert control.response.best_response == pytest.approx(37.0501, abs=5e-5)
    assert control.response.best_average_response == pytest.approx(19.9922, abs=5e-5)
    assert [m.response.call.value for m in control.mice] == ["PD", "PD"]


def test_mrecist_follows_new_measurements_never_stale(pdx, bank):
    from oncotrials.apps.biobank.selectors_pdx import pdx_growth
    from oncotrials.apps.biobank.services_pdx import pdx_arm_create, pdx_measurements_record

    p1 = pdx.passages.get(number=1)
    start = dt.date(2026, 10, 1)
    arm = pdx_arm_create(
        passage=p1,
        name="Binimetinib",
        treatment_name="binimetinib",
        dose="30.0mg/kg",
        route="oral gavage",
        started_on=start,
        mice=["T1"],
        by=bank.tech,
    )
    # Caliper readings: 10x8 mm at day 0 (320 mm³), then smaller.
    rows = [
        {"mouse": "T1", "measured_on": start, "length_mm": "10", "width_mm": "8"},
        {
            "mouse": "T1",
            "measured_on": start + dt.timedelta(days=10),
            "length_mm": "9",
            "width_mm": "8",
        },
        {
            "mouse": "T1",
            "measured_on": start + dt.timedelta(days=14),
            "length_mm": "9",
            "width_mm": "7",
        },
    ]
    pdx_measurements_record(arm=arm, rows=rows, by=bank.tech)
    treated = next(g for g in pdx_growth(pdx) if g.arm.pk == arm.pk)
    assert treated.mean_points[0] == (0, 320.0)
    # Volumes 320, 288, 220.5 mm³: changes 0, -10, -31.1 %; running means 0, -5, -13.7 %.
    assert treated.call == "SD"
    assert treated.response.best_response == pytest.approx(100 * (220.5 - 320) / 320)
    pdx_measurements_record(
        arm=arm,
        rows=[
            {"mouse": "T1", "measured_on": start + dt.timedelta(days=18), "volume_mm3": "1"},
            {"mouse": "T1", "measured_on": start + dt.timedelta(days=21), "volume_mm3": "1"},
        ],
        by=bank.tech,
    )
    treated = next(g for g in pdx_growth(pdx) if g.arm.pk == arm.pk)
    # Two more readings of 1 mm³: BR -99.7 % < -95 and BAR (0-10-31.1-99.7-99.7)/5 = -48.1 %
    # < -40: a complete response, from data stored after the first reading (nothing stale).
    changes = [0.0, -10.0, 100 * (220.5 - 320) / 320, 100 * (1 - 320) / 320, 100 * (1 - 320) / 320]
    assert treated.response.best_average_response == pytest.approx(sum(changes) / 5)
    assert treated.call == "CR"


def test_a_bad_measurement_row_is_named_and_nothing_is_written(pdx, bank):
    from oncotrials.apps.biobank.models_pdx import PdxMeasurement
    from oncotrials.apps.biobank.services_pdx import pdx_measurements_record

    arm = pdx.arms.get(name="Control")
    before = PdxMeasurement.objects.count()
    day = dt.date(2026, 11, 19)
    for rows, message in [
        (
            [
                {"mouse": "M1", "measured_on": day, "volume_mm3": 5},
                {"mouse": "M9", "measured_on": day, "volume_mm3": 5},
            ],
            "Row 2: no mouse 'M9'",
        ),
        (
            [{"mouse": "M1", "measured_on": dt.date(2026, 9, 20), "volume_mm3": 5}],
            "already has a measurement",
        ),
        ([{"mouse": "M1", "measured_on": day, "length_mm": 5}], "both length_mm and width_mm"),
        (
            [{"mouse": "M1", "measured_on": day, "length_mm": 5, "width_mm": 4, "volume_mm3": 40}],
            "not both",
        ),
        ([{"mouse": "M1", "measured_on": day, "volume_mm3": -3}], "must be ≥ 0"),
        ([{"mouse": "M1", "measured_on": "2026-13-01", "volume_mm3": 3}], "not a date"),
    ]:
        with pytest.raises(ValidationError, match=message):
            pdx_measurements_record(arm=arm, rows=rows, by=bank.tech)
    assert PdxMeasurement.objects.count() == before


def test_every_write_is_audited(pdx):
    from oncotrials.apps.audit.models import AuditEvent

    actions = set(
        AuditEvent.objects.filter(object_type__startswith="biobank.pdx").values_list(
            "object_type", "action"
        )
    )
    assert ("biobank.pdxmodel", "create") in actions
    assert ("biobank.pdxpassage", "update") in actions
    assert ("biobank.pdxtreatmentarm", "pdx_measurements") in actions


def test_qc_names_existing_passages(pdx, bank):
    from oncotrials.apps.biobank.services_pdx import pdx_validation_add

    qc = pdx_validation_add(
        pdx_model=pdx,
        technique="STR",
        description="high concordance with the patient tumour",
        passages_tested=[1, 0],
        result="passed",
        performed_on=dt.date(2026, 11, 19),
        by=bank.tech,
    )
    assert qc.passages_tested == "0, 1"
    with pytest.raises(ValidationError, match="no passage P4"):
        pdx_validation_add(
            pdx_model=pdx,
            technique="STR",
            description="x",
            passages_tested=[4],
            result="passed",
            performed_on=dt.date(2026, 11, 19),
            by=bank.tech,
        )


def test_the_cancermodels_export_passes_the_dictionary(pdx, bank, tmp_path: Path):
    from oncotrials.apps.biobank.selectors_pdx import pdx_export
    from oncotrials.apps.biobank.services_pdx import pdx_validation_add
    from oncotrials.core.biobank.cancermodels import check_directory

    pdx_validation_add(
        pdx_model=pdx,
        technique="histology",
        description="same histology as the patient tumour",
        passages_tested=[1],
        result="passed",
        performed_on=dt.date(2026, 11, 19),
        by=bank.tech,
    )
    paths, issues = pdx_export(user=bank.tech, directory=tmp_path, provider="OTX")
    assert issues == []
    assert len(paths) == 6
    _, sheets, again = check_directory(tmp_path)
    assert again == []
    (sample,) = [r for _, r in sheets["patient_sample"].rows]
    assert sample["model_id"] == "OT-PDX-001"
    assert sample["collection_date"] == "Aug 2026"
    (dosing,) = [r for _, r in sheets["drug_dosing"].rows]
    assert dosing["treatment_response"] == "progressive disease"
    assert dosing["response_classification"] == "mRECIST"


def test_page_and_api_show_the_growth_and_mrecist(pdx, bank, client):
    client.force_login(bank.tech)
    page = client.get(f"/pdx/{pdx.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "OT-PDX-001" in html
    assert 'data-testid="pdx-mrecist"' in html
    assert "BR 37.05 is not &lt; 35" in html
    svg = client.get(f"/pdx/{pdx.pk}/growth.svg")
    assert svg["Content-Type"].startswith("image/svg+xml")
    assert b'id="arm-control"' in svg.content
    api = client.get(f"/api/v1/pdx/models/{pdx.pk}")
    assert api.status_code == 200
    body = api.json()
    assert body["status"] == "established"
    assert body["arms"][0]["response"]["mrecist"] == "PD"
    listing = client.get("/api/v1/pdx/models").json()
    assert listing["count"] == 1
    zipped = client.get("/pdx/export.zip")
    assert zipped["Content-Type"] == "application/zip"


def test_api_measurements_write_and_refuse(pdx, bank, client):
    client.force_login(bank.tech)
    arm = pdx.arms.get(name="Control")
    ok = client.post(
        f"/api/v1/pdx/arms/{arm.pk}/measurements",
        data=json.dumps(
            {
                "rows": [
                    {"mouse": "M1", "measured_on": "2026-11-19", "length_mm": 12, "width_mm": 10}
                ]
            }
        ),
        content_type="application/json",
    )
    assert ok.status_code == 201, ok.content
    bad = client.post(
        f"/api/v1/pdx/arms/{arm.pk}/measurements",
        data=json.dumps(
            {"rows": [{"mouse": "nope", "measured_on": "2026-11-19", "volume_mm3": 3}]}
        ),
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["extra"]["row"] == 1


def test_the_demo_function_grows_three_kinds_of_response(bank):
    import random

    from oncotrials.apps.biobank.demo_pdx import demo_pdx_load
    from oncotrials.apps.biobank.selectors_pdx import pdx_growth, pdx_status

    unit = bank.unit
    said: list[str] = []
    models = demo_pdx_load(
        random.Random(7),
        said.append,
        dt.date(2026, 11, 20),
        site_code=bank.patient.site.code,
        users=(unit.users["admin"], unit.users["nurse"], bank.tech),
    )
    assert models
    assert said == ["PDX models"]
    for model in models:
        assert pdx_status(model) == "established"
        assert model.validations.count() == 2
        control, treated = pdx_growth(model)
        assert not treated.arm.is_control
        assert control.arm.is_control
        assert len(control.mice) == 3
        assert all(len(m.points) >= 4 for m in control.mice)
        assert control.call == "PD"
    # The first model's drug shrinks the tumour (about -9 % a day): a response.
    assert pdx_growth(models[0])[1].call in {"CR", "PR"}


def test_cli_export_writes_and_checks_the_submission(pdx, tmp_path: Path):
    from typer.testing import CliRunner

    from oncotrials.apps.biobank.models_pdx import PdxModel
    from oncotrials.cli.commands.pdx import app

    runner = CliRunner()
    good = runner.invoke(app, ["export", str(tmp_path / "ok"), "--provider", "OTX"])
    assert good.exit_code == 0, good.output
    assert (tmp_path / "ok" / "OTX_metadata-pdx_model.tsv").exists()
    # A contact e-mail the dictionary refuses (written behind the services' back) is caught.
    PdxModel.objects.filter(pk=pdx.pk).update(contact_email="pdx at example.org")
    bad = runner.invoke(app, ["export", str(tmp_path / "bad"), "--format", "json"])
    assert bad.exit_code == 1
    (issue,) = json.loads(bad.stdout)["issues"]
    assert issue.startswith("sharing, line 6, email: 'pdx at example.org' does not match")
    assert issue.endswith("[INVALID_BY_REGEX]")


def test_passages_leave_the_rows_verifiable_and_an_edit_is_found(pdx, bank):
    """Adding a passage bumps the model's version (the passage is audited, not the model): the
    version is bookkeeping, left out of the model's row digest, so ``audit verify --rows`` still
    finds the model as its last event recorded it; an edit of what describes the model is found."""
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.biobank.models import PdxModel

    assert PdxModel.objects.get(pk=pdx.pk).version == 2  # P1 was added
    report = audit_verify(rows=True)
    assert report.ok, report
    PdxModel.objects.filter(pk=pdx.pk).update(diagnosis="melanoma")
    report = audit_verify(rows=True)
    assert not report.ok
    assert f"biobank.pdxmodel {pdx.pk} was changed outside the platform" in report.problem


def test_a_day_of_measurements_is_checked_in_one_read_and_inserted_in_one_statement(pdx, bank):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oncotrials.apps.biobank.models_pdx import PdxMeasurement
    from oncotrials.apps.biobank.services_pdx import pdx_measurements_record

    arm = pdx.arms.get(name="Control")
    day = dt.date(2026, 11, 19)
    labels = list(arm.mice.order_by("label").values_list("label", flat=True))
    assert len(labels) > 1
    rows = [{"mouse": m, "measured_on": day, "length_mm": 8, "width_mm": 6} for m in labels]
    with CaptureQueriesContext(connection) as ctx:
        created = pdx_measurements_record(arm=arm, rows=rows, by=bank.tech)
    touching = [q["sql"] for q in ctx.captured_queries if "biobank_pdxmeasurement" in q["sql"]]
    assert [s.split()[0] for s in touching] == ["SELECT", "INSERT"]
    saved = PdxMeasurement.objects.filter(pk__in=[m.pk for m in created]).order_by("pk")
    assert [(m.mouse.label, m.measured_on, m.volume_mm3) for m in saved] == [
        (label, day, Decimal("144")) for label in labels
    ]
    with pytest.raises(ValidationError, match=r"Row 1 \(M\w+, 2026-11-19\): this mouse already"):
        pdx_measurements_record(arm=arm, rows=rows[:1], by=bank.tech)
