from __future__ import annotations

from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "oncotrials.apps.dosing"
    label = "dosing"
    verbose_name = "Dose escalation"

    def ready(self) -> None:
        from .wiring import connect  # models are ready only now

        connect()
