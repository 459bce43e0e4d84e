"""Operations plots, server-side SVG (matplotlib Agg, text kept as text): the accrual forecast,
the chair/bed Gantt of a day, and the day's nurse load against the staffing."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from django.utils.translation import gettext as _
from matplotlib.figure import Figure

_RC: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "oncotrials", "font.size": 9}
_UNIT_COLOURS = {"chair": "#4393c3", "bed": "#8073ac"}


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()


def _figure(width: float = 7.5, height: float = 4.0) -> tuple[Figure, Any]:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height))
        ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def accrual_svg(acc: Any) -> str:
    """Observed cumulative accrual (steps), the predictive band and median, the target line."""
    fig, ax = _figure()
    f = acc.result
    if f is not None:
        x = [0.0, *f.observed, f.now]
        y = [0, *range(1, len(f.observed) + 1), len(f.observed)]
        ax.step(x, y, where="post", color="#222222", label=_("Observed"), gid="observed")
        if f.accrued != len(f.observed):
            ax.plot([f.now], [f.accrued], "o", color="#222222", label=_("All centres now"))
        ax.fill_between(
            f.grid,
            f.lower,
            f.upper,
            color="#92c5de",
            alpha=0.5,
            step="post",
            label=_("95 % predictive band"),
            gid="band",
        )
        ax.plot(f.grid, f.median, color="#2166ac", label=_("Predicted median"), gid="median")
        best = f.best
        ax.axvline(best.median, color="#b2182b", linestyle=":", linewidth=1)
        ax.axvspan(best.lower, best.upper, color="#f4a582", alpha=0.25, gid="end-interval")
    ax.axhline(acc.target, color="#b2182b", linestyle="--", linewidth=1, label=_("Target"))
    ax.set_xlabel(_("Months since %(d)s") % {"d": acc.start.isoformat()})
    ax.set_ylabel(_("Patients accrued"))
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    return _svg(fig)


def gantt_svg(
    lanes: Sequence[tuple[str, Sequence[tuple[float, float, str, str]]]], *, title: str
) -> str:
    """One row per chair or bed (or lane); bars from hour to hour, labelled."""
    height = max(2.0, 0.28 * len(lanes) + 1.0)
    fig, ax = _figure(8.5, height)
    for i, (_name, bars) in enumerate(lanes):
        for start, end, label, unit in bars:
            ax.broken_barh(
                [(start, end - start)],
                (i - 0.4, 0.8),
                facecolors=_UNIT_COLOURS.get(unit, "#999999"),
                edgecolor="white",
                gid=f"booking-{label}",
            )
            if end - start >= 1.0:
                ax.text(start + 0.05, i, label, va="center", fontsize=6, color="white")
    ax.set_yticks(range(len(lanes)), [name for name, _bars in lanes])
    ax.invert_yaxis()
    ax.set_xlabel(_("Hour of the day"))
    ax.set_title(title, fontsize=9)
    return _svg(fig)


def nurse_load_svg(hours: Sequence[float], load: Sequence[float], capacity: Sequence[float]) -> str:
    """Nurse load (in nurses: quarter-nurse units ÷ 4) against the nurses on duty."""
    fig, ax = _figure(7.5, 2.8)
    ax.step(hours, capacity, where="post", color="#b2182b", label=_("Nurses on duty"))
    ax.fill_between(hours, load, step="post", color="#4393c3", alpha=0.6, label=_("Nurse load"))
    ax.set_xlabel(_("Hour of the day"))
    ax.set_ylabel(_("Nurses"))
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    return _svg(fig)
