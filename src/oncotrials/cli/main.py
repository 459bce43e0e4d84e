"""The ``oncotrials`` command: one Typer application for the platform and the science."""

from __future__ import annotations

import typer

from oncotrials import __version__
from oncotrials.cli.commands import (
    design,
    design_model,
    genomics,
    grading,
    match,
    platform,
    randomise,
    recist,
    schedule,
    survival,
)

app = typer.Typer(
    name="oncotrials",
    help="Early-phase and precision oncology research platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold patient data
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """oncotrials command line."""


app.command()(platform.run)
app.command()(platform.demo)
app.command()(platform.migrate)
app.command()(platform.createuser)
app.add_typer(platform.token_app, name="token")
app.add_typer(platform.audit_app, name="audit")
app.add_typer(platform.db_app, name="db")
app.add_typer(grading.ctcae_app, name="ctcae")
app.add_typer(grading.crs_app, name="crs")
app.add_typer(grading.icans_app, name="icans")
app.add_typer(grading.dlt_app, name="dlt")
app.add_typer(recist.app, name="recist")
app.add_typer(survival.app, name="survival")
design.register(design_model.COMMANDS)
app.add_typer(design.app, name="design")
app.add_typer(randomise.app, name="randomise")
app.add_typer(schedule.app, name="schedule")
app.add_typer(genomics.app, name="genomics")
app.add_typer(match.app, name="match")


def main() -> None:
    app()
