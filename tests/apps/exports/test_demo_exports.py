"""Exports of the demo unit are reproducible: the same cut gives byte-identical files, and a
second cut of the unchanged data gives the same content and the same files but for their
timestamps. Every file passes its validator on the way (``sdtm_files`` checks the XPT widths,
the Dataset-JSON schema and the Define-XML XSD)."""

from __future__ import annotations

import re
from typing import Any

TIMESTAMPS = (
    re.compile(rb"\d{2}[A-Z]{3}\d{2}:\d{2}:\d{2}:\d{2}"),  # XPT headers
    re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"),  # Dataset-JSON, Define-XML
)


def _masked(data: bytes) -> bytes:
    for pattern in TIMESTAMPS:
        data = pattern.sub(b"#", data)
    return data


def test_demo_exports_are_reproducible(db: Any) -> None:
    from django.db.models import Count

    from oncotrials.apps.demo import demo_load
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files
    from oncotrials.apps.trials.models import Trial

    demo_load(seed=7)
    trials = list(
        Trial.objects.annotate(n=Count("registrations"))
        .filter(n__gt=0)
        .order_by("-n", "protocol_code")[:2]
    )
    assert trials
    for trial in trials:
        cut = data_cut_create(trial=trial, name="repro", formats=["sdtm"], by=None)
        assert cut.subjects == trial.registrations.count()
        first = data_cut_files(cut=cut, fmt="sdtm", by=None)
        assert data_cut_files(cut=cut, fmt="sdtm", by=None) == first
        assert {"ae.xpt", "lb.xpt", "tr.xpt", "rs.xpt", "define.xml"} <= set(first)
        again = data_cut_create(trial=trial, name="repro-2", formats=["sdtm"], by=None)
        assert again.content_sha256 == cut.content_sha256
        second = data_cut_files(cut=again, fmt="sdtm", by=None)
        assert {n: _masked(d) for n, d in second.items()} == {
            n: _masked(d) for n, d in first.items()
        }
