"""Exports of the demo unit, every format from one load of the demo (loading it is most of the
cost): the same cut gives byte-identical files, and a second cut of the unchanged data gives the
same content and the same files but for their timestamps.

- SDTM: every file passes its validator on the way (``sdtm_files`` checks the XPT widths, the
  Dataset-JSON schema and the Define-XML XSD).
- ODM: a schema-valid document whose completed forms all land in it, with audit records, and
  whose metadata reads back as the trial's own declarations.
- FHIR: one subject per registration, and the bundle passes FHIR.js.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from lxml import etree

from fhir_validation import errors, validate

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}

TIMESTAMPS = (
    re.compile(rb"\d{2}[A-Z]{3}\d{2}:\d{2}:\d{2}:\d{2}"),  # XPT headers
    re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"),  # Dataset-JSON, Define-XML
)


def _masked(data: bytes) -> bytes:
    for pattern in TIMESTAMPS:
        data = pattern.sub(b"#", data)
    return data


def test_demo_exports_are_reproducible(db: Any, tmp_path: Path) -> None:
    from django.db.models import Count

    from oncotrials.apps.demo import demo_load
    from oncotrials.apps.trials.models import Trial

    demo_load(seed=7)
    trials = list(
        Trial.objects.annotate(n=Count("registrations"))
        .filter(n__gt=0)
        .order_by("-n", "protocol_code")[:2]
    )
    assert trials
    forms = 0
    for trial in trials:
        _sdtm(trial)
        forms += _odm(trial)
    assert forms > 0  # the demo's casebooks reach the ODM file
    _fhir(trials[0], tmp_path)


def _sdtm(trial: Any) -> None:
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files

    cut = data_cut_create(trial=trial, name="repro", formats=["sdtm"], by=None)
    assert cut.subjects == trial.registrations.count()
    first = data_cut_files(cut=cut, fmt="sdtm", by=None)
    assert data_cut_files(cut=cut, fmt="sdtm", by=None) == first
    assert {"ae.xpt", "lb.xpt", "tr.xpt", "rs.xpt", "define.xml"} <= set(first)
    again = data_cut_create(trial=trial, name="repro-2", formats=["sdtm"], by=None)
    assert again.content_sha256 == cut.content_sha256
    second = data_cut_files(cut=again, fmt="sdtm", by=None)
    assert {n: _masked(d) for n, d in second.items()} == {n: _masked(d) for n, d in first.items()}


def _odm(trial: Any) -> int:
    from oncotrials.apps.crfs.models import FormInstance, FormStatus
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files
    from oncotrials.core.crf import form_spec_from_dict
    from oncotrials.core.odm import forms_from_odm, odm_schema_errors, study_from_json

    complete = FormInstance.objects.filter(
        registration__trial=trial, status=FormStatus.COMPLETE
    ).count()
    cut = data_cut_create(trial=trial, name="odm", formats=["odm"], by=None)
    files = data_cut_files(cut=cut, fmt="odm", by=None)
    assert data_cut_files(cut=cut, fmt="odm", by=None) == files
    xml = files["odm.xml"]
    assert odm_schema_errors(xml) == []
    root = etree.fromstring(xml)
    assert len(root.findall(".//odm:FormData", NS)) == complete
    if complete:
        assert root.find(".//odm:ItemData/odm:AuditRecord", NS) is not None
    declared = study_from_json(cut.content["odm"]).declarations
    back = forms_from_odm(xml)
    assert [form_spec_from_dict(d) for d in back] == [form_spec_from_dict(d) for d in declared]
    return complete


def _fhir(trial: Any, tmp_path: Path) -> None:
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files

    cut = data_cut_create(trial=trial, name="fhir-demo", formats=["fhir"], by=None)
    files = data_cut_files(cut=cut, fmt="fhir", by=None)
    assert data_cut_files(cut=cut, fmt="fhir", by=None) == files
    again = data_cut_create(trial=trial, name="fhir-demo-2", formats=["fhir"], by=None)
    assert again.content_sha256 == cut.content_sha256  # unchanged data, the same content
    assert set(files) == {"bundle.json"}
    bundle = json.loads(files["bundle.json"])
    kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds["Patient"] == kinds["ResearchSubject"] == trial.registrations.count()
    assert kinds["AdverseEvent"] > 0
    assert kinds["Observation"] > 0
    path = tmp_path / "bundle.json"
    path.write_bytes(files["bundle.json"])
    assert errors(validate([path])["bundle.json"]) == []
