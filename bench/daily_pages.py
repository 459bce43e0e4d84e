"""Benchmark: loading the demo unit, and the pages staff live in on it: the work list, a patient's
page and each role's home page.

Migrates a throwaway SQLite data directory and loads the demo into it, ``--loads`` times (each
into a fresh directory; migrate and demo load timed apart, CPU beside wall, median printed). On
the last one, as the demo's users of the main site, requests each page through Django's test
client (the whole request: middleware, access rules, selectors, template), a warm-up then
``--runs`` times, and prints the median and the spread of the server's wall and CPU time per
page, the number of SQL queries, and the load average (the machine may be shared: wall time
under load is an upper bound, CPU time the steadier figure). The patient is the registered demo
patient of the nurse's site with the most visit records (the heaviest calendar).

Targets (issue 13): the demo loads in <= 20 s of CPU (migrate excluded); the work list and the
patient page answer in <= 100 ms of server time (median of at least 3 runs).

    .venv/bin/python bench/daily_pages.py [--runs 5] [--loads 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 100.0
TARGET_DEMO_CPU_S = 20.0


def _setup(data_dir: str) -> None:
    os.environ["ONCOTRIALS_DATA_DIR"] = data_dir
    os.environ.setdefault("ONCOTRIALS_DEBUG", "0")
    os.environ["ONCOTRIALS_SECRET_KEY"] = "bench-" + "x" * 40
    os.environ.setdefault("ONCOTRIALS_AUDIT_KEY", "bench:" + "k" * 40)  # seals the audit trail
    os.environ["ONCOTRIALS_HTTPS"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oncotrials.web.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _load(data_dir: str) -> tuple[float, float, float, float]:
    """Migrate and load the demo into ``data_dir`` in a fresh process (nothing warm): (migrate
    wall, CPU, demo wall, CPU) in seconds, as that process measured them."""
    out = subprocess.run(
        [sys.executable, __file__, "--load-into", data_dir],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    mw, mc, dw, dc = (float(x) for x in out.split()[-4:])
    return mw, mc, dw, dc


def _load_here(data_dir: str) -> None:
    _setup(data_dir)
    from django.core.management import call_command

    t0, c0 = time.perf_counter(), time.process_time()
    call_command("migrate", verbosity=0)
    t1, c1 = time.perf_counter(), time.process_time()
    from oncotrials.apps.demo import demo_load

    demo_load()
    t2, c2 = time.perf_counter(), time.process_time()
    print(t1 - t0, c1 - c0, t2 - t1, c2 - c1)


def _median_line(name: str, walls: list[float], cpus: list[float], unit: str) -> str:
    return (
        f"{name:<22}{statistics.median(walls):>10.1f} ({min(walls):.1f}-{max(walls):.1f}) {unit} "
        f"wall{statistics.median(cpus):>10.1f} ({min(cpus):.1f}-{max(cpus):.1f}) {unit} CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="requests per page (at least 3)")
    parser.add_argument("--loads", type=int, default=3, help="demo loads (median printed)")
    parser.add_argument("--load-into", help=argparse.SUPPRESS)  # one load, in a child process
    args = parser.parse_args()
    if args.load_into:
        _load_here(args.load_into)
        return
    runs = max(args.runs, 3)
    loads = max(args.loads, 1)

    with tempfile.TemporaryDirectory(prefix="oncotrials-bench-") as scratch:
        dirs = [str(Path(scratch) / f"load{i}") for i in range(loads)]
        for d in dirs:
            Path(d).mkdir()
        timings = []
        for i, d in enumerate(dirs, 1):
            timings.append(_load(d))
            mw, mc, dw, dc = timings[-1]
            print(
                f"load {i}/{loads}: migrate {mw:.1f} s wall, {mc:.1f} s CPU; "
                f"demo {dw:.1f} s wall, {dc:.1f} s CPU",
                flush=True,
            )
        print(
            _median_line("migrate", [t[0] for t in timings], [t[1] for t in timings], "s"),
        )
        demo_cpus = [t[3] for t in timings]
        print(_median_line("demo load", [t[2] for t in timings], demo_cpus, "s"))
        demo_met = statistics.median(demo_cpus) <= TARGET_DEMO_CPU_S
        _setup(dirs[-1])
        load = os.getloadavg()
        print(
            f"target: demo load <= {TARGET_DEMO_CPU_S:.0f} s CPU: "
            f"{'met' if demo_met else 'NOT met'}; load average {load[0]:.2f} {load[1]:.2f}"
        )
        _pages(runs)


def _pages(runs: int) -> None:
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from oncotrials.apps.accounts.models import Membership, Role, User
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
    users = {"nurse": nurse.user}
    for username in ("investigator", "datamanager", "monitor", "admin"):
        users[username] = User.objects.get(username=username)
    pages = [
        ("work list", "nurse", "/worklists/", True),
        ("patient page", "nurse", f"/patients/{reg.patient_id}/", True),
        *((f"home ({who})", who, "/", False) for who in users),
    ]
    print(f"{nurse.site.code} site; patient {reg.patient_id}; {runs} requests per page")
    print(f"{'page':<22}{'wall ms (median, min-max)':>28}{'CPU ms (median)':>18}{'queries':>9}")
    failed = False
    clients = {}
    for who, user in users.items():
        clients[who] = Client(SERVER_NAME="127.0.0.1")
        clients[who].force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    for name, who, url, targeted in pages:
        client = clients[who]
        response = client.get(url)  # warm-up (template compilation, caches)
        assert response.status_code == 200, (url, response.status_code)
        walls, cpus, queries = [], [], 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                w0, p0 = time.perf_counter(), time.process_time()
                response = client.get(url)
                walls.append((time.perf_counter() - w0) * 1000)
                cpus.append((time.process_time() - p0) * 1000)
            assert response.status_code == 200
            queries = len(ctx.captured_queries)
        median = statistics.median(walls)
        if targeted:
            failed |= median > TARGET_MS
        print(
            f"{name:<22}{median:>10.1f} ({min(walls):.1f}-{max(walls):.1f}){'':>6}"
            f"{statistics.median(cpus):>14.1f}{queries:>9}"
        )
    load = os.getloadavg()
    print(
        f"target: work list and patient page <= {TARGET_MS:.0f} ms median wall: "
        f"{'met' if not failed else 'NOT met'}; load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
