"""How the subjects app registers with the apps below it (connected from ``AppConfig.ready``)."""

from __future__ import annotations

from typing import Any

from oncotrials.apps.trials.hooks import register_site_usage

from .models import Registration


def registrations_at_site(trial: Any, site: Any) -> tuple[str, int]:
    """The registrations of ``trial`` of patients of ``site`` (a site holding any stays)."""
    return "registrations", Registration.objects.filter(trial=trial, patient__site=site).count()


def connect() -> None:
    register_site_usage(registrations_at_site)
