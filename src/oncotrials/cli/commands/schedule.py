"""``oncotrials schedule``: visit schedules, and the day unit's week plan.

``check`` and ``calendar`` read a trial's visit schedule (``docs/formats/visit-schedule.md``);
``week`` plans a week of chair visits and ward stays with CP-SAT and ``validate`` checks a plan
independently (``docs/formats/schedule-instance.md``). The scheduling engine (and OR-Tools) is
imported only by ``week`` and ``validate``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oncotrials.cli.output import (
    FormatOption,
    OutputFormat,
    command_errors,
    print_json,
    stderr,
    stdout,
)
from oncotrials.core.errors import ValidationError
from oncotrials.core.schedule import (
    PatientCalendar,
    Problem,
    VisitStatus,
    check_schedule_document,
    load_schedule,
    patient_calendar,
    read_schedule_file,
)

app = typer.Typer(
    help="Visit schedules: rule checks and patient calendars; day-unit week planning.",
    no_args_is_help=True,
)


@app.callback()
def _schedule() -> None:
    """Visit schedules: rule checks and patient calendars; day-unit week planning."""


ScheduleFile = Annotated[
    Path,
    typer.Argument(
        help="Visit schedule, YAML or JSON (docs/formats/visit-schedule.md).", dir_okay=False
    ),
]


def _parse_date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"{option}: {value!r} is not a calendar date; write it as YYYY-MM-DD."
        ) from None


def _problem(p: Problem) -> dict[str, Any]:
    return {
        "code": p.code,
        "level": p.level,
        "message": p.message,
        "path": p.path,
        "visit": p.visit,
    }


@app.command("check")
@command_errors
def check(
    file: ScheduleFile,
    forms: Annotated[
        str | None,
        typer.Option(
            "--forms",
            help="Known CRF form names, comma-separated; without it forms are not checked.",
        ),
    ] = None,
    output: FormatOption = OutputFormat.human,
) -> None:
    """Check FILE against the format and the schedule rules; exit 1 if there is an error."""
    known = None if forms is None else {f.strip() for f in forms.split(",") if f.strip()}
    problems = check_schedule_document(read_schedule_file(file), known_forms=known)
    errors = sum(p.is_error for p in problems)
    if output is OutputFormat.json:
        print_json(
            {
                "file": file.name,
                "errors": errors,
                "warnings": len(problems) - errors,
                "forms_checked": known is not None,
                "problems": [_problem(p) for p in problems],
            }
        )
    elif not problems:
        stdout.print(f"{escape(file.name)}: no problems.")
    else:
        table = Table(title=f"{file.name}: {errors} error(s), {len(problems) - errors} warning(s)")
        for column in ("Code", "Level", "Problem", "Where"):
            table.add_column(column)
        for p in problems:
            table.add_row(p.code, p.level, escape(p.message), escape(p.path))
        stdout.print(table)
    if errors:
        raise typer.Exit(code=1)


def read_done_csv(path: Path) -> dict[str, dt.date]:
    """Done visits from a CSV with the header ``code,date``; errors name the line."""
    done: dict[str, dt.date] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"code", "date"} <= set(reader.fieldnames):
            raise ValidationError(
                f"{path.name}: the header must name the columns code and date; "
                f"got {', '.join(reader.fieldnames or []) or 'nothing'}."
            )
        for row in reader:
            line = reader.line_num
            code = (row.get("code") or "").strip()
            if not code:
                raise ValidationError(f"{path.name} line {line}: column code is empty.")
            raw = (row.get("date") or "").strip()
            try:
                when = dt.date.fromisoformat(raw)
            except ValueError:
                raise ValidationError(
                    f"{path.name} line {line}: date {raw!r} of visit {code} is not a calendar "
                    "date (YYYY-MM-DD)."
                ) from None
            if code in done:
                raise ValidationError(
                    f"{path.name} line {line}: visit {code} is listed twice; keep one date per "
                    "visit."
                )
            done[code] = when
    return done


def calendar_document(cal: PatientCalendar) -> dict[str, Any]:
    return {
        "start": cal.start,
        "today": cal.today,
        "end_of_treatment": cal.end_of_treatment,
        "visits": [
            {
                "code": v.code,
                "kind": v.kind,
                "cycle": v.cycle,
                "day": v.day,
                "target": v.target,
                "earliest": v.earliest,
                "latest": v.latest,
                "status": v.status,
                "done_on": v.done_on,
                "days_from_target": v.days_from_target,
                "forms": list(v.forms),
                "procedures": [
                    {"type": p.type, "name": p.name, "timepoints": list(p.timepoints)}
                    for p in v.procedures
                ],
            }
            for v in cal.visits
        ],
        "unscheduled": [{"code": c, "date": d} for c, d in cal.unscheduled],
        "counts": {s.value: len(cal.with_status(s)) for s in VisitStatus},
    }


_STYLE = {
    VisitStatus.DONE: "green",
    VisitStatus.DONE_OUT_OF_WINDOW: "yellow",
    VisitStatus.DUE: "bold",
    VisitStatus.OVERDUE: "bold red",
    VisitStatus.UPCOMING: "dim",
    VisitStatus.NOT_DONE: "magenta",
    VisitStatus.NOT_APPLICABLE: "dim",
}


@app.command("calendar")
@command_errors
def calendar(
    file: ScheduleFile,
    start: Annotated[
        str, typer.Option("--start", help="Reference date (C1D1 or registration), YYYY-MM-DD.")
    ],
    done: Annotated[
        Path | None,
        typer.Option("--done", help="CSV of visits done (header: code,date).", dir_okay=False),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Date to compute statuses for (default: today, UTC)."),
    ] = None,
    end_of_treatment: Annotated[
        str | None, typer.Option("--end-of-treatment", help="End-of-treatment date, if ended.")
    ] = None,
    horizon: Annotated[
        int, typer.Option("--horizon", help="Days past today listed for open-ended series.")
    ] = 90,
    output: FormatOption = OutputFormat.human,
) -> None:
    """Expected visits of one patient: target date, window and status (due, overdue...)."""
    schedule = load_schedule(read_schedule_file(file), source=file.name)
    cal = patient_calendar(
        schedule,
        start=_parse_date(start, "--start"),
        today=(_parse_date(today, "--today") if today else dt.datetime.now(dt.UTC).date()),
        done=read_done_csv(done) if done is not None else None,
        end_of_treatment=(
            _parse_date(end_of_treatment, "--end-of-treatment") if end_of_treatment else None
        ),
        horizon_days=horizon,
    )
    if output is OutputFormat.json:
        print_json(calendar_document(cal))
        return
    table = Table(
        title=f"{schedule.trial}: calendar from {cal.start.isoformat()} (today {cal.today.isoformat()})",
        title_justify="left",
    )
    for column in ("Visit", "Target", "Window", "Status", "Done", "Procedures"):
        table.add_column(column)
    for v in cal.visits:
        style = _STYLE[v.status]
        done_text = (
            "" if v.done_on is None else f"{v.done_on.isoformat()} ({v.days_from_target:+d} d)"
        )
        procedures = ", ".join(
            p.type if not p.name else f"{p.type}: {p.name}" for p in v.procedures
        )
        table.add_row(
            v.code,
            v.target.isoformat(),
            f"{v.earliest.isoformat()} – {v.latest.isoformat()}",
            f"[{style}]{v.status.value}[/]",
            done_text,
            escape(procedures),
        )
    stdout.print(table)
    for code, when in cal.unscheduled:
        stdout.print(f"  unscheduled: {escape(code)} on {when.isoformat()}")


InstanceFile = Annotated[
    Path,
    typer.Argument(
        help="Scheduling instance, JSON (docs/formats/schedule-instance.md).", dir_okay=False
    ),
]


def _slot_text(instance: Any, slot: int) -> str:
    spd = instance.slots_per_day
    day, of_day = divmod(slot, spd)
    minutes = of_day * instance.slot_minutes
    return f"day {day} {minutes // 60:02d}:{minutes % 60:02d}"


@app.command("week")
@command_errors
def week(
    file: InstanceFile,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds for CP-SAT (after the first-fit).")
    ] = 120.0,
    deterministic: Annotated[
        bool,
        typer.Option(
            "--deterministic",
            help="One worker, fixed seed, CP-SAT deterministic time: the same plan every run.",
        ),
    ] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", help="CP-SAT workers (default: the CPU count).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the plan here as JSON {id: [day, start, prep]}."),
    ] = None,
    output: FormatOption = OutputFormat.human,
) -> None:
    """Plan a week of chair visits and ward stays (first-fit, then CP-SAT); print the objective."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from oncotrials.core import scheduling

    instance = scheduling.load_instance(scheduling.read_json(file), source=file.name)
    human = output is OutputFormat.human
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=stderr,
        disable=not human,
        transient=True,
    ) as bar:
        task = bar.add_task("first-fit", total=time_limit)
        started = time.perf_counter()
        done = threading.Event()

        def tick() -> None:  # the solver may be silent for a while: keep the bar moving
            while not done.wait(0.5):
                bar.update(task, completed=min(time_limit, time.perf_counter() - started))

        def progress(seconds: float, value: int, _bound: float) -> None:
            bar.update(task, description=f"best {value:,}")

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            result = scheduling.solve(
                instance,
                time_limit=time_limit,
                deterministic=deterministic,
                workers=workers,
                progress=progress,
            )
        finally:
            done.set()
            ticker.join()
    problems = scheduling.validate(instance, result.solution)
    if out is not None:
        out.write_text(json.dumps(result.solution_document(), indent=1) + "\n", encoding="utf-8")
    document = {
        "instance": instance.name or file.name,
        "requests": len(instance.visits),
        "first_fit_objective": result.first_fit_objective,
        "objective": result.objective,
        "unscheduled": list(result.unscheduled),
        "lower_bound": result.lower_bound,
        "gap": result.gap,
        "status": result.status,
        "wall_seconds": round(result.wall_seconds, 2),
        "cpu_seconds": round(result.cpu_seconds, 2),
        "violations": len(problems),
        "solution_file": None if out is None else str(out),
    }
    if not human:
        print_json(document)
        return
    table = Table(title=f"{escape(document['instance'])}: week plan", title_justify="left")
    table.add_column("")
    table.add_column("", justify="right")
    table.add_row("requests", str(len(instance.visits)))
    table.add_row("first-fit objective", f"{result.first_fit_objective:,}")
    table.add_row("objective", f"[bold]{result.objective:,}[/]")
    table.add_row("unscheduled", str(len(result.unscheduled)))
    if result.lower_bound is None:
        table.add_row("lower bound", "none proved")
    else:
        table.add_row("lower bound", f"{result.lower_bound:,.0f}")
        table.add_row("gap to the bound", f"{100 * (result.gap or 0):.1f} %")
    table.add_row("status", result.status)
    table.add_row("wall / CPU", f"{result.wall_seconds:.1f} s / {result.cpu_seconds:.1f} s")
    table.add_row("validator", "no violation" if not problems else f"{len(problems)} violations")
    stdout.print(table)
    if result.unscheduled:
        stdout.print(f"unscheduled: {escape(', '.join(result.unscheduled))}")
    if out is not None:
        stdout.print(f"plan written to {escape(str(out))}")


