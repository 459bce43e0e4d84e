"""How biobank plugs into the apps below it, connected once from ``BiobankConfig.ready``.

A specimen's audit events go to its registration's trial chain (else its patient's site); the
withdrawal of a translational consent tier (``subjects.consent_hooks``) cascades to specimens,
shipments and sequencing data inside the withdrawal's transaction; the genomics visibility rule
learns which registration a sequenced specimen was collected under. A box's version moves with
each specimen stored into it (audited on the specimen, with the position), so the audit trail's
row digests of a container leave it out: ``audit verify --rows`` would otherwise report every box
filled since the container's own last event as edited outside the application.
"""

from __future__ import annotations

from typing import Any

from oncotrials.apps.audit.partitions import audit_partition_register, site_partition
from oncotrials.apps.audit.sealing import audit_row_fields_exclude
from oncotrials.apps.genomics.selectors import collected_under_register
from oncotrials.apps.subjects.consent_hooks import register_tier_withdrawal_listener

from .selectors import genomic_samples_collected_under
from .services import consent_tiers_withdrawn


def _specimen_partition(specimen: Any) -> str | None:
    if specimen.registration_id is not None:
        # The registration's trial: the audit trail's resolver of ``registration_id`` remembers
        # it per process (a registration never changes trial), so no query per event.
        return None
    return site_partition(specimen.patient.site_id)


def connect() -> None:
    audit_partition_register(model="biobank.specimen", resolve=_specimen_partition)
    register_tier_withdrawal_listener(consent_tiers_withdrawn)
    # A genomic sample sequenced from a specimen collected under a registration is that trial's.
    collected_under_register(genomic_samples_collected_under)
    audit_row_fields_exclude("biobank.container", ["version"])
    # A PDX model's version counts the passages added to it (each audited on the passage, not
    # on the model): bookkeeping, like the box's version, so it stays out of the model's row
    # digest. Every field describing the model (PDX-MI) is still covered.
    audit_row_fields_exclude("biobank.pdxmodel", ["version"])
