"""The adverse-event form assumes nothing clinical: a new event is not pre-marked as expected."""

from __future__ import annotations

from oncotrials.apps.safety.models import AdverseEvent


def test_a_new_ae_is_not_pre_marked_expected(safety, client_for):
    c = client_for("nurse")
    url = f"/safety/registrations/{safety.registration.pk}/adverse-events/new/"
    page = c.get(url).content.decode()
    expected = page.split('name="expected"', 1)[1].split(">", 1)[0]
    assert "checked" not in expected
    r = c.post(
        url,
        {"term": "Nausea", "grade": "2", "onset_date": "2026-11-15", "action": "draft"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 204
    assert AdverseEvent.objects.get().expected is False


def test_a_refused_ae_keeps_what_was_typed(safety, client_for):
    c = client_for("nurse")
    url = f"/safety/registrations/{safety.registration.pk}/adverse-events/new/"
    r = c.post(
        url,
        {
            "term": "Nausea",
            "grade": "5",
            "verbatim": "felt sick after dose",
            "onset_date": "2026-11-15",
            "expected": "on",
            "action": "draft",
        },
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 422
    page = r.content.decode()
    assert "Grade 5 does not exist" in page
    assert 'value="felt sick after dose"' in page
    assert 'name="onset_date" value="2026-11-15"' in page
    assert 'name="expected" checked' in page
    assert not AdverseEvent.objects.exists()
