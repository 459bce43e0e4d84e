"""PDX tumour growth and drug response: caliper volumes and mRECIST.

mRECIST classifies the response of one patient-derived xenograft (one mouse, or one model x
drug) from its tumour volumes over time, as defined by Gao et al. and as coded in the Xeva
package (function ``mRECIST``, R/mRECIST.R, bhklab/Xeva at 54c191f8). This module is a
clean-room reimplementation of that definition:

* volume change ``ΔVol_t = 100 × (V_t − V_0) / V_0`` (V_0 the first measurement; when V_0 is 0
  every volume is shifted by +1 mm³ first, as Xeva does);
* average response ``AvgResponse_t`` = the running mean of ΔVol from day 0 up to t;
* best response (BR) = the minimum ΔVol_t over t ≥ ``min_time`` (10 days), best average response
  (BAR) = the minimum AvgResponse_t over the same days; ties go to the earliest day;
* at least 2 measurements at t ≥ ``min_time`` are needed, otherwise there is no call;
* the call starts at PD and each later rule that matches overrides it: SD when BR < 35 and
  BAR < 30, PR when BR < −50 and BAR < −20, CR when BR < −95 and BAR < −40 (all comparisons
  strict). Both conditions of a rule are needed: BR 37.05 with BAR 19.99 stays PD.

References
----------
Gao H. et al. High-throughput screening using patient-derived tumor xenografts to predict
clinical trial drug response. Nat Med 2015;21:1318-25 (Methods, "mRECIST").
Mer A.S. et al. Integrative pharmacogenomics analysis of patient-derived xenografts. Cancer Res
2019;79:4539-50 (the Xeva package).
"""

from __future__ import annotations

import csv
import enum
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from oncotrials.core.errors import ValidationError

#: Days before which measurements do not count for the best response (Xeva ``min.time``).
DEFAULT_MIN_TIME = 10.0

#: The caliper formula recorded with every computed volume.
CALIPER_FORMULA = "V = L × W² / 2 (mm³; L the longest diameter, W the perpendicular one, mm)"


