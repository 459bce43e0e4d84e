"""The copy-number plot of a sample: its segments along the genome, rendered as SVG.

Drawn with matplotlib's Agg backend as the efficacy plots are (text kept as text). The x axis
runs over chromosomes 1-22, X, Y end to end, at their lengths in the sample's genome build;
each segment is a horizontal line at its log2 copy ratio (clipped to the axis, an arrow marks a
clipped one); segments with loss of heterozygosity are drawn again on a track below. Marks carry
ids (``gid``: ``segment-<chrom>-<start>``, ``loh-<chrom>-<start>``) so that a reader, or a
test, can find them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from django.utils.translation import gettext as _
from matplotlib.figure import Figure

from oncotrials.core.genomics.model import GenomeBuild, Segment
from oncotrials.core.genomics.seg import CHROMOSOMES, chromosome_sizes

_RC: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "oncotrials", "font.size": 8}
# log2 ratios shown; beyond them a segment sits on the edge with a marker
Y_LIMIT = 2.5
# a segment counts as gained or lost beyond this log2 ratio (colour only)
_CALL = 0.2
_GAIN, _LOSS, _NEUTRAL, _LOH = "#b2182b", "#2166ac", "#666666", "#762a83"


def _offsets(build: GenomeBuild) -> tuple[dict[str, int], int]:
    sizes = chromosome_sizes()[build]
    offsets: dict[str, int] = {}
    total = 0
    for c in CHROMOSOMES:
        offsets[c] = total
        total += sizes[c]
    return offsets, total


def segments_svg(segments: Sequence[Segment], *, build: GenomeBuild | None, title: str = "") -> str:
    """An SVG document plotting ``segments`` (one sample) along the genome."""
    used = build or GenomeBuild.GRCH37
    offsets, total = _offsets(used)
    sizes = chromosome_sizes()[used]
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(9.0, 3.2))
        grid = fig.add_gridspec(2, 1, height_ratios=(5, 1), hspace=0.08)
        ax = fig.add_subplot(grid[0])
        track = fig.add_subplot(grid[1], sharex=ax)
    for i, c in enumerate(CHROMOSOMES):
        if i % 2:
            for a in (ax, track):
                a.axvspan(offsets[c], offsets[c] + sizes[c], color="#f2f2f2", lw=0, zorder=0)
    ax.axhline(0, color="#999999", lw=0.6, zorder=1)
    for g in segments:
        x0, x1 = offsets[g.chromosome] + g.start, offsets[g.chromosome] + g.end
        y = max(-Y_LIMIT, min(Y_LIMIT, g.log2_ratio))
        colour = _GAIN if g.log2_ratio > _CALL else _LOSS if g.log2_ratio < -_CALL else _NEUTRAL
        (line,) = ax.plot([x0, x1], [y, y], color=colour, lw=2.2, solid_capstyle="butt", zorder=3)
        line.set_gid(f"segment-{g.chromosome}-{g.start}")
        if y != g.log2_ratio:
            ax.plot([(x0 + x1) / 2], [y], marker="^" if y > 0 else "v", color=colour, ms=4)
        if g.is_loh:
            bar = track.broken_barh([(x0, max(x1 - x0, total / 2000))], (0.15, 0.7), color=_LOH)
            bar.set_gid(f"loh-{g.chromosome}-{g.start}")
    ax.set_xlim(0, total)
    ax.set_ylim(-Y_LIMIT - 0.2, Y_LIMIT + 0.2)
    ax.set_ylabel(_("log2 copy ratio"))
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    track.set_ylim(0, 1)
    track.set_yticks([0.5], [_("LOH")])
    track.spines[["top", "right"]].set_visible(False)
    centres = [offsets[c] + sizes[c] / 2 for c in CHROMOSOMES]
    track.set_xticks(centres, list(CHROMOSOMES), fontsize=6)
    track.set_xlabel(_("Chromosome ({build})").format(build=used.value))
    if title:
        ax.set_title(title, loc="left", fontsize=9)
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()
