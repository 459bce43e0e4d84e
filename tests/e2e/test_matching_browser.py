"""An investigator sees, on a trial page, the patients its cohorts match and, on a patient page,
the cohorts the patient matches, each criterion explained; both panels load with htmx under the
Content-Security-Policy. Screenshots are kept."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
G12C = {"and": [{"diagnosis": "NSCLC"}, {"genomic": {"gene": "KRAS", "protein_change": "p.G12C"}}]}


def _build(unit, tmp_path):
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.matching.criteria import match_criteria_set
    from oncotrials.apps.matching.engine import reset_matching_cache
    from oncotrials.apps.subjects.services import patient_create
    from oncotrials.apps.trials.services import cohort_create, trial_change_status

    reset_matching_cache()
    admin, nurse = unit.users["admin"], unit.users["nurse"]
    trial = unit.trial_main
    for status in ("set_up", "open"):
        trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
    cohort = cohort_create(
        trial=trial, code="G12C", name="KRAS G12C NSCLC", kind="expansion", by=admin
    )
    trial.refresh_from_db()
    match_criteria_set(
        trial=trial,
        cohort_id=cohort.pk,
        criteria=G12C,
        by=admin,
        reason="protocol v1",
        expected_version=trial.version,
    )
    patients = {}
    for name, gene, change in (("kras", "KRAS", "p.G12C"), ("braf", "BRAF", "p.V600E")):
        p = patient_create(
            site=unit.main,
            by=nurse,
            family_name=f"Match-{name}",
            given_name="Test",
            birth_date=dt.date(1961, 4, 2),
            hospital_number=f"H-MATCH-{name}",
            sex="M",
            referral_source="tumour_board",
            referral_date=dt.date(2026, 10, 1),
            diagnosis="LUAD",
        )
        doc = {
            "format_version": "1.0",
            "report_id": f"LAB-M-{name}",
            "patient_id": p.research_id,
            "sample": {"sample_id": f"S-M-{name}", "kind": "tissue", "oncotree_code": "LUAD"},
            "assay": {"name": "Tissue panel", "panel": "TP-500"},
            "reported_on": "2026-11-02",
            "short_variants": [
                {"gene": gene, "protein_change": change, "variant_class": "Missense_Mutation"}
            ],
        }
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        genomics_import(path=path, by=None)
        patients[name] = p
    return trial, patients


def test_trial_and_patient_pages_show_explained_matches(page, live_server, unit, tmp_path):
    trial, patients = _build(unit, tmp_path)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "investigator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/trials/{trial.pk}/")
    panel = page.locator("[data-testid=matched-patients]")
    panel.wait_for()
    rows = panel.locator("[data-testid=match]")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert patients["kras"].research_id in text
    assert patients["braf"].research_id not in panel.inner_text()
    assert "KRAS" in text
    page.screenshot(path=str(ARTIFACTS / "matching-trial.png"), full_page=True)

    page.goto(f"{live_server.url}/patients/{patients['braf'].pk}/")
    cohorts = page.locator("[data-testid=matching-cohorts]")
    cohorts.wait_for()
    assert cohorts.locator("[data-testid=match]").count() == 0
    # Every cohort with why it does not match: the KRAS criterion is not met.
    cohorts.get_by_text("Show every cohort").click()
    page.locator("[data-testid=matching-cohorts] [data-testid=match]").first.wait_for()
    row = page.locator("[data-testid=matching-cohorts] [data-testid=match]").first
    assert trial.protocol_code in row.inner_text()
    row.get_by_text("Why").click()
    verdicts = row.locator(".explanation li")
    verdicts.first.wait_for()
    lines = verdicts.all_inner_texts()
    # the tree is not met because the KRAS p.G12C criterion is not; the diagnosis is met
    assert lines[0].startswith("not met")
    assert any(line.startswith("not met") and "KRAS" in line for line in lines[1:])
    assert any(line.startswith("met") and "NSCLC" in line for line in lines[1:])
    page.screenshot(path=str(ARTIFACTS / "matching-patient.png"), full_page=True)
