from __future__ import annotations

from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "oncotrials.apps.exports"
    label = "exports"
    verbose_name = "Exports and data cuts"

    def ready(self) -> None:
        # models are ready only now
        from .formats import register_builtin_formats
        from .formats_fhir import register_fhir_format
        from .formats_odm import register_odm_format

        register_builtin_formats()
        register_fhir_format()
        register_odm_format()
