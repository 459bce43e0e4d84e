"""The dose-escalation history plot: each patient at their dose level, DLTs marked, server-side SVG."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from matplotlib.ticker import MaxNLocator

from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.trials.models import DoseLevel

from .models import EscalationPlan
from .outcomes import DltStatus, dlt_statuses

OUTCOME_LABELS: dict[str, Promise] = {
    "dlt": gettext_lazy("DLT"),
    "no_dlt": gettext_lazy("no DLT"),
    "pending": gettext_lazy("pending"),
    "not_evaluable": gettext_lazy("not evaluable"),
}


def _level_label(level: int, dose_level: DoseLevel | None) -> str:
    if dose_level is None:
        return f"DL{level}"
    return f"DL{level} ({dose_level.dose.normalize():f} {dose_level.unit})"


@dataclass(frozen=True)
class SequenceRow:
    """One patient of the plot, in order of registration: the plot's data as a table."""

    order: int
    registered_on: dt.date
    level: int
    outcome: str

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS.get(self.outcome, self.outcome))


def cohort_registrations(plan: EscalationPlan) -> list[Registration]:
    """The registrations of the plan's cohort at a dose level, in order of registration."""
    return list(
        Registration.objects.filter(cohort=plan.cohort, dose_level__isnull=False)
        .select_related("dose_level", "trial", "cohort")
        .order_by("registered_on", "pk")
    )


def escalation_sequence(
    *,
    plan: EscalationPlan,
    registrations: list[Registration] | None = None,
    statuses: Mapping[int, DltStatus] | None = None,
) -> list[SequenceRow]:
    """Each patient treated in the cohort, in order: dose level and DLT outcome
    (``registrations``, as ``cohort_registrations`` reads them, and their DLT ``statuses``:
    when the caller has read them, else read here)."""
    regs = cohort_registrations(plan) if registrations is None else registrations
    statuses = dlt_statuses(regs) if statuses is None else statuses
    return [
        SequenceRow(i, r.registered_on, r.dose_level.level, statuses[r.pk].outcome)
        for i, r in enumerate(regs, start=1)
        if r.dose_level is not None
    ]


def escalation_history_svg(*, plan: EscalationPlan) -> bytes:
    regs = cohort_registrations(plan)
    statuses = dlt_statuses(regs)
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    colours = {
        "dlt": "#a3262a",
        "no_dlt": "#1b7f3b",
        "pending": "#a15c00",
        "not_evaluable": "#888888",
    }
    seen: set[str] = set()
    for i, reg in enumerate(regs, start=1):
        assert reg.dose_level is not None
        key = statuses[reg.pk].outcome
        ax.scatter(
            i,
            reg.dose_level.level,
            s=70,
            color=colours[key],
            marker="X" if key == "dlt" else "o",
            label=str(OUTCOME_LABELS.get(key, key)) if key not in seen else None,
            zorder=3,
        )
        seen.add(key)
    if regs:
        ax.plot(
            range(1, len(regs) + 1),
            [r.dose_level.level for r in regs if r.dose_level],
            color="#9bb",
            zorder=1,
        )
    ax.set_xlabel(_("Patient (order of registration)"))
    ax.set_ylabel(_("Dose level"))
    ax.set_title(f"{plan.cohort} — {plan.get_design_display()}")
    # whole dose levels and patients: one patient alone must not give ticks at 1.005
    levels = [dl.level for dl in plan.cohort.dose_levels.all()] + [
        r.dose_level.level for r in regs if r.dose_level
    ]
    if levels:
        ax.set_ylim(min(levels) - 0.5, max(levels) + 0.5)
        # The dose axis names each level as the trial labels it (DL-1, DL0, DL1...) with its dose.
        doses = {dl.level: dl for dl in plan.cohort.dose_levels.order_by("level", "pk")}
        ticks = sorted(set(levels))
        ax.set_yticks(ticks)
        ax.set_yticklabels([_level_label(level, doses.get(level)) for level in ticks], fontsize=8)
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlim(0.5, max(len(regs), 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(alpha=0.3)
    if seen:
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    if not regs:
        ax.text(
            0.5,
            0.5,
            _("No patient treated yet"),
            transform=ax.transAxes,
            ha="center",
            color="#666",
        )
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    return buffer.getvalue()
