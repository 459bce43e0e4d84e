from __future__ import annotations

from django.apps import AppConfig


class TumoursConfig(AppConfig):
    name = "oncotrials.apps.tumours"
    label = "tumours"
    verbose_name = "Tumour assessments"

    def ready(self) -> None:
        from .wiring import connect  # models are ready only now

        connect()
