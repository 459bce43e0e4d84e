"""SIGKILL of a genomic import job mid-run, N tries: partial imports and duplicates after re-run.

Each try starts ``oncotrials jobs import`` (tcga_laml.maf.gz: 193 samples, 2,207 mutations) in a
process, waits until the job is marked running, sleeps a random 0-1.5 s (inside the import's
transaction or just after) and kills the process with SIGKILL; then counts what is stored (it
must be nothing or the whole import), runs the job again in-process as the worker's redelivery
would, and counts again (it must be the whole import once). Works on a scratch PostgreSQL
database created beside DATABASE_URL's (``<name>_killbench``) and dropped at the end.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x python bench/jobs_kill.py --tries 20
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
LAML = ROOT / "tests" / "fixtures" / "genomics" / "maftools" / "tcga_laml.maf.gz"
SAMPLES, ROWS = 193, 2207


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    base = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    parts = urlsplit(base)
    name = parts.path.lstrip("/") + "_killbench"
    url = urlunsplit(parts._replace(path=f"/{name}"))
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        DATABASE_URL=url,
        ONCOTRIALS_SECRET_KEY=os.environ.get("ONCOTRIALS_SECRET_KEY", "k" * 50),
        ONCOTRIALS_AUDIT_KEY=os.environ.get("ONCOTRIALS_AUDIT_KEY", "bench:" + "b" * 40),
        DJANGO_SETTINGS_MODULE="oncotrials.web.settings",
    )
    exe = [sys.executable, "-c", "from oncotrials.cli.main import main; main()"]
    subprocess.run([*exe, "migrate"], check=True, capture_output=True)
    try:
        run(url, exe, args.tries, random.Random(args.seed))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')


def run(url: str, exe: list[str], tries: int, rng: random.Random) -> None:
    import django

    django.setup()
    from oncotrials.apps.accounts.models import Site
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.genomics.models import GenomicReport, Mutation, Sample
    from oncotrials.apps.jobs.models import Job, JobKind, JobState
    from oncotrials.apps.jobs.services import job_run, job_submit
    from oncotrials.apps.subjects.models import Patient
    from oncotrials.core.genomics import read_maf

    site = Site.objects.create(code="main", name="Main")
    samples = read_maf(LAML).samples
    Patient.objects.bulk_create(
        Patient(research_id=s, site=site, sex="U", year_of_birth=1960, diagnosis="AML",
                referral_source="department", referral_date="2026-01-05")
        for s in samples
    )  # fmt: skip
    pmap = Path("/tmp") / f"killbench-map-{os.getpid()}.csv"  # noqa: S108
    pmap.write_text("sample_id,research_id\n" + "".join(f"{s},{s}\n" for s in samples))
    killed = partial = duplicates = before_job = finished = 0
    rerun_s: list[float] = []
    for i in range(tries):
        delay = rng.uniform(0.0, 1.5)
        cmd = [*exe, "jobs", "import", str(LAML), "--patient-map", str(pmap)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with psycopg.connect(url, autocommit=True) as c:
            while proc.poll() is None:
                if c.execute("SELECT 1 FROM jobs_job WHERE state = 'running'").fetchone():
                    break
                time.sleep(0.02)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed += proc.returncode == -signal.SIGKILL
        stored = (GenomicReport.objects.count(), Mutation.objects.count())
        if stored not in {(0, 0), (SAMPLES, ROWS)}:
            partial += 1
        finished += stored == (SAMPLES, ROWS)
        job = Job.objects.first()
        start = time.perf_counter()
        if job is None:
            before_job += 1
            job = job_submit(kind=JobKind.GENOMICS_IMPORT, by=None, path=LAML, patient_map=pmap)
        else:
            job = job_run(job.pk)
        rerun_s.append(time.perf_counter() - start)
        counts = (Sample.objects.count(), GenomicReport.objects.count(), Mutation.objects.count())
        if job.state != JobState.DONE or counts != (SAMPLES, SAMPLES, ROWS):
            duplicates += 1
        print(
            f"try {i + 1:2d}: kill after {delay:.2f} s, exit {proc.returncode}, stored "
            f"{stored[0]} reports / {stored[1]} mutations; re-run -> {counts}",
            flush=True,
        )
        Mutation.objects.all().delete()
        GenomicReport.objects.all().delete()
        Sample.objects.all().delete()
        Job.objects.all().delete()
    pmap.unlink()
    rerun_s.sort()
    with open("/proc/loadavg") as fh:
        load = " ".join(fh.read().split()[:3])
    print(
        f"\n{tries} tries: {killed} killed mid-run ({finished} had committed before the kill, "
        f"{before_job} before the job was recorded); partial imports: {partial}; wrong or "
        f"duplicate rows after re-run: {duplicates}; re-run median {rerun_s[len(rerun_s) // 2]:.2f}"
        f" s wall; audit trail {'intact' if audit_verify().ok else 'BROKEN'}; load average {load}"
    )


if __name__ == "__main__":
    main()
