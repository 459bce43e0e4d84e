"""How safety plugs into the apps below it, connected once from ``SafetyConfig.ready``.

Adverse events take part in the generic queries, SDV and e-signatures of the casebook; the DLT
review re-evaluates when a lab value or a drug administration changes, and is where the
escalation reads each patient's DLT outcome; the adverse-event log of a cycle is kept once AEs
are recorded in that cycle. Imports of other apps stay at module level so that the layering
contract sees them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from oncotrials.apps.crfs.hooks import register_record_listener
from oncotrials.apps.crfs.records import casebook_provider_register, record_type_register
from oncotrials.apps.dosing.outcomes import register_dlt_status_provider
from oncotrials.apps.subjects.visit_evidence import group_dates, register_visit_evidence

from .dlt_review import dlt_reevaluate_after_record, dlt_statuses_for
from .models import AdverseEvent


def connect() -> None:
    record_type_register(AdverseEvent)
    casebook_provider_register(_adverse_events)
    register_record_listener(dlt_reevaluate_after_record)
    register_visit_evidence(_adverse_event_dates, per_cycle=("adverse_events",))
    register_dlt_status_provider(dlt_statuses_for)


def _adverse_events(registration: Any) -> Any:
    return AdverseEvent.objects.filter(registration=registration)


def _adverse_event_dates(
    registration_ids: Collection[int],
) -> Mapping[int, Mapping[str, Iterable[dt.date]]]:
    """``adverse_events`` -> onset dates of each registration's AEs (one query)."""
    rows = AdverseEvent.objects.filter(
        registration_id__in=registration_ids, onset_date__isnull=False
    ).values_list("registration_id", "onset_date")
    return group_dates((reg_id, "adverse_events", on) for reg_id, on in rows)
