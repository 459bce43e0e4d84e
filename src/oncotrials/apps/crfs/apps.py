from __future__ import annotations

from django.apps import AppConfig


class CrfsConfig(AppConfig):
    name = "oncotrials.apps.crfs"
    label = "crfs"
    verbose_name = "Case report forms: queries, verification, signatures"
