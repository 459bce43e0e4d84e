"""Efficacy plots rendered server-side as SVG with matplotlib's Agg backend.

Each function takes the plain data of ``selectors.efficacy_data`` / ``pfs_summary`` and returns an
SVG document (text kept as text, so it stays searchable and small). Marks carry ids (``gid``) that
name the patient, so a reader, or a test, can find them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from django.utils.translation import gettext as _
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .selectors import DAYS_PER_MONTH, PatientEfficacy, PfsSummary

PLOTS = ("waterfall", "spider", "swimmer", "pfs")
_COLOURS = {
    "CR": "#1b7837",
    "PR": "#5aae61",
    "SD": "#f1a340",
    "NON-CR/NON-PD": "#4393c3",
    "PD": "#d6604d",
    "NE": "#999999",
}
_MARKERS = {"CR": "*", "PR": "^", "SD": "o", "NON-CR/NON-PD": "s", "PD": "X", "NE": "."}
_RC: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "oncotrials", "font.size": 9}


def _family(response: str | None) -> str:
    """iRECIST responses take the colour of their RECIST 1.1 counterpart (iUPD/iCPD as PD)."""
    if not response:
        return "NE"
    r = response
    if r.startswith("i") or "-i" in r:
        r = r.replace("NON-iCR/NON-iUPD", "NON-CR/NON-PD").lstrip("i")
        r = {"UPD": "PD", "CPD": "PD"}.get(r, r)
    return r if r in _COLOURS else "NE"


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()


def _figure(width: float = 7.5, height: float = 4.2) -> tuple[Figure, Any]:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height))
        ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _legend(
    ax: Any, responses: Sequence[str], *, markers: bool = False, outside: bool = False
) -> None:
    seen = [r for r in _COLOURS if r in {_family(x) for x in responses}]
    if not seen:
        return
    if markers:
        handles: list[Any] = [
            Line2D(
                [],
                [],
                marker=_MARKERS[r],
                linestyle="",
                color=_COLOURS[r],
                markersize=8,
                label=r,
            )
            for r in seen
        ]
    else:
        handles = [Patch(color=_COLOURS[r], label=r) for r in seen]
    if outside:  # beside the plot, never over a bar
        ax.legend(
            handles=handles,
            title=_("Response"),
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
        )
    else:
        ax.legend(handles=handles, title=_("Response"), frameon=False, loc="best", fontsize=8)


def _message(title: str, text: str) -> str:
    fig, ax = _figure(height=2.2)
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, gid="empty-state")
    return _svg(fig)


def waterfall_svg(patients: Sequence[PatientEfficacy]) -> str:
    """Best % change of the target sum from baseline, one bar per patient, largest first."""
    title = _("Best change in sum of target lesions")
    rows = sorted(
        (p for p in patients if p.best_change_pct is not None),
        key=lambda p: -float(p.best_change_pct or 0),
    )
    if not rows:
        return _message(title, _("No patient has a measured target sum at follow-up yet."))
    fig, ax = _figure(width=max(6.0, 0.45 * len(rows) + 2.5))
    for i, p in enumerate(rows):
        value = float(p.best_change_pct or 0)
        bar = ax.bar(i, value, color=_COLOURS[_family(p.bor)], width=0.8)[0]
        bar.set_gid(f"waterfall-{p.label}")
    ax.axhline(20, color="#d6604d", linestyle="--", linewidth=0.8)
    ax.axhline(-30, color="#1b7837", linestyle="--", linewidth=0.8)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(range(len(rows)), [p.label for p in rows], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(_("Best change from baseline (%)"))
    low = min(-40.0, min(float(p.best_change_pct or 0) for p in rows) - 5)
    high = max(30.0, max(float(p.best_change_pct or 0) for p in rows) + 5)
    ax.set_ylim(low, high)
    ax.set_title(title)
    _legend(ax, [p.bor or "NE" for p in rows])
    return _svg(fig)


def spider_svg(patients: Sequence[PatientEfficacy]) -> str:
    """% change of the target sum from baseline over time, one line per patient."""
    title = _("Change in sum of target lesions over time")
    rows = [p for p in patients if len(p.trajectory) > 1]
    if not rows:
        return _message(title, _("No patient has a measured target sum at follow-up yet."))
    fig, ax = _figure()
    for p in rows:
        xs = [day / 7 for day, _ in p.trajectory]
        ys = [float(v) for _, v in p.trajectory]
        (line,) = ax.plot(xs, ys, marker="o", markersize=3, color=_COLOURS[_family(p.bor)])
        line.set_gid(f"spider-{p.label}")
    ax.axhline(20, color="#d6604d", linestyle="--", linewidth=0.8)
    ax.axhline(-30, color="#1b7837", linestyle="--", linewidth=0.8)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel(_("Weeks from start of treatment"))
    ax.set_ylabel(_("Change from baseline (%)"))
    ax.set_title(title)
    _legend(ax, [p.bor or "NE" for p in rows])
    return _svg(fig)


def swimmer_svg(patients: Sequence[PatientEfficacy]) -> str:
    """Time on treatment per patient, with each assessment's response; arrows for ongoing."""
    title = _("Time on treatment and responses")
    rows = sorted(patients, key=lambda p: (p.end - p.start).days)
    if not rows:
        return _message(title, _("No patient registered in this trial yet."))
    fig, ax = _figure(height=max(2.8, 0.32 * len(rows) + 1.4))
    seen: list[str] = []
    longest = max((p.end - p.start).days for p in rows) / DAYS_PER_MONTH
    for i, p in enumerate(rows):
        months = (p.end - p.start).days / DAYS_PER_MONTH
        bar = ax.barh(i, months, color="#c6dbef", edgecolor="#4a6fa5", height=0.6)[0]
        bar.set_gid(f"swimmer-{p.label}")
        if p.ongoing:
            ax.annotate(
                "",
                xy=(months + max(longest * 0.06, 0.3), i),
                xytext=(months, i),
                arrowprops={"arrowstyle": "->", "color": "#4a6fa5"},
            )
        for day, response in p.responses:
            family = _family(response)
            seen.append(response)
            ax.plot(
                day / DAYS_PER_MONTH,
                i,
                marker=_MARKERS[family],
                color=_COLOURS[family],
                markersize=8 if family in ("CR", "PD") else 6,
                linestyle="",
                markeredgecolor="black",
                markeredgewidth=0.4,
            )
    ax.set_yticks(range(len(rows)), [p.label for p in rows], fontsize=7)
    ax.set_xlabel(_("Months from start of treatment (arrow: still on treatment)"))
    ax.set_xlim(0, longest * 1.12 + 0.5)
    ax.set_title(title)
    _legend(ax, seen, markers=True, outside=True)
    return _svg(fig)


