"""``oncotrials recist evaluate``: RECIST 1.1 or iRECIST response from a JSON file.

Every time point names the RECIST 1.1 Table 1/2 row (or the iRECIST rule) that decided it, and
the best overall response names the confirmation rule, so a data manager can check each result.
The input format is documented in ``docs/formats/recist-input.md``.
"""

from __future__ import annotations

import enum
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oncotrials.cli.output import FormatOption, OutputFormat, command_errors, print_json, stdout
from oncotrials.core.recist import (
    BestOverallResponse,
    IRecistResult,
    RecistResult,
    TimepointResult,
    evaluate_irecist,
    evaluate_recist,
)
from oncotrials.core.recist.io import load_recist_input, read_json

app = typer.Typer(help="RECIST 1.1 and iRECIST tumour response.", no_args_is_help=True)


@app.callback()
def _recist() -> None:
    """RECIST 1.1 (Eisenhauer 2009) and iRECIST (Seymour 2017) tumour response."""


class Criteria(enum.StrEnum):
    recist = "recist"
    irecist = "irecist"


InputFile = Annotated[
    Path,
    typer.Argument(
        help="Tumour assessments as JSON (docs/formats/recist-input.md).", dir_okay=False
    ),
]
CriteriaOption = Annotated[
    Criteria, typer.Option("--criteria", "-c", help="recist (RECIST 1.1) or irecist.")
]
ConfirmOption = Annotated[
    bool | None,
    typer.Option(
        "--confirm/--no-confirm",
        help="Require confirmation of CR/PR for the headline best response (overrides the file).",
        show_default=False,
    ),
]


def _best(best: BestOverallResponse) -> dict[str, Any]:
    return {
        "response": best.response.value,
        "date": best.date,
        "rule": best.rule,
        "confirmed_by": best.confirmed_by,
    }


def _timepoint(tp: TimepointResult) -> dict[str, Any]:
    return {
        "date": tp.date,
        "target": None if tp.target is None else tp.target.value,
        "non_target": None if tp.non_target is None else tp.non_target.value,
        "new_lesions": tp.new_lesions,
        "overall": tp.overall.value,
        "rule": tp.rule,
        "target_rule": tp.target_rule,
        "non_target_rule": tp.non_target_rule,
        "sum_mm": tp.sum_mm,
        "nadir_mm": tp.nadir_mm,
        "baseline_sum_mm": tp.baseline_sum_mm,
        "change_from_baseline_pct": tp.change_from_baseline_pct,
        "change_from_nadir_pct": tp.change_from_nadir_pct,
    }


def recist_document(result: RecistResult) -> dict[str, Any]:
    return {
        "patient_id": result.patient_id,
        "target_ids": list(result.target_ids),
        "non_target_ids": list(result.non_target_ids),
        "baseline_sum_mm": result.baseline_sum_mm,
        "bor": _best(result.bor),
        "bor_unconfirmed": _best(result.bor_unconfirmed),
        "bor_confirmed": _best(result.bor_confirmed),
        "response_date": result.response_date,
        "progression_date": result.progression_date,
        "last_adequate_date": result.last_adequate_date,
        "selection_notes": list(result.selection_notes),
        "timepoints": [_timepoint(tp) for tp in result.timepoints],
    }


def irecist_document(result: IRecistResult) -> dict[str, Any]:
    return {
        "patient_id": result.patient_id,
        "ibor": _best(result.ibor),
        "ibor_unconfirmed": _best(result.ibor_unconfirmed),
        "ibor_confirmed": _best(result.ibor_confirmed),
        "response_date": result.response_date,
        "progression_date": result.progression_date,
        "icpd_date": result.icpd_date,
        "last_adequate_date": result.last_adequate_date,
        "timepoints": [
            {
                "date": tp.date,
                "overall": tp.overall.value,
                "rule": tp.rule,
                "iupd_categories": list(tp.iupd_categories),
                "warnings": list(tp.warnings),
                "recist": _timepoint(tp.recist),
            }
            for tp in result.timepoints
        ],
    }


def _pct(value: object) -> str:
    return "" if value is None else f"{value}"


