"""``oncotrials ctcae``, ``crs``, ``icans`` and ``dlt``: toxicity grading and DLT evaluation.

Every result names the rule that decided it (CTCAE term, version, grade text and threshold;
ASTCT table row; DLT rule id), so a data manager can check it. ``--format json`` prints one JSON
document on stdout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from oncotrials.core.grading.astct import SOURCE as ASTCT_SOURCE
from oncotrials.core.grading.astct import AstctCourse, grade_assessments
from oncotrials.core.grading.catalogue import load_catalogue
from oncotrials.core.grading.ctcae import DEFAULT_VERSION, LabGrade, grade_lab
from oncotrials.core.grading.labs import LabRowError, LabRowGrade, grade_lab_file_batch

if TYPE_CHECKING:
    from oncotrials.core.grading.dlt import SubjectDecision

# The DLT module (jsonschema, YAML) is imported by the commands that read rule or assessment
# files, so that grading one lab value starts quickly.

ctcae_app = typer.Typer(
    help="CTCAE lab grading (v5.0 default, v6.0) and the CTCAE v5.0 term catalogue.",
    no_args_is_help=True,
)
crs_app = typer.Typer(
    help="ASTCT consensus grading of cytokine release syndrome.", no_args_is_help=True
)
icans_app = typer.Typer(
    help="ASTCT consensus grading of ICANS (adults and children 12 or over, ICE score).",
    no_args_is_help=True,
)
dlt_app = typer.Typer(
    help="Dose-limiting toxicity evaluation from a protocol's rule file.", no_args_is_help=True
)


@crs_app.callback()
def _crs() -> None:
    """ASTCT consensus grading of cytokine release syndrome (Lee et al. 2019)."""


@icans_app.callback()
def _icans() -> None:
    """ASTCT consensus grading of ICANS in adults, with the ICE score (Lee et al. 2019)."""


@dlt_app.callback()
def _dlt() -> None:
    """Dose-limiting toxicity evaluation from a protocol's rule file."""


VersionOpt = Annotated[
    str, typer.Option("--ctcae-version", "--version", help="CTCAE version: 5.0 or 6.0.")
]
InputFile = Annotated[
    Path, typer.Argument(help="Input file.", exists=False, dir_okay=False, show_default=False)
]


def _lab_doc(r: LabGrade) -> dict[str, Any]:
    return {
        "analyte": r.analyte,
        "value": str(r.value),
        "unit": r.unit,
        "value_in_scale": str(r.value_in_scale),
        "scale_unit": r.scale_unit,
        "ctcae_version": r.version,
        "grade": r.grade,
        "term": r.term,
        "meddra_code": r.meddra_code,
        "rule": r.rule,
        "criterion": r.criterion,
        "grade_text": r.grade_text,
        "possible_grades": list(r.possible_grades),
        "missing_facts": list(r.missing_facts),
        "baseline_abnormal": r.baseline_abnormal,
        "baseline_basis": r.baseline_basis or None,
        "notes": list(r.notes),
    }


