"""The E2B(R3) ICSR of an SAE: pharmacovigilance downloads each report version (page, API, CLI),
schema-valid, pseudonymised, scoped like the SAE itself, and audited."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from lxml import etree
from typer.testing import CliRunner

from fixtures import E2B_SCHEMA
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.safety.services import (
    adverse_event_create,
    sae_report_record,
)
from oncotrials.core.e2b import schema_errors

NS = {"h": "urn:hl7-org:v3"}
C11 = "//h:investigationEvent/h:id[@root='2.16.840.1.113883.3.989.2.1.3.1']/@extension"
C15 = "//h:investigationEvent/h:availabilityTime/@value"


def xpath(xml: bytes, path: str) -> list[str]:
    return [str(v) for v in etree.fromstring(xml).xpath(path, namespaces=NS)]


@pytest.fixture
def pv(safety: Any) -> Any:
    """A pharmacovigilance officer of the main site."""
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    user = user_create(username="pv", password="a-long-test-password-42")
    membership_grant(user=user, role=Role.PHARMACOVIGILANCE, site=safety.journey.unit.main)
    return user


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return c


@pytest.fixture
def sae(safety: Any, complete_ae: Any) -> Any:
    """A serious colitis (patient born 1961-04-02, onset 2026-11-14) with its initial report
    and one follow-up."""
    now = timezone.now()
    ae = adverse_event_create(
        registration=safety.registration,
        data=complete_ae(
            seriousness=["hospitalisation"],
            awareness_at=(now - dt.timedelta(days=3)).isoformat(),
        ),
        by=safety.users["nurse"],
        complete=True,
    )
    nurse = safety.users["nurse"]
    sae_report_record(ae=ae, kind="initial", sent_at=now - dt.timedelta(days=2), by=nurse)
    sae_report_record(
        ae=ae,
        kind="follow_up",
        sent_at=now - dt.timedelta(hours=2),
        by=nurse,
        notes="Colonoscopy done; steroids started.",
    )
    ae.refresh_from_db()
    return ae


def test_pv_downloads_initial_and_follow_up_from_the_sae_page(sae: Any, pv: Any):
    client = login(pv)
    page = client.get(f"/safety/adverse-events/{sae.pk}/").content.decode()
    links = [f"/safety/adverse-events/{sae.pk}/icsr.xml?report={n}" for n in (1, 2)]
    for link in links:
        assert link in page
    one, two = (client.get(link) for link in links)
    for response in (one, two):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/xml"
        assert schema_errors(response.content, E2B_SCHEMA) == []
    assert one["Content-Disposition"].endswith('-v1.xml"')
    assert two["Content-Disposition"].endswith('-v2.xml"')
    case_id = f"XX-MAIN-SAE{sae.pk:06d}"
    assert xpath(one.content, C11) == xpath(two.content, C11) == [case_id]
    aware = sae.sae_aware_at.astimezone(dt.UTC).date()  # the main site keeps Paris time
    assert xpath(one.content, C15) <= xpath(two.content, C15)
    assert xpath(one.content, "//h:investigationEvent/h:effectiveTime/h:low/@value")[0][:6] == (
        f"{aware:%Y%m}"
    )
    narrative = xpath(two.content, "//h:investigationEvent/h:text/text()")[0]
    assert "Colonoscopy done" in narrative
    assert "Colonoscopy done" not in xpath(one.content, "//h:investigationEvent/h:text/text()")[0]


def test_the_icsr_carries_the_sae_as_e2b_codes(sae: Any, pv: Any):
    xml = login(pv).get(f"/safety/adverse-events/{sae.pk}/icsr.xml").content
    reaction = "//h:observation[h:code/@code='29']"
    assert xpath(xml, f"{reaction}/h:value/@code") == [str(sae.meddra_code)]
    assert xpath(xml, f"{reaction}/h:value/@codeSystemVersion") == ["20.1"]  # CTCAE v5.0
    assert xpath(xml, f"{reaction}/h:effectiveTime/h:low/@value") == ["20261114"]
    assert xpath(xml, "//h:observation[h:code/@code='33']/h:value/@value") == ["true"]
    assert xpath(xml, "//h:observation[h:code/@code='27']/h:value/@code") == ["2"]  # recovering
    assert xpath(xml, "//h:kindOfProduct/h:name/text()") == ["Drug B"]
    # interrupted: G.k.8 "drug withdrawn" (1) with the interruption in G.k.11
    assert xpath(xml, "//h:inboundRelationship[@typeCode='CAUS']/h:act/h:code/@code") == ["1"]
    assert xpath(xml, "//h:observation[h:code/@code='2']/h:value/text()") == [
        "Drug interrupted (temporarily)."
    ]
    assert xpath(xml, "//h:causalityAssessment[h:code/@code='39']/h:value/text()") == ["Probable"]
    assert xpath(xml, "//h:researchStudy/h:id/@extension") == ["T-SHARED"]


def test_the_icsr_is_pseudonymised(sae: Any, pv: Any, safety: Any):
    xml = login(pv).get(f"/safety/adverse-events/{sae.pk}/icsr.xml").content
    text = xml.decode()
    for identifying in ("Martin", "Claire", "1961-04-02", "19610402", "H-0001"):
        assert identifying not in text
    assert xpath(xml, "//h:player1/h:name/@nullFlavor") == ["MSK"]
    assert xpath(xml, "//h:observation[h:code/@code='3']/h:value/@value") == ["65"]
    assert xpath(xml, "//h:asIdentifiedEntity/h:id/@extension") == [
        safety.registration.patient.research_id
    ]


def test_a_report_whose_notes_name_the_patient_is_refused_and_not_audited(
    sae: Any, pv: Any, safety: Any
):
    sae_report_record(
        ae=sae,
        kind="follow_up",
        sent_at=timezone.now() - dt.timedelta(minutes=5),
        by=safety.users["nurse"],
        notes="Mrs Martin is home.",
    )
    before = AuditEvent.objects.filter(action="export").count()
    response = login(pv).get(f"/safety/adverse-events/{sae.pk}/icsr.xml?report=3")
    assert response.status_code == 422
    assert "family name" in response.content.decode()
    assert AuditEvent.objects.filter(action="export").count() == before


def test_each_download_is_audited_with_who_and_which_version(sae: Any, pv: Any):
    response = login(pv).get(f"/safety/adverse-events/{sae.pk}/icsr.xml?report=1")
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert event.actor == pv
    assert event.object_type == "safety.saereport"
    assert event.object_id == str(sae.sae_reports.get(sequence=1).pk)
    assert event.changes["version"] == ["", 1]
    import hashlib

    assert event.changes["sha256"] == ["", hashlib.sha256(response.content).hexdigest()]


def test_the_api_gives_the_same_file(sae: Any, pv: Any):
    client = login(pv)
    api = client.get(f"/api/v1/safety/adverse-events/{sae.pk}/icsr?report=2")
    page = client.get(f"/safety/adverse-events/{sae.pk}/icsr.xml?report=2")
    assert api.status_code == 200
    assert api.content == page.content
    missing = client.get(f"/api/v1/safety/adverse-events/{sae.pk}/icsr?report=7")
    assert missing.status_code == 404
    assert "its reports are 1, 2" in missing.json()["message"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("outsider", 404),  # no membership
        ("partner_investigator", 404),  # another site
        ("monitor", 404),  # a monitor of another trial
        ("nurse", 200),  # reports SAEs at the site
    ],
)
def test_scoping_follows_the_sae(sae: Any, client_for: Any, persona: str, status: int):
    url = f"/safety/adverse-events/{sae.pk}/icsr.xml"
    assert client_for(persona).get(url).status_code == status
    assert client_for(persona).get(f"/api/v1/safety/adverse-events/{sae.pk}/icsr").status_code == (
        status
    )


def test_a_monitor_of_the_trial_sees_the_sae_but_may_not_export_it(sae: Any, safety: Any):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    monitor = user_create(username="monitor_shared", password="a-long-test-password-42")
    unit = safety.journey.unit
    membership_grant(
        user=monitor, role=Role.SPONSOR_MONITOR, site=unit.main, trial=unit.trial_shared
    )
    response = login(monitor).get(f"/api/v1/safety/adverse-events/{sae.pk}/icsr")
    assert response.status_code == 403


def test_a_non_serious_ae_has_no_icsr(safety: Any, complete_ae: Any, pv: Any):
    ae = adverse_event_create(
        registration=safety.registration,
        data=complete_ae(),
        by=safety.users["nurse"],
        complete=True,
    )
    response = login(pv).get(f"/safety/adverse-events/{ae.pk}/icsr.xml")
    assert response.status_code == 422
    assert "not serious" in response.content.decode()


def test_cli_exports_the_icsr_as_a_named_user(sae: Any, pv: Any, tmp_path: Path):
    from oncotrials.cli.main import app

    runner = CliRunner()
    args = ["export", "e2b", "--ae", str(sae.pk), "--report", "1", "--out", str(tmp_path)]
    result = runner.invoke(app, [*args, "--user", "pv", "--format", "json"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert made["version"] == 1
    written = Path(made["file"]).read_bytes()
    assert schema_errors(written, E2B_SCHEMA) == []
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert (event.actor, event.channel) == (pv, "cli")
    anonymous = runner.invoke(app, args)
    assert anonymous.exit_code == 1
    assert "Give --user" in anonymous.stderr
    outsider = runner.invoke(app, [*args, "--user", "outsider"])
    assert outsider.exit_code == 1
    assert f"No adverse event {sae.pk} that you may see" in outsider.stderr


def test_a_refusal_of_the_e2b_builder_reads_in_french(sae: Any, pv: Any, monkeypatch: Any):
    """The builder (framework-free) refuses with a code and its values; the API words it in the
    user's language, E2B field and dates in place, and nothing is audited."""
    import dataclasses

    from oncotrials.apps.safety import e2b

    real = e2b.icsr_for

    def backdated(*args: Any) -> Any:
        icsr = real(*args)
        return dataclasses.replace(
            icsr, most_recent_information=icsr.first_received - dt.timedelta(days=1)
        )

    monkeypatch.setattr(e2b, "icsr_for", backdated)
    client = login(pv)
    url = f"/api/v1/safety/adverse-events/{sae.pk}/icsr"
    english = client.get(url)
    assert english.status_code == 422
    assert english.json()["message"].startswith("The date of most recent information (C.1.5, ")
    client.cookies["django_language"] = "fr"
    french = client.get(url)
    assert french.status_code == 422
    message = french.json()["message"]
    assert message.startswith("La date de l’information la plus récente (C.1.5, ")
    assert "précède la date de première réception (C.1.4, " in message
    assert french.json()["code"] == english.json()["code"] == "e2b_date_most_recent_information"
    assert french.json()["extra"]["field"] == "C.1.5"
    assert not AuditEvent.objects.filter(action="export", object_type="safety.saereport").exists()
