"""Platform commands: run, demo, migrate, createuser, token create|list|revoke, audit verify|checkpoint, db."""

from __future__ import annotations

import os
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from oncotrials.cli import django_setup
from oncotrials.cli.output import (
    FormatOption,
    OutputFormat,
    command_errors,
    fail,
    print_json,
    stderr,
    stdout,
)

token_app = typer.Typer(help="Personal access tokens for the API.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
db_app = typer.Typer(help="Database roles (PostgreSQL).", no_args_is_help=True)


def _migrate(quiet: bool = True) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0 if quiet else 1)


def _check_configuration() -> None:
    """Run the system checks, including the database ones (declared visit schedules, forms)."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", databases=["default"], fail_level="ERROR")
    except SystemCheckError as exc:
        first = str(exc).strip().splitlines()
        fail(
            f"The configuration has errors: {' '.join(first[1:3]) if len(first) > 2 else first}",
            remedy="Run `oncotrials migrate` then fix the declarations named above.",
        )


def _demo_counts() -> str:
    from oncotrials.apps.safety.models import AdverseEvent
    from oncotrials.apps.subjects.models import Patient, Registration
    from oncotrials.apps.trials.models import Trial
    from oncotrials.apps.tumours.models import Assessment

    counts = [
        (Trial.objects.count(), "trials"),
        (Patient.objects.count(), "patients"),
        (Registration.objects.count(), "registrations"),
        (Assessment.objects.count(), "tumour assessments"),
        (AdverseEvent.objects.count(), "adverse events"),
    ]
    return ", ".join(f"{n} {what}" for n, what in counts)


def _demo_load(*, seed: int = 7, patients: bool = True, show: bool = True) -> list[Any]:
    """Load the demo, telling on stderr what is done, with counts and the time elapsed."""
    from oncotrials.apps.demo import demo_load

    if not show:
        return demo_load(seed=seed, patients=patients)
    start = time.monotonic()
    with stderr.status("Loading the demo unit…") as status:

        def say(step: str) -> None:
            elapsed = time.monotonic() - start
            if "/" in step:  # a step under way ("trials 12/40"): the spinner says where it is
                status.update(f"Loading the demo unit… {step}  [{elapsed:.0f} s]")
            else:
                stderr.print(f"  {step} done — {_demo_counts()}  [{elapsed:.1f} s]")

        logins = demo_load(seed=seed, patients=patients, progress=say)
    stderr.print(f"Demo loaded in {time.monotonic() - start:.1f} s.")
    return logins


def _print_logins(logins: list[Any]) -> None:
    from oncotrials.apps.demo import DEMO_PASSWORD

    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
    for col in ("username", "role", "site", "sees"):
        table.add_column(col)
    for login in logins:
        table.add_row(login.username, str(login.role), login.site, login.scope)
    stderr.print(table)


def _demo_logins_from_db() -> list[Any]:
    from oncotrials.apps.accounts.models import Membership, User
    from oncotrials.apps.demo import DemoLogin

    out = []
    for user in User.objects.order_by("pk"):
        m = Membership.objects.filter(user=user).select_related("site", "trial").first()
        if m is None:
            out.append(DemoLogin(user.username, "none", "-", "nothing (no membership)"))
        else:
            scope = f"trial {m.trial.protocol_code} only" if m.trial else "all trials of the site"
            out.append(DemoLogin(user.username, m.get_role_display(), m.site.code, scope))
    return out


@command_errors
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    demo_if_empty: Annotated[
        bool, typer.Option("--demo-if-empty", help="Load the demo when the database has no user.")
    ] = False,
    threads: Annotated[int, typer.Option(help="Worker threads.", min=1, max=64)] = 8,
) -> None:
    """Migrate, optionally load the demo, and serve the web application (waitress)."""
    if host in {"127.0.0.1", "localhost", "::1"}:
        os.environ.setdefault("ONCOTRIALS_HTTPS", "0")  # plain HTTP on loopback only
    django_setup.setup()
    from django.conf import settings

    start = time.monotonic()
    with stderr.status("Migrating the database…"):
        _migrate()
        _check_configuration()
    stderr.print(f"Database migrated and checked in {time.monotonic() - start:.1f} s.")
    from oncotrials.apps.accounts.models import User

    if demo_if_empty and not User.objects.exists():
        _print_logins(_demo_load())
    elif demo_if_empty:
        _print_logins(_demo_logins_from_db())
    from waitress import serve  # type: ignore[import-untyped,unused-ignore]

    from oncotrials.web.wsgi import application

    db = settings.DATABASES["default"]
    stderr.print(
        f"oncotrials on http://{host}:{port}/  (database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']})"
    )
    serve(application, host=host, port=port, threads=threads, ident="oncotrials")


@command_errors
def demo(
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same demo.")] = 7,
    patients: Annotated[
        bool, typer.Option("--patients/--no-patients", help="Include ~300 patient journeys.")
    ] = True,
    reset: Annotated[
        bool,
        typer.Option("--reset", help="Empty the database (every table), then load the demo again."),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --reset: do not ask for confirmation.")
    ] = False,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Load the deterministic demo unit, dated from today, into an empty database (or, with
    --reset, into the emptied database)."""
    django_setup.setup()
    _migrate()
    from oncotrials.apps.accounts.models import User

    if User.objects.exists():
        if not reset:
            fail(
                "The database is not empty; the demo loads only into an empty database.",
                remedy="Point ONCOTRIALS_DATA_DIR or DATABASE_URL at a new database, or give "
                "--reset to empty this one and load the demo again.",
            )
        _reset_database(yes)
    logins = _demo_load(seed=seed, patients=patients, show=fmt is not OutputFormat.json)
    if fmt is OutputFormat.json:
        print_json({"seed": seed, "logins": logins})
    else:
        _print_logins(logins)