class MRecist(enum.StrEnum):
    """The four mRECIST classes (Gao et al. 2015)."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"


@dataclass(frozen=True, slots=True)
class MRecistRule:
    """One classification rule: ``call`` when BR < ``br_below`` and BAR < ``bar_below``."""

    call: MRecist
    br_below: float
    bar_below: float

    def describe(self) -> str:
        return f"{self.call} needs BR < {self.br_below:g} and BAR < {self.bar_below:g}"


#: Rules in the order Xeva applies them; the last rule that matches wins, PD when none does.
MRECIST_RULES: tuple[MRecistRule, ...] = (
    MRecistRule(MRecist.SD, 35.0, 30.0),
    MRecistRule(MRecist.PR, -50.0, -20.0),
    MRecistRule(MRecist.CR, -95.0, -40.0),
)


@dataclass(frozen=True, slots=True)
class MRecistResult:
    """mRECIST of one growth series, with every intermediate value.

    ``call`` is None when fewer than two measurements fall at or after ``min_time`` (Xeva
    answers NA); ``reason`` then says so. Percentages are volume changes from day 0.
    """

    model_id: str
    drug: str
    n: int
    times: tuple[float, ...]
    volumes: tuple[float, ...]
    volume_change: tuple[float, ...]
    average_response: tuple[float, ...]
    best_response: float | None
    best_response_time: float | None
    best_average_response: float | None
    best_average_response_time: float | None
    call: MRecist | None
    reason: str
    min_time: float
    volume_shifted: bool


def caliper_volume(length_mm: float, width_mm: float) -> float:
    """Tumour volume from caliper diameters: ``V = L × W² / 2`` (mm³).

    ``length_mm`` is the longest diameter and ``width_mm`` the perpendicular one; a width
    greater than the length is accepted (callipers are not always read in that order) and the two
    are swapped, so the formula always squares the shorter diameter.
    """
    for name, value in (("length", length_mm), ("width", width_mm)):
        if not math.isfinite(value) or value < 0:
            raise ValidationError(
                f"A caliper {name} must be a finite number of millimetres ≥ 0; got {value}.",
                field=name,
            )
    long_d, short_d = max(length_mm, width_mm), min(length_mm, width_mm)
    return long_d * short_d * short_d / 2.0


def _best(times: Sequence[float], values: Sequence[float], min_time: float) -> tuple[float, float]:
    """The minimum of ``values`` over ``times >= min_time``, the earliest day on ties."""
    best_value = math.inf
    best_time = math.nan
    for t, v in zip(times, values, strict=True):
        if t >= min_time and v < best_value:
            best_value, best_time = v, t
    return best_value, best_time


def mrecist(
    times: Sequence[float],
    volumes: Sequence[float],
    *,
    min_time: float = DEFAULT_MIN_TIME,
    model_id: str = "",
    drug: str = "",
) -> MRecistResult:
    """Classify one tumour growth series by mRECIST (Gao et al. 2015, as coded in Xeva).

    Parameters
    ----------
    times
        Days since the start of treatment (day 0 is the baseline measurement). Measurements are
        sorted by day; two measurements on the same day are refused.
    volumes
        Tumour volumes (mm³), ≥ 0, one per day.
    min_time
        Measurements before this day do not count for BR and BAR (Xeva default 10 days).

    Returns
    -------
    MRecistResult
        BR, BAR (with the day each was reached), the call and the rule that decided it.

    References
    ----------
    Gao H. et al., Nat Med 2015;21:1318-25. Xeva ``mRECIST()``, R/mRECIST.R (bhklab/Xeva).
    """
    label = f"{model_id} ({drug})" if drug else model_id or "the series"
    if len(times) != len(volumes):
        raise ValidationError(
            f"{label}: {len(times)} days but {len(volumes)} volumes; give one volume per day."
        )
    if not times:
        raise ValidationError(f"{label}: no measurement; give at least the day-0 volume.")
    if not math.isfinite(min_time) or min_time < 0:
        raise ValidationError(f"min_time must be a number of days ≥ 0; got {min_time}.")
    points = sorted(zip((float(t) for t in times), (float(v) for v in volumes), strict=True))
    for index, (t, v) in enumerate(points):
        if not math.isfinite(t):
            raise ValidationError(f"{label}: a day is not a number ({t}).", field="time")
        if not math.isfinite(v) or v < 0:
            raise ValidationError(
                f"{label}: the volume on day {t:g} must be a finite number of mm³ ≥ 0; got {v}.",
                field="volume",
            )
        if index and points[index - 1][0] == t:
            raise ValidationError(
                f"{label}: two volumes on day {t:g}; keep one measurement per day.",
                field="time",
            )
    days = tuple(t for t, _ in points)
    vols = tuple(v for _, v in points)
    shifted = vols[0] == 0
    if shifted:
        vols = tuple(v + 1.0 for v in vols)
    v0 = vols[0]
    change = tuple(100.0 * (v - v0) / v0 for v in vols)
    running: list[float] = []
    total = 0.0
    for i, c in enumerate(change, start=1):
        total += c
        running.append(total / i)
    average = tuple(running)

    late = sum(1 for t in days if t >= min_time)
    common = {
        "model_id": model_id,
        "drug": drug,
        "n": len(days),
        "times": days,
        "volumes": vols,
        "volume_change": change,
        "average_response": average,
        "min_time": min_time,
        "volume_shifted": shifted,
    }
    if late < 2:
        return MRecistResult(
            **common,  # type: ignore[arg-type]
            best_response=None,
            best_response_time=None,
            best_average_response=None,
            best_average_response_time=None,
            call=None,
            reason=(
                f"No call: {late} measurement(s) on or after day {min_time:g}; mRECIST needs "
                "at least 2."
            ),
        )
    br, br_time = _best(days, change, min_time)
    bar, bar_time = _best(days, average, min_time)
    call, reason = classify(br, bar)
    return MRecistResult(
        **common,  # type: ignore[arg-type]
        best_response=br,
        best_response_time=br_time,
        best_average_response=bar,
        best_average_response_time=bar_time,
        call=call,
        reason=reason,
    )


def classify(best_response: float, best_average_response: float) -> tuple[MRecist, str]:
    """The mRECIST call from BR and BAR, with the rule that decided it (PD when none matched)."""
    call = MRecist.PD
    sd = MRECIST_RULES[0]
    failed = [
        f"{name} {value:.2f} is not < {limit:g}"
        for name, value, limit in (
            ("BR", best_response, sd.br_below),
            ("BAR", best_average_response, sd.bar_below),
        )
        if not value < limit
    ]
    reason = f"PD: {sd.describe()}; {' and '.join(failed)}."
    for rule in MRECIST_RULES:
        if best_response < rule.br_below and best_average_response < rule.bar_below:
            call = rule.call
            reason = (
                f"{rule.call}: BR {best_response:.2f} < {rule.br_below:g} and "
                f"BAR {best_average_response:.2f} < {rule.bar_below:g}."
            )
    return call, reason


@dataclass(frozen=True, slots=True)
class GrowthSeries:
    """The volumes of one model x drug, as read from a file."""

    model_id: str
    drug: str
    times: tuple[float, ...]
    volumes: tuple[float, ...]


#: Accepted column names (Xeva's ``experiments.csv`` uses the dotted ones).
_COLUMNS = {
    "model_id": ("model.id", "model_id"),
    "time": ("time", "day"),
    "volume": ("volume", "volume_mm3"),
    "drug": ("drug", "treatment"),
}


def read_growth_csv(source: str | Path, *, name: str | None = None) -> list[GrowthSeries]:
    """Read tumour volumes from a CSV in the Xeva ``experiments.csv`` layout.

    Columns ``model.id`` (or ``model_id``), ``time`` (days), ``volume`` (mm³) and optionally
    ``drug``. Rows are grouped by model and drug, in order of first appearance. An empty or
    non-numeric cell is refused with its line and column.
    """
    if isinstance(source, Path):
        text = source.read_text(encoding="utf-8-sig")
        name = name or source.name
    else:
        text = source
    name = name or "the file"
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ValidationError(f"{name} is empty; it needs a header line.") from None
    index: dict[str, int] = {}
    for key, names in _COLUMNS.items():
        for column in names:
            if column in header:
                index[key] = header.index(column)
                break
    missing = [_COLUMNS[k][0] for k in ("model_id", "time", "volume") if k not in index]
    if missing:
        raise ValidationError(
            f"{name}: line 1 lacks the column(s) {', '.join(missing)}; the header must name "
            "model.id, time and volume (and optionally drug).",
            line=1,
        )
    groups: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise ValidationError(
                f"{name}: line {line_no} has {len(row)} cells, the header {len(header)}.",
                line=line_no,
            )
        model_id = row[index["model_id"]].strip()
        if not model_id:
            raise ValidationError(
                f"{name}: line {line_no}, column model.id is empty; every row needs its model.",
                line=line_no,
                field="model.id",
            )
        drug = row[index["drug"]].strip() if "drug" in index else ""
        values: list[float] = []
        for key in ("time", "volume"):
            cell = row[index[key]].strip()
            try:
                value = float(cell)
            except ValueError:
                raise ValidationError(
                    f"{name}: line {line_no}, column {header[index[key]]} is {cell!r}, not a "
                    "number.",
                    line=line_no,
                    field=header[index[key]],
                ) from None
            if not math.isfinite(value) or value < 0:
                raise ValidationError(
                    f"{name}: line {line_no}, column {header[index[key]]} is {cell}; it must be "
                    "a finite number ≥ 0.",
                    line=line_no,
                    field=header[index[key]],
                )
            values.append(value)
        days, vols = groups.setdefault((model_id, drug), ([], []))
        if values[0] in days:
            raise ValidationError(
                f"{name}: line {line_no} repeats day {values[0]:g} for {model_id}; keep one "
                "measurement per day.",
                line=line_no,
                field="time",
            )
        days.append(values[0])
        vols.append(values[1])
    if not groups:
        raise ValidationError(f"{name} has a header but no measurement.")
    return [
        GrowthSeries(model_id, drug, tuple(days), tuple(vols))
        for (model_id, drug), (days, vols) in groups.items()
    ]


def mrecist_all(
    series: Iterable[GrowthSeries], *, min_time: float = DEFAULT_MIN_TIME
) -> list[MRecistResult]:
    """mRECIST of every series (see :func:`mrecist`)."""
    return [
        mrecist(s.times, s.volumes, min_time=min_time, model_id=s.model_id, drug=s.drug)
        for s in series
    ]


def time_to_volume(
    times: Sequence[float], volumes: Sequence[float], threshold: float = 1000.0
) -> float | None:
    """The first day the tumour reaches ``threshold`` mm³, by linear interpolation.

    Used for a passage's growth rate ("time to 1,000 mm³"). None when it never reaches it; the
    first day when it starts at or above it.
    """
    points = sorted(zip(times, volumes, strict=True))
    previous: tuple[float, float] | None = None
    for t, v in points:
        if v >= threshold:
            if previous is None:
                return float(t)
            t0, v0 = previous
            return float(t0 + (threshold - v0) * (t - t0) / (v - v0))
        previous = (t, v)
    return None
