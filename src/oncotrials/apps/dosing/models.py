"""Dose escalation of a cohort: the design it runs, DLT outcomes, and the committee's decisions."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from oncotrials.core.designs.registry import live_designs

#: The designs' labels that are words rather than names (BOIN, CRM...), in the user's language.
_DESIGN_LABELS = {
    "3+3": _("3+3"),
    "Keyboard": _("Keyboard"),
    "BOIN for drug combinations": _("BOIN for drug combinations"),
    "Interval design": _("Interval design"),
}


def design_choices() -> list[tuple[str, Any]]:
    """The designs a cohort's escalation may run: every live design of the design registry."""
    return [
        (name, _DESIGN_LABELS.get(cls.label, cls.label)) for name, cls in live_designs().items()
    ]


class EscalationPlan(models.Model):
    cohort = models.OneToOneField(
        "trials.Cohort", on_delete=models.CASCADE, related_name="escalation_plan"
    )
    design = models.CharField(max_length=32, choices=design_choices)
    target = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("Target DLT rate (model-assisted designs)"),
    )
    cohort_size = models.PositiveSmallIntegerField(default=3)
    max_sample_size = models.PositiveSmallIntegerField(default=36)
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Design-specific parameters, e.g. a CRM skeleton or a DLT window in days"),
    )
    current_dose_level = models.ForeignKey(
        "trials.DoseLevel", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.get_design_display()} for {self.cohort}"


class DltOutcome(models.TextChoices):
    """A patient's DLT outcome, as the DLT review (apps/safety) decides it (see outcomes.py)."""

    PENDING = "pending", _("Pending (in DLT window)")
    DLT = "dlt", _("DLT")
    NO_DLT = "no_dlt", _("No DLT")
    NOT_EVALUABLE = "not_evaluable", _("Not evaluable")


class EscalationDecision(models.Model):
    """A safety review committee decision, beside the design's recommendation (both kept)."""

    plan = models.ForeignKey(EscalationPlan, on_delete=models.PROTECT, related_name="decisions")
    decided_at = models.DateTimeField()
    at_dose_level = models.ForeignKey(
        "trials.DoseLevel", on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField()  # per dose: level, treated, evaluable, dlts, pending
    recommended_action = models.CharField(max_length=16)
    recommended_dose_level = models.ForeignKey(
        "trials.DoseLevel", null=True, on_delete=models.PROTECT, related_name="+"
    )
    recommended_reason = models.TextField()
    rule = models.TextField(blank=True)
    decided_action = models.CharField(max_length=16)
    next_dose_level = models.ForeignKey(
        "trials.DoseLevel", null=True, on_delete=models.PROTECT, related_name="+"
    )
    deviation_reason = models.TextField(blank=True)
    signed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    # The signer's printed name when signing (21 CFR 11.50): first and last name, else user name.
    signed_name = models.CharField(max_length=300, blank=True)
    signature_meaning = models.CharField(max_length=200)

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.plan}: {self.decided_action} on {self.decided_at:%Y-%m-%d}"
