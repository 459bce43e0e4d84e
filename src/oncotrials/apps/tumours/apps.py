from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class TumoursConfig(AppConfig):
    name = "oncotrials.apps.tumours"
    label = "tumours"
    verbose_name = "Tumour assessments"

    def ready(self) -> None:
        # Tumour assessments take part in the generic queries, SDV and e-signatures of the casebook.
        from oncotrials.apps.crfs.records import casebook_provider_register, record_type_register

        from .models import Assessment

        record_type_register(Assessment)
        casebook_provider_register(_assessments)


def _assessments(registration: Any) -> Any:
    from .models import Assessment

    return Assessment.objects.filter(registration=registration)
