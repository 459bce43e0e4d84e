from __future__ import annotations

from django.apps import AppConfig


class MtbConfig(AppConfig):
    name = "oncotrials.apps.mtb"
    label = "mtb"
    verbose_name = "Molecular tumour board"

    def ready(self) -> None:
        from .wiring import connect  # models are ready only now

        connect()
