"""What every dose-finding design shares: the data so far, and the decision it returns."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.designs.reasons import Explanation
from oncotrials.core.errors import ValidationError


class Action(str, enum.Enum):
    """The next step a design recommends for the current dose."""

    ESCALATE = "escalate"
    STAY = "stay"
    DE_ESCALATE = "de-escalate"
    ELIMINATE = "eliminate"  # eliminate the current dose and those above, then de-escalate
    STOP = "stop"  # stop the trial (no dose is safe enough, or the sample size is reached)
    SUSPEND = "suspend"  # wait for pending follow-up before the next cohort


@dataclass(frozen=True, slots=True)
class DoseData:
    """Outcomes observed at one dose level.

    ``pending`` counts patients still inside the DLT window (``follow_up`` gives, per pending
    patient, the fraction of the window already observed, for time-to-event designs).
    """

    treated: int
    dlts: int
    pending: int = 0
    follow_up: tuple[float, ...] = ()

    def check(self, *, dose: int) -> None:
        if self.treated < 0 or self.dlts < 0 or self.pending < 0:
            raise ValidationError(
                f"Dose {dose}: counts must be non-negative; got treated={self.treated}, "
                f"dlts={self.dlts}, pending={self.pending}.",
                code="design_counts_negative",
                dose=dose,
                treated=self.treated,
                dlts=self.dlts,
                pending=self.pending,
            )
        if self.dlts > self.treated:
            raise ValidationError(
                f"Dose {dose}: {self.dlts} DLTs among {self.treated} treated patients; "
                "DLTs cannot exceed the number treated.",
                code="design_dlts_exceed_treated",
                dose=dose,
                dlts=self.dlts,
                treated=self.treated,
            )


@dataclass(frozen=True, slots=True)
class Decision:
    """A design's answer for the data so far: what to do next, why, and the table row used."""

    action: Action
    current_dose: int  # 0-based index into the dose levels
    next_dose: int | None  # None when the trial stops
    reason: str
    rule: str = ""  # the decision-table row or rule that decided
    eliminated: tuple[int, ...] = field(default_factory=tuple)
    mtd: int | None = None  # 0-based dose selected as MTD when the trial stops (None: none)
    #: the reason by its code and values (designs that word it from ``reasons.REASONS``), for
    #: an application to word in its user's language
    explained: Explanation | None = None
    #: the rule by its code and values (``reasons.RULES``), worded the same way
    rule_explained: Explanation | None = None


def check_doses(data: Sequence[DoseData], *, n_doses: int | None = None) -> None:
    """Validate per-dose data and, when given, that it covers exactly ``n_doses`` levels."""
    if n_doses is not None and len(data) != n_doses:
        raise ValidationError(
            f"Got data for {len(data)} dose levels but the design has {n_doses}; "
            "give one entry per dose level, in increasing order.",
            code="design_data_dose_count",
            count=len(data),
            n_doses=n_doses,
        )
    for i, d in enumerate(data):
        d.check(dose=i)


# --- shared validation and parsing helpers (added for the rule-based designs) ---------------


