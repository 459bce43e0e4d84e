"""``oncotrials accrual forecast`` and ``oncotrials activity report``: the unit manager's
figures from the database, as the web dashboard shows them.

Both read as the database owner (every site and trial) unless ``--as USERNAME`` narrows them to
what that user may see.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from oncotrials.cli.output import (
    FormatOption,
    OutputFormat,
    command_errors,
    fail,
    print_json,
    stdout,
)

accrual_app = typer.Typer(
    help="Accrual forecasts per trial and cohort (Gajewski; Poisson-gamma across centres).",
    no_args_is_help=True,
)
activity_app = typer.Typer(
    help="Activity reports of the unit (screened, included, delays, occupancy, share in studies).",
    no_args_is_help=True,
)

AsUser = Annotated[
    str,
    typer.Option("--as", help="Read as this user (their sites and trials); default: everything."),
]


@accrual_app.callback()
def _accrual() -> None:
    """Accrual forecasts per trial and cohort (Gajewski; Poisson-gamma across centres)."""


@activity_app.callback()
def _activity() -> None:
    """Activity reports of the unit (screened, included, delays, occupancy, share in studies)."""


def _reader(username: str) -> Any:
    from oncotrials.cli import django_setup

    django_setup.setup()
    from oncotrials.apps.accounts.access import Scope
    from oncotrials.apps.accounts.models import User

    if not username:
        # The command line runs with the database's own rights: an administrator's view (an
        # account that is not stored, its scope resolved in advance).
        owner = User(username="oncotrials-cli", is_superuser=True, is_active=True)
        owner._oncotrials_scope = Scope(is_admin=True)
        return owner
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        fail(f"No active user {username!r}.", remedy="Give an existing username to --as.")
    return user


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 3)


@accrual_app.command("forecast")
@command_errors
def forecast(
    trial: Annotated[str, typer.Option("--trial", help="Protocol code of the trial.")],
    cohort: Annotated[str, typer.Option("--cohort", help="Code of one cohort.")] = "",
    draws: Annotated[int, typer.Option(help="Monte Carlo draws (Poisson-gamma).")] = 20_000,
    as_user: AsUser = "",
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Forecast when a trial (or a cohort) reaches its target, with 95 % intervals."""
    user = _reader(as_user)
    from oncotrials.apps.operations.analytics import trial_accrual
    from oncotrials.apps.operations.api import accrual_out
    from oncotrials.apps.trials.selectors import trials_visible_to

    found = trials_visible_to(user).filter(protocol_code=trial).first()
    if found is None:
        fail(f"No trial {trial!r} that you may see.", remedy="Check the protocol code.")
    chosen = None
    if cohort:
        chosen = found.cohorts.filter(code=cohort).first()
        if chosen is None:
            codes = ", ".join(found.cohorts.values_list("code", flat=True)) or "none"
            fail(f"{trial} has no cohort {cohort!r}.", remedy=f"Its cohorts: {codes}.")
    if draws < 100:
        fail(f"--draws must be at least 100; got {draws}.", remedy="Use 20000 (the default).")
    acc = trial_accrual(trial=found, user=user, cohort=chosen, draws=draws)
    out = accrual_out(acc)
    if fmt is OutputFormat.json:
        print_json(out)
        return
    if acc.problem:
        fail(acc.problem, remedy="Save an accrual plan on the trial's accrual page or API.")
    table = Table(title=f"{trial}{' / ' + cohort if cohort else ''}: target {acc.target}")
    for col in ("model", "median", "95 % interval"):
        table.add_column(col)
    for label, key in (
        ("Gajewski (single rate)", "gajewski"),
        ("Poisson-gamma, centres open now", "poisson_gamma_open_centres"),
        ("Poisson-gamma with planned openings", "poisson_gamma_simulated"),
    ):
        iv = out[key]
        if iv is None:
            continue
        table.add_row(
            label,
            str(iv["median_date"] or "beyond a century"),
            f"{iv['lower_date'] or '—'} – {iv['upper_date'] or '—'}",
        )
    stdout.print(table)
    stdout.print(f"Accrued: {out['accrued']} since {acc.start}.")
    if out["ramp_up"]:
        stdout.print(f"[yellow]Warning:[/yellow] {out['ramp_up']}")


@activity_app.command("report")
@command_errors
def report(
    year: Annotated[int, typer.Option("--year", help="Calendar year.")],
    out_format: Annotated[
        str, typer.Option("--format", "-f", help="csv, xlsx or json (table on the terminal: omit).")
    ] = "",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write to this file (needed for xlsx).", dir_okay=False),
    ] = None,
    denominator: Annotated[
        str, typer.Option(help="Share in studies over new_patients or treated.")
    ] = "new_patients",
    treated: Annotated[
        int | None, typer.Option(help="Patients the unit treated in the year (for 'treated').")
    ] = None,
    as_user: AsUser = "",
) -> None:
    """Activity report of a year: screened and included per phase, site and trial; delays."""
    if out_format not in ("", "csv", "xlsx", "json"):
        fail(f"--format must be csv, xlsx or json; got {out_format!r}.", remedy="Use --format csv.")
    if out_format == "xlsx" and out is None:
        fail("An Excel workbook is binary: give --out FILE.xlsx.", remedy="Add --out report.xlsx.")
    user = _reader(as_user)
    from oncotrials.apps.operations.analytics import activity_for
    from oncotrials.apps.operations.exports import activity_csv, activity_json, activity_xlsx

    rep = activity_for(user=user, year=year, denominator=denominator, treated_total=treated)
    if out_format == "xlsx":
        assert out is not None
        out.write_bytes(activity_xlsx(rep))
        typer.echo(f"Wrote {out}.", err=True)
        return
    if out_format in ("csv", "json"):
        text = activity_csv(rep) if out_format == "csv" else activity_json(rep)
        if out is not None:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"Wrote {out}.", err=True)
        else:
            typer.echo(text, nl=False)
        return
    table = Table(title=f"Activity {year}")
    for col in ("phase", "screened", "included"):
        table.add_column(col)
    for phase, s, i in rep.by_phase:
        table.add_row(phase, str(s), str(i))
    stdout.print(table)
    share = rep.share
    stdout.print(
        f"Share in studies: {'—' if share is None else f'{share:.1%}'} "
        f"({rep.share_numerator}/{rep.share_denominator}); {rep.share_definition}."
    )