@ctcae_app.command("grade")
@command_errors
def ctcae_grade(
    value: Annotated[str, typer.Option("--value", "-v", help="The lab value.")],
    unit: Annotated[
        str, typer.Option("--unit", "-u", help="Its unit, e.g. 10^9/L, /mm3, U/L, mg/dL.")
    ],
    analyte: Annotated[
        str | None,
        typer.Option("--analyte", "-a", help="e.g. neutrophils, ALT, potassium (or --term)."),
    ] = None,
    term: Annotated[
        str | None,
        typer.Option(
            "--term", "-t", help='A CTCAE v5.0 term, e.g. "Hypokalemia" (grades that term only).'
        ),
    ] = None,
    baseline_abnormal: Annotated[
        bool | None,
        typer.Option(
            "--baseline-abnormal/--baseline-normal",
            help="ALT, AST, ALP, bilirubin: state the baseline as abnormal or normal; omit to "
            "infer it (baseline > ULN).",
            show_default=False,
        ),
    ] = None,
    uln: Annotated[
        str | None, typer.Option("--uln", help="Upper limit of normal (same unit).")
    ] = None,
    lln: Annotated[
        str | None, typer.Option("--lln", help="Lower limit of normal (same unit).")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="The subject's baseline value (same unit).")
    ] = None,
    limit_unit: Annotated[
        str | None,
        typer.Option("--limit-unit", help="Unit of --lln/--uln when it is not the value's unit."),
    ] = None,
    symptomatic: Annotated[
        bool | None,
        typer.Option(
            "--symptomatic/--asymptomatic",
            help="Clinical fact for symptom-dependent grades; omit when unknown.",
            show_default=False,
        ),
    ] = None,
    life_threatening: Annotated[
        bool, typer.Option("--life-threatening", help="Life-threatening consequences reported.")
    ] = False,
    serious_arrhythmia: Annotated[
        bool,
        typer.Option("--serious-arrhythmia", help="QTc: torsade de pointes or serious arrhythmia."),
    ] = False,
    version: VersionOpt = DEFAULT_VERSION,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Grade one lab value."""
    result = grade_lab(
        analyte,
        value,
        unit,
        lln=lln,
        uln=uln,
        baseline=baseline,
        version=version,
        symptomatic=symptomatic,
        life_threatening=life_threatening,
        serious_arrhythmia=serious_arrhythmia,
        limit_unit=limit_unit,
        term=term,
        baseline_abnormal=baseline_abnormal,
    )
    if fmt is OutputFormat.json:
        print_json(_lab_doc(result))
        return
    title = result.term or "no CTCAE grade"
    stdout.print(f"[bold]Grade {result.grade}[/bold] {title} (CTCAE v{result.version})")
    stdout.print(f"rule: {result.rule}", markup=False)
    stdout.print(f"criterion: {result.criterion}", markup=False)
    if len(result.possible_grades) > 1:
        stdout.print(
            f"possible grades: {', '.join(map(str, result.possible_grades))} "
            f"(missing: {', '.join(result.missing_facts)})",
            markup=False,
        )
    if result.baseline_basis:
        stdout.print(f"baseline: {_baseline_text(result)}", markup=False)
    for note in result.notes:
        stdout.print(f"note: {note}", markup=False)


def _baseline_text(r: LabGrade) -> str:
    state = "abnormal" if r.baseline_abnormal else "normal"
    how = {"flag": "as flagged", "inferred": "inferred from baseline and ULN"}.get(
        r.baseline_basis, "assumed: no baseline given"
    )
    return f"{state} ({how})"


def _refused_doc(r: LabRowError) -> dict[str, Any]:
    return {
        "line": r.line,
        "id": r.id,
        "subject_id": r.subject_id,
        "code": r.code,
        "reason": r.reason,
    }


def _row_doc(r: LabRowGrade) -> dict[str, Any]:
    return {
        "line": r.line,
        "id": r.id,
        "subject_id": r.subject_id,
        "date": r.date,
        **_lab_doc(r.result),
    }


@ctcae_app.command("grade-labs")
@command_errors
def ctcae_grade_labs(
    file: InputFile,
    version: VersionOpt = DEFAULT_VERSION,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going",
            help="Grade the valid rows and list the refused ones (line and reason); exit code 1 "
            "if any row was refused. Default: any bad row stops the whole batch.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Grade every row of a lab CSV file (docs/formats/labs.md)."""
    batch = grade_lab_file_batch(file, version=version, keep_going=keep_going)
    rows = batch.graded
    if fmt is OutputFormat.json:
        print_json(
            {
                "ctcae_version": version,
                "file": file.name,
                "results": [_row_doc(r) for r in rows],
                "refused": [_refused_doc(r) for r in batch.refused],
            }
        )
    else:
        _print_lab_rows(rows, version, file.name)
        if batch.refused:
            refused = Table(title=f"Refused rows of {file.name} (not graded)")
            for column in ("line", "subject", "reason"):
                refused.add_column(column)
            for e in batch.refused:
                refused.add_row(str(e.line), e.subject_id or "", escape(e.reason))
            stdout.print(refused)
    if batch.refused:
        stderr.print(
            f"{len(batch.refused)} row(s) refused (line(s) "
            f"{', '.join(str(e.line) for e in batch.refused)}); {len(rows)} graded.",
            markup=False,
        )
        raise typer.Exit(code=1)