def check_probability(name: str, value: float, *, low: float = 0.0, high: float = 1.0) -> float:
    """Return ``value`` as a float if it lies strictly inside (low, high), else raise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{name} must be a number in ({low:g}, {high:g}); got {value!r}.",
            code="design_value_number_range",
            name=name,
            low=f"{low:g}",
            high=f"{high:g}",
            value=repr(value),
        ) from None
    if not (low < v < high):
        raise ValidationError(
            f"{name} must lie in ({low:g}, {high:g}); got {value!r}.",
            code="design_value_range",
            name=name,
            low=f"{low:g}",
            high=f"{high:g}",
            value=repr(value),
        )
    return v


def check_positive_int(name: str, value: int, *, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValidationError(
            f"{name} must be an integer >= {minimum}; got {value!r}.",
            code="design_value_integer_min",
            name=name,
            minimum=minimum,
            value=repr(value),
        )
    return int(value)


def check_truth(
    truth: Sequence[float], *, monotone: bool = True, name: str = "truth"
) -> NDArray[np.float64]:
    """Validate a vector of true DLT probabilities, one per dose level, in increasing dose order.

    Every rate must lie in [0, 1]; with ``monotone=True`` (rule-based and model-assisted
    designs assume toxicity increases with dose) the vector must be non-decreasing.
    """
    arr = np.asarray(truth, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValidationError(
            f"{name} must be a non-empty list of DLT probabilities, one per dose; got {truth!r}.",
            code="design_truth_empty",
            name=name,
            truth=repr(truth),
        )
    bad = np.flatnonzero(~((arr >= 0.0) & (arr <= 1.0)))
    if bad.size:
        i = int(bad[0])
        raise ValidationError(
            f"{name}[{i}] (dose {i + 1}) must be a probability in [0, 1]; got {float(arr[i])!r}.",
            code="design_truth_probability",
            name=name,
            i=i,
            dose=i + 1,
            value=repr(float(arr[i])),
        )
    if monotone:
        dec = np.flatnonzero(np.diff(arr) < 0)
        if dec.size:
            i = int(dec[0])
            raise ValidationError(
                f"{name} must be non-decreasing in dose; got {arr[i]:g} at dose {i + 1} then "
                f"{arr[i + 1]:g} at dose {i + 2}. Order the doses from lowest to highest.",
                code="design_truth_decreasing",
                name=name,
                rate=f"{arr[i]:g}",
                dose=i + 1,
                next_rate=f"{arr[i + 1]:g}",
                next_dose=i + 2,
            )
    return arr


def check_current(current: int, n_doses: int) -> int:
    """Validate a 0-based current dose index."""
    if isinstance(current, bool) or not isinstance(current, int | np.integer):
        raise ValidationError(
            f"current dose must be an integer index; got {current!r}.",
            code="design_current_not_integer",
            current=repr(current),
        )
    if not 0 <= current < n_doses:
        raise ValidationError(
            f"current dose {current} (0-based) is not one of the {n_doses} dose levels "
            f"0..{n_doses - 1}.",
            code="design_current_out_of_range",
            current=current,
            n_doses=n_doses,
            last=n_doses - 1,
        )
    return int(current)


def as_dose_data(data: Sequence[DoseData | tuple[int, int]]) -> tuple[DoseData, ...]:
    """Accept ``DoseData`` or ``(treated, dlts)`` pairs and validate them."""
    out: list[DoseData] = []
    for i, d in enumerate(data):
        if isinstance(d, DoseData):
            out.append(d)
        else:
            try:
                treated, dlts = d
            except (TypeError, ValueError):
                raise ValidationError(
                    f"Dose {i}: expected (treated, dlts) or DoseData; got {d!r}.",
                    code="design_data_item",
                    i=i,
                    d=repr(d),
                ) from None
            out.append(DoseData(treated=int(treated), dlts=int(dlts)))
    check_doses(out)
    return tuple(out)


def parse_dose_data(text: str) -> tuple[DoseData, ...]:
    """Parse ``"3/0,3/1,0/0"`` (treated/DLTs per dose, lowest first).

    A third field gives patients still pending in the DLT window: ``"6/1/2"``.
    """
    items = [s.strip() for s in text.replace(";", ",").split(",") if s.strip()]
    if not items:
        raise ValidationError(
            f"Dose data is empty: got {text!r}. Give treated/DLTs per dose, e.g. '3/0,3/1,0/0'.",
            code="design_data_text_empty",
            text=repr(text),
        )
    out: list[DoseData] = []
    for i, item in enumerate(items):
        parts = item.split("/")
        if len(parts) not in (2, 3) or not all(p.strip().isdigit() for p in parts):
            raise ValidationError(
                f"Dose {i} in the data: expected 'treated/DLTs' (or 'treated/DLTs/pending') with "
                f"non-negative integers; got {item!r}.",
                code="design_data_text_item",
                i=i,
                item=repr(item),
            )
        nums = [int(p) for p in parts]
        out.append(
            DoseData(treated=nums[0], dlts=nums[1], pending=nums[2] if len(nums) == 3 else 0)
        )
    check_doses(out)
    return tuple(out)


# --- escalation settings: what a cohort's escalation plan gives any live design -------------

ParamKind = Literal["number", "integer", "boolean", "text", "per-dose numbers"]


@dataclass(frozen=True, slots=True)
class Param:
    """A design-specific parameter of an escalation plan (``EscalationSettings.params``).

    ``kind`` says how the JSON value is read: a number, an integer, a boolean, a text, or
    ``"per-dose numbers"`` (a list with one number per dose level, lowest first).
    """

    kind: ParamKind
    help: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    """What a cohort's escalation plan fixes for whichever design runs it.

    ``params`` holds the design-specific parameters (a CRM skeleton, a DLT window, ...), as
    declared by the design's ``escalation_params``; :func:`check_escalation_params` reads and
    validates them. ``dose_amounts`` are the cohort's doses, lowest first, when known.
    """

    n_doses: int
    target: float | None = None
    cohort_size: int = 3
    max_sample_size: int = 36
    dose_amounts: tuple[float, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_cohorts(self) -> int:
        """Whole cohorts that fit in the maximum sample size (at least one)."""
        return max(self.max_sample_size // max(self.cohort_size, 1), 1)

    def target_for(self, design: str) -> float:
        """The target DLT rate, which ``design`` needs; an error naming the field otherwise."""
        t = self.target
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t < 1:
            raise ValidationError(
                f"The target DLT rate of {design} must lie in (0, 1); got {t}.",
                code="design_target",
                field="target",
                design=design,
                got=str(t),
            )
        return float(t)


def _param_value(key: str, spec: Param, value: Any, n_doses: int) -> Any:
    where = f"parameters.{key}"
    if spec.kind == "boolean":
        if not isinstance(value, bool):
            raise ValidationError(
                f"{where} must be true or false; got {value!r}.",
                code="design_param_boolean",
                field=where,
                value=repr(value),
            )
        return value
    if spec.kind == "text":
        if not isinstance(value, str):
            raise ValidationError(
                f"{where} must be a text; got {value!r}.",
                code="design_param_text",
                field=where,
                value=repr(value),
            )
        return value
    if spec.kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                f"{where} must be an integer; got {value!r}.",
                code="design_param_integer",
                field=where,
                value=repr(value),
            )
        return value
    if spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(
                f"{where} must be a number; got {value!r}.",
                code="design_param_number",
                field=where,
                value=repr(value),
            )
        return float(value)
    # per-dose numbers
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        raise ValidationError(
            f"{where} must be a list of numbers, one per dose level; got {value!r}.",
            code="design_param_per_dose",
            field=where,
            value=repr(value),
        )
    if len(value) != n_doses:
        raise ValidationError(
            f"{where} gives {len(value)} values but the cohort has {n_doses} dose levels; give "
            "one per dose level, lowest first.",
            code="design_param_count",
            field=where,
            count=len(value),
            n_doses=n_doses,
        )
    return tuple(float(v) for v in value)


def check_escalation_params(
    design: str, declared: Mapping[str, Param], settings: EscalationSettings
) -> dict[str, Any]:
    """Read ``settings.params`` against a design's declared parameters.

    Unknown keys, missing required keys and values of the wrong kind are errors naming the
    parameter (``field="parameters.<key>"``) and what the design accepts.
    """
    params = dict(settings.params)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        accepted = ", ".join(sorted(declared)) or "none"
        raise ValidationError(
            f"{design} has no parameter {unknown[0]!r}; its parameters are: {accepted}.",
            code="design_param_unknown",
            field=f"parameters.{unknown[0]}",
            design=design,
            name=repr(unknown[0]),
            accepted=accepted,
        )
    out: dict[str, Any] = {}
    for key, spec in declared.items():
        if key not in params or params[key] is None:
            if spec.required:
                where = f"parameters.{key}"
                raise ValidationError(
                    f"{design} needs {where} ({spec.help}).",
                    code="design_param_required",
                    field=where,
                    design=design,
                    help=spec.help,
                )
            continue
        out[key] = _param_value(key, spec, params[key], settings.n_doses)
    return out


def follow_up_fraction(days_observed: float, window_days: float) -> float:
    """Share of the DLT window a pending patient has been followed, in [0, 1).

    A patient still pending after the whole window counts as almost complete (0.999): the
    time-to-event designs take a fraction below 1 for a patient whose outcome is not known.
    """
    if window_days <= 0:
        raise ValidationError(
            f"The DLT window must be a positive number of days; got {window_days!r}.",
            field="parameters.dlt_window_days",
            code="design_dlt_window",
            window_days=repr(window_days),
        )
    return min(max(float(days_observed) / float(window_days), 0.0), 0.999)


_DOSE_NUMBER = re.compile(r"\bdose (\d+)\b")


def with_dose_labels(text: str, labels: Sequence[str]) -> str:
    """A design's text with its 1-based dose numbers (``dose 5``) replaced by the labels the trial
    gives its levels (``DL4``): designs count doses from 1 in increasing order, trials label
    them as their protocol does (``DL-1``, ``DL0``, ``DL1``...).

    >>> with_dose_labels("escalate to dose 2; dose 9 unknown", ["DL0", "DL1"])
    'escalate to DL1; dose 9 unknown'
    """

    def label(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return labels[n - 1] if 1 <= n <= len(labels) else match.group(0)

    return _DOSE_NUMBER.sub(label, text)
