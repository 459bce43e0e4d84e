from __future__ import annotations

from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "oncotrials.apps.trials"
    label = "trials"
    verbose_name = "Trial portfolio"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
