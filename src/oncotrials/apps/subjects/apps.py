from __future__ import annotations

from django.apps import AppConfig


class SubjectsConfig(AppConfig):
    name = "oncotrials.apps.subjects"
    label = "subjects"
    verbose_name = "Patients and their journey"

    def ready(self) -> None:
        from .wiring import connect  # models are ready only now

        connect()
