"""``oncotrials export`` (a trial's data from a named data cut) and ``oncotrials convert``
(SDTM files: XPT to Dataset-JSON, RECIST recomputed from TU/TR)."""

from __future__ import annotations

import datetime as dt
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

convert_app = typer.Typer(help="Convert and check CDISC SDTM files.", no_args_is_help=True)


@command_errors
def export(
    kind: Annotated[
        str, typer.Argument(metavar="FORMAT", help="Export format, e.g. sdtm (see --list).")
    ] = "",
    study: Annotated[str, typer.Option("--study", help="Protocol code of the trial.")] = "",
    cut: Annotated[
        str,
        typer.Option(
            "--cut", help="Name of the data cut: made now if the trial has none by that name."
        ),
    ] = "",
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the files into.", file_okay=False)
    ] = Path("."),
    user: Annotated[
        str | None,
        typer.Option(
            help="Act as this user (checked: may export the trial, at the sites it may see); "
            "default: a system export of every site."
        ),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why the cut is made (kept with it).")] = "",
    list_formats: Annotated[
        bool, typer.Option("--list", help="List the export formats and exit.")
    ] = False,
    ae: Annotated[
        int | None, typer.Option("--ae", help="e2b: the serious adverse event to report.")
    ] = None,
    report: Annotated[
        int | None,
        typer.Option("--report", help="e2b: the SAE report version (default: the latest)."),
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Export a trial's data from a named data cut (made if new), with each file's SHA-256.

    The same cut always gives the same files: they are written from the data frozen when the
    cut was made and checked against the digests recorded then. ``export e2b --ae ID`` writes
    the ICH E2B(R3) ICSR of one SAE instead (``--report N`` for a given version).
    """
    if kind == "e2b":
        from oncotrials.cli.commands.e2b import export_e2b

        export_e2b(ae_id=ae, report=report, out=out, user=user, fmt=fmt)
        return
    from oncotrials.cli import django_setup

    django_setup.setup()
    from django.contrib.auth import get_user_model

    from oncotrials.apps.audit.context import audit_context
    from oncotrials.apps.exports.models import DataCut
    from oncotrials.apps.exports.registry import format_get, formats_all
    from oncotrials.apps.exports.selectors import data_cut_get_for_user
    from oncotrials.apps.exports.services import check_may_export, data_cut_create, data_cut_files
    from oncotrials.apps.trials.models import Trial

    if list_formats:
        rows = [
            {"name": f.name, "label": f.label, "description": f.description} for f in formats_all()
        ]
        if fmt is OutputFormat.json:
            print_json(rows)
        else:
            for r in rows:
                stdout.print(f"{r['name']}\t{r['label']}: {r['description']}")
        return
    if not kind or not study or not cut:
        raise ValidationError("Give the format, --study and --cut (or --list for the formats).")
    exporter = format_get(kind)
    trial = Trial.objects.filter(protocol_code=study).first()
    if trial is None:
        raise ValidationError(f"No trial with protocol code {study!r}.")
    by = None
    if user is not None:
        by = get_user_model().objects.filter(username=user, is_active=True).first()
        if by is None:
            raise ValidationError(f"No active user {user!r}; give an existing --user or none.")
    with audit_context(channel="cli", user=by):
        found = DataCut.objects.filter(trial=trial, name=cut).first()
        made = found is None
        if found is None:
            with stderr.status(f"Making data cut {cut!r} of {study}…"):
                found = data_cut_create(
                    trial=trial, name=cut, formats=[exporter.name], by=by, reason=reason
                )
        elif by is not None:
            found = data_cut_get_for_user(user=by, cut_id=found.pk)
        if by is not None:
            check_may_export(by, found)
        files = data_cut_files(cut=found, fmt=exporter.name, by=by)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)  # cbioportal: case_lists/
        (out / name).write_bytes(data)
    recorded = found.files[exporter.name]
    result: dict[str, Any] = {
        "study": study,
        "cut": found.name,
        "made": made,
        "created_at": found.created_at,
        "format": exporter.name,
        "out": str(out),
        "files": [
            {"name": n, "sha256": recorded[n]["sha256"], "bytes": recorded[n]["bytes"]}
            for n in sorted(files)
        ],
    }
    if fmt is OutputFormat.json:
        print_json(result)
        return
    table = Table("file", "bytes", "SHA-256", title=f"{study} · cut {found.name} · {kind}")
    for f in result["files"]:
        table.add_row(f["name"], str(f["bytes"]), f["sha256"])
    stdout.print(table)
    what = "made now" if made else f"made {found.created_at:%Y-%m-%d %H:%M:%S} UTC"
    stderr.print(f"Data cut {found.name!r} ({what}): {len(files)} files written to {out}.")


@convert_app.command("xpt-to-dsj")
@command_errors
def xpt_to_dsj(
    source: Annotated[Path, typer.Argument(help="SAS XPORT file (.xpt).", dir_okay=False)],
    target: Annotated[Path, typer.Argument(help="Dataset-JSON file to write.", dir_okay=False)],
    define: Annotated[
        Path | None,
        typer.Option(help="The study's Define-XML: OIDs, data types, lengths and keys from it."),
    ] = None,
    originator: Annotated[str, typer.Option(help="Dataset-JSON originator.")] = "",
    encoding: Annotated[
        str | None, typer.Option(help="Character encoding (default: UTF-8, else Windows-1252).")
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Convert a SAS XPORT dataset to CDISC Dataset-JSON 1.1, checked against its schema."""
    from oncotrials.core.sdtm import dataset_json_errors, read_define, xpt_to_dataset_json
    from oncotrials.core.sdtm.writers import json_bytes

    info = read_define(define) if define is not None else None
    doc = xpt_to_dataset_json(
        source,
        define=info,
        created=dt.datetime.now(dt.UTC),
        originator=originator,
        encoding=encoding,
    )
    errors = dataset_json_errors(doc)
    if errors:
        raise ValidationError(f"{target.name} would break the Dataset-JSON schema: {errors[0]}")
    target.write_bytes(json_bytes(doc))
    summary = {
        "dataset": doc["name"],
        "records": doc["records"],
        "columns": len(doc["columns"]),
        "out": str(target),
    }
    if fmt is OutputFormat.json:
        print_json(summary)
    else:
        stdout.print(
            f"{doc['name']}: {doc['records']} records, {len(doc['columns'])} columns → {target}"
        )


@convert_app.command("sdtm-recist")
@command_errors
def sdtm_recist(
    tu: Annotated[Path, typer.Argument(help="TU dataset (.csv, .xpt or .json).")],
    tr: Annotated[Path, typer.Argument(help="TR dataset.")],
    rs: Annotated[Path, typer.Argument(help="RS dataset.")],
    dm: Annotated[Path | None, typer.Option(help="DM dataset (RFSTDTC starts treatment).")] = None,
    evaluator: Annotated[str, typer.Option(help="TUEVAL/TREVAL/RSEVAL to read.")] = "INVESTIGATOR",
    evaluator_id: Annotated[str, typer.Option(help="--EVALID to read (e.g. RADIOLOGIST 1).")] = "",
    encoding: Annotated[str | None, typer.Option(help="Character encoding of CSV files.")] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Recompute RECIST 1.1 from SDTM TU/TR and compare it with the evaluator's RS responses."""
    from oncotrials.core.sdtm import read_table
    from oncotrials.core.sdtm.recist_check import recist_agreement

    tables = [read_table(p, encoding=encoding) for p in (tu, tr, rs)]
    dm_rows: Any = read_table(dm, encoding=encoding).rows if dm is not None else ()
    for t in tables:
        for notice in t.notices:
            stderr.print(escape(notice))
    report = recist_agreement(
        tables[0].rows,
        tables[1].rows,
        tables[2].rows,
        dm_rows,
        evaluator=evaluator,
        evaluator_id=evaluator_id,
    )
    if fmt is OutputFormat.json:
        print_json(
            {
                "agreed": report.agreed,
                "compared": len(report.rows),
                "rows": [
                    {
                        "subject": r.subject,
                        "visit": r.visit,
                        "date": r.date,
                        "reported": r.reported,
                        "recomputed": r.recomputed,
                        "agrees": r.agrees,
                        "explanation": r.explanation,
                    }
                    for r in report.rows
                ],
                "crosstab": [
                    {"reported": k[0], "recomputed": k[1], "n": v}
                    for k, v in sorted(report.crosstab().items())
                ],
                "not_evaluable": report.not_evaluable,
                "notes": list(report.notes),
            }
        )
        return
    table = Table(
        "subject",
        "visit",
        "date",
        "reported",
        "recomputed",
        "why they differ",
        title=f"RECIST 1.1 recomputed vs {evaluator} {evaluator_id}".strip(),
    )
    for r in report.rows:
        table.add_row(
            r.subject,
            r.visit,
            str(r.date or ""),
            r.reported,
            r.recomputed or "—",
            escape(r.explanation),
        )
    stdout.print(table)
    stdout.print(f"agreement: {report.agreed}/{len(report.rows)} time points")
    for subject, why in report.not_evaluable.items():
        stdout.print(f"not evaluable {subject}: {escape(why)}")
    for note in report.notes:
        stderr.print(escape(note))
