from __future__ import annotations

from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "oncotrials.apps.safety"
    label = "safety"
    verbose_name = "Safety: adverse events, SAEs, DLT review"

    def ready(self) -> None:
        from .wiring import connect  # models are ready only now

        connect()
