from __future__ import annotations

from django.apps import AppConfig


class GenomicsConfig(AppConfig):
    name = "oncotrials.apps.genomics"
    label = "genomics"
    verbose_name = "Clinical-genomic database"
