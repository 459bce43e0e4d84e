from __future__ import annotations

from django.apps import AppConfig


class CrfsConfig(AppConfig):
    name = "oncotrials.apps.crfs"
    label = "crfs"
    verbose_name = "Case report forms: queries, verification, signatures"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .wiring import connect  # models are ready only now

        connect()
