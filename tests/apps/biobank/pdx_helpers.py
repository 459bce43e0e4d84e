"""What the PDX tests share: a time on a day, and a xenograft translational consent signed by the
biobank fixture's patient (the tier a PDX model needs)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def xenograft_consent(bank: Any) -> None:
    from oncotrials.apps.subjects.services import consent_form_create, consent_sign

    tiers = ["sample_storage", "future_research", "xenograft"]
    admin, nurse = bank.unit.users["admin"], bank.unit.users["nurse"]
    form = consent_form_create(
        kind="translational",
        programme="Xenografts",
        version="1.0",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
        by=admin,
        options=tiers,
    )
    consent_sign(
        patient=bank.patient,
        form=form,
        signed_on=dt.date(2026, 11, 3),
        by=nurse,
        options_granted=dict.fromkeys(tiers, True),
    )
