"""Declarative dose-limiting toxicity (DLT) rules and their evaluation.

A protocol's DLT definition is data: a window, the attributions that count, and a list of rules
(grade thresholds per term or category, durations, concurrent events, exceptions, Hy's law,
grade 5, dose delays, ASTCT CRS/ICANS). :func:`load_dlt_rules` reads it from YAML or JSON and
checks it against ``schemas/dlt-rules.schema.json``; :func:`evaluate_subject` applies it to one
subject's adverse events, lab series, temperatures and dose delays and returns, per event and per
subject, DLT / not DLT / pending with the rule that decided.

Semantics (docs/formats/dlt-rules.md gives the full account):

* Day 1 is the day of first dose; an event counts when the onset of the qualifying grade falls
  in days 1 … ``window.days`` inclusive.
* A lab series is graded value by value with CTCAE (the rule file's version); an *episode* at
  grade >= g runs from the first value at >= g to the first later value below g (recovery).
  Its duration is recovery - onset. Without an observed recovery the duration is unknown: the
  event is a DLT if the time already observed at >= g meets the duration, otherwise *pending*,
  never silently "not DLT".
* Missing attribution is *pending*: attribution is the investigator's call, not a default.
* Exceptions ("G3 nausea resolving to <= G1 within 72 h with supportive care") apply only when
  every condition is shown; an exception whose resolution is not yet observed makes the event
  pending until the allowed time has passed.
* Rules are tried in file order; the first rule that makes an event a DLT decides. Otherwise a
  pending rule decides, otherwise the first rule that matched and ruled the event out.
* Febrile neutropenia is also derived: ANC < 1.0 × 10^9/L within 24 h of a temperature
  > 38.3 °C, or >= 38.0 °C sustained for more than one hour (CTCAE v5.0 Febrile neutropenia,
  grade 3).

References
----------
.. [1] Le Tourneau C, Lee JJ, Siu LL. Dose escalation methods in phase I cancer clinical trials.
   J Natl Cancer Inst. 2009;101(10):708-720 (typical DLT definitions).
.. [2] U.S. FDA. Guidance for industry: Drug-induced liver injury: premarketing clinical
   evaluation, 2009 (Hy's law: ALT or AST > 3 × ULN with total bilirubin > 2 × ULN, without
   ALP > 2 × ULN).
.. [3] NCI CTCAE v5.0 (2017): Febrile neutropenia, grade 3.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from oncotrials.core.errors import ValidationError
from oncotrials.core.grading.catalogue import load_catalogue
from oncotrials.core.grading.ctcae import find_analyte, grade_lab, to_decimal

ATTRIBUTIONS = ("unrelated", "unlikely", "possible", "probable", "definite")
RELATED = ("possible", "probable", "definite")
SCALES = ("CTCAE", "ASTCT_CRS", "ASTCT_ICANS")

HEMATOLOGIC_SOC = "Blood and lymphatic system disorders"
HEMATOLOGIC_TERMS = frozenset(
    t.casefold()
    for t in (
        "Neutrophil count decreased",
        "Platelet count decreased",
        "White blood cell decreased",
        "Lymphocyte count decreased",
        "Lymphocyte count increased",
        "Hemoglobin increased",
        "CD4 lymphocytes decreased",
        "Thrombocytopenia",
    )
)
ELECTROLYTE_TERMS = frozenset(
    t.casefold()
    for t in (
        "Hyponatremia",
        "Hypernatremia",
        "Hypokalemia",
        "Hyperkalemia",
        "Hypocalcemia",
        "Hypercalcemia",
        "Hypomagnesemia",
        "Hypermagnesemia",
        "Hypophosphatemia",
    )
)


class Outcome(enum.StrEnum):
    DLT = "dlt"
    NOT_DLT = "not_dlt"
    PENDING = "pending"
    NOT_EVALUABLE = "not_evaluable"


# ------------------------------------------------------------------------------ rule model


@dataclass(frozen=True, slots=True)
class Duration:
    hours: Decimal
    strict: bool  # True: longer than; False: at least

    def met(self, hours: Decimal) -> bool:
        return hours > self.hours if self.strict else hours >= self.hours

    def describe(self) -> str:
        days = self.hours / 24
        span = f"{_num(days)} days" if self.hours % 24 == 0 else f"{_num(self.hours)} h"
        return ("> " if self.strict else ">= ") + span


@dataclass(frozen=True, slots=True)
class Concurrent:
    min_grade: int
    terms: tuple[str, ...] = ()
    term_contains: tuple[str, ...] = ()
    soc: str | None = None
    or_intervention: str | None = None


@dataclass(frozen=True, slots=True)
class RuleException:
    id: str
    description: str = ""
    terms: tuple[str, ...] = ()
    category: str | None = None
    max_grade: int | None = None
    resolves_to_grade: int | None = None
    within_hours: Decimal | None = None
    requires_supportive_care: bool = False


@dataclass(frozen=True, slots=True)
class HysLaw:
    alt_or_ast_gt_x_uln: Decimal = Decimal(3)
    bilirubin_gt_x_uln: Decimal = Decimal(2)
    alp_lt_x_uln: Decimal = Decimal(2)
    within_days: int = 0


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description: str = ""
    scale: str = "CTCAE"
    terms: tuple[str, ...] = ()
    category: str | None = None
    min_grade: int | None = None
    duration: Duration | None = None
    with_concurrent: Concurrent | None = None
    exceptions: tuple[RuleException, ...] = ()
    attribution: tuple[str, ...] | None = None
    exclude_if_disease_progression: bool = False
    hys_law: HysLaw | None = None
    dose_delay_days_gt: int | None = None
    dose_intensity_lt: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DltRules:
    window_days: int
    rules: tuple[Rule, ...]
    ctcae_version: str = "5.0"
    require_attribution: tuple[str, ...] = RELATED
    min_fraction_planned_dose: Decimal | None = None
    protocol: str = ""


def _num(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _schema(name: str) -> dict[str, Any]:
    text = resources.files("oncotrials.core.grading").joinpath("schemas").joinpath(name)
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


def _validate(data: Any, schema_name: str, source: str) -> None:
    validator = jsonschema.Draft202012Validator(_schema(schema_name))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = jsonschema.exceptions.best_match(errors) or errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ValidationError(
            f"{source}: {where}: {error.message}. See docs/formats/dlt-rules.md for the format.",
            path=where,
        )


def read_structured_file(path: str | Path) -> Any:
    """Read a YAML or JSON file (by extension; YAML otherwise, which also reads JSON)."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValidationError(
            f"{p.name} is not valid JSON/YAML: {exc}".replace("\n", " ")
        ) from None


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _hours(data: Mapping[str, Any], days_key: str, hours_key: str) -> Decimal | None:
    if days_key in data and hours_key in data:
        raise ValidationError(f"Give either {days_key} or {hours_key}, not both.")
    if days_key in data:
        return _dec(data[days_key]) * 24
    if hours_key in data:
        return _dec(data[hours_key])
    return None


