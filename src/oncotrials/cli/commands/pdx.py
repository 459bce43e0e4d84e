"""``oncotrials pdx``: mRECIST of PDX growth curves and the CancerModels submission check.

``mrecist`` reads tumour volumes in the Xeva ``experiments.csv`` layout (model.id, time, volume,
drug) and classifies each model x drug by mRECIST with Xeva's thresholds; ``check-export``
checks a CancerModels (PDX-MI) submission directory against the CancerModels dictionary 1.0.
"""

from __future__ import annotations

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

app = typer.Typer(
    help="PDX models: mRECIST drug response and the CancerModels (PDX-MI) submission check.",
    no_args_is_help=True,
)


@app.callback()
def _pdx() -> None:
    """PDX models: mRECIST drug response and the CancerModels (PDX-MI) submission check."""


def _num(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


@app.command("mrecist")
@command_errors
def mrecist_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="Tumour volumes as CSV: model.id, time (days), volume (mm³), drug.",
            dir_okay=False,
        ),
    ],
    min_time: Annotated[
        float, typer.Option("--min-time", help="First day that counts for BR and BAR (Xeva: 10).")
    ] = 10.0,
    output: FormatOption = OutputFormat.human,
) -> None:
    """Classify every model x drug of FILE by mRECIST (Gao 2015, Xeva thresholds)."""
    from oncotrials.core.biobank.pdx import mrecist_all, read_growth_csv

    results = mrecist_all(read_growth_csv(file), min_time=min_time)
    if output is OutputFormat.json:
        print_json(
            {
                "min_time": min_time,
                "results": [
                    {
                        "model_id": r.model_id,
                        "drug": r.drug,
                        "n": r.n,
                        "best_response": r.best_response,
                        "best_response_day": r.best_response_time,
                        "best_average_response": r.best_average_response,
                        "best_average_response_day": r.best_average_response_time,
                        "mrecist": None if r.call is None else r.call.value,
                        "rule": r.reason,
                    }
                    for r in results
                ],
            }
        )
        return
    table = Table(title=f"mRECIST (from day {min_time:g})", title_justify="left")
    for column in ("Model", "Drug", "n", "BR %", "day", "BAR %", "day"):
        table.add_column(column)
    table.add_column("mRECIST", style="bold")
    for r in results:
        table.add_row(
            escape(r.model_id),
            escape(r.drug),
            str(r.n),
            _num(r.best_response),
            _num(r.best_response_time, 0),
            _num(r.best_average_response),
            _num(r.best_average_response_time, 0),
            "NA" if r.call is None else r.call.value,
        )
    stdout.print(table)
    for r in results:
        stdout.print(f"  {escape(r.model_id)} ({escape(r.drug)}): {escape(r.reason)}")


@app.command("check-export")
@command_errors
def check_export(
    directory: Annotated[
        Path,
        typer.Argument(
            help="A submission directory: <provider>_metadata-<sheet>.tsv files.",
            file_okay=False,
        ),
    ],
    output: FormatOption = OutputFormat.human,
) -> None:
    """Check a CancerModels submission directory against the CancerModels dictionary 1.0.

    Exits 1 when an issue is found, each named by sheet, line and field.
    """
    from oncotrials.core.biobank.cancermodels import check_directory, load_dictionary

    dictionary = load_dictionary()
    provider, sheets, issues = check_directory(directory)
    rows = sum(len(s.rows) for s in sheets.values())
    summary: dict[str, Any] = {
        "provider": provider,
        "dictionary": f"{dictionary.name} {dictionary.version}",
        "sheets": {name: len(s.rows) for name, s in sheets.items()},
        "valid": not issues,
        "issues": [
            {
                "sheet": i.sheet,
                "line": i.line,
                "field": i.field,
                "code": i.code,
                "message": i.message,
            }
            for i in issues
        ],
    }
    if output is OutputFormat.json:
        print_json(summary)
    elif not issues:
        stdout.print(
            f"No issue: {len(sheets)} sheets, {rows} rows of {escape(provider)} checked "
            f"against {dictionary.name} {dictionary.version}."
        )
    else:
        table = Table(title=f"{len(issues)} issue(s) in {escape(provider)}", title_justify="left")
        for column in ("Sheet", "Line", "Field", "Code", "Message"):
            table.add_column(column)
        for i in issues:
            table.add_row(i.sheet, str(i.line or ""), escape(i.field), i.code, escape(i.message))
        stdout.print(table)
    if issues:
        stderr.print(f"{len(issues)} issue(s) against {dictionary.name} {dictionary.version}.")
        raise typer.Exit(code=1)


@app.command("export")
@command_errors
def export_command(
    directory: Annotated[
        Path, typer.Argument(help="Directory to write the submission files into.", file_okay=False)
    ],
    provider: Annotated[
        str, typer.Option("--provider", help="Provider abbreviation that names the files.")
    ] = "ONCOTRIALS",
    user: Annotated[
        str | None, typer.Option(help="Export what this user may see (default: every model).")
    ] = None,
    output: FormatOption = OutputFormat.human,
) -> None:
    """Write the database's PDX models as a CancerModels submission and check it.

    Exits 1 when the written files break the CancerModels dictionary.
    """
    from oncotrials.cli import django_setup

    django_setup.setup()
    from django.contrib.auth import get_user_model

    from oncotrials.apps.biobank.selectors_pdx import pdx_export
    from oncotrials.core.errors import ValidationError

    by = None
    if user is not None:
        by = get_user_model().objects.filter(username=user, is_active=True).first()
        if by is None:
            raise ValidationError(f"No active user {user!r}; give an existing --user or none.")
    directory.mkdir(parents=True, exist_ok=True)
    paths, issues = pdx_export(user=by, directory=directory, provider=provider)
    if output is OutputFormat.json:
        print_json(
            {
                "files": [str(p) for p in paths],
                "issues": [str(i) for i in issues],
                "valid": not issues,
            }
        )
    else:
        for path in paths:
            stdout.print(escape(str(path)))
        for issue in issues:
            stdout.print(f"[red]{escape(str(issue))}[/]")
    if issues:
        stderr.print(f"{len(issues)} issue(s) against the CancerModels dictionary.")
        raise typer.Exit(code=1)
