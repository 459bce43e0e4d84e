"""Benchmark: the activity report over the demo's full history (every year with activity).

Target: <= 1 s on a 2-core machine for all the years together, counting what a user waits for:
selecting the rows an administrator may see and computing every table (the same call as the web
page and ``oncotrials activity report``). Median of --repeats runs, CPU beside wall, load average.

Uses the database of ONCOTRIALS_DATA_DIR (or DATABASE_URL); an empty database first receives
the demo (``oncotrials demo``), which is not timed.

    ONCOTRIALS_DATA_DIR=/path/to/empty-or-demo .venv/bin/python bench/activity.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("ONCOTRIALS_DEBUG", "1")
    from oncotrials.cli import django_setup

    django_setup.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from oncotrials.apps.accounts.access import Scope
    from oncotrials.apps.accounts.models import User
    from oncotrials.apps.demo import demo_load
    from oncotrials.apps.operations.analytics import activity_for
    from oncotrials.apps.subjects.models import Registration, ScreeningEpisode

    if not User.objects.exists():
        print("loading the demo (not timed)...")
        demo_load()
    years = sorted(
        {d.year for d in Registration.objects.values_list("registered_on", flat=True)}
        | {d.year for d in ScreeningEpisode.objects.values_list("started_on", flat=True)}
    )
    admin = User.objects.filter(username="admin").first() or User(is_superuser=True)
    admin._oncotrials_scope = Scope(is_admin=True)
    walls, cpus = [], []
    reports = []
    for _ in range(args.repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        reports = [activity_for(user=admin, year=y) for y in years]
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    included = sum(i for r in reports for _p, _s, i in r.by_phase)
    screened = sum(s for r in reports for _p, s, _i in r.by_phase)
    wall = statistics.median(walls)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"activity report, years {years[0]}-{years[-1]} ({len(years)} reports; {screened} "
        f"screenings, {included} inclusions): median {wall:.3f} s wall, "
        f"{statistics.median(cpus):.3f} s CPU (target 1 s: {'ok' if wall <= 1 else 'SLOW'})"
    )


if __name__ == "__main__":
    main()