def _check_terms(terms: Sequence[str], version: str, where: str) -> tuple[str, ...]:
    catalogue = load_catalogue()
    out = []
    for term in terms:
        if catalogue.has_term(term):
            out.append(catalogue.term(term).term)
        elif version == "6.0" and term.casefold() in HEMATOLOGIC_TERMS | {
            "hyperglycemia (fasting)"
        }:
            out.append(term)
        else:
            catalogue.term(term)  # raises NotFoundError with suggestions
            raise AssertionError  # pragma: no cover
    del where
    return tuple(out)


def dlt_rules_from_dict(data: Any, *, source: str = "DLT rules") -> DltRules:
    """Validate and build :class:`DltRules` from a parsed rule file."""
    _validate(data, "dlt-rules.schema.json", source)
    d = data["dlt"]
    version = str(d.get("ctcae_version", "5.0"))
    ids: set[str] = set()
    rules: list[Rule] = []
    for index, r in enumerate(d["rules"]):
        where = f"{source}: rules/{index} ({r['id']})"
        if r["id"] in ids:
            raise ValidationError(
                f"{where}: rule id {r['id']!r} is used twice; ids must be unique."
            )
        ids.add(r["id"])
        try:
            min_h = _hours(r, "min_duration_days", "min_duration_hours")
            gt_h = _hours(r, "longer_than_days", "longer_than_hours")
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc.message}") from None
        if min_h is not None and gt_h is not None:
            raise ValidationError(f"{where}: give a minimum duration or a 'longer than', not both.")
        duration = (
            Duration(min_h, False)
            if min_h is not None
            else Duration(gt_h, True)
            if gt_h is not None
            else None
        )
        scale = r.get("scale", "CTCAE")
        terms: tuple[str, ...] = ()
        if "terms" in r:
            terms = (
                _check_terms(r["terms"], version, where) if scale == "CTCAE" else tuple(r["terms"])
            )
        concurrent = None
        if "with_concurrent" in r:
            c = r["with_concurrent"]
            concurrent = Concurrent(
                min_grade=c["min_grade"],
                terms=_check_terms(c.get("terms", []), version, where),
                term_contains=tuple(s.casefold() for s in c.get("term_contains", [])),
                soc=c.get("soc"),
                or_intervention=c.get("or_intervention"),
            )
        exceptions = []
        for e in r.get("exceptions", []):
            try:
                within = _hours(e, "within_days", "within_hours")
            except ValidationError as exc:
                raise ValidationError(f"{where}: exception {e['id']}: {exc.message}") from None
            if ("resolves_to_grade" in e) != (within is not None):
                raise ValidationError(
                    f"{where}: exception {e['id']}: resolves_to_grade and within_hours (or "
                    f"within_days) go together."
                )
            exceptions.append(
                RuleException(
                    id=e["id"],
                    description=e.get("description", ""),
                    terms=_check_terms(e.get("terms", []), version, where),
                    category=e.get("category"),
                    max_grade=e.get("max_grade"),
                    resolves_to_grade=e.get("resolves_to_grade"),
                    within_hours=within,
                    requires_supportive_care=e.get("requires_supportive_care", False),
                )
            )
        hys = None
        if "hys_law" in r:
            h = r["hys_law"]
            hys = HysLaw(
                alt_or_ast_gt_x_uln=_dec(h.get("alt_or_ast_gt_x_uln", 3)),
                bilirubin_gt_x_uln=_dec(h.get("bilirubin_gt_x_uln", 2)),
                alp_lt_x_uln=_dec(h.get("alp_lt_x_uln", 2)),
                within_days=h.get("within_days", 0),
            )
        rules.append(
            Rule(
                id=r["id"],
                description=r.get("description", ""),
                scale=scale,
                terms=terms,
                category=r.get("category"),
                min_grade=r.get("min_grade"),
                duration=duration,
                with_concurrent=concurrent,
                exceptions=tuple(exceptions),
                attribution=tuple(r["attribution"]) if "attribution" in r else None,
                exclude_if_disease_progression=r.get("exclude_if_disease_progression", False),
                hys_law=hys,
                dose_delay_days_gt=r.get("dose_delay_days_gt"),
                dose_intensity_lt=(
                    _dec(r["dose_intensity_lt"]) if "dose_intensity_lt" in r else None
                ),
            )
        )
    evaluability = d.get("evaluability", {})
    fraction = evaluability.get("min_fraction_planned_dose")
    return DltRules(
        window_days=d["window"]["days"],
        rules=tuple(rules),
        ctcae_version=version,
        require_attribution=tuple(d.get("require_attribution", RELATED)),
        min_fraction_planned_dose=None if fraction is None else _dec(fraction),
        protocol=d.get("protocol", ""),
    )


def load_dlt_rules(path: str | Path) -> DltRules:
    """Read a DLT rule file (YAML or JSON) and validate it."""
    return dlt_rules_from_dict(read_structured_file(path), source=Path(path).name)


