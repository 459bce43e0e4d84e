"""Read the survival input format (``docs/formats/survival-input.md``) and estimate by group.

A subject is given either as ``time`` and ``event`` (already derived) or as dated events, from
which the file's ``endpoint`` (PFS, OS or DoR) is derived with :mod:`.endpoints` and its
censoring ``rules``. Faults are reported with their JSON path.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist.io import validate_document
from oncotrials.core.survival.endpoints import (
    EndpointTime,
    PfsRules,
    derive_dor,
    derive_os,
    derive_pfs,
)
from oncotrials.core.survival.km import KaplanMeierResult, kaplan_meier

DOC = "docs/formats/survival-input.md"
DAYS_PER = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12}


@dataclass(frozen=True, slots=True)
class SubjectTime:
    """One subject's time (in the file's unit), event flag and the rule that decided them."""

    subject_id: str
    group: str
    time: float
    event: bool
    rule: str
    days: int | None = None


@dataclass(frozen=True, slots=True)
class SurvivalInput:
    endpoint: str
    time_unit: str
    times: tuple[float, ...]
    alpha: float
    subjects: tuple[SubjectTime, ...]
    excluded: tuple[str, ...]


@cache
def survival_input_schema() -> dict[str, Any]:
    """The JSON Schema of the survival input format."""
    ref = resources.files("oncotrials.core.survival").joinpath("schemas/survival-input.schema.json")
    loaded: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return loaded


def load_survival_input(data: Any, *, source: str = "input") -> SurvivalInput:
    """Validate a parsed document and derive each subject's time and event."""
    validate_document(data, survival_input_schema(), source=source, doc=DOC)
    endpoint = data.get("endpoint", "PFS")
    unit = data.get("time_unit", "months")
    per = DAYS_PER[unit]
    raw_rules = data.get("rules", {})
    rules = PfsRules(
        censor_at_new_therapy=raw_rules.get("censor_at_new_therapy", True),
        max_missed_visits=raw_rules.get("max_missed_visits", 2),
        visit_interval_days=raw_rules.get("visit_interval_days"),
        visit_window_days=raw_rules.get("visit_window_days", 7),
        censor_without_baseline=raw_rules.get("censor_without_baseline", True),
    )
    subjects: list[SubjectTime] = []
    excluded: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["subjects"]):
        here = f"$.subjects[{i}]"
        sid = raw["subject_id"]
        if sid in seen:
            raise ValidationError(
                f"{source}: {here}.subject_id: {sid!r} appears twice; give each subject once.",
                path=f"{here}.subject_id",
            )
        seen.add(sid)
        group = raw.get("group", "")
        if "time" in raw:
            subjects.append(
                SubjectTime(sid, group, float(raw["time"]), raw["event"], "given in the file")
            )
            continue
        derived = _derive(raw, endpoint, rules, here, source)
        if derived is None:
            excluded.append(sid)
            continue
        subjects.append(
            SubjectTime(sid, group, derived.days / per, derived.event, derived.rule, derived.days)
        )
    if not subjects:
        raise ValidationError(
            f"{source}: no subject has a {endpoint} time (all {len(excluded)} are non-responders);"
            " DoR needs at least one response_date."
        )
    times = tuple(float(t) for t in data.get("times", ()))
    return SurvivalInput(
        endpoint, unit, times, float(data.get("alpha", 0.05)), tuple(subjects), tuple(excluded)
    )


def km_by_group(document: SurvivalInput) -> tuple[KaplanMeierResult, ...]:
    """One Kaplan-Meier summary per group, in order of first appearance."""
    groups: dict[str, list[SubjectTime]] = {}
    for subject in document.subjects:
        groups.setdefault(subject.group, []).append(subject)
    return tuple(
        kaplan_meier(
            [s.time for s in members],
            [s.event for s in members],
            times=document.times,
            alpha=document.alpha,
            label=name or "all",
        )
        for name, members in groups.items()
    )


def _date(raw: Mapping[str, Any], key: str, here: str, source: str) -> dt.date | None:
    value = raw.get(key)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"{source}: {here}.{key}: {value!r} is not a calendar date (YYYY-MM-DD).",
            path=f"{here}.{key}",
        ) from None


def _derive(
    raw: Mapping[str, Any], endpoint: str, rules: PfsRules, here: str, source: str
) -> EndpointTime | None:
    start = _date(raw, "start_date", here, source)
    assert start is not None  # required by the schema
    scans = []
    for j, value in enumerate(raw.get("assessment_dates", ())):
        scans.append(_date({"d": value}, "d", f"{here}.assessment_dates[{j}]", source))
    assessment_dates = [d for d in scans if d is not None]
    try:
        if endpoint == "OS":
            return derive_os(
                subject_id=raw["subject_id"],
                start_date=start,
                death_date=_date(raw, "death_date", here, source),
                last_known_alive_date=_date(raw, "last_known_alive_date", here, source),
            )
        if endpoint == "DoR":
            return derive_dor(
                subject_id=raw["subject_id"],
                response_date=_date(raw, "response_date", here, source),
                assessment_dates=assessment_dates,
                progression_date=_date(raw, "progression_date", here, source),
                death_date=_date(raw, "death_date", here, source),
                new_therapy_date=_date(raw, "new_therapy_date", here, source),
                rules=rules,
            )
        return derive_pfs(
            subject_id=raw["subject_id"],
            start_date=start,
            assessment_dates=assessment_dates,
            progression_date=_date(raw, "progression_date", here, source),
            death_date=_date(raw, "death_date", here, source),
            new_therapy_date=_date(raw, "new_therapy_date", here, source),
            has_baseline_assessment=raw.get("has_baseline_assessment", True),
            rules=rules,
        )
    except ValidationError as exc:
        raise ValidationError(f"{source}: {here}: {exc.message}", path=here) from None