def _print_recist(result: RecistResult) -> None:
    table = Table(title=f"Patient {escape(result.patient_id)} — RECIST 1.1", title_justify="left")
    for column in ("Date", "Target", "Non-target", "New", "Sum mm", "Δ base %", "Δ nadir %"):
        table.add_column(column)
    table.add_column("Overall", style="bold")
    for tp in result.timepoints:
        table.add_row(
            tp.date.isoformat(),
            "" if tp.target is None else tp.target.value,
            "" if tp.non_target is None else tp.non_target.value,
            "yes" if tp.new_lesions else "",
            _pct(tp.sum_mm),
            _pct(tp.change_from_baseline_pct),
            _pct(tp.change_from_nadir_pct),
            tp.overall.value,
        )
    stdout.print(table)
    for tp in result.timepoints:
        stdout.print(f"  {tp.date.isoformat()}: {escape(tp.rule)}")
    for name, best in (("BOR", result.bor), ("unconfirmed", result.bor_unconfirmed)):
        stdout.print(f"  {name}: [bold]{best.response.value}[/] — {escape(best.rule)}")


def _print_irecist(result: IRecistResult) -> None:
    table = Table(title=f"Patient {escape(result.patient_id)} — iRECIST", title_justify="left")
    for column in ("Date", "RECIST 1.1", "Sum mm"):
        table.add_column(column)
    table.add_column("iRECIST", style="bold")
    for tp in result.timepoints:
        table.add_row(
            tp.date.isoformat(), tp.recist.overall.value, _pct(tp.recist.sum_mm), tp.overall.value
        )
    stdout.print(table)
    for tp in result.timepoints:
        stdout.print(f"  {tp.date.isoformat()}: {escape(tp.rule)}")
        for warning in tp.warnings:
            stdout.print(f"  [yellow]warning[/] {tp.date.isoformat()}: {escape(warning)}")
    stdout.print(f"  iBOR: [bold]{result.ibor.response.value}[/] — {escape(result.ibor.rule)}")


@app.command("evaluate")
@command_errors
def evaluate(
    file: InputFile,
    criteria: CriteriaOption = Criteria.recist,
    confirm: ConfirmOption = None,
    output: FormatOption = OutputFormat.human,
) -> None:
    """Evaluate every patient of FILE: time-point responses, best overall response, dates."""
    document = load_recist_input(read_json(file), source=file.name)
    options = document.options
    irecist_options = document.irecist_options
    if confirm is not None and confirm != options.confirmation:
        options = replace(options, confirmation=confirm)
        irecist_options = replace(irecist_options, recist=options)
    if criteria is Criteria.irecist:
        iresults = [evaluate_irecist(record, irecist_options) for record in document.records]
        if output is OutputFormat.json:
            print_json(
                {
                    "criteria": "iRECIST",
                    "confirmation": options.confirmation,
                    "patients": [irecist_document(r) for r in iresults],
                }
            )
        else:
            for iresult in iresults:
                _print_irecist(iresult)
        return
    results = [evaluate_recist(record, options) for record in document.records]
    if output is OutputFormat.json:
        print_json(
            {
                "criteria": "RECIST 1.1",
                "confirmation": options.confirmation,
                "patients": [recist_document(r) for r in results],
            }
        )
    else:
        for result in results:
            _print_recist(result)


TimepointsFile = Annotated[
    Path,
    typer.Argument(
        help="Time-point responses: CSV (docs/formats/recist-timepoints.md) or an SDTM RS table.",
        dir_okay=False,
    ),
]


class InputFormat(enum.StrEnum):
    csv = "csv"
    sdtm_rs = "sdtm-rs"


def _tp_best(best: Any) -> dict[str, Any]:
    return {
        "response": best.response,
        "date": best.date,
        "rule": best.rule,
        "confirmed_by": best.confirmed_by,
    }