# ------------------------------------------------------------------------------ subject data

Course = tuple[tuple[dt.datetime, int], ...]


@dataclass(frozen=True, slots=True)
class Episode:
    """An adverse event as a graded course over time."""

    id: str
    term: str
    scale: str
    course: Course  # sorted (time, grade) points; ends with the last observation
    attribution: str | None
    supportive_care: bool = False
    interventions: tuple[str, ...] = ()
    due_to_disease_progression: bool = False
    source: str = "adverse event"

    @property
    def worst_grade(self) -> int:
        return max(g for _, g in self.course)


@dataclass(frozen=True, slots=True)
class DoseDelay:
    """A dose given later than planned. ``days``: how much later (None: the planned date is not
    known, so the length cannot be told); ``planned_at``: when the delayed dose was due (None:
    not known, the delay is taken as concerning the window)."""

    id: str
    days: int | None
    due_to_toxicity: bool
    attribution: str | None
    cycle: int | None = None
    planned_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Administration:
    """One planned administration of one agent: the dose given (0 for an omitted dose) against
    the dose planned, and whether a shortfall was due to toxicity (with that toxicity's
    attribution to the study treatment)."""

    id: str
    agent: str
    at: dt.datetime
    dose: Decimal
    planned_dose: Decimal | None
    due_to_toxicity: bool = False
    attribution: str | None = None
    modification: str = "none"


@dataclass(frozen=True, slots=True)
class LabPoint:
    at: dt.datetime
    analyte: str
    value: Decimal
    uln: Decimal | None
    attribution: str | None
    series: str


@dataclass(frozen=True, slots=True)
class SubjectData:
    subject_id: str
    first_dose: dt.datetime
    episodes: tuple[Episode, ...]
    dose_delays: tuple[DoseDelay, ...] = ()
    liver_labs: tuple[LabPoint, ...] = ()
    administrations: tuple[Administration, ...] = ()
    followed_through_day: int | None = None
    fraction_planned_dose_received: Decimal | None = None


def _parse_time(value: Any, first_dose: dt.datetime, where: str) -> dt.datetime:
    if isinstance(value, bool):
        raise ValidationError(f"{where}: a time is a study day or an ISO date; got {value!r}.")
    if isinstance(value, int):
        if value == 0:
            raise ValidationError(
                f"{where}: study day 0 does not exist; day 1 is the day of first dose and the "
                f"day before it is day -1."
            )
        offset = value - 1 if value > 0 else value
        return first_dose + dt.timedelta(days=offset)
    return _parse_iso(str(value), where)


def _parse_iso(text: str, where: str) -> dt.datetime:
    try:
        if len(text) == 10:
            parsed = dt.datetime.fromisoformat(text + "T00:00:00+00:00")
        else:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{where}: {text!r} is not a study day or an ISO 8601 date/date-time."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def lab_series_episodes(
    series_id: str,
    graded: Sequence[tuple[dt.datetime, str | None, int]],
    attribution: str | None,
    *,
    source: str = "lab series",
) -> list[Episode]:
    """Episodes of one analyte's series of graded values ``(time, CTCAE term or None, grade)``
    in time order: one course per term; a value graded under another term (or none) is a grade 0
    observation for the terms already seen, so that a recovery ends their episode."""
    per_term: dict[str, list[tuple[dt.datetime, int]]] = {}
    for at, term, grade in graded:
        if term is not None:
            per_term.setdefault(term, []).append((at, grade))
        for other in per_term:
            if term != other:
                per_term[other].append((at, 0))
    out = []
    for term, course in per_term.items():
        course.sort(key=lambda p: p[0])
        out.append(
            Episode(
                id=f"{series_id}:{term}",
                term=term,
                scale="CTCAE",
                course=tuple(course),
                attribution=attribution,
                source=source,
            )
        )
    return out


def study_day(at: dt.datetime, first_dose: dt.datetime) -> int:
    """Study day of ``at``: day 1 is the date of first dose; there is no day 0."""
    days = (at.date() - first_dose.date()).days
    return days + 1 if days >= 0 else days


