from __future__ import annotations

from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "oncotrials.apps.matching"
    label = "matching"
    verbose_name = "Trial matching"
