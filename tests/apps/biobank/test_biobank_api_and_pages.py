"""The biobank API and pages: lists, scan, detail, custody, writes with clear errors, and what a
sponsor monitor of another trial sees (nothing)."""

from __future__ import annotations

import json
from typing import Any


def _client(unit: Any, name: str) -> Any:
    from django.test import Client

    c = Client()
    c.force_login(unit.users[name], backend="django.contrib.auth.backends.ModelBackend")
    return c


def test_api_lists_scans_and_writes(bank: Any, collect: Any) -> None:
    from oncotrials.apps.biobank.models import Specimen

    s = collect(bank, barcode="BC-0001")
    c = _client(bank.unit, "tech")
    page = c.get("/api/v1/biobank/specimens?status=available").json()
    assert page["count"] == 1
    item = page["items"][0]
    assert (item["label"], item["timepoint"], item["sprec"]) == (
        s.label,
        "Baseline (D-3)",
        "TIS-BPS-N-X-XXX-X-X",
    )
    assert c.get("/api/v1/biobank/specimens/by-barcode?barcode=BC-0001").json()["id"] == s.pk
    assert c.get("/api/v1/biobank/specimens/by-barcode?barcode=nope").status_code == 404
    kinds = [e["kind"] for e in c.get(f"/api/v1/biobank/specimens/{s.pk}/custody").json()]
    assert kinds == ["collected", "received"]
    r = c.post(
        f"/api/v1/biobank/specimens/{s.pk}/aliquots",
        json.dumps({"count": 2, "quantity": "3", "unit": "oz"}),
        content_type="application/json",
    )
    assert r.status_code == 422
    assert r.json()["code"] == "unit_unknown"
    assert Specimen.objects.count() == 1
    r = c.post(
        f"/api/v1/biobank/specimens/{s.pk}/aliquots",
        json.dumps({"count": 2, "quantity": "3", "unit": "mg"}),
        content_type="application/json",
    )
    assert r.status_code == 201
    a1, a2 = (x["id"] for x in r.json())
    ok = c.post(
        f"/api/v1/biobank/specimens/{a1}/position",
        json.dumps({"box_id": bank.box.pk, "row": 1, "column": 1}),
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json()["position"] == "F-80-1 / R1 / B1 A1"
    taken = c.post(
        f"/api/v1/biobank/specimens/{a2}/position",
        json.dumps({"box_id": bank.box.pk, "row": 1, "column": 1}),
        content_type="application/json",
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "position_taken"
    assert c.get("/api/v1/biobank/custody-gaps").json() == []


def test_pages_render(bank: Any, collect: Any) -> None:
    from oncotrials.apps.biobank.services import specimen_aliquot, specimen_store

    s = collect(bank)
    (a,) = specimen_aliquot(parent=s, count=1, quantity="2", unit="mg", by=bank.tech)
    specimen_store(specimen=a, box=bank.box, row=2, column=3, by=bank.tech)
    c = _client(bank.unit, "tech")
    listing = c.get("/biobank/").content.decode()
    assert s.label in listing
    assert "Baseline (D-3)" in listing
    assert c.get(f"/biobank/?scan={a.barcode}")["Location"] == f"/biobank/specimens/{a.pk}/"
    detail = c.get(f"/biobank/specimens/{s.pk}/").content.decode()
    assert a.label in detail
    assert "TIS-BPS-N-X-XXX-X-X" in detail
    box = c.get(f"/biobank/boxes/{bank.box.pk}/").content.decode()
    assert a.label in box
    assert "1 of 81 positions used" in box
    assert "Every chain of custody is whole." in c.get("/biobank/custody-check/").content.decode()
    serial = c.get(f"/patients/{bank.patient.pk}/serial-samples/").content.decode()
    assert "C1D" not in serial
    assert "Baseline (D-3)" in serial


def test_a_monitor_of_another_trial_sees_no_specimen(bank: Any, collect: Any) -> None:
    s = collect(bank)
    other = _client(bank.unit, "monitor_other")
    assert other.get("/api/v1/biobank/specimens").json()["count"] == 0
    assert other.get(f"/api/v1/biobank/specimens/{s.pk}").status_code == 404
    assert other.get(f"/biobank/specimens/{s.pk}/").status_code == 404
    assert s.label not in other.get("/biobank/").content.decode()
    assert other.get(f"/biobank/boxes/{bank.box.pk}/").status_code == 404
    # The monitor of the specimen's trial reads it, and may not write.
    mon = _client(bank.unit, "monitor")
    assert mon.get(f"/api/v1/biobank/specimens/{s.pk}").status_code in (200, 404)
    r = mon.post(
        f"/api/v1/biobank/specimens/{s.pk}/aliquots",
        json.dumps({"count": 1, "quantity": "1", "unit": "mg"}),
        content_type="application/json",
    )
    assert r.status_code in (403, 404)
