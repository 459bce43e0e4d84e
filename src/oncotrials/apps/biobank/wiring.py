"""How biobank plugs into the apps below it, connected once from ``BiobankConfig.ready``."""

from __future__ import annotations

from typing import Any

from oncotrials.apps.audit.partitions import (
    audit_partition_register,
    site_partition,
    trial_partition,
)


def _specimen_partition(specimen: Any) -> str | None:
    if specimen.registration_id is not None:
        return trial_partition(specimen.registration.trial_id)
    return site_partition(specimen.patient.site_id)


def connect() -> None:
    audit_partition_register(model="biobank.specimen", resolve=_specimen_partition)
