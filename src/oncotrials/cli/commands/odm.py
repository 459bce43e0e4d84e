"""``oncotrials odm``: CDISC ODM 1.3.2 files from other EDC systems — check one against the
schema, and read its metadata as form declarations (printed, or declared for a trial)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

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
    help="CDISC ODM 1.3.2: check a file, read its metadata as form declarations.",
    no_args_is_help=True,
)


@app.command("check")
@command_errors
def check(
    source: Annotated[
        Path, typer.Argument(help="ODM 1.3.2 XML file.", dir_okay=False, exists=True)
    ],
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Check an ODM file against the ODM 1.3.2 XML Schema; exit 1 when it breaks it."""
    from oncotrials.core.odm import odm_schema_errors

    errors = odm_schema_errors(source.read_bytes())
    if fmt is OutputFormat.json:
        print_json({"file": str(source), "valid": not errors, "errors": errors})
    elif not errors:
        stdout.print(f"{source.name}: valid ODM 1.3.2")
    for e in errors[:20]:
        if fmt is OutputFormat.human:
            stdout.print(escape(e))
    if errors:
        raise typer.Exit(1)


@app.command("import-forms")
@command_errors
def import_forms(
    source: Annotated[
        Path, typer.Argument(help="ODM 1.3.2 XML file.", dir_okay=False, exists=True)
    ],
    study: Annotated[
        str,
        typer.Option(
            "--study", help="Declare the forms for this trial (protocol code); else print them."
        ),
    ] = "",
    user: Annotated[
        str, typer.Option(help="Who declares them (recorded in the audit trail).")
    ] = "",
    reason: Annotated[
        str, typer.Option(help="Why (required when a form of that name is already declared).")
    ] = "",
    metadata_version: Annotated[
        str | None, typer.Option(help="OID of the MetaDataVersion to read (default: the first).")
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Read the forms of an ODM MetaDataVersion as form declarations; with --study, declare them.

    What a declaration cannot hold (repeating groups, derived items, time data...) is refused
    with the OID at fault, and nothing is declared.
    """
    from oncotrials.core.odm import forms_from_odm

    documents = forms_from_odm(source, metadata_version=metadata_version)
    stored: list[dict[str, Any]] = []
    if study:
        if not user:
            raise ValidationError("Give --user: declaring forms is recorded with who did it.")
        from oncotrials.cli import django_setup

        django_setup.setup()
        from django.contrib.auth import get_user_model

        from oncotrials.apps.audit.context import audit_context
        from oncotrials.apps.crfs.services import form_declarations_import
        from oncotrials.apps.trials.models import Trial

        trial = Trial.objects.filter(protocol_code=study).first()
        if trial is None:
            raise ValidationError(f"No trial with protocol code {study!r}.")
        by = get_user_model().objects.filter(username=user, is_active=True).first()
        if by is None:
            raise ValidationError(f"No active user {user!r}.")
        with audit_context(channel="cli", user=by):
            saved = form_declarations_import(trial=trial, documents=documents, by=by, reason=reason)
        stored = [{"name": d.name, "version": d.version} for d in saved]
    if fmt is OutputFormat.json:
        print_json({"forms": documents, "declared": stored, "study": study or None})
        return
    if not study:
        stdout.print_json(json.dumps(documents, ensure_ascii=False))
        return
    for d in stored:
        stdout.print(f"{d['name']}\tversion {d['version']}")
    stderr.print(f"{len(stored)} form(s) declared for {study}.")
