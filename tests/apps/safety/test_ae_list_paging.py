"""The adverse-event list of the API is paged: ``{"items": [...], "count": n}``."""

from __future__ import annotations

from oncotrials.apps.safety.services import adverse_event_create


def test_adverse_event_list_is_paged(safety, client_for):
    for day in (14, 15, 16):
        adverse_event_create(
            registration=safety.registration,
            data={"term": "Nausea", "grade": 1, "onset_date": f"2026-11-{day}"},
            by=safety.users["nurse"],
        )
    c = client_for("investigator")
    first = c.get("/api/v1/safety/adverse-events?page_size=2").json()
    last = c.get("/api/v1/safety/adverse-events?page_size=2&page=2").json()
    assert (first["count"], len(first["items"]), len(last["items"])) == (3, 2, 1)
    onsets = [ae["onset_date"] for ae in first["items"] + last["items"]]
    assert onsets == ["2026-11-14", "2026-11-15", "2026-11-16"]
