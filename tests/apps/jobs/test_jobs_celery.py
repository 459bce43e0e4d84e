"""A real Celery worker on RabbitMQ runs a job; killed with SIGKILL mid-run, the job completes on
the next worker with exactly the rows of one import (acks late, message requeued).

Runs where PostgreSQL and RabbitMQ (127.0.0.1:5672, or ``ONCOTRIALS_TEST_AMQP_URL``) are up,
as in CI (``.ci/run`` starts the broker); skipped elsewhere with the reason.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from test_jobs import LAML, LAML_ROWS, LAML_SAMPLES, _counts, _database_url, _laml_setup

AMQP = os.environ.get("ONCOTRIALS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


def _worker(queue: str, log: Path) -> subprocess.Popen[bytes]:
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": AMQP,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "ONCOTRIALS_SECRET_KEY": settings.SECRET_KEY,  # the same derived audit key
    }
    args = [sys.executable, "-m", "celery", "-A", "oncotrials.web.celery", "worker", "-Q", queue,
            "--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            "--without-heartbeat"]  # fmt: skip
    return subprocess.Popen(
        args, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_leaves_it_to_the_next_worker(
    unit: Any, tmp_path: Path, settings: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a worker process on the test database: PostgreSQL")
    if not _broker_up():
        pytest.skip("RabbitMQ is not running on 127.0.0.1:5672")
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.jobs.models import Job, JobKind, JobState
    from oncotrials.apps.jobs.services import job_submit
    from oncotrials.apps.jobs.worker import app

    pmap = _laml_setup(unit.main, tmp_path)
    queue = f"oncotrials-test-{uuid.uuid4().hex[:12]}"
    settings.CELERY_BROKER_URL = AMQP
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url = AMQP
    app.conf.task_default_queue = queue
    log = tmp_path / "worker.log"
    first = _worker(queue, log)
    second = None
    try:
        job = job_submit(kind=JobKind.GENOMICS_IMPORT, by=None, path=LAML, patient_map=pmap)
        assert job.state == JobState.QUEUED  # queued for the worker, not run here

        def running() -> bool:
            return Job.objects.get(pk=job.pk).state != JobState.QUEUED

        _wait(running, 180, "the first worker to start the job")
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker, mid-job
        first.wait(timeout=30)
        killed_mid_job = Job.objects.get(pk=job.pk).state == JobState.RUNNING
        assert _counts()[1] in {0, LAML_SAMPLES}  # nothing partial
        second = _worker(queue, log)

        def done() -> bool:
            return Job.objects.get(pk=job.pk).state == JobState.DONE

        _wait(done, 240, "the second worker to finish the job")
        job.refresh_from_db()
        assert job.attempts == (2 if killed_mid_job else 1)  # the message was delivered again
        assert _counts() == (LAML_SAMPLES, LAML_SAMPLES, LAML_ROWS)  # once, no duplicate
        assert audit_verify().ok
    except AssertionError:
        print(log.read_text()[-3000:])
        raise
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