@app.command("validate")
@command_errors
def validate_plan(
    file: InstanceFile,
    solution: Annotated[
        Path,
        typer.Argument(help="Plan, JSON {visit_id: [day, start, prep_or_-1]}.", dir_okay=False),
    ],
    output: FormatOption = OutputFormat.human,
) -> None:
    """Check a plan against an instance independently; list each violation, exit 1 if any."""
    from oncotrials.core import scheduling

    instance = scheduling.load_instance(scheduling.read_json(file), source=file.name)
    plan = scheduling.read_json(solution)
    if not isinstance(plan, dict):
        raise ValidationError(
            f"{solution.name}: $: expected an object {{visit_id: [day, start, prep]}}."
        )
    problems = scheduling.validate(instance, plan)
    scheduled = [k for k in plan if any(v.id == k for v in instance.visits)]
    value = scheduling.objective(instance, plan) if not problems else None
    if output is OutputFormat.json:
        print_json(
            {
                "instance": instance.name or file.name,
                "scheduled": len(scheduled),
                "unscheduled": len(instance.visits) - len(scheduled),
                "objective": value,
                "violations": [
                    {"code": p.code, "visit": p.visit, "slot": p.slot, "message": p.message}
                    for p in problems
                ],
            }
        )
    elif not problems:
        stdout.print(
            f"{escape(solution.name)}: no violation; {len(scheduled)} scheduled, "
            f"{len(instance.visits) - len(scheduled)} unscheduled; objective {value:,}."
        )
    else:
        table = Table(title=f"{solution.name}: {len(problems)} violation(s)", title_justify="left")
        for column in ("Code", "Visit", "When", "Violation"):
            table.add_column(column)
        for p in problems:
            when = "" if p.slot is None else _slot_text(instance, p.slot)
            table.add_row(p.code, escape(p.visit), when, escape(p.message))
        stdout.print(table)
    if problems:
        raise typer.Exit(code=1)
