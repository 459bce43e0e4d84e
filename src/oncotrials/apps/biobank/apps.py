from __future__ import annotations

from django.apps import AppConfig


class BiobankConfig(AppConfig):
    name = "oncotrials.apps.biobank"
    label = "biobank"
    verbose_name = "Biobank"

    def ready(self) -> None:
        from .wiring import connect  # models are ready only now

        connect()
