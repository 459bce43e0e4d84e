"""``oncotrials survival km``: Kaplan-Meier median, survival at given times and their CIs.

Subjects come as time and event, or as dated events from which PFS, OS or DoR is derived; each
derived time names the censoring rule that decided it. The input format is documented in
``docs/formats/survival-input.md``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oncotrials.cli.output import FormatOption, OutputFormat, command_errors, print_json, stdout
from oncotrials.core.recist.io import read_json
from oncotrials.core.survival import KaplanMeierResult
from oncotrials.core.survival.io import SurvivalInput, km_by_group, load_survival_input

app = typer.Typer(help="Survival endpoints and Kaplan-Meier estimates.", no_args_is_help=True)


@app.callback()
def _survival() -> None:
    """Survival endpoints (PFS, OS, DoR) and Kaplan-Meier estimates."""


InputFile = Annotated[
    Path,
    typer.Argument(help="Subjects as JSON (docs/formats/survival-input.md).", dir_okay=False),
]


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: a median not reached is null."""
    return None if value is None or math.isinf(value) or math.isnan(value) else value


def _group(result: KaplanMeierResult) -> dict[str, Any]:
    return {
        "label": result.label,
        "n": result.n,
        "events": result.events,
        "censored": result.censored,
        "median": _finite(result.median),
        "median_reached": not math.isinf(result.median),
        "median_ci": [_finite(result.median_lower), _finite(result.median_upper)],
        "at": [
            {
                "time": at.time,
                "survival": _finite(at.survival),
                "lower": _finite(at.lower),
                "upper": _finite(at.upper),
                "at_risk": at.at_risk,
            }
            for at in result.at
        ],
    }


def km_document(document: SurvivalInput, results: tuple[KaplanMeierResult, ...]) -> dict[str, Any]:
    return {
        "endpoint": document.endpoint,
        "time_unit": document.time_unit,
        "confidence": 1 - document.alpha,
        "ci_method": results[0].ci_method,
        "groups": [_group(r) for r in results],
        "subjects": [
            {
                "subject_id": s.subject_id,
                "group": s.group,
                "time": s.time,
                "days": s.days,
                "event": s.event,
                "rule": s.rule,
            }
            for s in document.subjects
        ],
        "excluded": list(document.excluded),
    }


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if math.isinf(value):
        return "not reached"
    return f"{value:.{digits}f}"


@app.command("km")
@command_errors
def km(file: InputFile, output: FormatOption = OutputFormat.human) -> None:
    """Kaplan-Meier estimates per group of FILE: median with CI, survival at the given times."""
    document = load_survival_input(read_json(file), source=file.name)
    results = km_by_group(document)
    if output is OutputFormat.json:
        print_json(km_document(document, results))
        return
    level = f"{100 * (1 - document.alpha):g} %"
    unit = document.time_unit
    table = Table(title=f"{document.endpoint} (Kaplan-Meier, {unit})", title_justify="left")
    for column in ("Group", "N", "Events", f"Median ({level} CI)"):
        table.add_column(column)
    for t in document.times:
        table.add_column(f"S({t:g}) ({level} CI)")
    for r in results:
        median = f"{_fmt(r.median)} ({_fmt(r.median_lower)}, {_fmt(r.median_upper)})"
        rates = [
            f"{_fmt(at.survival, 3)} ({_fmt(at.lower, 3)}, {_fmt(at.upper, 3)})" for at in r.at
        ]
        table.add_row(escape(r.label), str(r.n), str(r.events), median, *rates)
    stdout.print(table)
    stdout.print(f"  CI: {results[0].ci_method}")
    for s in document.subjects:
        state = "event" if s.event else "censored"
        stdout.print(f"  {escape(s.subject_id)}: {s.time:.2f} {unit}, {state} — {escape(s.rule)}")
    if document.excluded:
        stdout.print(f"  not in {document.endpoint}: {escape(', '.join(document.excluded))}")
