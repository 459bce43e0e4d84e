"""The ``oncotrials`` command: one Typer application for the platform and the science.

Commands are registered lazily: the top-level group knows each command's name, module and
one-line help, and imports the module only when the command runs (or its own ``--help`` is
asked for). ``oncotrials --help`` therefore imports no command module, and ``oncotrials ctcae
grade`` imports the grading commands only, not SciPy, pandas, polars or lifelines.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from oncotrials import __version__


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a top-level command lives: ``module.attribute`` is a Typer app or a function."""

    module: str
    attribute: str
    help: str
    group: bool = True


#: Top-level commands, in the order ``--help`` lists them. ``help`` is the first line of the
#: command's own help (a test checks that the two agree).
COMMANDS: dict[str, LazyCommand] = {
    "run": LazyCommand(
        "oncotrials.cli.commands.platform",
        "run",
        "Migrate, optionally load the demo, and serve the web application (waitress).",
        group=False,
    ),
    "demo": LazyCommand(
        "oncotrials.cli.commands.platform",
        "demo",
        "Load the deterministic demo unit, dated from today, into an empty database (or, with "
        "--reset, into the emptied database).",
        group=False,
    ),
    "migrate": LazyCommand(
        "oncotrials.cli.commands.platform",
        "migrate",
        "Apply database migrations (as the owner role of DATABASE_OWNER_URL when set).",
        group=False,
    ),
    "createuser": LazyCommand(
        "oncotrials.cli.commands.platform",
        "createuser",
        "Create a user, optionally with a membership (role at a site, optionally for one trial).",
        group=False,
    ),
    "seed": LazyCommand(
        "oncotrials.cli.commands.production",
        "seed",
        "Load a load-test seed (the demo plus years of volume) into an empty database.",
        group=False,
    ),
    "verify-restore": LazyCommand(
        "oncotrials.cli.commands.production",
        "verify_restore",
        "Dump, restore into a scratch database, compare every table and verify the audit trail.",
        group=False,
    ),
    "token": LazyCommand(
        "oncotrials.cli.commands.platform", "token_app", "Personal access tokens for the API."
    ),
    "biobank": LazyCommand(
        "oncotrials.cli.commands.biobank",
        "app",
        "Biobank: chain-of-custody check, shipment manifests, SPREC codes.",
    ),
    "audit": LazyCommand("oncotrials.cli.commands.platform", "audit_app", "The audit trail."),
    "db": LazyCommand("oncotrials.cli.commands.platform", "db_app", "Database roles (PostgreSQL)."),
    "jobs": LazyCommand(
        "oncotrials.cli.commands.jobs",
        "app",
        "Long jobs (genomic imports, matching runs), in-process or on the Celery worker.",
    ),
    "ctcae": LazyCommand(
        "oncotrials.cli.commands.grading",
        "ctcae_app",
        "CTCAE lab grading (v5.0 default, v6.0) and the CTCAE v5.0 term catalogue.",
    ),
    "crs": LazyCommand(
        "oncotrials.cli.commands.grading",
        "crs_app",
        "ASTCT consensus grading of cytokine release syndrome.",
    ),
    "icans": LazyCommand(
        "oncotrials.cli.commands.grading",
        "icans_app",
        "ASTCT consensus grading of ICANS (adults and children 12 or over, ICE score).",
    ),
    "dlt": LazyCommand(
        "oncotrials.cli.commands.grading",
        "dlt_app",
        "Dose-limiting toxicity evaluation from a protocol's rule file.",
    ),
    "recist": LazyCommand(
        "oncotrials.cli.commands.recist", "app", "RECIST 1.1 and iRECIST tumour response."
    ),
    "survival": LazyCommand(
        "oncotrials.cli.commands.survival", "app", "Survival endpoints and Kaplan-Meier estimates."
    ),
    "design": LazyCommand(
        "oncotrials.cli.commands.design",
        "app",
        "Dose-finding designs: decision tables, live decisions, operating characteristics.",
    ),
    "randomise": LazyCommand(
        "oncotrials.cli.commands.randomise",
        "app",
        "Randomisation: permuted-block lists and minimisation simulations.",
    ),
    "schedule": LazyCommand(
        "oncotrials.cli.commands.schedule",
        "app",
        "Visit schedules: rule checks and patient calendars; day-unit week planning.",
    ),
    "accrual": LazyCommand(
        "oncotrials.cli.commands.operations",
        "accrual_app",
        "Accrual forecasts per trial and cohort (Gajewski; Poisson-gamma across centres).",
    ),
    "activity": LazyCommand(
        "oncotrials.cli.commands.operations",
        "activity_app",
        "Activity reports of the unit (screened, included, delays, occupancy, share in studies).",
    ),
    "genomics": LazyCommand(
        "oncotrials.cli.commands.genomics",
        "app",
        "Genomic files (MAF, VCF, SEG, cBioPortal study, JSON report), OncoTree, ESCAT, resistance.",
    ),
    "match": LazyCommand(
        "oncotrials.cli.commands.match",
        "app",
        "Patient-to-trial matching on the database (--patient, --trial, run) or on files; "
        "MatchMiner CTML import.",
    ),
    "export": LazyCommand(
        "oncotrials.cli.commands.exports",
        "export",
        "Export a trial's data from a named data cut (made if new), with each file's SHA-256.",
        group=False,
    ),
    "import": LazyCommand(
        "oncotrials.cli.commands.fhir_import",
        "app",
        "Import from other systems: FHIR R4 / mCODE files read, with a report (dry run).",
    ),
    "convert": LazyCommand(
        "oncotrials.cli.commands.exports", "convert_app", "Convert and check CDISC SDTM files."
    ),
    "odm": LazyCommand(
        "oncotrials.cli.commands.odm",
        "app",
        "CDISC ODM 1.3.2: check a file, read its metadata as form declarations.",
    ),
    "pdx": LazyCommand(
        "oncotrials.cli.commands.pdx",
        "app",
        "PDX models: mRECIST drug response and the CancerModels (PDX-MI) submission check.",
    ),
    "labels": LazyCommand(
        "oncotrials.cli.commands.biobank_labels",
        "app",
        "Printable specimen labels: Code128, DataMatrix or standard QR, as SVG or PNG.",
    ),
}


_design_models_registered = False


def load_command(name: str) -> Any:
    """Import the module of command ``name`` and build its click command."""
    global _design_models_registered
    spec = COMMANDS[name]
    module = importlib.import_module(spec.module)
    target = getattr(module, spec.attribute)
    if name == "design" and not _design_models_registered:
        # The model-based designs (CRM, Simon, ...) attach to the same group, once.
        from oncotrials.cli.commands import design_model

        module.register(design_model.COMMANDS)
        _design_models_registered = True
    holder = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
    if spec.group:
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_group(holder).commands[name]


class LazyGroup(TyperGroup):
    """A group whose commands are imported on first use; ``--help`` lists them unimported."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in COMMANDS:
            return found
        if self._listing:
            spec = COMMANDS[cmd_name]
            return TyperCommand(cmd_name, help=spec.help, short_help=spec.help)
        loaded: dict[str, Any] = self.__dict__.setdefault("_loaded", {})
        if cmd_name not in loaded:
            loaded[cmd_name] = load_command(cmd_name)
        return loaded[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="oncotrials",
    help="Early-phase and precision oncology research platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold patient data
    add_completion=False,
    cls=LazyGroup,
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


def main() -> None:
    app()
