from __future__ import annotations

from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "oncotrials.apps.trials"
    label = "trials"
    verbose_name = "Trial portfolio"
