"""Data cuts and SDTM exports from the database: audited cuts, reproducible files, scope, pages,
API and CLI.

The trial data: two registered patients of T-SHARED (one per site) with a complete AE whose
verbatim term has 250 characters, a lab result, a dose and a RECIST baseline and follow-up.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pyreadstat
import pytest
from exports_data import VERBATIM

from oncotrials.core.errors import ConflictError, ValidationError


def _read(files: dict[str, bytes], name: str, tmp_path: Path) -> Any:
    path = tmp_path / name
    path.write_bytes(files[name])
    frame, _meta = pyreadstat.read_xport(str(path))
    return frame


def test_a_cut_is_audited_and_exports_the_same_files_each_time(trial_data: Any, tmp_path: Path):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files

    admin = trial_data.unit.users["admin"]
    trial = trial_data.cohort.trial
    cut = data_cut_create(trial=trial, name="interim-1", formats=["sdtm"], by=admin, reason="DSMB")
    assert cut.subjects == 2
    assert sorted(cut.cut_sites.values_list("site__code", flat=True)) == ["main", "partner"]
    event = AuditEvent.objects.get(action="data_cut.create", object_id=str(cut.pk))
    assert event.actor_username == "admin"
    assert event.changes["formats"] == ["sdtm"]
    assert event.changes["files"]["sdtm"]["dm.xpt"] == cut.files["sdtm"]["dm.xpt"]["sha256"]
    first = data_cut_files(cut=cut, fmt="sdtm", by=admin)
    second = data_cut_files(cut=cut, fmt="sdtm", by=admin)
    assert first == second
    assert AuditEvent.objects.filter(action="data_cut.export", object_id=str(cut.pk)).count() == 2
    # the data change afterwards; the cut does not
    from oncotrials.apps.safety.models import AdverseEvent

    AdverseEvent.objects.update(term="Changed")
    assert data_cut_files(cut=cut, fmt="sdtm", by=admin) == first
    dm = _read(first, "dm.xpt", tmp_path)
    research_ids = {trial_data.patient.research_id, trial_data.partner_patient.research_id}
    assert set(dm["SUBJID"]) == research_ids
    assert set(dm["COUNTRY"]) == {"FRA", "USA"}
    assert not any("Martin" in data.decode("latin-1") for data in first.values())  # no names


def test_the_250_character_verbatim_term_lands_in_suppae(trial_data: Any, tmp_path: Path):
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files

    admin = trial_data.unit.users["admin"]
    cut = data_cut_create(trial=trial_data.cohort.trial, name="c", formats=["sdtm"], by=admin)
    files = data_cut_files(cut=cut, fmt="sdtm", by=admin)
    ae = _read(files, "ae.xpt", tmp_path)
    supp = _read(files, "suppae.xpt", tmp_path)
    (row,) = ae.itertuples()
    assert row.AETOXGR == "3"
    assert len(row.AETERM) <= 200
    rest = supp[(supp["QNAM"] == "AETERM1") & (supp["IDVARVAL"] == str(int(row.AESEQ)))]
    assert row.AETERM + "".join(rest["QVAL"]) == VERBATIM
    assert set(supp.loc[supp["QNAM"] == "CTCAEVER", "QVAL"]) == {"5.0"}
    tr = _read(files, "tr.xpt", tmp_path)
    assert list(tr.loc[tr["TRTESTCD"] == "SUMDIAM", "TRSTRESN"]) == [50.0, 32.0]
    rs = _read(files, "rs.xpt", tmp_path)
    # 32 mm is 36 % below the baseline 50 mm: PR (RECIST 1.1 Table 1)
    assert list(rs.loc[rs["RSTESTCD"] == "OVRLRESP", "RSORRES"]) == ["PR"]


def test_a_monitor_exports_only_its_trial_at_its_site(trial_data: Any, client_for: Any):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant
    from oncotrials.apps.exports.selectors import data_cuts_for_user
    from oncotrials.apps.exports.services import data_cut_create

    unit = trial_data.unit
    trial = trial_data.cohort.trial
    monitor = unit.users["monitor_other"]
    membership_grant(user=monitor, role=Role.SPONSOR_MONITOR, site=unit.main, trial=trial)
    from oncotrials.apps.accounts.access import forget_scope

    forget_scope(monitor)
    mine = data_cut_create(trial=trial, name="monitor", formats=["sdtm"], by=monitor)
    assert list(mine.cut_sites.values_list("site__code", flat=True)) == ["main"]
    assert mine.subjects == 1
    whole = data_cut_create(trial=trial, name="all", formats=["sdtm"], by=unit.users["admin"])
    assert list(data_cuts_for_user(user=monitor)) == [mine]  # not the cut of both sites
    client = client_for("monitor")  # the monitor of T-MAIN only
    assert client.get(f"/exports/cuts/{mine.pk}/").status_code == 404
    assert client.get(f"/api/v1/exports/cuts/{whole.pk}/files/sdtm").status_code == 404
    answer = client.post(
        "/api/v1/exports/cuts",
        json.dumps({"trial_id": trial.pk, "name": "x", "formats": ["sdtm"]}),
        content_type="application/json",
    )
    assert answer.status_code == 404


def test_a_nurse_sees_the_cut_list_but_may_not_export(trial_data: Any, client_for: Any):
    from oncotrials.apps.exports.services import data_cut_create

    cut = data_cut_create(
        trial=trial_data.cohort.trial, name="n", formats=["sdtm"], by=trial_data.unit.users["admin"]
    )
    client = client_for("datamanager")
    assert client.get(f"/exports/cuts/{cut.pk}/").status_code == 404  # partner site in the cut
    nurse = client_for("nurse")
    assert nurse.get("/exports/").status_code == 200
    assert "cut-form" not in nurse.get("/exports/").content.decode()


def test_bad_requests_are_refused_clearly(trial_data: Any) -> None:
    from oncotrials.apps.exports.models import DataCut
    from oncotrials.apps.exports.services import data_cut_create

    admin = trial_data.unit.users["admin"]
    trial = trial_data.cohort.trial
    with pytest.raises(ValidationError, match=r"Unknown export format 'fhir2'; known: .*sdtm"):
        data_cut_create(trial=trial, name="x", formats=["fhir2"], by=admin)
    with pytest.raises(ValidationError, match="name of 1 to 100"):
        data_cut_create(trial=trial, name="  ", formats=["sdtm"], by=admin)
    data_cut_create(trial=trial, name="once", formats=["sdtm"], by=admin)
    with pytest.raises(ConflictError, match="already has a data cut named 'once'"):
        data_cut_create(trial=trial, name="once", formats=["sdtm"], by=admin)
    trial_data.unit.partner.country = ""
    trial_data.unit.partner.save()
    with pytest.raises(ValidationError, match="Site partner has country"):
        data_cut_create(trial=trial, name="no-country", formats=["sdtm"], by=admin)
    assert DataCut.objects.count() == 1


def test_web_page_makes_a_cut_and_serves_its_files(trial_data: Any, client_for: Any) -> None:
    client = client_for("admin")
    trial = trial_data.cohort.trial
    page = client.get("/exports/")
    assert page.status_code == 200
    assert "cut-form" in page.content.decode()
    answer = client.post(
        "/exports/", {"trial": trial.pk, "name": "web cut", "formats": ["sdtm"], "reason": ""}
    )
    assert answer.status_code == 302
    detail = client.get(answer["Location"])
    body = detail.content.decode()
    assert "web cut" in body
    assert "define.xml" in body
    cut_id = int(answer["Location"].rstrip("/").rsplit("/", 1)[1])
    archive = client.get(f"/exports/cuts/{cut_id}/sdtm.zip")
    assert archive["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert f"{trial.protocol_code}-web_cut-sdtm/define.xml" in names
    again = client.get(f"/exports/cuts/{cut_id}/sdtm.zip")
    assert again.content == archive.content  # the same archive, byte for byte
    xpt = client.get(f"/exports/cuts/{cut_id}/sdtm/dm.xpt")
    assert xpt.content.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD")
    assert client.get(f"/exports/cuts/{cut_id}/sdtm/nope.xpt").status_code == 404
    assert client.get(f"/exports/cuts/{cut_id}/odm.zip").status_code == 404


def test_api_lists_makes_and_downloads_cuts(trial_data: Any, client_for: Any) -> None:
    client = client_for("admin")
    trial = trial_data.cohort.trial
    formats = client.get("/api/v1/exports/formats").json()
    assert {"sdtm", "fhir", "odm", "cbioportal"} <= {f["name"] for f in formats}
    made = client.post(
        "/api/v1/exports/cuts",
        json.dumps({"trial_id": trial.pk, "name": "api cut", "formats": ["sdtm"]}),
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    cut = made.json()
    assert {f["name"] for f in cut["files"]} >= {"dm.xpt", "dm.json", "define.xml"}
    listed = client.get(f"/api/v1/exports/cuts?trial_id={trial.pk}").json()
    assert listed["count"] == 1
    assert listed["items"][0]["name"] == "api cut"
    one = client.get(f"/api/v1/exports/cuts/{cut['id']}/files/sdtm/define.xml")
    assert one.status_code == 200
    assert one.content.startswith(b"<?xml")
    sha = next(f["sha256"] for f in cut["files"] if f["name"] == "define.xml")
    import hashlib

    assert hashlib.sha256(one.content).hexdigest() == sha
    dup = client.post(
        "/api/v1/exports/cuts",
        json.dumps({"trial_id": trial.pk, "name": "api cut", "formats": ["sdtm"]}),
        content_type="application/json",
    )
    assert dup.status_code == 409
    assert dup.json()["code"] == "conflict"


def test_exported_tu_tr_rs_read_back_give_the_same_responses(trial_data: Any, tmp_path: Path):
    """Round trip: our TU/TR/RS, read back as third-party data, recompute to the RS we wrote."""
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files
    from oncotrials.core.sdtm import read_table
    from oncotrials.core.sdtm.recist_check import recist_agreement

    admin = trial_data.unit.users["admin"]
    cut = data_cut_create(trial=trial_data.cohort.trial, name="rt", formats=["sdtm"], by=admin)
    files = data_cut_files(cut=cut, fmt="sdtm", by=admin)
    tables = {}
    for name in ("tu", "tr", "rs", "dm"):
        (tmp_path / f"{name}.xpt").write_bytes(files[f"{name}.xpt"])
        tables[name] = read_table(tmp_path / f"{name}.xpt").rows
    report = recist_agreement(tables["tu"], tables["tr"], tables["rs"], tables["dm"])
    assert [(r.reported, r.recomputed) for r in report.rows] == [("PR", "PR")]
