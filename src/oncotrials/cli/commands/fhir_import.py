"""``oncotrials import fhir``: read FHIR R4 / mCODE files and report, resource by resource, what
was read and what was skipped and why."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
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

app = typer.Typer(
    help="Import from other systems: FHIR R4 / mCODE files read, with a report (dry run).",
    no_args_is_help=True,
)


def _files(path: Path) -> list[tuple[str, bytes]]:
    if path.is_dir():
        found = sorted(p for p in path.glob("*.json") if p.is_file())
        if not found:
            raise ValidationError(f"{path} holds no .json file; give a FHIR JSON file or folder.")
        return [(p.name, p.read_bytes()) for p in found]
    if not path.is_file():
        raise ValidationError(f"{path} does not exist; give a FHIR JSON file or folder.")
    return [(path.name, path.read_bytes())]


@app.command("fhir")
@command_errors
def fhir(
    path: Annotated[
        Path, typer.Argument(help="A FHIR JSON file (resource or Bundle) or a folder.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the records read (patients, conditions, ...) as JSON here.",
            dir_okay=False,
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Read patients, conditions, specimens and observations (ECOG, stage group, genomic
    variants) from FHIR R4 files; every other resource is skipped with its reason.

    A dry run: nothing in the database changes. A file that is not FHIR JSON stops the whole
    import with its name and line, and --out is then not written.
    """
    from oncotrials.core.fhir.read import read_resources

    result = read_resources(_files(path))
    records = {
        "patients": [dataclasses.asdict(p) for p in result.patients],
        "conditions": [dataclasses.asdict(x) for x in result.conditions],
        "specimens": [dataclasses.asdict(x) for x in result.specimens],
        "observations": [dataclasses.asdict(x) for x in result.observations],
    }
    if out is not None:
        out.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report: dict[str, Any] = {
        "counts": result.counts(),
        "read": {k: len(v) for k, v in records.items()},
        "skipped": [dataclasses.asdict(o) for o in result.outcomes if o.status == "skipped"],
    }
    if fmt is OutputFormat.json:
        print_json(report)
        return
    table = Table("resource", "read", "skipped", title=f"FHIR import (dry run) · {path.name}")
    for kind, row in report["counts"].items():
        table.add_row(kind, str(row["read"]), str(row["skipped"]))
    stdout.print(table)
    reasons = Counter(o["reason"] for o in report["skipped"])
    for reason, n in reasons.most_common():
        stdout.print(f"skipped {n} × {escape(reason)}")
    read = ", ".join(f"{n} {k}" for k, n in report["read"].items())
    stderr.print(f"Read {read}; nothing was written to the database.")