def _subject_from_dict(s: Mapping[str, Any], version: str, where: str) -> SubjectData:
    first = _parse_iso(str(s["first_dose"]), f"{where}: first_dose")
    episodes: list[Episode] = []
    catalogue = load_catalogue()
    for i, ae in enumerate(s.get("adverse_events", []), start=1):
        ae_id = str(ae.get("id", f"AE{i}"))
        w = f"{where}: adverse_events/{i - 1} ({ae_id})"
        scale = ae.get("scale", "CTCAE")
        term = ae["term"]
        if scale == "CTCAE":
            if catalogue.has_term(term):
                term = catalogue.term(term).term
            elif not (version == "6.0" and term.casefold() in HEMATOLOGIC_TERMS):
                try:
                    catalogue.term(term)
                except Exception as exc:  # NotFoundError: name the record
                    raise ValidationError(f"{w}: {exc}") from None
        if "course" in ae:
            points = [
                (_parse_time(p["at"], first, f"{w}: course"), p["grade"]) for p in ae["course"]
            ]
            points.sort(key=lambda p: p[0])
            if points[0][1] == 0 and all(g == 0 for _, g in points):
                raise ValidationError(f"{w}: the course never reaches grade 1 or more.")
        else:
            onset = _parse_time(ae["onset"], first, f"{w}: onset")
            points = [(onset, ae["grade"])]
            if "end" in ae:
                end = _parse_time(ae["end"], first, f"{w}: end")
                if end < onset:
                    raise ValidationError(
                        f"{w}: end ({ae['end']}) is before onset ({ae['onset']})."
                    )
                points.append((end, 0))
        episodes.append(
            Episode(
                id=ae_id,
                term=term,
                scale=scale,
                course=tuple(points),
                attribution=ae.get("attribution"),
                supportive_care=ae.get("supportive_care", False),
                interventions=tuple(x.casefold() for x in ae.get("interventions", [])),
                due_to_disease_progression=ae.get("due_to_disease_progression", False),
            )
        )
    liver: list[LabPoint] = []
    anc_points: list[tuple[dt.datetime, Decimal, str | None, str]] = []
    for i, series in enumerate(s.get("lab_series", []), start=1):
        sid = str(series.get("id", f"{series['analyte']}#{i}"))
        w = f"{where}: lab_series/{i - 1} ({sid})"
        analyte = find_analyte(series["analyte"])
        graded: list[tuple[dt.datetime, str | None, int]] = []
        timed = sorted(
            (
                (_parse_time(v["at"], first, f"{w}: values/{j}"), j, v)
                for j, v in enumerate(series["values"])
            ),
            key=lambda item: (item[0], item[1]),
        )
        for at, j, v in timed:
            wv = f"{w}: values/{j}"
            try:
                result = grade_lab(
                    analyte.key,
                    v["value"],
                    series["unit"],
                    lln=v.get("lln", series.get("lln")),
                    uln=v.get("uln", series.get("uln")),
                    baseline=series.get("baseline"),
                    version=version,
                    symptomatic=v.get("symptomatic"),
                )
            except ValidationError as exc:
                raise ValidationError(f"{wv}: {exc.message}") from None
            graded.append((at, result.term, result.grade))
            if analyte.key in ("alt", "ast", "bilirubin", "alp"):
                uln = v.get("uln", series.get("uln"))
                liver.append(
                    LabPoint(
                        at,
                        analyte.key,
                        result.value,  # ratios to ULN: the unit as given is enough
                        None if uln is None else to_decimal(uln, field=f"{wv}: uln"),
                        series.get("attribution"),
                        sid,
                    )
                )
            if analyte.key == "neutrophils":
                anc_points.append((at, result.value_in_scale, series.get("attribution"), sid))
        episodes.extend(lab_series_episodes(sid, graded, series.get("attribution")))
    for i, t in enumerate(s.get("temperatures", []), start=1):
        w = f"{where}: temperatures/{i - 1}"
        at = _parse_time(t["at"], first, w)
        celsius = _dec(t["celsius"])
        sustained = _dec(t.get("sustained_hours", 0))
        if not (celsius > Decimal("38.3") or (celsius >= 38 and sustained > 1)):
            continue
        for anc_at, anc, attribution, sid in anc_points:
            if anc < 1 and abs(anc_at - at) <= dt.timedelta(hours=24):
                episodes.append(
                    Episode(
                        id=f"FN:{sid}@day{study_day(at, first)}",
                        term="Febrile neutropenia",
                        scale="CTCAE",
                        course=((at, 3),),
                        attribution=attribution,
                        source=f"derived: ANC {_num(anc)} × 10^9/L with {_num(celsius)} °C",
                    )
                )
                break
    delays = tuple(
        DoseDelay(
            id=str(d.get("id", f"delay{i}")),
            days=d["days"],
            due_to_toxicity=d["due_to_toxicity"],
            attribution=d.get("attribution"),
            cycle=d.get("cycle"),
            planned_at=(
                _parse_time(d["planned"], first, f"{where}: dose_delays/{i - 1}: planned")
                if "planned" in d
                else None
            ),
        )
        for i, d in enumerate(s.get("dose_delays", []), start=1)
    )
    administrations = tuple(
        Administration(
            id=str(a.get("id", f"dose{i}")),
            agent=a["agent"],
            at=_parse_time(a["at"], first, f"{where}: administrations/{i - 1}: at"),
            dose=_dec(a["dose"]),
            planned_dose=None if a.get("planned_dose") is None else _dec(a["planned_dose"]),
            due_to_toxicity=a.get("due_to_toxicity", False),
            attribution=a.get("attribution"),
            modification=a.get("modification", "none"),
        )
        for i, a in enumerate(s.get("administrations", []), start=1)
    )
    fraction = s.get("fraction_planned_dose_received")
    return SubjectData(
        subject_id=s["subject_id"],
        first_dose=first,
        episodes=tuple(episodes),
        dose_delays=delays,
        liver_labs=tuple(liver),
        administrations=administrations,
        followed_through_day=s.get("followed_through_day"),
        fraction_planned_dose_received=None if fraction is None else _dec(fraction),
    )


def subjects_from_dict(
    data: Any, *, ctcae_version: str = "5.0", source: str = "input"
) -> tuple[SubjectData, ...]:
    """Validate and build subjects from a parsed evaluation file (one subject or ``subjects``)."""
    _validate(data, "dlt-subjects.schema.json", source)
    items = data.get("subjects", [data])
    seen: set[str] = set()
    out = []
    for index, s in enumerate(items):
        where = f"{source}: subject {s['subject_id']}" if len(items) > 1 else source
        if s["subject_id"] in seen:
            raise ValidationError(
                f"{source}: subject {s['subject_id']} is listed twice (subjects/{index})."
            )
        seen.add(s["subject_id"])
        out.append(_subject_from_dict(s, ctcae_version, where))
    return tuple(out)


# ------------------------------------------------------------------------------ evaluation


@dataclass(frozen=True, slots=True)
class EventDecision:
    """The DLT decision for one event (an AE, a lab episode, a Hy's law case, a dose delay)."""

    event_id: str
    term: str
    scale: str
    worst_grade: int | None
    onset_day: int | None
    outcome: Outcome
    rule_id: str | None
    reason: str
    source: str = "adverse event"


