"""The technician's PDX forms: start a model from a consented specimen, record engraftment and a
passage, create a drug-study arm, paste a table of volumes and read the mRECIST it gives. Only
a holder of the specimen-handling right on the model's site writes; others get 403 (or 404 when
they may not see the model); bad input is shown next to its field and writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pdx_helpers import at, xenograft_consent

pytestmark = pytest.mark.django_db


def _specimen(bank: Any) -> Any:
    from oncotrials.apps.biobank.services import specimen_collect

    return specimen_collect(
        patient=bank.patient,
        registration=bank.registration,
        specimen_type="tissue_frozen",
        quantity="20",
        unit="mg",
        collected_at=at(dt.date(2026, 8, 3)),
        anatomic_site="C34.1",
        pathology="malignant",
        by=bank.tech,
    )


MODEL = {
    "model_id": "OT-PDX-101",
    "host_strain_name": "NSG",
    "host_strain_nomenclature": "NOD.Cg-Prkdcscid Il2rgtm1Wjl/SzJ",
    "engraftment_site": "subcutaneous flank",
    "engraftment_type": "heterotopic",
    "sample_type": "tissue fragment",
    "sample_state": "fresh",
    "diagnosis": "lung adenocarcinoma",
    "primary_site": "lung",
    "tumour_type": "primary",
    "accessibility": "academia",
    "contact_name": "Translational unit",
    "contact_email": "pdx@example.org",
    "implanted_on": "2026-08-04",
    "mice_implanted": "5",
}


def _counts() -> tuple[int, ...]:
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.biobank.models_pdx import (
        PdxMeasurement,
        PdxModel,
        PdxPassage,
        PdxTreatmentArm,
        PdxValidation,
    )

    writes = AuditEvent.objects.filter(action__in=("create", "update", "delete")).count()
    kinds = (PdxModel, PdxPassage, PdxTreatmentArm, PdxMeasurement, PdxValidation)
    return (writes, *(m.objects.count() for m in kinds))


def test_a_technician_starts_a_model_and_bad_input_writes_nothing(
    bank: Any, client_for: Any
) -> None:
    from oncotrials.apps.biobank.models_pdx import PdxModel

    specimen = _specimen(bank)
    tech = client_for("tech")
    # Without the xenograft tier the service refuses, with its message, and nothing is written.
    before = _counts()
    answer = tech.post("/pdx/new/", {**MODEL, "specimen": specimen.pk})
    assert answer.status_code == 422
    assert "xenograft" in answer.content.decode()
    assert _counts() == before
    xenograft_consent(bank)
    page = tech.get("/pdx/")
    assert 'data-testid="pdx-new"' in page.content.decode()
    form = tech.get("/pdx/new/")
    assert form.status_code == 200
    assert specimen.label in form.content.decode()
    before = _counts()
    for field, value, message in (
        ("model_id", "OT PDX é", "CancerModels format"),
        ("implanted_on", "2026-08-01", "cannot precede the collection"),
        ("mice_implanted", "0", "greater than or equal to 1"),
        ("engraftment_type", "subcutaneous", "Select a valid choice"),
    ):
        answer = tech.post("/pdx/new/", {**MODEL, "specimen": specimen.pk, field: value})
        assert answer.status_code == 422, field
        html = answer.content.decode()
        assert message in html, field
        assert f'id="id_{field}"' in html
        assert 'aria-invalid="true"' in html
    assert _counts() == before
    answer = tech.post("/pdx/new/", {**MODEL, "specimen": specimen.pk})
    assert answer.status_code == 302
    pdx = PdxModel.objects.get(model_id="OT-PDX-101")
    assert answer["Location"] == f"/pdx/{pdx.pk}/"
    assert pdx.passages.get().number == 0


def test_who_may_start_a_model(bank: Any, client_for: Any) -> None:
    xenograft_consent(bank)
    specimen = _specimen(bank)
    before = _counts()
    for persona in ("monitor", "partner_investigator"):
        answer = client_for(persona).post("/pdx/new/", {**MODEL, "specimen": specimen.pk})
        assert answer.status_code in (403, 422), persona
        assert client_for(persona).get("/pdx/new/").status_code in (200, 403)
    # A technician of the partner site cannot pick a specimen of the main site.
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    other = user_create(username="tech_b", password="a-long-test-password-42")
    membership_grant(user=other, role=Role.BIOBANK_TECHNICIAN, site=bank.unit.partner)
    bank.unit.users["tech_b"] = other
    before = _counts()
    answer = client_for("tech_b").post("/pdx/new/", {**MODEL, "specimen": specimen.pk})
    assert answer.status_code == 422
    assert "Select a valid choice" in answer.content.decode()
    assert _counts() == before


@pytest.fixture
def model(bank: Any) -> Any:
    from oncotrials.apps.biobank.services_pdx import pdx_model_create

    xenograft_consent(bank)
    data = {k: v for k, v in MODEL.items() if k not in ("implanted_on", "mice_implanted")}
    return pdx_model_create(
        specimen=_specimen(bank),
        implanted_on=dt.date(2026, 8, 4),
        mice_implanted=5,
        by=bank.tech,
        **data,
    )


def test_passage_arm_and_pasted_measurements_give_the_mrecist(
    model: Any, bank: Any, client_for: Any
) -> None:
    tech = client_for("tech")
    url = f"/pdx/{model.pk}/"
    p0 = model.passages.get(number=0)
    ok = tech.post(
        url, {"form": "engraftment", "engraftment-passage": p0.pk, "engraftment-mice_engrafted": 4}
    )
    assert ok.status_code == 302
    ok = tech.post(
        url,
        {
            "form": "passage",
            "passage-parent": p0.pk,
            "passage-implanted_on": "2026-09-01",
            "passage-mice_implanted": 3,
        },
    )
    assert ok.status_code == 302, ok.content.decode()[:3000]
    p1 = model.passages.get(number=1)
    tech.post(
        url, {"form": "engraftment", "engraftment-passage": p1.pk, "engraftment-mice_engrafted": 3}
    )
    arm_form = {
        "form": "arm",
        "arm-passage": p1.pk,
        "arm-name": "Binimetinib",
        "arm-treatment_name": "binimetinib",
        "arm-dose": "30.0mg/kg",
        "arm-started_on": "2026-10-01",
        "arm-mice": "T1, T2, T3, T4",  # four mice, three engrafted
    }
    before = _counts()
    answer = tech.post(url, arm_form)
    assert answer.status_code == 422
    assert "engrafted mice left" in answer.content.decode()
    assert _counts() == before
    assert tech.post(url, {**arm_form, "arm-mice": "T1"}).status_code == 302
    arm = model.arms.get()
    # The caliper example of test_pdx.py: 10x8, 9x8, 9x7 mm then 1 mm³ twice is a CR.
    table = "mouse\tday\tlength\twidth\nT1\t0\t10\t8\nT1\t10\t9\t8\nT1\t14\t9\t7\n"
    bad = table + "T1\t18\tone\n"
    before = _counts()
    answer = tech.post(
        url, {"form": "measurements", "measurements-arm": arm.pk, "measurements-table": bad}
    )
    assert answer.status_code == 422
    assert "Line 5" in answer.content.decode()
    unknown = table + "T9;18;1\n"
    answer = tech.post(
        url, {"form": "measurements", "measurements-arm": arm.pk, "measurements-table": unknown}
    )
    assert answer.status_code == 422
    assert "Line 5: Row 4" in answer.content.decode()  # the line, and the service's row
    assert _counts() == before
    answer = tech.post(
        url, {"form": "measurements", "measurements-arm": arm.pk, "measurements-table": table}
    )
    assert answer.status_code == 302
    page = tech.get(url).content.decode()
    assert '<strong data-testid="arm-call">SD</strong>' in page
    more = "T1 18 1\nT1 2026-10-22 1\n"
    tech.post(url, {"form": "measurements", "measurements-arm": arm.pk, "measurements-table": more})
    page = tech.get(url).content.decode()
    assert '<strong data-testid="arm-call">CR</strong>' in page


def test_only_a_handler_of_the_site_writes_on_the_model_page(
    model: Any, bank: Any, client_for: Any
) -> None:
    p0 = model.passages.get(number=0)
    url = f"/pdx/{model.pk}/"
    data = {"form": "engraftment", "engraftment-passage": p0.pk, "engraftment-mice_engrafted": 4}
    before = _counts()
    assert client_for("partner_investigator").post(url, data).status_code == 404
    monitor = client_for("monitor")
    seen = monitor.get(url)
    assert seen.status_code in (200, 404)
    if seen.status_code == 200:
        assert 'data-testid="pdx-work"' not in seen.content.decode()
        assert monitor.post(url, data).status_code == 403
    assert _counts() == before
    page = client_for("tech").get(url).content.decode()
    assert 'data-testid="engraftment-form"' in page
    assert client_for("tech").post(url, {"form": "nope"}).status_code == 400


@pytest.mark.parametrize("day", ["999999999999", "2026-02-30", "12.5"])
def test_a_pasted_day_off_the_calendar_names_its_line(day: str) -> None:
    from django import forms

    from oncotrials.apps.biobank.forms_pdx import parse_measurements

    text = f"mouse\tday\tvolume\nM1\t0\t120\nM1\t{day}\t150\n"
    with pytest.raises(forms.ValidationError, match="Line 3"):
        parse_measurements(text, started_on=dt.date(2026, 8, 20))


QC = {
    "form": "validation",
    "validation-technique": "STR profiling",
    "validation-passages_tested": ["0"],
    "validation-result": "passed",
    "validation-description": "16 STR loci match the patient tumour (high concordance)",
    "validation-performed_on": "2026-09-20",
}


def _tech_b(bank: Any) -> None:
    """A biobank technician of the partner site."""
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    other = user_create(username="tech_b", password="a-long-test-password-42")
    membership_grant(user=other, role=Role.BIOBANK_TECHNICIAN, site=bank.unit.partner)
    bank.unit.users["tech_b"] = other


def test_a_technician_records_a_quality_control_and_the_export_carries_it(
    model: Any, bank: Any, client_for: Any
) -> None:
    import io
    import zipfile

    from oncotrials.apps.audit.models import AuditEvent

    tech = client_for("tech")
    url = f"/pdx/{model.pk}/"
    page = tech.get(url).content.decode()
    assert 'data-testid="validation-form"' in page
    assert 'name="validation-passages_tested" value="0"' in page
    answer = tech.post(url, QC)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    (qc,) = model.validations.all()
    assert (qc.technique, qc.passages_tested, qc.result) == ("STR profiling", "0", "passed")
    assert qc.host_strain_nomenclature == model.host_strain_nomenclature
    assert AuditEvent.objects.filter(
        action="create", object_type="biobank.pdxvalidation", object_id=str(qc.pk), actor=bank.tech
    ).exists()
    page = tech.get(url).content.decode()
    assert "16 STR loci match the patient tumour" in page
    archive = zipfile.ZipFile(io.BytesIO(tech.get("/pdx/export.zip").content))
    names = archive.namelist()
    assert not any(n.endswith("issues.txt") for n in names), names
    (sheet,) = [n for n in names if n.endswith("model_validation.tsv")]
    text = archive.read(sheet).decode()
    assert "OT-PDX-101\tSTR profiling\t16 STR loci match the patient tumour" in text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"validation-passages_tested": []}, "passages_tested", "required"),
        ({"validation-passages_tested": ["7"]}, "passages_tested", "valid choice"),
        ({"validation-technique": "S" * 81}, "technique", "at most 80"),
        ({"validation-result": "ok"}, "result", "valid choice"),
        ({"validation-description": 'matches "well"'}, "description", "CancerModels format"),
        ({"validation-technique": "STR {v2}"}, "technique", "CancerModels format"),
        ({"validation-performed_on": "2099-01-01"}, "performed_on", "future"),
        ({"validation-description": "   "}, "description", "required"),
    ],
)
def test_a_bad_quality_control_is_named_beside_its_field_and_writes_nothing(
    model: Any, client_for: Any, change: dict[str, Any], field: str, message: str
) -> None:
    before = _counts()
    answer = client_for("tech").post(f"/pdx/{model.pk}/", {**QC, **change})
    assert answer.status_code == 422
    page = answer.content.decode()
    assert f'id="id_validation-{field}-error"' in page, page[:3000]
    assert message in page
    assert _counts() == before


def test_only_a_handler_of_the_model_site_records_a_quality_control(
    model: Any, bank: Any, client_for: Any
) -> None:
    _tech_b(bank)
    url = f"/pdx/{model.pk}/"
    api = f"/api/v1/pdx/models/{model.pk}/validations"
    body = {
        "technique": "STR",
        "description": "high concordance",
        "passages_tested": [0],
        "result": "passed",
        "performed_on": "2026-09-20",
    }
    before = _counts()
    # The partner site's technician handles specimens, but not this site's: the model is not
    # theirs to see, on the page or the API.
    partner = client_for("tech_b")
    assert partner.post(url, QC).status_code == 404
    refused = partner.post(api, body, content_type="application/json")
    assert refused.status_code in (403, 404)
    assert client_for("partner_investigator").post(url, QC).status_code == 404
    monitor = client_for("monitor")
    if monitor.get(url).status_code == 200:
        assert 'data-testid="validation-form"' not in monitor.get(url).content.decode()
        assert monitor.post(url, QC).status_code == 403
        assert monitor.post(api, body, content_type="application/json").status_code == 403
    assert _counts() == before
    made = client_for("tech").post(api, body, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["passages_tested"] == "0"
