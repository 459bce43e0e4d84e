from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "oncotrials.apps.operations"
    label = "operations"
    verbose_name = "Unit operations"