def _reset_database(yes: bool) -> None:
    """Delete every row of the database (after a confirmation unless ``yes``)."""
    from django.conf import settings
    from django.core.management import call_command

    from oncotrials.apps.accounts.models import User
    from oncotrials.apps.subjects.models import Patient

    db = settings.DATABASES["default"]
    what = (
        f"{db['ENGINE'].rsplit('.', 1)[-1]} database {db['NAME']} "
        f"({User.objects.count()} users, {Patient.objects.count()} patients)"
    )
    if not yes and not typer.confirm(
        f"--reset deletes every row of the {what}, audit trail included. Continue?",
        default=False,
        err=True,
    ):
        fail("Nothing was deleted.", remedy="Give --yes to reset without the question.")
    call_command("flush", interactive=False, verbosity=0)


@command_errors
def migrate() -> None:
    """Apply database migrations (as the owner role of DATABASE_OWNER_URL when set)."""
    _owner_database()
    django_setup.setup()
    _migrate(quiet=False)


@command_errors
def createuser(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str | None, typer.Option(help="Role to grant (e.g. investigator).")] = None,
    site: Annotated[str | None, typer.Option(help="Site code for the role.")] = None,
    trial: Annotated[
        str | None, typer.Option(help="Limit the role to one trial (protocol code).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="ONCOTRIALS_PASSWORD", help="Password (prompted if absent)."),
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Create a user, optionally with a membership (role at a site, optionally for one trial)."""
    django_setup.setup()
    from django.db import transaction

    from oncotrials.apps.accounts.models import Role, Site
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.audit.context import audit_context
    from oncotrials.apps.trials.models import Trial

    if (role is None) != (site is None):
        fail("--role and --site go together.", remedy="Give both, or neither.")
    if role is not None and role not in Role.values:
        fail(f"Unknown role {role!r}.", remedy=f"Choose one of: {', '.join(Role.values)}.")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with audit_context(channel="cli"), transaction.atomic():
        user = user_create(username=username, password=password)
        if role is not None:
            site_obj = Site.objects.filter(code=site).first()
            if site_obj is None:
                fail(
                    f"Unknown site {site!r}.",
                    remedy="List sites in the admin or with the API (/api/v1/sites).",
                )
            trial_obj = None
            if trial is not None:
                trial_obj = Trial.objects.filter(protocol_code=trial).first()
                if trial_obj is None:
                    fail(f"Unknown trial {trial!r}.", remedy="Give the trial's protocol code.")
            membership_grant(user=user, role=role, site=site_obj, trial=trial_obj)
    if fmt is OutputFormat.json:
        print_json(
            {"id": user.pk, "username": user.username, "role": role, "site": site, "trial": trial}
        )
    else:
        stdout.print(f"Created user {user.username}.")


@token_app.command("create")
@command_errors
def token_create_cmd(
    username: Annotated[str, typer.Argument(help="Whose token.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    scope: Annotated[str, typer.Option(help="read or read_write.")] = "read_write",
    days: Annotated[
        int | None,
        typer.Option(help="Days before it expires (default ONCOTRIALS_API_TOKEN_DAYS, 90)."),
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Create a personal access token; it is printed once and stored hashed."""
    django_setup.setup()
    import datetime as dt

    from django.utils import timezone

    from oncotrials.apps.accounts.models import User
    from oncotrials.apps.accounts.services import token_create
    from oncotrials.apps.audit.context import audit_context

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        fail(f"No active user {username!r}.", remedy="Create one with `oncotrials createuser`.")
    if days is not None and days < 1:
        fail(f"--days must be at least 1; got {days}.", remedy="Give a number of days.")
    expires_at = timezone.now() + dt.timedelta(days=days) if days is not None else None
    with audit_context(channel="cli"):
        token, raw = token_create(user=user, name=name, scope=scope, expires_at=expires_at)
    if fmt is OutputFormat.json:
        print_json(
            {
                "id": token.pk,
                "name": token.name,
                "scope": token.scope,
                "expires_at": token.expires_at,
                "token": raw,
            }
        )
    else:
        stderr.print(
            f"Store this token now; it will not be shown again. It expires on "
            f"{token.expires_at:%Y-%m-%d %H:%M} UTC."
        )
        stdout.print(raw)


@token_app.command("list")
@command_errors
def token_list_cmd(
    username: Annotated[
        str | None, typer.Argument(help="Whose tokens (default: every user's).")
    ] = None,
    active: Annotated[bool, typer.Option(help="Only tokens still usable.")] = False,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """List personal access tokens: owner, name, scope, created, expires, last used, state."""
    django_setup.setup()
    from django.utils import timezone

    from oncotrials.apps.accounts.models import User
    from oncotrials.apps.accounts.selectors import tokens_listed

    if username is not None and not User.objects.filter(username=username).exists():
        fail(f"No user {username!r}.", remedy="Check the user name.")
    tokens = tokens_listed(username=username)
    now = timezone.now()
    rows = [
        {
            "id": t.pk,
            "user": t.user.username,
            "name": t.name,
            "prefix": t.prefix,
            "scope": t.scope,
            "created_at": t.created_at,
            "expires_at": t.expires_at,
            "last_used_at": t.last_used_at,
            "revoked_at": t.revoked_at,
            "state": t.state(now),
        }
        for t in tokens
    ]
    if active:
        rows = [r for r in rows if r["state"] == "active"]
    if fmt is OutputFormat.json:
        print_json(rows)
        return

    def when(value: Any) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value is not None else "—"

    table = Table(title="Personal access tokens (times in UTC)")
    for col in (
        "id",
        "user",
        "name",
        "prefix",
        "scope",
        "created",
        "expires",
        "last used",
        "state",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["user"]),
            str(r["name"]),
            f"{r['prefix']}…",
            str(r["scope"]),
            when(r["created_at"]),
            when(r["expires_at"]),
            when(r["last_used_at"]),
            str(r["state"]),
        )
    stdout.print(table)


@token_app.command("revoke")
@command_errors
def token_revoke_cmd(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `oncotrials token list`).")],
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Revoke a personal access token at once (recorded in the audit trail)."""
    django_setup.setup()
    from oncotrials.apps.accounts.models import ApiToken
    from oncotrials.apps.accounts.services import token_revoke
    from oncotrials.apps.audit.context import audit_context

    before = ApiToken.objects.filter(pk=token_id).first()
    if before is None:
        fail(f"No token {token_id}.", remedy="See `oncotrials token list` for the ids.")
    already = before.revoked_at is not None
    with audit_context(channel="cli"):
        token = token_revoke(token_id=token_id, user=None)
    if fmt is OutputFormat.json:
        print_json({"id": token.pk, "revoked_at": token.revoked_at, "already": already})
    elif already:
        stdout.print(f"Token {token.pk} was already revoked on {token.revoked_at:%Y-%m-%d %H:%M}.")
    else:
        stdout.print(f"Revoked token {token.pk} ({token.name}) of {token.user.username}.")


def _owner_database() -> None:
    """Migrations and grants run as the owner role when DATABASE_OWNER_URL is set."""
    owner_url = os.environ.get("DATABASE_OWNER_URL", "")
    if owner_url:
        os.environ["DATABASE_URL"] = owner_url


def _audit_progress(enabled: bool) -> Any:
    """A Rich progress bar on stderr for long runs, and the callback that drives it."""
    from contextlib import nullcontext

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    if not enabled:
        return nullcontext(None)

    class _Bar:
        def __init__(self) -> None:
            self.progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=stderr,
                transient=True,
            )
            self.task = self.progress.add_task("Verifying audit events", total=None)

        def __enter__(self) -> Any:
            self.progress.__enter__()
            return self.update

        def __exit__(self, *exc: object) -> None:
            self.progress.__exit__(None, None, None)

        def update(self, done: int, total: int) -> None:
            self.progress.update(self.task, completed=done, total=total)

    return _Bar()


@audit_app.command("verify")
@command_errors
def audit_verify_cmd(
    full: Annotated[
        bool,
        typer.Option("--full", help="Check every event, not only those since the last checkpoint."),
    ] = False,
    rows: Annotated[
        bool,
        typer.Option("--rows", help="Also check every audited row against its last event."),
    ] = False,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Recompute every seal and link, check the signed checkpoints (and rows with --rows).

    Exit codes: 0 intact; 1 tampering found; 2 cannot verify (a key or checkpoint signature
    missing here). By default chains are checked from the latest signed checkpoint on.
    """
    django_setup.setup()
    from oncotrials.apps.audit.services import audit_verify

    with _audit_progress(fmt is OutputFormat.human) as progress:
        report = audit_verify(since_checkpoint=not full, rows=rows, progress=progress)
    if fmt is OutputFormat.json:
        data = {k: v for k, v in report.__dict__.items() if k != "heads"}
        print_json({**data, "exit_code": report.exit_code})
        raise typer.Exit(code=report.exit_code)
    if report.ok:
        since = f" since checkpoint {report.since_checkpoint}" if report.since_checkpoint else ""
        checked_rows = f", {report.rows_checked} rows match their last event" if rows else ""
        stdout.print(
            f"Audit trail intact: {report.events} events in {report.partitions} chains verified"
            f"{since}, {report.checkpoints} signed checkpoints hold{checked_rows}."
        )
        return
    where = ""
    if report.first_broken_seq is not None:
        where = f" at event #{report.first_broken_seq}"
    if report.partition:
        where += f" of chain {report.partition}"
    if report.status == "unverifiable":
        stderr.print(f"[bold red]error:[/] Cannot verify the audit trail{where}: {report.problem}.")
    else:
        stderr.print(
            f"[bold red]error:[/] Audit trail broken{where}: {report.problem}. "
            "Investigate: the trail was altered outside the platform."
        )
    raise typer.Exit(code=report.exit_code)


@audit_app.command("checkpoint")
@command_errors
def audit_checkpoint_cmd(fmt: FormatOption = OutputFormat.human) -> None:
    """Verify the trail, then write an Ed25519-signed checkpoint of every chain head.

    Into ONCOTRIALS_AUDIT_CHECKPOINT_DIR (keep it off the database server). Exit codes as for
    `audit verify`; nothing is written unless the trail verifies.
    """
    django_setup.setup()
    from oncotrials.apps.audit.services import audit_checkpoint

    with _audit_progress(fmt is OutputFormat.human) as progress:
        result = audit_checkpoint(progress=progress)
    report = result.report
    if fmt is OutputFormat.json:
        print_json(
            {
                "ok": report.ok,
                "path": result.path,
                "events": report.events,
                "partitions": report.partitions,
                "problem": report.problem,
                "exit_code": report.exit_code,
            }
        )
        raise typer.Exit(code=report.exit_code)
    if not report.ok:
        stderr.print(f"[bold red]error:[/] No checkpoint written: {report.problem}.")
        raise typer.Exit(code=report.exit_code)
    stdout.print(f"Checkpoint of {report.partitions} chains written to {result.path}.")


@db_app.command("grant-app-role")
@command_errors
def db_grant_app_role_cmd(
    role: Annotated[str, typer.Argument(help="The application's login role.")],
    password: Annotated[
        str | None,
        typer.Option(envvar="ONCOTRIALS_APP_DB_PASSWORD", help="Set its password."),
    ] = None,
) -> None:
    """Create/grant the application's restricted role (PostgreSQL; run as the owner).

    The role may read and write the platform's tables but only SELECT and INSERT audit events;
    it owns nothing, so it cannot truncate, alter or disable triggers. Uses DATABASE_OWNER_URL
    when set.
    """
    _owner_database()
    django_setup.setup()
    from oncotrials.apps.audit.dbroles import app_role_grant

    statements = app_role_grant(role, password=password)
    for sql in statements:
        stdout.print(sql.replace("%s", "'…'"))
    stdout.print(f"Role {role} may now run the application; migrations stay with the owner.")
