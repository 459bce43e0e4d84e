"""PDX growth curves rendered server-side as SVG (matplotlib, Agg backend).

One panel: tumour volume (mm³) against days from the start of treatment; each arm has a colour,
its mice thin lines and its mean a thick line with markers. Marks carry ids (``gid``) naming the
arm and mouse so that a reader, or a test, can find them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from django.utils.translation import gettext as _
from matplotlib.figure import Figure

from .selectors_pdx import ArmGrowth

_RC: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "oncotrials", "font.size": 9}
_PALETTE = ("#2166ac", "#b2182b", "#1b7837", "#762a83", "#e08214", "#35978f")
_CONTROL = "#7f7f7f"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()


def growth_svg(model_id: str, arms: Sequence[ArmGrowth]) -> str:
    """Volumes over time for every arm of a model (mice thin, arm mean thick)."""
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.5, 4.2))
        ax = fig.add_subplot()
        ax.spines[["top", "right"]].set_visible(False)
        plotted = False
        colour_index = 0
        for growth in arms:
            arm = growth.arm
            if arm.is_control:
                colour = _CONTROL
            else:
                colour = _PALETTE[colour_index % len(_PALETTE)]
                colour_index += 1
            for mouse in growth.mice:
                if not mouse.points:
                    continue
                (line,) = ax.plot(
                    [d for d, _ in mouse.points],
                    [v for _, v in mouse.points],
                    color=colour,
                    linewidth=0.7,
                    alpha=0.45,
                )
                line.set_gid(f"mouse-{_slug(arm.name)}-{_slug(mouse.label)}")
            if growth.mean_points:
                label = arm.name + (f" — {growth.call}" if growth.call else "")
                (line,) = ax.plot(
                    [d for d, _ in growth.mean_points],
                    [v for _, v in growth.mean_points],
                    color=colour,
                    linewidth=2.2,
                    marker="o",
                    markersize=3.5,
                    label=label,
                )
                line.set_gid(f"arm-{_slug(arm.name)}")
                plotted = True
        if plotted:
            ax.set_xlabel(_("Days from the start of treatment"))
            ax.set_ylabel(_("Tumour volume (mm³)"))
            ax.set_ylim(bottom=0)
            ax.legend(title=_("Arm (mRECIST of the mean)"), frameon=False, fontsize=8)
        else:
            ax.axis("off")
            ax.text(
                0.5,
                0.5,
                _("No tumour measurement yet."),
                ha="center",
                va="center",
                transform=ax.transAxes,
                gid="empty-state",
            )
        ax.set_title(_("Tumour growth — %(model)s") % {"model": model_id})
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()
