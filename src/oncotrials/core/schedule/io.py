"""Read a visit schedule (``docs/formats/visit-schedule.md``) from YAML or JSON.

The document is checked against ``schemas/visit-schedule.schema.json`` first; a structural
fault is reported with its JSON path (``$.cycles.days[1].window.after``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from oncotrials.core.errors import ValidationError
from oncotrials.core.schedule.model import (
    CycleDay,
    CycleSpec,
    EndOfTreatmentSpec,
    FollowUpSpec,
    ImagingSpec,
    Procedure,
    Reference,
    VisitSchedule,
    VisitSpec,
    Window,
)

DOC = "docs/formats/visit-schedule.md"


@cache
def visit_schedule_schema() -> dict[str, Any]:
    """The JSON Schema of the visit-schedule format."""
    ref = resources.files("oncotrials.core.schedule").joinpath("schemas/visit-schedule.schema.json")
    loaded: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return loaded


def _json_path(parts: Sequence[str | int]) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def schema_faults(data: Any) -> list[tuple[str, str]]:
    """Every structural fault of a document as ``(json path, message)``, in document order."""
    validator = jsonschema.Draft202012Validator(visit_schedule_schema())
    faults = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        faults.append((_json_path(list(error.absolute_path)), error.message))
    return faults


def read_schedule_file(path: str | Path) -> Any:
    """Parse a ``.yaml``/``.yml`` or ``.json`` file; a syntax error names the file and line."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"{p.name}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
                code="schedule_json_syntax",
                file=p.name,
                line=str(exc.lineno),
                column=str(exc.colno),
                problem=exc.msg,
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "syntax error"
        if mark is None:
            raise ValidationError(
                f"{p.name}: not valid YAML: {problem}.",
                code="schedule_yaml_syntax",
                file=p.name,
                problem=str(problem),
            ) from None
        raise ValidationError(
            f"{p.name}: not valid YAML at line {mark.line + 1}, column {mark.column + 1}: "
            f"{problem}.",
            code="schedule_yaml_syntax_at",
            file=p.name,
            line=str(mark.line + 1),
            column=str(mark.column + 1),
            problem=str(problem),
        ) from None


def _window(raw: Mapping[str, Any] | None) -> Window:
    if raw is None:
        return Window()
    return Window(int(raw.get("before", 0)), int(raw.get("after", 0)))


def _procedures(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Procedure, ...]:
    return tuple(
        Procedure(p["type"], p.get("name", ""), tuple(p.get("timepoints", ()))) for p in raw or ()
    )


def build_schedule(data: Mapping[str, Any]) -> VisitSchedule:
    """Build the typed schedule from a document that already matches the schema."""
    visits = tuple(
        VisitSpec(
            code=v["code"],
            offset_days=v["offset_days"],
            window=_window(v.get("window")),
            name=v.get("name", ""),
            forms=tuple(v.get("forms", ())),
            procedures=_procedures(v.get("procedures")),
        )
        for v in data.get("visits", ())
    )
    cycles = None
    if "cycles" in data:
        c = data["cycles"]
        cycles = CycleSpec(
            length_days=c["length_days"],
            days=tuple(
                CycleDay(
                    day=d["day"],
                    window=_window(d.get("window")),
                    first_cycle_window=(
                        _window(d["first_cycle_window"]) if "first_cycle_window" in d else None
                    ),
                    only_cycles=tuple(d["only_cycles"]) if "only_cycles" in d else None,
                    name=d.get("name", ""),
                    forms=tuple(d.get("forms", ())),
                    procedures=_procedures(d.get("procedures")),
                )
                for d in c["days"]
            ),
            count=c.get("count"),
            start_offset_days=c.get("start_offset_days", 0),
            reanchor=c.get("reanchor", True),
            max_cycles=c.get("max_cycles", 100),
        )
    imaging = None
    if "imaging" in data:
        i = data["imaging"]
        imaging = ImagingSpec(
            every_weeks=i["every_weeks"],
            window=_window(i.get("window")),
            code=i.get("code", "IMG"),
            count=i.get("count"),
            forms=tuple(i.get("forms", ())),
            procedures=_procedures(i.get("procedures")),
        )
    eot = None
    if "end_of_treatment" in data:
        e = data["end_of_treatment"]
        eot = EndOfTreatmentSpec(
            code=e.get("code", "EOT"),
            offset_days=e.get("offset_days", 0),
            window=_window(e.get("window")),
            forms=tuple(e.get("forms", ())),
            procedures=_procedures(e.get("procedures")),
        )
    follow_up = None
    if "follow_up" in data:
        f = data["follow_up"]
        follow_up = FollowUpSpec(
            every_months=f["every_months"],
            window=_window(f.get("window")),
            code=f.get("code", "FU"),
            count=f.get("count"),
            forms=tuple(f.get("forms", ())),
            procedures=_procedures(f.get("procedures")),
        )
    return VisitSchedule(
        trial=data["trial"],
        reference=Reference(data.get("reference", "C1D1")),
        version=data.get("version", ""),
        visits=visits,
        cycles=cycles,
        imaging=imaging,
        end_of_treatment=eot,
        follow_up=follow_up,
    )


def load_schedule(data: Any, *, source: str = "schedule") -> VisitSchedule:
    """Validate a parsed document against the schema and build the schedule.

    Raises :class:`ValidationError` naming the JSON path of the first structural fault. This
    does not run :func:`~oncotrials.core.schedule.check_schedule`; call it for the rules.
    """
    faults = schema_faults(data)
    if faults:
        where, message = faults[0]
        raise ValidationError(
            f"{source}: {where}: {message}. See {DOC} for the format.",
            code="schedule_format",
            path=where,
            source=source,
            problem=message,
            doc=DOC,
        )
    return build_schedule(data)
