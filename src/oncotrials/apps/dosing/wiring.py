"""How dosing plugs into the apps below it, connected once from ``DosingConfig.ready``:
registration asks the escalation which dose the next patient may receive; the audit trail's row
digests of a plan leave out the current dose level and version, which each escalation decision
moves (audited on the decision, with the level before and after)."""

from __future__ import annotations

from oncotrials.apps.audit.sealing import audit_row_fields_exclude
from oncotrials.apps.subjects.inclusion_rules import register_dose_gate

from .services import next_patient_doses


def connect() -> None:
    register_dose_gate(next_patient_doses)
    audit_row_fields_exclude("dosing.escalationplan", ["current_dose_level_id", "version"])
