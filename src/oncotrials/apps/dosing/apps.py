from __future__ import annotations

from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "oncotrials.apps.dosing"
    label = "dosing"
    verbose_name = "Dose escalation"

    def ready(self) -> None:
        # Registration asks the escalation which dose the next patient may receive.
        from oncotrials.apps.subjects.inclusion_rules import register_dose_gate

        from .services import next_patient_doses

        register_dose_gate(next_patient_doses)
