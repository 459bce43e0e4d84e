"""A tumour-board coordinator opens the agenda of a held meeting, a case (clinical summary,
alterations with ESCAT tier, a signed referral and its state) and the funnel, whose
server-rendered SVG loads under the Content-Security-Policy; screenshots are kept."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


def _build(unit, tmp_path):
    from django.utils import timezone

    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.mtb.services import (
        agenda_build,
        meeting_create,
        meeting_update,
        recommendation_create,
        recommendation_sign,
    )
    from oncotrials.apps.subjects.services import patient_create, screening_start
    from oncotrials.apps.trials.services import cohort_create, trial_change_status
    from oncotrials.core.genomics.normalised import PatientMap

    admin, nurse = unit.users["admin"], unit.users["nurse"]
    coordinator = user_create(
        username="coordinator", password=PASSWORD, first_name="Tara", last_name="Board"
    )
    membership_grant(user=coordinator, role=Role.TUMOUR_BOARD_COORDINATOR, site=unit.main)
    trial = unit.trial_shared
    for status in ("set_up", "open"):
        trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
    cohort = cohort_create(trial=trial, code="EXP", name="Expansion", kind="expansion", by=admin)
    patients = []
    for i, variants in enumerate(
        [
            [{"gene": "KRAS", "protein_change": "p.G12C"}],
            [{"gene": "TP53", "protein_change": "p.R273H"}],
            [{"gene": "EGFR", "protein_change": "p.L858R"}],
        ]
    ):
        p = patient_create(
            site=unit.main,
            by=nurse,
            family_name=f"B{i}",
            given_name="Test",
            birth_date=dt.date(1957, 5, 1),
            hospital_number=f"H-MTB-{i}",
            sex="F",
            referral_source="department",
            referral_date=dt.date(2026, 10, 1),
            diagnosis="LUAD",
        )
        doc = {
            "format_version": "1.0",
            "report_id": f"LAB-E{i}",
            "patient_id": p.research_id,
            "sample": {"sample_id": f"S-E{i}", "kind": "tissue", "oncotree_code": "LUAD"},
            "assay": {"name": "Tissue panel", "panel": "TP-500"},
            "reported_on": "2026-11-02",
            "short_variants": [{"variant_class": "Missense_Mutation", **v} for v in variants],
        }
        path = tmp_path / f"e2e-{i}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        genomics_import(path=path, by=None)
        patients.append(p)
    # The KRAS G12C patient's baseline, then a progression under sotorasib with KRAS Y96D.
    first = patients[0].research_id
    for sample_id, timepoint, on, variants in (
        ("S-E0B", "baseline", "2026-06-01", []),
        ("S-E0P", "progression", "2026-10-20", [{"gene": "KRAS", "protein_change": "p.Y96D"}]),
    ):
        doc = {
            "format_version": "1.0",
            "report_id": f"LAB-{sample_id}",
            "patient_id": first,
            "sample": {"sample_id": sample_id, "kind": "tissue", "oncotree_code": "LUAD"},
            "assay": {"name": "Tissue panel", "panel": "TP-500"},
            "reported_on": "2026-11-02",
            "short_variants": [
                {"variant_class": "Missense_Mutation", **v}
                for v in [{"gene": "KRAS", "protein_change": "p.G12C"}, *variants]
            ],
        }
        path = tmp_path / f"e2e-{sample_id}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        genomics_import(
            path=path,
            by=None,
            patient_map=PatientMap.parse(
                "sample_id,research_id,timepoint,collected_on,therapy\n"
                f"{sample_id},{first},{timepoint},{on},{'sotorasib' if variants else ''}\n"
            ),
        )
    # The meeting is today at the site, so that today's imports are new reports for it.
    today = timezone.localtime(timezone.now(), ZoneInfo(unit.main.time_zone)).date()
    meeting = meeting_create(
        site=unit.main,
        held_on=today,
        title="Weekly molecular tumour board",
        chair=unit.users["investigator"],
        attendees=[coordinator, nurse],
        by=coordinator,
    )
    meeting = meeting_update(meeting=meeting, version=1, status="held", by=coordinator)
    cases = {c.patient_id: c for c in agenda_build(meeting=meeting, by=coordinator)}
    rec = recommendation_create(
        case=cases[patients[0].pk],
        kind="trial_referral",
        trial=trial,
        cohort=cohort,
        rationale="KRAS G12C (ESCAT II-B in NSCLC): refer to the expansion cohort.",
        by=coordinator,
    )
    recommendation_sign(
        recommendation=rec,
        meaning="I approve this recommendation on behalf of the board",
        password=PASSWORD,
        by=unit.users["investigator"],
    )
    # As from a page of the site: "today" is the site's day (after midnight in Paris the UTC
    # date is still the day before, and the referral was opened on the site's day).
    with timezone.override(ZoneInfo(unit.main.time_zone)):
        screening_start(
            patient=patients[0], trial=trial, kind="pre_screening", started_on=today, by=nurse
        )
    return meeting, cases[patients[0].pk]


def test_coordinator_opens_the_agenda_a_case_and_the_funnel(page, live_server, unit, tmp_path):
    meeting, case = _build(unit, tmp_path)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/mtb/")
    page.click(f"a[href='/mtb/meetings/{meeting.pk}/']")
    assert page.locator("[data-testid=mtb-agenda] tbody tr").count() == 3
    assert "Held" in page.locator("[data-testid=mtb-meeting-status]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "mtb-agenda.png"), full_page=True)

    page.click(f"a[href='/mtb/cases/{case.pk}/']")
    assert "Lung Adenocarcinoma" in page.locator("[data-testid=mtb-summary]").inner_text()
    alterations = page.locator("[data-testid=mtb-alterations]").inner_text()
    assert "KRAS" in alterations
    assert "II-B" in alterations
    assert "Signed by" in page.locator("[data-testid=mtb-signature]").inner_text()
    assert page.locator("[data-testid=mtb-referral-state]").inner_text() == "pre_screening"
    resistance = page.locator("[data-testid=mtb-resistance]")
    assert resistance.locator("[data-testid=serial-pair]").count() == 1
    assert resistance.locator("[data-testid=serial-pair-drugs]").inner_text() == "sotorasib"
    assert "KRAS p.Y96D\ton_target_secondary" in resistance.inner_text()
    page.screenshot(path=str(ARTIFACTS / "mtb-case.png"), full_page=True)

    page.goto(f"{live_server.url}/mtb/funnel/")
    img = page.locator("[data-testid=mtb-funnel-plot] img")
    img.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert img.evaluate("img => img.naturalWidth") > 200
    table = page.locator("[data-testid=mtb-funnel-table]").inner_text()
    # KRAS G12C (II-B) and EGFR L858R (I-A) are actionable in NSCLC; TP53 is not.
    assert "Main centre\t3\t2\t1\t0" in table
    page.screenshot(path=str(ARTIFACTS / "mtb-funnel.png"), full_page=True)
