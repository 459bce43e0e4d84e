"""The Celery application and its one task, ``oncotrials.jobs.run``.

The task is idempotent (see ``services.job_run``), so it acknowledges its message only once it
has finished (``acks_late``) and a message whose worker died under it (SIGKILL, lost node) goes
back to the queue (``reject_on_worker_lost``) to be run again by another worker; a lost database
connection retries with a back-off. One message at a
time per worker process (``worker_prefetch_multiplier = 1``): a long import does not hold others.

Start a worker with ``celery -A oncotrials.web.celery worker --concurrency 2`` (or
``oncotrials jobs worker``), with ``CELERY_BROKER_URL`` set in its environment and the web's.
"""

from __future__ import annotations

import os

from celery import Celery
from django.db import InterfaceError, OperationalError

from oncotrials.core.errors import ConflictError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oncotrials.web.settings")

app = Celery("oncotrials")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
)


@app.task(  # type: ignore[untyped-decorator]
    name="oncotrials.jobs.run",
    acks_late=True,
    reject_on_worker_lost=True,
    # A lost database connection or a concurrent import of the same samples: try again later.
    autoretry_for=(OperationalError, InterfaceError, ConflictError),
    retry_backoff=5,
    max_retries=8,
)
def run_job(job_id: int) -> str:
    from .services import job_run  # the services import the apps; the worker imports this first

    return str(job_run(job_id).state)