@app.command("bor")
@command_errors
def bor(
    file: TimepointsFile,
    criteria: CriteriaOption = Criteria.recist,
    input_format: Annotated[
        InputFormat,
        typer.Option(
            "--input-format",
            "--from",
            help="csv (the time-point table) or sdtm-rs (an SDTM RS domain as CSV).",
        ),
    ] = InputFormat.csv,
    evaluator: Annotated[
        str | None,
        typer.Option(
            "--evaluator",
            help="SDTM RS: whose reads (RSEVAL, e.g. INVESTIGATOR, or RSEVALID).",
        ),
    ] = None,
    dm: Annotated[
        Path | None,
        typer.Option(
            "--dm",
            dir_okay=False,
            help="SDTM RS: the DM table (CSV) giving each subject's start of treatment.",
        ),
    ] = None,
    start_var: Annotated[
        str,
        typer.Option("--start-var", help="SDTM RS: the DM variable of the start of treatment."),
    ] = "RFSTDTC",
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm/--no-confirm",
            help="Require confirmation of CR/PR for the headline best response.",
        ),
    ] = False,
    min_sd_days: Annotated[
        int, typer.Option("--min-sd-days", min=0, help="Minimum SD duration from start (days).")
    ] = 42,
    confirm_days: Annotated[
        int,
        typer.Option("--confirm-days", min=1, help="Minimum interval to confirm CR/PR (days)."),
    ] = 28,
    max_ne: Annotated[
        int,
        typer.Option("--max-ne", min=0, help="Most NE between a response and its confirmation."),
    ] = 1,
    accept_sd: Annotated[
        bool, typer.Option("--accept-sd", help="Accept one SD between a PR and its confirmation.")
    ] = False,
    output: FormatOption = OutputFormat.human,
) -> None:
    """Best overall response (RECIST 1.1 or iRECIST) from a reader's time-point responses, with
    the rule used."""
    from oncotrials.core.recist.model import IRecistOptions, RecistOptions
    from oncotrials.core.recist.timepoints import evaluate_grouped, read_timepoints_csv

    options = RecistOptions(
        confirmation=confirm,
        min_sd_days=min_sd_days,
        min_confirmation_days=confirm_days,
        max_ne_between=max_ne,
        accept_sd_between=accept_sd,
    )
    notes: tuple[str, ...] = ()
    chosen = None
    if input_format is InputFormat.sdtm_rs:
        from oncotrials.core.recist.sdtm_rs import read_rs_csv, read_start_dates

        starts = read_start_dates(dm, variable=start_var) if dm is not None else None
        table = read_rs_csv(file, criteria=criteria.value, evaluator=evaluator, start_dates=starts)
        grouped, notes, chosen = table.patients, table.notes, table.evaluator
    else:
        grouped = read_timepoints_csv(file, criteria=criteria.value)
    patients = evaluate_grouped(
        grouped,
        IRecistOptions(recist=options) if criteria is Criteria.irecist else options,
        criteria=criteria.value,
        source=file.name,
    )
    label = "iRECIST" if criteria is Criteria.irecist else "RECIST 1.1"
    if output is OutputFormat.json:
        print_json(
            {
                "criteria": label,
                "confirmation": confirm,
                "input_format": input_format.value,
                "evaluator": chosen,
                "notes": list(notes),
                "patients": [
                    {
                        "patient_id": p.patient_id,
                        "start_date": p.start_date,
                        "target_disease": p.has_target_disease,
                        "bor": _tp_best(p.bor),
                        "bor_unconfirmed": _tp_best(p.bor_unconfirmed),
                        "bor_confirmed": _tp_best(p.bor_confirmed),
                        "progression_date": p.progression_date,
                        "notes": list(p.notes),
                        "warnings": list(p.warnings),
                        "timepoints": [
                            {
                                "line": r.line,
                                "date": r.date,
                                "target": r.target,
                                "non_target": r.non_target,
                                "new_lesions": r.new_lesions,
                                "overall": r.overall,
                                "rule": r.rule,
                            }
                            for r in p.rows
                        ],
                    }
                    for p in patients
                ],
            }
        )
        return
    for note in notes:
        stdout.print(f"note: {escape(note)}")
    for p in patients:
        table_out = Table(
            title=f"Patient {escape(p.patient_id)} — {label} time points", title_justify="left"
        )
        for column in ("Date", "Target", "Non-target", "New"):
            table_out.add_column(column)
        table_out.add_column("Overall", style="bold")
        for r in p.rows:
            table_out.add_row(
                r.date.isoformat(),
                r.target or "",
                r.non_target or "",
                "" if r.new_lesions is None else ("yes" if r.new_lesions else "no"),
                r.overall,
            )
        stdout.print(table_out)
        for r in p.rows:
            stdout.print(f"  {r.date.isoformat()}: {escape(r.rule)}")
        for note in p.notes:
            stdout.print(f"  note: {escape(note)}")
        for warning in p.warnings:
            stdout.print(f"  [bold yellow]warning:[/] {escape(warning)}")
        if p.progression_date is not None:
            stdout.print(f"  progression (confirmed iUPD): {p.progression_date.isoformat()}")
        for name, best in (("BOR", p.bor), ("unconfirmed", p.bor_unconfirmed)):
            stdout.print(f"  {name}: [bold]{best.response}[/] — {escape(best.rule)}")