@dataclass(frozen=True, slots=True)
class SubjectDecision:
    subject_id: str
    outcome: Outcome
    rule_id: str | None
    reason: str
    events: tuple[EventDecision, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class _Verdict:
    outcome: Outcome | None  # None: the rule does not apply to this event
    reason: str
    onset: dt.datetime | None = None


@functools.lru_cache(maxsize=4096)
def _category_of(term: str) -> frozenset[str]:
    """The rule categories of a term (pure: cached, as every save weighs every event)."""
    key = term.casefold()
    cats = {"any"}
    catalogue = load_catalogue()
    soc = catalogue.term(term).soc if catalogue.has_term(term) else ""
    if key in HEMATOLOGIC_TERMS or soc == HEMATOLOGIC_SOC:
        cats.add("hematologic")
    else:
        cats.add("non_hematologic")
    if key in ELECTROLYTE_TERMS:
        cats.add("electrolyte")
    return frozenset(cats)


@functools.lru_cache(maxsize=1024)
def _folded(terms: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t.casefold() for t in terms)


def _matches(term: str, terms: tuple[str, ...], category: str | None) -> bool:
    if terms and term.casefold() not in _folded(terms):
        return False
    return not (category is not None and category not in _category_of(term))


@dataclass(frozen=True, slots=True)
class _Run:
    start: dt.datetime
    end: dt.datetime | None  # first observation below the grade; None if not observed
    last_at_or_above: dt.datetime
    worst: int


def _runs(course: Course, grade: int) -> list[_Run]:
    runs: list[_Run] = []
    start: dt.datetime | None = None
    last = worst = None
    for at, g in course:
        if g >= grade:
            if start is None:
                start, worst = at, g
            worst = max(worst or 0, g)
            last = at
        elif start is not None:
            assert last is not None
            assert worst is not None
            runs.append(_Run(start, at, last, worst))
            start = None
    if start is not None:
        assert last is not None
        assert worst is not None
        runs.append(_Run(start, None, last, worst))
    return runs


def _hours_between(a: dt.datetime, b: dt.datetime) -> Decimal:
    return Decimal(int((b - a).total_seconds())) / Decimal(3600)


def _fmt_hours(h: Decimal) -> str:
    if h % 24 == 0:
        return f"{_num(h / 24)} days"
    return f"{_num(h.quantize(Decimal('0.1')))} h"


def _attribution_verdict(
    attribution: str | None, allowed: tuple[str, ...], rule: Rule
) -> _Verdict | None:
    if attribution is None:
        return _Verdict(
            Outcome.PENDING,
            f"{rule.id}: attribution not recorded; the rule counts only {', '.join(allowed)}",
        )
    if attribution not in allowed:
        return _Verdict(
            Outcome.NOT_DLT,
            f"{rule.id}: attribution '{attribution}' is not one of {', '.join(allowed)}",
        )
    return None


def _exception_verdict(
    exc: RuleException, episode: Episode, run: _Run, rule: Rule
) -> _Verdict | None:
    """NOT_DLT if the exception applies, PENDING if it may still apply, None if it does not."""
    if not _matches(episode.term, exc.terms, exc.category):
        return None
    if exc.max_grade is not None and run.worst > exc.max_grade:
        return None
    if exc.requires_supportive_care and not episode.supportive_care:
        return None
    label = f"{rule.id} exception {exc.id}"
    if exc.resolves_to_grade is None or exc.within_hours is None:
        return _Verdict(Outcome.NOT_DLT, f"{label}: {episode.term} is excluded")
    resolved = next(
        (at for at, g in episode.course if at > run.start and g <= exc.resolves_to_grade), None
    )
    limit = exc.within_hours
    if resolved is not None:
        took = _hours_between(run.start, resolved)
        if took <= limit:
            return _Verdict(
                Outcome.NOT_DLT,
                f"{label}: resolved to grade <= {exc.resolves_to_grade} in {_fmt_hours(took)} "
                f"(allowed {_fmt_hours(limit)})",
            )
        return None
    observed = _hours_between(run.start, episode.course[-1][0])
    if observed > limit:
        return None
    return _Verdict(
        Outcome.PENDING,
        f"{label} may apply: resolution to grade <= {exc.resolves_to_grade} not yet observed "
        f"({_fmt_hours(observed)} of the allowed {_fmt_hours(limit)} observed)",
    )


def _overlaps(a: _Run, b: _Run) -> bool:
    a_end = a.end or dt.datetime.max.replace(tzinfo=dt.UTC)
    b_end = b.end or dt.datetime.max.replace(tzinfo=dt.UTC)
    return a.start <= b_end and b.start <= a_end


def _concurrent_ok(
    c: Concurrent, episode: Episode, run: _Run, others: Sequence[Episode]
) -> str | None:
    if c.or_intervention and c.or_intervention.casefold() in episode.interventions:
        return f"with {c.or_intervention}"
    catalogue = load_catalogue()
    for other in others:
        if other is episode or other.scale != "CTCAE":
            continue
        name = other.term.casefold()
        hit = (
            (c.terms and name in {t.casefold() for t in c.terms})
            or any(s in name for s in c.term_contains)
            or (
                c.soc is not None
                and catalogue.has_term(other.term)
                and catalogue.term(other.term).soc.casefold() == c.soc.casefold()
            )
        )
        if not hit:
            continue
        if any(_overlaps(run, r) for r in _runs(other.course, c.min_grade)):
            return f"with concurrent {other.term} grade >= {c.min_grade} ({other.id})"
    return None


def _event_rule(
    rule: Rule, episode: Episode, others: Sequence[Episode], rules: DltRules, first: dt.datetime
) -> _Verdict:
    assert rule.min_grade is not None
    if episode.scale != rule.scale or not _matches(episode.term, rule.terms, rule.category):
        return _Verdict(None, "")
    runs = _runs(episode.course, rule.min_grade)
    if not runs:
        return _Verdict(None, "")
    in_window = [r for r in runs if 1 <= study_day(r.start, first) <= rules.window_days]
    if not in_window:
        day = study_day(runs[0].start, first)
        return _Verdict(
            Outcome.NOT_DLT,
            f"{rule.id}: onset of grade >= {rule.min_grade} on day {day}, outside the DLT "
            f"window (days 1-{rules.window_days})",
            runs[0].start,
        )
    verdicts: list[_Verdict] = []
    for run in in_window:
        verdicts.append(_run_verdict(rule, episode, run, others, rules))
    for wanted in (Outcome.DLT, Outcome.PENDING, Outcome.NOT_DLT):
        for v in verdicts:
            if v.outcome is wanted:
                return v
    return _Verdict(None, "")


def _run_verdict(
    rule: Rule, episode: Episode, run: _Run, others: Sequence[Episode], rules: DltRules
) -> _Verdict:
    grade_txt = f"{episode.term} grade {run.worst}"
    if rule.with_concurrent is not None:
        found = _concurrent_ok(rule.with_concurrent, episode, run, others)
        if found is None:
            return _Verdict(None, "")
        grade_txt += f" {found}"
    attribution = _attribution_verdict(
        episode.attribution, rule.attribution or rules.require_attribution, rule
    )
    if attribution is not None:
        return _Verdict(attribution.outcome, attribution.reason, run.start)
    if rule.exclude_if_disease_progression and episode.due_to_disease_progression:
        return _Verdict(
            Outcome.NOT_DLT, f"{rule.id}: {grade_txt} due to disease progression", run.start
        )
    pending_exception: _Verdict | None = None
    for exc in rule.exceptions:
        v = _exception_verdict(exc, episode, run, rule)
        if v is not None and v.outcome is Outcome.NOT_DLT:
            return _Verdict(v.outcome, v.reason, run.start)
        if v is not None and pending_exception is None:
            pending_exception = v
    if rule.duration is not None:
        if run.end is not None:
            lasted = _hours_between(run.start, run.end)
            if not rule.duration.met(lasted):
                return _Verdict(
                    Outcome.NOT_DLT,
                    f"{rule.id}: grade >= {rule.min_grade} lasted {_fmt_hours(lasted)}, needs "
                    f"{rule.duration.describe()}",
                    run.start,
                )
            grade_txt += f" lasting {_fmt_hours(lasted)}"
        else:
            seen = _hours_between(run.start, run.last_at_or_above)
            if not rule.duration.met(seen):
                return _Verdict(
                    Outcome.PENDING,
                    f"{rule.id}: grade >= {rule.min_grade} with no recovery observed "
                    f"({_fmt_hours(seen)} so far; needs {rule.duration.describe()})",
                    run.start,
                )
            grade_txt += f" for at least {_fmt_hours(seen)} (ongoing)"
    if pending_exception is not None:
        return _Verdict(Outcome.PENDING, pending_exception.reason, run.start)
    description = f" ({rule.description})" if rule.description else ""
    return _Verdict(Outcome.DLT, f"{rule.id}{description}: {grade_txt}", run.start)


def _hys_law(rule: Rule, s: SubjectData, rules: DltRules) -> list[EventDecision]:
    assert rule.hys_law is not None
    h = rule.hys_law
    out: list[EventDecision] = []
    by = {
        k: [p for p in s.liver_labs if p.analyte == k] for k in ("alt", "ast", "bilirubin", "alp")
    }
    near = dt.timedelta(days=h.within_days, hours=23 if h.within_days == 0 else 0)

    def close(a: LabPoint, b: LabPoint) -> bool:
        if h.within_days == 0:
            return a.at.date() == b.at.date()
        return abs(a.at - b.at) <= near

    seen_days: set[int] = set()
    for t in by["alt"] + by["ast"]:
        if t.uln is None or not t.value > h.alt_or_ast_gt_x_uln * t.uln:
            continue
        bili = [
            b
            for b in by["bilirubin"]
            if b.uln is not None and close(t, b) and b.value > h.bilirubin_gt_x_uln * b.uln
        ]
        if not bili:
            continue
        day = study_day(t.at, s.first_dose)
        if day in seen_days:
            continue
        seen_days.add(day)
        label = (
            f"{t.analyte.upper()} {_num(t.value / t.uln)} × ULN with bilirubin "
            f"{_num((bili[0].value / bili[0].uln).quantize(Decimal('0.01')))} × ULN"  # type: ignore[operator]
        )
        eid = f"HYS_LAW@day{day}"

        def decision(
            outcome: Outcome, reason: str, eid: str = eid, day: int = day
        ) -> EventDecision:
            return EventDecision(
                eid, "Hy's law", "CTCAE", None, day, outcome, rule.id, reason, "lab series"
            )

        if not 1 <= day <= rules.window_days:
            out.append(
                decision(
                    Outcome.NOT_DLT, f"{rule.id}: {label} on day {day}, outside the DLT window"
                )
            )
            continue
        alp = [a for a in by["alp"] if a.uln is not None and close(t, a)]
        if not alp:
            out.append(
                decision(
                    Outcome.PENDING,
                    f"{rule.id}: {label}; ALP not measured, needed to rule out cholestasis "
                    f"(< {_num(h.alp_lt_x_uln)} × ULN)",
                )
            )
            continue
        if any(a.value >= h.alp_lt_x_uln * a.uln for a in alp):  # type: ignore[operator]
            out.append(
                decision(
                    Outcome.NOT_DLT,
                    f"{rule.id}: {label} but ALP >= {_num(h.alp_lt_x_uln)} × ULN "
                    "(cholestatic pattern)",
                )
            )
            continue
        attribution = _attribution_verdict(
            t.attribution, rule.attribution or rules.require_attribution, rule
        )
        if attribution is not None:
            assert attribution.outcome is not None
            out.append(decision(attribution.outcome, attribution.reason))
            continue
        out.append(
            decision(
                Outcome.DLT, f"{rule.id} (Hy's law): {label}, ALP < {_num(h.alp_lt_x_uln)} × ULN"
            )
        )
    return out


def _dose_delays(rule: Rule, s: SubjectData, rules: DltRules) -> list[EventDecision]:
    assert rule.dose_delay_days_gt is not None
    out = []
    last_day = rules.window_days + 1  # the dose opening the next cycle still counts
    for d in s.dose_delays:
        length = "of unknown length" if d.days is None else f"of {d.days} days"
        what = f"dose delay {length}" + (f" (cycle {d.cycle})" if d.cycle else "")
        day = None if d.planned_at is None else study_day(d.planned_at, s.first_dose)

        def decision(
            outcome: Outcome, reason: str, d: DoseDelay = d, day: int | None = day
        ) -> EventDecision:
            return EventDecision(
                d.id, "Dose delay", "CTCAE", None, day, outcome, rule.id, reason, "dose delay"
            )

        if day is not None and not 1 <= day <= last_day:
            out.append(
                decision(
                    Outcome.NOT_DLT,
                    f"{rule.id}: {what} of a dose planned on day {day}, outside the DLT window "
                    f"(days 1-{rules.window_days}, and day {last_day} for the next cycle's "
                    f"first dose)",
                )
            )
            continue
        if not d.due_to_toxicity:
            out.append(decision(Outcome.NOT_DLT, f"{rule.id}: {what} not due to toxicity"))
            continue
        if d.days is None:
            attribution = _attribution_verdict(
                d.attribution, rule.attribution or rules.require_attribution, rule
            )
            if attribution is not None and attribution.outcome is Outcome.NOT_DLT:
                out.append(decision(attribution.outcome, attribution.reason))
                continue
            out.append(
                decision(
                    Outcome.PENDING,
                    f"{rule.id}: {what} for toxicity; the planned date is not known, so whether "
                    f"it exceeds {rule.dose_delay_days_gt} days cannot be told",
                )
            )
            continue
        if d.days <= rule.dose_delay_days_gt:
            out.append(
                decision(
                    Outcome.NOT_DLT, f"{rule.id}: {what}, not more than {rule.dose_delay_days_gt}"
                )
            )
            continue
        attribution = _attribution_verdict(
            d.attribution, rule.attribution or rules.require_attribution, rule
        )
        if attribution is not None:
            assert attribution.outcome is not None
            out.append(decision(attribution.outcome, attribution.reason))
            continue
        out.append(
            decision(
                Outcome.DLT, f"{rule.id}: {what} for toxicity (> {rule.dose_delay_days_gt} days)"
            )
        )
    return out


def _dose_intensity(rule: Rule, s: SubjectData, rules: DltRules) -> list[EventDecision]:
    """Per agent, over the administrations in the window: the fraction of the planned dose
    received once the shortfalls not due to toxicity are forgiven. Below ``dose_intensity_lt``
    it is a DLT ("< 75 % of the planned dose intensity in cycle 1 because of toxicity")."""
    assert rule.dose_intensity_lt is not None
    limit = rule.dose_intensity_lt
    out: list[EventDecision] = []
    agents: dict[str, list[Administration]] = {}
    for a in s.administrations:
        has_plan = a.planned_dose is not None and a.planned_dose > 0
        if has_plan and 1 <= study_day(a.at, s.first_dose) <= rules.window_days:
            agents.setdefault(a.agent, []).append(a)
    for agent, doses in agents.items():
        planned = sum((a.planned_dose for a in doses if a.planned_dose is not None), Decimal(0))
        given = sum((min(a.dose, a.planned_dose or a.dose) for a in doses), Decimal(0))
        toxic = [
            a for a in doses if a.due_to_toxicity and a.planned_dose and a.dose < a.planned_dose
        ]
        lost = sum((a.planned_dose - a.dose for a in toxic if a.planned_dose), Decimal(0))
        fraction = (planned - lost) / planned
        overall = given / planned
        pct = _num((fraction * 100).quantize(Decimal("0.1")))
        what = (
            f"{agent}: {pct} % of the planned dose in the window once shortfalls not due to "
            f"toxicity are set aside ({_num((overall * 100).quantize(Decimal('0.1')))} % "
            f"received over {len(doses)} planned administration(s))"
        )
        first = min(a.at for a in toxic) if toxic else min(a.at for a in doses)
        day = study_day(first, s.first_dose)

        def decision(
            outcome: Outcome, reason: str, agent: str = agent, day: int = day
        ) -> EventDecision:
            return EventDecision(
                f"DOSE_INTENSITY:{agent}"[:64],
                "Dose intensity",
                "CTCAE",
                None,
                day,
                outcome,
                rule.id,
                reason,
                "drug administration",
            )

        if fraction >= limit:
            out.append(
                decision(Outcome.NOT_DLT, f"{rule.id}: {what}, not below {_num(limit * 100)} %")
            )
            continue
        allowed = rule.attribution or rules.require_attribution
        attributions = [a.attribution for a in toxic]
        if any(x is None for x in attributions):
            out.append(
                decision(
                    Outcome.PENDING,
                    f"{rule.id}: {what}, below {_num(limit * 100)} %; attribution of the toxicity "
                    f"not recorded; the rule counts only {', '.join(allowed)}",
                )
            )
            continue
        strongest = max((str(x) for x in attributions), key=ATTRIBUTIONS.index)
        verdict = _attribution_verdict(strongest, allowed, rule)
        if verdict is not None:
            assert verdict.outcome is not None
            out.append(decision(verdict.outcome, verdict.reason))
            continue
        if s.followed_through_day is not None and s.followed_through_day < rules.window_days:
            out.append(
                decision(
                    Outcome.PENDING,
                    f"{rule.id}: {what}, below {_num(limit * 100)} % so far; the window is open "
                    f"until day {rules.window_days}",
                )
            )
            continue
        description = f" ({rule.description})" if rule.description else ""
        out.append(
            decision(
                Outcome.DLT,
                f"{rule.id}{description}: {what}, below {_num(limit * 100)} % because of toxicity",
            )
        )
    return out


def evaluate_episode(
    episode: Episode, rules: DltRules, *, first_dose: dt.datetime, others: Sequence[Episode] = ()
) -> EventDecision:
    """DLT decision for one event under ``rules`` (``others``: the subject's other events)."""
    verdicts: list[tuple[Rule, _Verdict]] = []
    for rule in rules.rules:
        if rule.min_grade is None:
            continue
        v = _event_rule(rule, episode, others, rules, first_dose)
        if v.outcome is not None:
            verdicts.append((rule, v))
    onset = study_day(episode.course[0][0], first_dose)
    for wanted in (Outcome.DLT, Outcome.PENDING, Outcome.NOT_DLT):
        for rule, v in verdicts:
            if v.outcome is wanted:
                day = study_day(v.onset, first_dose) if v.onset else onset
                return EventDecision(
                    episode.id,
                    episode.term,
                    episode.scale,
                    episode.worst_grade,
                    day,
                    wanted,
                    rule.id,
                    v.reason,
                    episode.source,
                )
    return EventDecision(
        episode.id,
        episode.term,
        episode.scale,
        episode.worst_grade,
        onset,
        Outcome.NOT_DLT,
        None,
        "no DLT rule applies to this event",
        episode.source,
    )


# Decisions of single events, remembered per rule set. An event's decision is a function of the
# event, the rules and the first dose, and of the subject's other events only through a rule
# with ``with_concurrent`` whose terms match the event's (``_event_rule``): such an event is
# always evaluated afresh. The application re-evaluates all of a patient's events on each AE
# save, nearly all of them unchanged since the last save; an event that changed is a different
# key (every field of the frozen Episode is part of it), so it is evaluated again. Only times in
# UTC are remembered: equal instants in other offsets fall on other study days. Bounded: a full
# table is emptied, never trimmed (a miss only costs the evaluation).
_MEMO_EVENTS = 16_384
_MEMO_RULE_SETS = 32
_Memo = tuple[
    DltRules, dict[tuple[str, str], bool], dict[tuple[Episode, dt.datetime], EventDecision]
]
_memo: dict[int, _Memo] = {}


def _memo_of(rules: DltRules) -> _Memo:
    # keyed by identity; the entry holds the rules, so their id cannot be reused meanwhile
    found = _memo.get(id(rules))
    if found is not None and found[0] is rules:
        return found
    if len(_memo) >= _MEMO_RULE_SETS:
        _memo.clear()
    entry: _Memo = (rules, {}, {})
    _memo[id(rules)] = entry
    return entry


def _weighs_others(rules: DltRules, scale: str, term: str) -> bool:
    """Whether a rule that looks at concurrent events may apply to an event of ``term``."""
    return any(
        rule.min_grade is not None
        and rule.with_concurrent is not None
        and rule.scale == scale
        and _matches(term, rule.terms, rule.category)
        for rule in rules.rules
    )


def _evaluate_events(subject: SubjectData, rules: DltRules) -> list[EventDecision]:
    """``evaluate_episode`` for each of the subject's events, from the memo where it holds."""
    first = subject.first_dose
    if first.tzinfo is not dt.UTC:
        return [
            evaluate_episode(e, rules, first_dose=first, others=subject.episodes)
            for e in subject.episodes
        ]
    _, weighs, decided = _memo_of(rules)
    out: list[EventDecision] = []
    for e in subject.episodes:
        kind = (e.scale, e.term)
        alone = weighs.get(kind)
        if alone is None:
            alone = weighs[kind] = not _weighs_others(rules, e.scale, e.term)
        if not alone or any(at.tzinfo is not dt.UTC for at, _ in e.course):
            out.append(evaluate_episode(e, rules, first_dose=first, others=subject.episodes))
            continue
        try:
            key = (e, first)
            decision = decided.get(key)
        except TypeError:  # a field that cannot be hashed (a list given for a tuple)
            out.append(evaluate_episode(e, rules, first_dose=first, others=subject.episodes))
            continue
        if decision is None:
            decision = evaluate_episode(e, rules, first_dose=first, others=subject.episodes)
            if len(decided) >= _MEMO_EVENTS:
                decided.clear()
            decided[key] = decision
        out.append(decision)
    return out


def evaluate_subject(subject: SubjectData, rules: DltRules) -> SubjectDecision:
    """DLT decision for one subject: DLT if any event is, else pending if any is, else not DLT
    (or not evaluable when the protocol's minimum dose was not received)."""
    events = _evaluate_events(subject, rules)
    for rule in rules.rules:
        if rule.hys_law is not None:
            events.extend(_hys_law(rule, subject, rules))
        if rule.dose_delay_days_gt is not None:
            events.extend(_dose_delays(rule, subject, rules))
        if rule.dose_intensity_lt is not None:
            events.extend(_dose_intensity(rule, subject, rules))
    for wanted in (Outcome.DLT, Outcome.PENDING):
        hits = [e for e in events if e.outcome is wanted]
        if hits:
            first = hits[0]
            return SubjectDecision(
                subject.subject_id,
                wanted,
                first.rule_id,
                f"{first.event_id}: {first.reason}",
                tuple(events),
            )
    if (
        rules.min_fraction_planned_dose is not None
        and subject.fraction_planned_dose_received is not None
        and subject.fraction_planned_dose_received < rules.min_fraction_planned_dose
    ):
        return SubjectDecision(
            subject.subject_id,
            Outcome.NOT_EVALUABLE,
            None,
            f"received {_num(subject.fraction_planned_dose_received * 100)} % of the planned "
            f"dose (< {_num(rules.min_fraction_planned_dose * 100)} %) without a DLT",
            tuple(events),
        )
    if (
        subject.followed_through_day is not None
        and subject.followed_through_day < rules.window_days
    ):
        return SubjectDecision(
            subject.subject_id,
            Outcome.PENDING,
            None,
            f"followed through day {subject.followed_through_day} of the {rules.window_days}-day "
            f"DLT window, without a DLT so far",
            tuple(events),
        )
    return SubjectDecision(
        subject.subject_id, Outcome.NOT_DLT, None, "no event meets a DLT rule", tuple(events)
    )


def evaluate_file(rules: DltRules, path: str | Path) -> tuple[SubjectDecision, ...]:
    """Evaluate every subject of an evaluation file (YAML or JSON)."""
    data = read_structured_file(path)
    subjects = subjects_from_dict(data, ctcae_version=rules.ctcae_version, source=Path(path).name)
    return tuple(evaluate_subject(s, rules) for s in subjects)
