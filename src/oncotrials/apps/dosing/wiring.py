"""How dosing plugs into the apps below it, connected once from ``DosingConfig.ready``:
registration asks the escalation which dose the next patient may receive."""

from __future__ import annotations

from oncotrials.apps.subjects.inclusion_rules import register_dose_gate

from .services import next_patient_doses


def connect() -> None:
    register_dose_gate(next_patient_doses)