def pfs_svg(summary: PfsSummary | None) -> str:
    """Kaplan-Meier PFS with censoring marks, median and 1-year rate."""
    title = _("Progression-free survival (Kaplan-Meier)")
    if summary is None:
        return _message(title, _("No patient with a start of treatment to estimate PFS from."))
    fig, ax = _figure()
    xs = [t / DAYS_PER_MONTH for t, _ in summary.curve]
    ys = [s for _, s in summary.curve]
    (line,) = ax.step(xs, ys, where="post", color="#2166ac", linewidth=1.6)
    line.set_gid("km-curve")
    if summary.censored:
        (marks,) = ax.plot(
            [t / DAYS_PER_MONTH for t, _ in summary.censored],
            [s for _, s in summary.censored],
            marker="|",
            linestyle="",
            color="#2166ac",
            markersize=9,
        )
        marks.set_gid("km-censored")
    median = (
        _("%(months).1f months") % {"months": summary.median_months}
        if summary.median_months is not None
        else _("not reached")
    )
    one_year = (
        f"{100 * summary.one_year:.0f} %" if summary.one_year is not None else _("not estimable")
    )
    if summary.median_months is not None:
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=0.8)
    ax.text(
        0.98,
        0.95,
        _("n = %(n)s, events = %(events)s\nMedian PFS: %(median)s\n1-year PFS: %(one_year)s")
        % {"n": summary.km.n, "events": summary.km.events, "median": median, "one_year": one_year},
        transform=ax.transAxes,
        ha="right",
        va="top",
        gid="km-summary",
    )
    ax.set_ylim(0, 1.05)
    ax.set_xlim(left=0)
    ax.set_xlabel(_("Months from start of treatment"))
    ax.set_ylabel(_("Progression-free probability"))
    ax.set_title(title)
    return _svg(fig)


def render(plot: str, patients: Sequence[PatientEfficacy], summary: PfsSummary | None) -> str:
    if plot == "waterfall":
        return waterfall_svg(patients)
    if plot == "spider":
        return spider_svg(patients)
    if plot == "swimmer":
        return swimmer_svg(patients)
    return pfs_svg(summary)
