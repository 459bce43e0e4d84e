"""Benchmark: the pages staff live in, on the demo unit: the work list and a patient's page.

Creates a throwaway SQLite data directory, migrates it and loads the demo (timed, CPU beside
wall), then, as the demo's research nurse of the main site, requests each page through Django's
test client (the whole request: middleware, access rules, selectors, template), a warm-up then
``--runs`` times, and prints the median and the spread of the server's wall and CPU time per
page, the number of SQL queries, and the load average. The patient is the registered demo
patient with the most visit records (the heaviest calendar).

Target (issue 13): the work list and the patient page answer in <= 100 ms of server time on the
demo (median of at least 3 runs).

    .venv/bin/python bench/daily_pages.py [--runs 5] [--patients N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 100.0


def _setup(data_dir: str) -> None:
    os.environ["ONCOTRIALS_DATA_DIR"] = data_dir
    os.environ.setdefault("ONCOTRIALS_DEBUG", "0")
    os.environ["ONCOTRIALS_SECRET_KEY"] = "bench-" + "x" * 40
    os.environ["ONCOTRIALS_HTTPS"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oncotrials.web.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--patients", type=int, default=None, help="demo size (default: demo's)")
    args = parser.parse_args()
    runs = max(args.runs, 3)

    with tempfile.TemporaryDirectory(prefix="oncotrials-bench-") as data_dir:
        _setup(data_dir)
        from django.core.management import call_command
        from django.db import connection, reset_queries
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        t0, c0 = time.perf_counter(), time.process_time()
        call_command("migrate", verbosity=0)
        t1, c1 = time.perf_counter(), time.process_time()
        from oncotrials.apps.demo import demo_load

        kwargs = {} if args.patients is None else {"patients": args.patients}
        demo_load(**kwargs)
        t2, c2 = time.perf_counter(), time.process_time()
        print(f"migrate: {t1 - t0:.1f} s wall, {c1 - c0:.1f} s CPU")
        print(f"demo load: {t2 - t1:.1f} s wall, {c2 - c1:.1f} s CPU")

        from django.db.models import Count

        from oncotrials.apps.accounts.models import Membership, Role
        from oncotrials.apps.subjects.models import Registration

        nurse = (
            Membership.objects.filter(role=Role.RESEARCH_NURSE, trial__isnull=True)
            .select_related("user", "site")
            .order_by("site__code", "pk")
            .first()
        )
        assert nurse is not None, "the demo has no research nurse"
        reg = (
            Registration.objects.filter(patient__site=nurse.site)
            .annotate(n=Count("visits"))
            .order_by("-n", "pk")
            .first()
        )
        assert reg is not None, "the demo has no registration at the nurse's site"
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(nurse.user, backend="django.contrib.auth.backends.ModelBackend")
        pages = {
            "work list": "/worklists/",
            "patient page": f"/patients/{reg.patient_id}/",
        }
        print(f"as {nurse.user.username} ({nurse.site.code}); patient {reg.patient_id}")
        print(f"{'page':<14}{'wall ms (median, min-max)':>30}{'CPU ms (median)':>18}{'queries':>9}")
        failed = False
        for name, url in pages.items():
            response = client.get(url)  # warm-up (template compilation, caches)
            assert response.status_code == 200, (url, response.status_code)
            walls, cpus, queries = [], [], 0
            for _ in range(runs):
                reset_queries()
                with CaptureQueriesContext(connection) as ctx:
                    w0, p0 = time.perf_counter(), time.process_time()
                    response = client.get(url)
                    walls.append((time.perf_counter() - w0) * 1000)
                    cpus.append((time.process_time() - p0) * 1000)
                assert response.status_code == 200
                queries = len(ctx.captured_queries)
            median = statistics.median(walls)
            failed |= median > TARGET_MS
            print(
                f"{name:<14}{median:>12.1f} ({min(walls):.1f}-{max(walls):.1f}){'':>6}"
                f"{statistics.median(cpus):>14.1f}{queries:>9}"
            )
        load = os.getloadavg()
        print(f"target: <= {TARGET_MS:.0f} ms median; load average {load[0]:.2f} {load[1]:.2f}")
        print("met" if not failed else "NOT met")


if __name__ == "__main__":
    main()