def _print_lab_rows(rows: Sequence[LabRowGrade], version: str, name: str) -> None:
    table = Table(title=f"CTCAE v{version} grades of {name}")
    baseline = any(r.result.baseline_basis for r in rows)
    columns = ("line", "subject", "date", "analyte", "value", "grade", "term", "criterion")
    for column in (*columns, "baseline") if baseline else columns:
        table.add_column(column)
    for r in rows:
        g = r.result
        grade = str(g.grade) + ("*" if len(g.possible_grades) > 1 else "")
        table.add_row(
            str(r.line),
            r.subject_id or "",
            r.date or "",
            g.analyte,
            f"{g.value} {g.unit}",
            grade,
            g.term or "",
            escape(g.criterion),
            *([_baseline_text(g) if g.baseline_basis else ""] if baseline else []),
        )
    stdout.print(table)
    if any(len(r.result.possible_grades) > 1 for r in rows):
        stdout.print("* worse of two possible grades: symptoms not reported (see --format json)")


@ctcae_app.command("term")
@command_errors
def ctcae_term(
    term: Annotated[str, typer.Argument(help="A CTCAE v5.0 term or its MedDRA code.")],
    grade: Annotated[
        int | None, typer.Option("--grade", "-g", help="Only this grade's text.")
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Look a term up in the CTCAE v5.0 catalogue."""
    catalogue = load_catalogue()
    found = catalogue.by_meddra(term) if term.strip().isdigit() else catalogue.term(term)
    grades = {grade: found.grade_definition(grade)} if grade is not None else found.grades
    if fmt is OutputFormat.json:
        print_json(
            {
                "term": found.term,
                "meddra_code": found.meddra_code,
                "soc": found.soc,
                "ctcae_version": found.version,
                "grades": {str(g): t for g, t in grades.items()},
                "definition": found.definition,
            }
        )
        return
    stdout.print(f"[bold]{found.term}[/bold] (MedDRA {found.meddra_code}; {found.soc})")
    for g, text in grades.items():
        stdout.print(
            f"grade {g}: {text if text is not None else '- (does not exist)'}", markup=False
        )
    if found.definition and grade is None:
        stdout.print(f"definition: {found.definition}", markup=False)


def _read_assessments(file: Path) -> tuple[str | None, Any, Sequence[Mapping[str, Any]]]:
    from oncotrials.core.grading.dlt import read_structured_file

    data = read_structured_file(file)
    if isinstance(data, list):
        return None, None, data
    if isinstance(data, Mapping) and isinstance(data.get("assessments"), list):
        unknown = set(data) - {"subject_id", "age_years", "assessments"}
        if unknown:
            raise ValidationError(
                f"{file.name}: unknown top-level field(s) {', '.join(sorted(unknown))}; "
                f"expected subject_id, age_years and assessments (docs/formats/crs-icans.md)."
            )
        subject = data.get("subject_id")
        return (
            None if subject is None else str(subject),
            data.get("age_years"),
            data["assessments"],
        )
    raise ValidationError(
        f"{file.name}: expected a list of assessments or an object with 'assessments' "
        f"(docs/formats/crs-icans.md)."
    )


def _course_doc(course: AstctCourse) -> dict[str, Any]:
    return {
        "subject_id": course.subject_id,
        "scale": course.scale,
        "worst_grade": course.worst_grade,
        "worst_assessment": course.worst_assessment,
        "assessments": [
            {
                "id": a.id,
                "time": a.time,
                "grade": a.result.grade,
                "rule": a.result.rule,
                "decided_by": list(a.result.decided_by),
                "domains": dict(a.result.domains),
                **({"ice_score": a.result.ice_score} if course.scale == "ASTCT_ICANS" else {}),
                "notes": list(a.result.notes),
            }
            for a in course.assessments
        ],
        "source": ASTCT_SOURCE,
    }


def _print_course(course: AstctCourse, name: str) -> None:
    table = Table(title=f"{name} ({course.scale}); worst grade {course.worst_grade}")
    for column in ("assessment", "time", "grade", "decided by", "rule"):
        table.add_column(column)
    for a in course.assessments:
        table.add_row(
            a.id,
            a.time or "",
            str(a.result.grade),
            ", ".join(a.result.decided_by),
            escape(a.result.rule),
        )
    stdout.print(table)
    for a in course.assessments:
        for note in a.result.notes:
            stdout.print(f"note ({a.id}): {note}", markup=False)


@crs_app.command("grade")
@command_errors
def crs_grade(file: InputFile, fmt: FormatOption = OutputFormat.human) -> None:
    """Grade CRS assessments (docs/formats/crs-icans.md)."""
    subject, age, items = _read_assessments(file)
    course = grade_assessments(items, scale="crs", subject_id=subject, age_years=age)
    if fmt is OutputFormat.json:
        print_json(_course_doc(course))
    else:
        _print_course(course, "CRS")


@icans_app.command("grade")
@command_errors
def icans_grade(file: InputFile, fmt: FormatOption = OutputFormat.human) -> None:
    """Grade ICANS assessments (docs/formats/crs-icans.md)."""
    subject, age, items = _read_assessments(file)
    course = grade_assessments(items, scale="icans", subject_id=subject, age_years=age)
    if fmt is OutputFormat.json:
        print_json(_course_doc(course))
    else:
        _print_course(course, "ICANS")


def _decision_doc(d: SubjectDecision) -> dict[str, Any]:
    return {
        "subject_id": d.subject_id,
        "outcome": d.outcome.value,
        "rule_id": d.rule_id,
        "reason": d.reason,
        "events": [
            {
                "event_id": e.event_id,
                "term": e.term,
                "scale": e.scale,
                "worst_grade": e.worst_grade,
                "onset_day": e.onset_day,
                "outcome": e.outcome.value,
                "rule_id": e.rule_id,
                "reason": e.reason,
                "source": e.source,
            }
            for e in d.events
        ],
    }


_STYLE = {  # by Outcome value
    "dlt": "bold red",
    "pending": "yellow",
    "not_dlt": "green",
    "not_evaluable": "dim",
}


@dlt_app.command("evaluate")
@command_errors
def dlt_evaluate(
    file: InputFile,
    rules: Annotated[Path, typer.Option("--rules", "-r", help="DLT rule file (YAML or JSON).")],
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Evaluate subjects' events against a protocol's DLT rules (docs/formats/dlt-rules.md)."""
    from oncotrials.core.grading.dlt import evaluate_file, load_dlt_rules

    rule_set = load_dlt_rules(rules)
    decisions = evaluate_file(rule_set, file)
    if fmt is OutputFormat.json:
        print_json(
            {
                "protocol": rule_set.protocol,
                "window_days": rule_set.window_days,
                "ctcae_version": rule_set.ctcae_version,
                "subjects": [_decision_doc(d) for d in decisions],
            }
        )
        return
    table = Table(
        title=f"DLT evaluation ({rule_set.protocol or rules.name}, "
        f"window days 1-{rule_set.window_days})"
    )
    for column in ("subject", "event", "grade", "day", "outcome", "rule", "reason"):
        table.add_column(column)
    for d in decisions:
        style = _STYLE[d.outcome.value]
        table.add_row(
            d.subject_id,
            "[b]subject[/b]",
            "",
            "",
            f"[{style}]{d.outcome.value}[/]",
            d.rule_id or "",
            d.reason,
        )
        for e in d.events:
            table.add_row(
                "",
                e.event_id,
                "" if e.worst_grade is None else str(e.worst_grade),
                "" if e.onset_day is None else str(e.onset_day),
                f"[{_STYLE[e.outcome.value]}]{e.outcome.value}[/]",
                e.rule_id or "",
                escape(e.reason),
            )
    stdout.print(table)
