"""Submitting and running long jobs, idempotently.

``job_submit`` records a job under its idempotency key (kind, parameters and the SHA-256 of the
input) and hands it to the runner: in-process by default (the embedded set-up, tests), or to the
Celery worker when a broker is configured (``CELERY_BROKER_URL``), after the submitting
transaction commits. Submitting the same work twice gives the same job.

``job_run`` is what the worker executes. It is safe to run any number of times, in any number of
processes, and to kill at any instant:

1. one short transaction counts the attempt and marks the job ``running``;
2. one transaction locks the job row (a second runner of the same job waits here, then finds it
   ``done``), does the work and marks the job ``done`` with its result. A genomic import is all
   or nothing and skips reports whose content is already stored, so a run killed before the
   commit leaves nothing of its work and the next run stores exactly the same rows.

A job whose input is refused (a validation or permission error) is ``failed`` with the message;
running it again does nothing. Other errors propagate (the worker's redelivery retries).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.models import User
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_record
from oncotrials.apps.genomics.services import genomics_import
from oncotrials.apps.matching.engine import SYSTEM, match_all
from oncotrials.core.errors import (
    ConflictError,
    NotFoundError,
    OncotrialsError,
    ValidationError,
)
from oncotrials.core.genomics.model import parse_limit_of_detection
from oncotrials.core.genomics.normalised import PatientMap

from .models import Job, JobKind, JobState


def file_digest(path: Path) -> str:
    """SHA-256 of a file, or of a directory's files (relative names and contents, sorted)."""
    h = hashlib.sha256()
    if path.is_dir():
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(member.relative_to(path).as_posix().encode() + b"\0")
            h.update(file_digest(member).encode())
        return h.hexdigest()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def job_key(kind: str, params: dict[str, Any]) -> str:
    canonical = json.dumps({"kind": kind, **params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _import_params(
    path: Path, patient_map: Path | None, assay: str | None, vaf_unit: str | None
) -> dict[str, Any]:
    if not path.exists():
        raise ValidationError(
            gettext("%(path)s: no such file or directory.") % {"path": path}, field="path"
        )
    if patient_map is not None and not patient_map.is_file():
        raise ValidationError(
            gettext("%(patient_map)s: no such file.") % {"patient_map": patient_map},
            field="patient_map",
        )
    return {
        "path": str(path.resolve()),
        "input_sha256": file_digest(path),
        "patient_map": str(patient_map.resolve()) if patient_map else None,
        "patient_map_sha256": file_digest(patient_map) if patient_map else None,
        "assay": assay,
        "vaf_unit": vaf_unit,
    }


def broker_configured() -> bool:
    return not settings.CELERY_TASK_ALWAYS_EAGER


def job_submit(
    *,
    kind: str,
    by: User | None,
    path: Path | None = None,
    patient_map: Path | None = None,
    assay: str | None = None,
    vaf_unit: str | None = None,
    run: bool = True,
    limit_of_detection: str | None = None,
) -> Job:
    """Record a job (or find the same one) and run it: in-process, or by the Celery worker.

    The key covers the input's content, not only its name: a file changed since an earlier job
    is a new job. ``run=False`` only records it (``oncotrials jobs run`` runs it later).
    """
    if kind == JobKind.GENOMICS_IMPORT:
        if path is None:
            raise ValidationError(
                gettext("A genomic import needs the file to import."), field="path"
            )
        params = _import_params(path, patient_map, assay, vaf_unit)
        if limit_of_detection:  # only when declared: earlier jobs keep their identity
            params["limit_of_detection"] = parse_limit_of_detection(limit_of_detection)
    elif kind == JobKind.MATCHING_RUN:
        # One run per state of the data: every audited write (but the jobs' own) moves the
        # trail's last event id.
        last = AuditEvent.objects.exclude(object_type="jobs.job").aggregate(last=Max("id"))
        params = {"data_version": last["last"] or 0}
    else:
        raise ValidationError(
            gettext("Unknown job kind %(kind)s.") % {"kind": repr(kind)}, field="kind"
        )
    key = job_key(kind, {**params, "by": by.pk if by else None})
    with transaction.atomic():
        job, created = Job.objects.get_or_create(
            key=key,
            defaults={
                "kind": kind,
                "params": params,
                "created_by": by,
                "created_at": timezone.now(),
            },
        )
        if created:
            audit_record(action="create", instance=job, changes={"kind": [None, kind]}, by=by)
        pending = run and job.state in (JobState.QUEUED, JobState.RUNNING)
        if pending and broker_configured():
            job_enqueue(job)
    if pending and not broker_configured():
        job = job_run(job.pk)  # in-process: the caller waits for the result
    return job


def job_enqueue(job: Job) -> None:
    """Queue ``job`` for the Celery worker once the current transaction commits."""
    from .worker import run_job  # Celery is imported only when a broker is used

    job_id = job.pk
    transaction.on_commit(lambda: run_job.apply_async(args=[job_id]))


def _run_genomics_import(job: Job) -> dict[str, Any]:
    p = job.params
    if p.get("input_sha256") != file_digest(Path(p["path"])):
        raise ValidationError(
            gettext("%(path)s changed since the job was submitted; submit it again.")
            % {"path": p["path"]},
            field="path",
        )
    pmap = PatientMap.read(Path(p["patient_map"])) if p.get("patient_map") else None
    result = genomics_import(
        path=Path(p["path"]),
        by=job.created_by,
        patient_map=pmap,
        assay=p.get("assay"),
        vaf_unit=p.get("vaf_unit"),
        limit_of_detection=p.get("limit_of_detection"),
    )
    doc = result.as_dict()
    doc["report_ids"] = list(doc["report_ids"])
    doc["notices"] = list(doc["notices"])[:20]
    return doc


def _run_matching(job: Job) -> dict[str, Any]:
    summary = match_all(user=job.created_by or SYSTEM)
    return {
        "patients": summary.patients,
        "trials": summary.trials,
        "levels": summary.levels,
        "matches": len(summary.matches),
        "open_matches": sum(1 for m in summary.matches if m.open),
        "problems": list(summary.problems)[:20],
    }


RUNNERS: dict[str, Callable[[Job], dict[str, Any]]] = {
    JobKind.GENOMICS_IMPORT: _run_genomics_import,
    JobKind.MATCHING_RUN: _run_matching,
}


def job_run(job_id: int) -> Job:
    """Run job ``job_id`` to completion; a no-op when it is already done or failed."""
    with transaction.atomic():
        try:
            job = Job.objects.select_for_update().get(pk=job_id)
        except Job.DoesNotExist:
            raise NotFoundError(gettext("No job %(job_id)s.") % {"job_id": job_id}) from None
        if job.state in (JobState.DONE, JobState.FAILED):
            return job
        job.attempts += 1
        job.state = JobState.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["attempts", "state", "started_at"])
    try:
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=job_id)
            if job.state in (JobState.DONE, JobState.FAILED):
                return job  # another runner finished it while this one waited
            result = RUNNERS[job.kind](job)
            _finish(job, JobState.DONE, result=result)
            return job
    except ConflictError:
        raise  # a concurrent import of the same samples won: the next run skips what it stored
    except OncotrialsError as exc:  # refused input: final, not retried
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=job_id)
            _finish(job, JobState.FAILED, error=str(exc))
        return job


def _finish(job: Job, state: str, *, result: dict[str, Any] | None = None, error: str = "") -> None:
    old = job.state
    job.state = state
    job.result = result or {}
    job.error = error[:4000]
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "result", "error", "finished_at"])
    audit_record(
        action="status",
        instance=job,
        changes={"state": [old, state], "attempts": [None, job.attempts]},
        by=job.created_by,
    )
