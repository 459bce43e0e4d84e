from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "oncotrials.apps.safety"
    label = "safety"
    verbose_name = "Safety: adverse events, SAEs, DLT review"

    def ready(self) -> None:
        # Adverse events take part in the generic queries, SDV and e-signatures of the casebook.
        # The DLT review re-evaluates when a lab value or a drug administration changes, and is
        # where the escalation reads each patient's DLT outcome.
        from oncotrials.apps.crfs.hooks import register_record_listener
        from oncotrials.apps.crfs.records import casebook_provider_register, record_type_register
        from oncotrials.apps.dosing.outcomes import register_dlt_status_provider

        from .dlt_review import dlt_reevaluate_after_record, dlt_statuses_for
        from .models import AdverseEvent

        record_type_register(AdverseEvent)
        casebook_provider_register(_adverse_events)
        register_record_listener(dlt_reevaluate_after_record)
        register_dlt_status_provider(dlt_statuses_for)


def _adverse_events(registration: Any) -> Any:
    from .models import AdverseEvent

    return AdverseEvent.objects.filter(registration=registration)
