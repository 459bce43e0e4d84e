"""Long jobs: one job per piece of work, runs that can be repeated and killed at any instant."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from fixtures import GENOMICS

LAML = GENOMICS / "maftools" / "tcga_laml.maf.gz"
# fixtures README (maftools tcga_laml.maf.gz): 2207 rows, 193 samples
LAML_ROWS, LAML_SAMPLES = 2207, 193
PG = connection.vendor == "postgresql"


def _laml_setup(site: Any, tmp_path: Path) -> Path:
    from oncotrials.apps.subjects.models import Patient
    from oncotrials.core.genomics import read_maf

    samples = read_maf(LAML).samples
    Patient.objects.bulk_create(
        Patient(
            research_id=s,
            site=site,
            sex="U",
            year_of_birth=1960,
            diagnosis="AML",
            referral_source="department",
            referral_date="2026-01-05",
        )
        for s in samples
    )
    pmap = tmp_path / "map.csv"
    pmap.write_text("sample_id,research_id\n" + "".join(f"{s},{s}\n" for s in samples))
    return pmap


def _counts() -> tuple[int, int, int]:
    from oncotrials.apps.genomics.models import GenomicReport, Mutation, Sample

    return (Sample.objects.count(), GenomicReport.objects.count(), Mutation.objects.count())


def test_the_same_file_twice_is_one_job_and_one_import(unit: Any, tmp_path: Path) -> None:
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.jobs.models import Job, JobKind, JobState
    from oncotrials.apps.jobs.services import job_run, job_submit

    pmap = _laml_setup(unit.main, tmp_path)
    job = job_submit(kind=JobKind.GENOMICS_IMPORT, by=None, path=LAML, patient_map=pmap)
    assert (job.state, job.attempts) == (JobState.DONE, 1)
    assert job.result["reports_created"] == LAML_SAMPLES
    assert _counts() == (LAML_SAMPLES, LAML_SAMPLES, LAML_ROWS)
    again = job_submit(kind=JobKind.GENOMICS_IMPORT, by=None, path=LAML, patient_map=pmap)
    assert again.pk == job.pk
    assert again.attempts == 1
    assert job_run(job.pk).attempts == 1  # a redelivered message does nothing
    assert Job.objects.count() == 1
    assert _counts() == (LAML_SAMPLES, LAML_SAMPLES, LAML_ROWS)
    assert audit_verify().ok


def test_a_changed_file_is_a_new_job_and_a_refused_one_fails_once(
    unit: Any, tmp_path: Path
) -> None:
    from oncotrials.apps.jobs.models import JobKind, JobState
    from oncotrials.apps.jobs.services import job_run, job_submit

    pmap = _laml_setup(unit.main, tmp_path)
    bad = tmp_path / "map_bad.csv"
    bad.write_text("sample_id,research_id\nTCGA-AB-2802,NOBODY\n")
    job = job_submit(kind=JobKind.GENOMICS_IMPORT, by=None, path=LAML, patient_map=bad)
    assert job.state == JobState.FAILED
    assert "NOBODY" in job.error or "patient" in job.error.lower()
    assert _counts() == (0, 0, 0)
    assert job_run(job.pk).attempts == 1  # final: not retried
    good = job_submit(kind=JobKind.GENOMICS_IMPORT, by=None, path=LAML, patient_map=pmap)
    assert good.pk != job.pk
    assert good.state == JobState.DONE


def test_a_file_changed_after_submission_is_refused(unit: Any, tmp_path: Path) -> None:
    from oncotrials.apps.jobs.models import JobKind, JobState
    from oncotrials.apps.jobs.services import job_run, job_submit

    pmap = _laml_setup(unit.main, tmp_path)
    copy = tmp_path / "laml.maf.gz"
    copy.write_bytes(LAML.read_bytes())
    job = job_submit(kind=JobKind.GENOMICS_IMPORT, by=None, path=copy, patient_map=pmap, run=False)
    assert job.state == JobState.QUEUED
    copy.write_bytes(b"changed")
    job = job_run(job.pk)
    assert job.state == JobState.FAILED
    assert "changed since" in job.error
    assert _counts() == (0, 0, 0)


def test_matching_run_job_records_its_summary(unit: Any) -> None:
    from oncotrials.apps.jobs.models import JobKind, JobState
    from oncotrials.apps.jobs.services import job_submit
    from oncotrials.apps.matching.engine import SYSTEM, match_all

    job = job_submit(kind=JobKind.MATCHING_RUN, by=None)
    assert job.state == JobState.DONE
    direct = match_all(user=SYSTEM)
    assert (job.result["patients"], job.result["levels"], job.result["matches"]) == (
        direct.patients,
        direct.levels,
        len(direct.matches),
    )
    assert job_submit(kind=JobKind.MATCHING_RUN, by=None).pk == job.pk  # nothing changed since
    unit.trial_main.title = "Renamed"
    from oncotrials.apps.audit.services import audit_record

    audit_record(action="update", instance=unit.trial_main, changes={"title": ["", "Renamed"]})
    assert job_submit(kind=JobKind.MATCHING_RUN, by=None).pk != job.pk  # the data moved on


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def kill_import_once(pmap: Path, delay: float, database_url: str) -> int:
    """Start ``oncotrials jobs import`` in a process; SIGKILL it ``delay`` seconds into the run.

    The run starts when the job is marked ``running`` (the process has started, read and
    recorded the job); ``delay`` then falls inside the import transaction or just after it.
    Returns the process's exit status (``-9`` when it was killed before it finished).
    """
    import psycopg
    from django.conf import settings

    # The same secret key as this process, hence the same (derived) audit key.
    env = {**os.environ, "DATABASE_URL": database_url, "ONCOTRIALS_SECRET_KEY": settings.SECRET_KEY}
    code = "from oncotrials.cli.main import main; main()"
    args = [sys.executable, "-c", code, "jobs", "import", str(LAML), "--patient-map", str(pmap)]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with psycopg.connect(
        database_url.replace("postgres://", "postgresql://"), autocommit=True
    ) as c:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            row = c.execute("SELECT 1 FROM jobs_job WHERE state = 'running'").fetchone()
            if row:
                break
            time.sleep(0.02)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return proc.returncode


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_mid_run_leaves_nothing_partial_and_reruns_exactly(
    unit: Any, tmp_path: Path
) -> None:
    """SIGKILL at a random instant, 4 times; ``bench/jobs_kill.py`` runs the 20 tries."""
    if not PG:
        pytest.skip("a second process on the test database: PostgreSQL")
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.genomics.models import GenomicReport, Mutation, Sample
    from oncotrials.apps.jobs.models import Job, JobKind, JobState
    from oncotrials.apps.jobs.services import job_run, job_submit

    pmap = _laml_setup(unit.main, tmp_path)
    rng = random.Random(15)
    killed = 0
    for _ in range(4):
        status = kill_import_once(pmap, rng.uniform(0.0, 1.5), _database_url())
        killed += status == -signal.SIGKILL
        reports, mutations = GenomicReport.objects.count(), Mutation.objects.count()
        assert (reports, mutations) in {(0, 0), (LAML_SAMPLES, LAML_ROWS)}, "partial import"
        assert Sample.objects.count() in {0, LAML_SAMPLES}
        jobs = list(Job.objects.all())
        assert len(jobs) <= 1  # one job, whatever the number of runs
        if not jobs:  # killed before it was recorded: submitting again is all there is to do
            assert reports == 0
            job = job_submit(kind=JobKind.GENOMICS_IMPORT, by=None, path=LAML, patient_map=pmap)
        else:
            assert (jobs[0].state == JobState.DONE) == (reports == LAML_SAMPLES)
            job = job_run(jobs[0].pk)  # what the worker's redelivery does
        assert job.state == JobState.DONE
        assert _counts() == (LAML_SAMPLES, LAML_SAMPLES, LAML_ROWS)  # no duplicate
        # The next try starts from nothing (the audit events stay: the trail is append-only).
        Mutation.objects.all().delete()
        GenomicReport.objects.all().delete()
        Sample.objects.all().delete()
        Job.objects.all().delete()
    assert killed >= 1, "every process finished before its kill: the test proved nothing"
    assert audit_verify().ok
