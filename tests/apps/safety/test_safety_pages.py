"""Safety pages: the AE summary plot, SAE reports and ASTCT assessments entered from the UI."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oncotrials.apps.safety.models import AstctAssessment, SaeReport
from oncotrials.apps.safety.services import adverse_event_create
from oncotrials.apps.trials.models import Trial


def test_ae_summary_plot_is_svg_and_downloadable(safety, complete_ae, client_for):
    adverse_event_create(
        registration=safety.registration,
        data=complete_ae(),
        by=safety.users["nurse"],
        complete=True,
    )
    url = f"/trials/{safety.registration.trial_id}/safety/ae-summary.svg"
    r = client_for("investigator").get(url)
    assert r["Content-Type"] == "image/svg+xml"
    assert r.content.lstrip().startswith(b"<?xml")
    assert b"Colitis" in r.content
    r = client_for("investigator").get(url + "?download=1")
    assert "attachment" in r["Content-Disposition"]
    assert client_for("outsider").get(url).status_code == 404


def test_an_sae_report_is_recorded_from_the_ae_page(safety, complete_ae, client_for):
    ae = adverse_event_create(
        registration=safety.registration,
        data=complete_ae(
            seriousness=["hospitalisation"],
            awareness_at=(timezone.now() - dt.timedelta(hours=3)).isoformat(),
        ),
        by=safety.users["nurse"],
        complete=True,
    )
    c = client_for("investigator")
    assert "Record the report" in c.get(f"/safety/adverse-events/{ae.pk}/").content.decode()
    sent = (ae.sae_aware_at + dt.timedelta(hours=1)).replace(tzinfo=None)
    sent = sent.isoformat(timespec="minutes")  # as a datetime-local field sends it (UTC)
    r = c.post(f"/safety/adverse-events/{ae.pk}/sae-reports/", {"kind": "initial", "sent_at": sent})
    assert r.status_code == 302
    assert SaeReport.objects.get().kind == "initial"
    r = client_for("monitor").post(
        f"/safety/adverse-events/{ae.pk}/sae-reports/", {"kind": "follow_up", "sent_at": sent}
    )
    assert r.status_code == 404  # the monitor of another trial sees nothing
    assert SaeReport.objects.count() == 1


def test_crs_entered_on_the_patient_page_is_graded(safety, client_for):
    Trial.objects.filter(pk=safety.registration.trial_id).update(modality="cell_therapy")
    c = client_for("nurse")
    page = c.get(f"/patients/{safety.journey.patient.pk}/adverse-events/").content.decode()
    assert "Record a CRS assessment" in page
    r = c.post(
        f"/safety/registrations/{safety.registration.pk}/astct/",
        {
            "scale": "ASTCT_CRS",
            "assessed_at": "2026-11-15T09:00",
            "temperature_c": "38.6",
            "oxygen_device": "blow_by",
        },
    )
    assert r.status_code == 302
    record = AstctAssessment.objects.get()
    # Lee et al. 2019 (ASTCT CRS table): fever with hypoxia needing blow-by oxygen is grade 2.
    assert record.grade == 2
    page = c.get(f"/patients/{safety.journey.patient.pk}/adverse-events/").content.decode()
    assert "Grade 2" in page


def test_ae_list_endpoint_keeps_a_query_budget(safety, complete_ae, client_for):
    c = client_for("investigator")
    url = f"/api/v1/safety/adverse-events?registration_id={safety.registration.pk}"

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx.captured_queries)

    adverse_event_create(
        registration=safety.registration, data=complete_ae(), by=safety.users["nurse"]
    )
    one = queries()
    for _ in range(5):
        adverse_event_create(
            registration=safety.registration, data=complete_ae(), by=safety.users["nurse"]
        )
    assert queries() <= one + 1
