"""Read a scheduling instance (``docs/formats/schedule-instance.md``) and a solution.

The document is checked against ``schemas/schedule-instance.schema.json`` first, then against
the rules the schema cannot state (ids unique, the target day among the allowed days, windows
inside the opening hours, a chair visit that fits in a day, samples inside the stay...). Every
error is one :class:`~oncotrials.core.errors.ValidationError` naming the JSON path of the field
(``$.visits[12].dur``); nothing is planned from a document with an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from oncotrials.core.errors import ValidationError
from oncotrials.core.scheduling.model import Instance, Solution, Unit, Visit

DOC = "docs/formats/schedule-instance.md"

_CAPACITIES = ("chairs", "beds", "pharmacy_capacity")


@cache
def instance_schema() -> dict[str, Any]:
    """The JSON Schema of the instance format."""
    ref = resources.files("oncotrials.core.scheduling").joinpath(
        "schemas/schedule-instance.schema.json"
    )
    loaded: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return loaded


def _json_path(parts: list[Any]) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _fail(source: str, where: str, message: str) -> ValidationError:
    return ValidationError(f"{source}: {where}: {message}", path=where)


def _check_schema(data: Any, source: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(instance_schema())
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    while error.context:
        error = jsonschema.exceptions.best_match(error.context)
    parts = list(error.absolute_path)
    where = _json_path(parts)
    last = parts[-1] if parts else None
    if error.validator == "enum" and last == "unit":
        message = (
            f"unknown resource {error.instance!r}; a request needs a 'chair' (day unit) or a "
            "'bed' (ward)."
        )
    elif error.validator == "minimum" and (
        last in _CAPACITIES or (len(parts) == 3 and parts[-1] == 2)
    ):
        message = f"negative capacity {error.instance}; a capacity is 0 or more."
    elif error.validator == "additionalProperties":
        message = f"{error.message} (check the spelling)."
    elif error.validator == "type":
        message = f"{error.instance!r} has the wrong type: {error.message}."
    else:
        message = f"{error.message}."
    raise _fail(source, where, f"{message} See {DOC} for the format.")


def load_instance(data: Any, *, source: str = "instance") -> Instance:
    """Validate a parsed instance document and build the :class:`Instance` it describes."""
    _check_schema(data, source)
    doc = cast(dict[str, Any], data)
    minutes = doc["slot_minutes"]
    if 1440 % minutes:
        raise _fail(source, "$.slot_minutes", f"{minutes} does not divide a day (1440 minutes).")
    spd = 1440 // minutes
    for key in ("chair_open", "chair_close", "pharmacy_open", "pharmacy_close"):
        if doc[key] > spd:
            raise _fail(source, f"$.{key}", f"slot {doc[key]} is past the end of a day ({spd}).")
    for opening, closing in (("chair_open", "chair_close"), ("pharmacy_open", "pharmacy_close")):
        if doc[opening] >= doc[closing]:
            raise _fail(
                source,
                f"$.{closing}",
                f"closes at slot {doc[closing]}, not after it opens ({doc[opening]}).",
            )
    for key, limit in (("nurse_profile", spd), ("ward_sampling_capacity", 2 * spd)):
        for i, (start, end, _) in enumerate(doc[key]):
            if not start < end <= limit:
                raise _fail(
                    source,
                    f"$.{key}[{i}]",
                    f"[{start}, {end}) is not a slot range inside 0..{limit}.",
                )
    a0, a1 = doc["bed_admit_window"]
    if not a0 <= a1 < spd:
        raise _fail(source, "$.bed_admit_window", f"[{a0}, {a1}] is not a window inside a day.")
    horizon = doc["days"] * spd
    if not doc["bed_from"] < doc["bed_to"] <= horizon:
        raise _fail(
            source,
            "$.bed_to",
            f"the ward must open (bed_from {doc['bed_from']}) before it closes "
            f"(bed_to {doc['bed_to']}), within the horizon ({horizon} slots).",
        )
    visits = tuple(_visit(doc, i, source, spd) for i in range(len(doc["visits"])))
    seen: dict[str, int] = {}
    for i, v in enumerate(visits):
        if v.id in seen:
            raise _fail(
                source, f"$.visits[{i}].id", f"{v.id!r} is also visit {seen[v.id]}; ids are unique."
            )
        seen[v.id] = i
    return Instance(
        name=doc.get("name", ""),
        slot_minutes=minutes,
        days=doc["days"],
        chairs=doc["chairs"],
        beds=doc["beds"],
        chair_open=doc["chair_open"],
        chair_close=doc["chair_close"],
        pharmacy_open=doc["pharmacy_open"],
        pharmacy_close=doc["pharmacy_close"],
        pharmacy_capacity=doc["pharmacy_capacity"],
        nurse_profile=tuple((a, b, c) for a, b, c in doc["nurse_profile"]),
        ward_sampling_capacity=tuple((a, b, c) for a, b, c in doc["ward_sampling_capacity"]),
        bed_admit_window=(a0, a1),
        bed_from=doc["bed_from"],
        bed_to=doc["bed_to"],
        visits=visits,
        data=json.loads(json.dumps(doc)),
    )


def _visit(doc: Mapping[str, Any], i: int, source: str, spd: int) -> Visit:
    raw = doc["visits"][i]
    here = f"$.visits[{i}]"
    vid = raw["id"]
    unit = cast(Unit, raw["unit"])
    days = tuple(raw["days"])
    for k, d in enumerate(days):
        if d >= doc["days"]:
            raise _fail(
                source,
                f"{here}.days[{k}]",
                f"day {d} of visit {vid} is outside the horizon (days 0..{doc['days'] - 1}).",
            )
    if raw["target_day"] not in days:
        raise _fail(
            source,
            f"{here}.target_day",
            f"target day {raw['target_day']} of visit {vid} is not one of its allowed days "
            f"{list(days)}.",
        )
    dur = raw["dur"]
    samples = tuple(raw.get("samples", ()))
    window = raw.get("window")
    if unit == "chair":
        if dur > spd:
            raise _fail(
                source,
                f"{here}.dur",
                f"visit {vid} lasts {dur} slots, longer than a day ({spd}); a stay that runs "
                "overnight needs a ward bed (unit 'bed').",
            )
        opening = doc["chair_close"] - doc["chair_open"]
        if dur > opening:
            raise _fail(
                source,
                f"{here}.dur",
                f"chair visit {vid} lasts {dur} slots, longer than the day unit is open "
                f"({opening} slots, {doc['chair_open']}..{doc['chair_close']}).",
            )
        if window is not None and not (
            doc["chair_open"] <= window[0] and window[1] <= doc["chair_close"]
        ):
            raise _fail(
                source,
                f"{here}.window",
                f"window {window} of visit {vid} is outside the day unit's opening hours "
                f"[{doc['chair_open']}, {doc['chair_close']}].",
            )
        if window is not None and window[1] - window[0] < dur:
            raise _fail(
                source,
                f"{here}.window",
                f"window {window} of visit {vid} is shorter than the visit ({dur} slots).",
            )
    else:
        a0, a1 = doc["bed_admit_window"]
        if window is not None and not (a0 <= window[0] <= window[1] <= a1):
            raise _fail(
                source,
                f"{here}.window",
                f"admission window {window} of ward stay {vid} is outside the ward's admission "
                f"hours [{a0}, {a1}].",
            )
        if raw.get("dose_at", 0) >= dur:
            raise _fail(
                source,
                f"{here}.dose_at",
                f"dose at slot {raw.get('dose_at')} of stay {vid} is not before discharge ({dur}).",
            )
        if doc["bed_to"] - doc["bed_from"] < dur:
            raise _fail(
                source,
                f"{here}.dur",
                f"ward stay {vid} lasts {dur} slots, longer than the ward is open this horizon.",
            )
    for k, offset in enumerate(samples):
        if offset >= dur:
            raise _fail(
                source,
                f"{here}.samples[{k}]",
                f"sample at +{offset} slots of visit {vid} falls after its end ({dur}).",
            )
    prep = raw.get("prep", 0)
    if prep > doc["pharmacy_close"] - doc["pharmacy_open"]:
        raise _fail(
            source,
            f"{here}.prep",
            f"preparation of {prep} slots for {vid} is longer than the pharmacy is open.",
        )
    return Visit(
        id=vid,
        unit=unit,
        kind=raw.get("kind", ""),
        days=days,
        target_day=raw["target_day"],
        dur=dur,
        pre=raw.get("pre", 0),
        prep=prep,
        setup=raw.get("setup", 0),
        samples=samples,
        weight=raw.get("weight", 1),
        dose_at=raw.get("dose_at", 0),
        window=None if window is None else (window[0], window[1]),
        confirmed=raw.get("confirmed", False),
        pk=raw.get("pk", len(samples) >= 3),
    )


def read_json(path: str | Path) -> Any:
    """Read a JSON file; a syntax error names its line and column."""
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{p.name}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
        ) from None


def parse_solution(data: Any, instance: Instance, *, source: str = "solution") -> Solution:
    """A solution document ``{id: [day, start, prep_or_-1]}`` as a :data:`Solution`.

    Only the shape is checked here (known ids, three integers); feasibility is the validator's
    job.
    """
    if not isinstance(data, Mapping):
        raise ValidationError(f"{source}: $: expected an object {{visit_id: [day, start, prep]}}.")
    known = {v.id for v in instance.visits}
    out: Solution = {}
    for key, value in data.items():
        where = f"$.{key}"
        if key not in known:
            raise _fail(source, where, f"unknown visit id {key!r}.")
        if (
            not isinstance(value, list | tuple)
            or len(value) != 3
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in value)
        ):
            raise _fail(source, where, f"{value!r} is not [day, start_slot, prep_start_or_-1].")
        out[key] = (value[0], value[1], value[2])
    return out
