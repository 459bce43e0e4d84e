"""How subjects plugs into the apps below it, connected once from ``SubjectsConfig.ready``.

The audit trail chains events per trial: a trial's own events, and those of every object that
belongs to a registration (adverse events, forms, labs, assessments, ...), go to its trial's
partition. A registration never changes trial, so its trial id is remembered per process.
Trials ask, before a site leaves a trial, whether the site still holds registrations in it.
"""

from __future__ import annotations

from typing import Any

from oncotrials.apps.audit.partitions import audit_partition_register, trial_partition
from oncotrials.apps.trials.hooks import register_site_usage

from .models import Registration

_trial_of_registration: dict[int, int] = {}


def registrations_at_site(trial: Any, site: Any) -> tuple[str, int]:
    """The registrations of ``trial`` of patients of ``site`` (a site holding any stays)."""
    return "registrations", Registration.objects.filter(trial=trial, patient__site=site).count()


def _registration_partition(registration_id: Any) -> str | None:
    trial_id = _trial_of_registration.get(registration_id)
    if trial_id is None:
        trial_id = (
            Registration.objects.filter(pk=registration_id)
            .values_list("trial_id", flat=True)
            .first()
        )
        if trial_id is None:
            return None
        if len(_trial_of_registration) > 100_000:
            _trial_of_registration.clear()
        _trial_of_registration[registration_id] = trial_id
    return trial_partition(trial_id)


def forget_registration_trials() -> None:
    """Forget the remembered trial of each registration (the database was emptied: ids are
    given again to other rows)."""
    _trial_of_registration.clear()


def connect() -> None:
    register_site_usage(registrations_at_site)
    audit_partition_register(model="trials.trial", resolve=lambda trial: trial_partition(trial.pk))
    audit_partition_register(attribute="registration_id", resolve=_registration_partition)
