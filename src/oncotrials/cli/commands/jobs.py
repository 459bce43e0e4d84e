"""``oncotrials jobs``: long jobs (genomic imports, matching runs) run idempotently.

Without ``CELERY_BROKER_URL`` a submitted job runs at once in this process; with a broker it is
queued for the Celery worker (``oncotrials jobs worker``). Submitting the same work again gives
the same job; ``run`` finishes a job left ``running`` by a killed process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
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
    stdout,
)

app = typer.Typer(
    help="Long jobs (genomic imports, matching runs), in-process or on the Celery worker.",
    no_args_is_help=True,
)


def _doc(job: Any) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "attempts": job.attempts,
        "key": job.key,
        "params": job.params,
        "result": job.result,
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def _show(job: Any, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        print_json(_doc(job))
        return
    stdout.print(f"Job {job.pk} ({job.kind}): {job.state}, {job.attempts} attempt(s).")
    if job.error:
        stdout.print(f"[red]{job.error}[/]", markup=True)
    for k, v in job.result.items():
        if not isinstance(v, list | dict):
            stdout.print(f"  {k}: {v}")
    if job.state == "failed":
        raise typer.Exit(code=1)


def _user(username: str | None) -> Any:
    if username is None:
        return None
    from oncotrials.apps.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        fail(f"No active user {username!r}.", remedy="Give an existing --user or none.")
    return user


@app.command("import")
@command_errors
def import_cmd(
    path: Annotated[Path, typer.Argument(help="A MAF, VCF, JSON report or cBioPortal study.")],
    patient_map: Annotated[
        Path | None, typer.Option(help="CSV mapping sample_id or patient_id to research_id.")
    ] = None,
    assay: Annotated[str | None, typer.Option(help="Assay name (default: from the file).")] = None,
    vaf_unit: Annotated[
        str | None, typer.Option(help="Unit of a MAF VAF column: fraction or percent.")
    ] = None,
    lod: Annotated[
        str | None,
        typer.Option(
            "--lod", help="The assay's limit of detection: a VAF fraction (0.002) or 0.2%."
        ),
    ] = None,
    user: Annotated[str | None, typer.Option(help="Import as this user.")] = None,
    queue_only: Annotated[
        bool, typer.Option("--queue-only", help="Record the job without running it.")
    ] = False,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Submit a genomic import as a job (the same file again gives the same job)."""
    django_setup.setup()
    from oncotrials.apps.audit.context import audit_context
    from oncotrials.apps.jobs.models import JobKind
    from oncotrials.apps.jobs.services import job_submit

    by = _user(user)
    with audit_context(channel="cli", user=by):
        job = job_submit(
            kind=JobKind.GENOMICS_IMPORT,
            by=by,
            path=path,
            patient_map=patient_map,
            assay=assay,
            vaf_unit=vaf_unit,
            run=not queue_only,
            limit_of_detection=lod,
        )
    _show(job, fmt)


@app.command("match")
@command_errors
def match_cmd(fmt: FormatOption = OutputFormat.human) -> None:
    """Submit a matching run of every patient against every trial level as a job."""
    django_setup.setup()
    from oncotrials.apps.audit.context import audit_context
    from oncotrials.apps.jobs.models import JobKind
    from oncotrials.apps.jobs.services import job_submit

    with audit_context(channel="cli"):
        job = job_submit(kind=JobKind.MATCHING_RUN, by=None)
    _show(job, fmt)


@app.command("run")
@command_errors
def run_cmd(
    job_id: Annotated[int, typer.Argument(help="The job's id (see `oncotrials jobs list`).")],
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Run a job in this process (nothing happens if it is already done or failed)."""
    django_setup.setup()
    from oncotrials.apps.audit.context import audit_context
    from oncotrials.apps.jobs.services import job_run

    with audit_context(channel="cli"):
        job = job_run(job_id)
    _show(job, fmt)


@app.command("list")
@command_errors
def list_cmd(
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """List jobs, newest first: kind, state, attempts, created, finished."""
    django_setup.setup()
    from oncotrials.apps.jobs.models import Job

    jobs = list(Job.objects.order_by("-id")[:limit])
    if fmt is OutputFormat.json:
        print_json([_doc(j) for j in jobs])
        return
    table = Table(title="Jobs (times in UTC)")
    for col in ("id", "kind", "state", "attempts", "created", "finished"):
        table.add_column(col)
    for j in jobs:
        table.add_row(
            str(j.pk),
            j.kind,
            j.state,
            str(j.attempts),
            f"{j.created_at:%Y-%m-%d %H:%M:%S}",
            f"{j.finished_at:%Y-%m-%d %H:%M:%S}" if j.finished_at else "—",
        )
    stdout.print(table)


@app.command("worker", context_settings={"allow_extra_args": True})
def worker_cmd(
    ctx: typer.Context,
    concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2,
) -> None:
    """Start a Celery worker for the jobs (needs CELERY_BROKER_URL); extra options go to Celery."""
    if not os.environ.get("CELERY_BROKER_URL"):
        fail(
            "CELERY_BROKER_URL is not set: without a broker jobs run in-process.",
            remedy="Set it, e.g. amqp://guest:guest@127.0.0.1:5672// or redis://127.0.0.1:6379/0.",
        )
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "oncotrials.web.celery",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        *ctx.args,
    ]
    os.execv(sys.executable, args)  # noqa: S606 - the worker replaces this process
