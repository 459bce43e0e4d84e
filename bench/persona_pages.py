"""Benchmark: the server cost of each request of the persona load (``bench/locust/locustfile.py``)
on a seeded database, in-process.

Logs the demo personas in through Django's test client (no password hash), finds the objects each
may see through the API as the load does, then requests each of its pages ``--runs`` times (a
warm-up first; pages on an object take a different random object each run) and prints the median
wall and CPU time of this process per request (PostgreSQL's own CPU excluded), the most SQL
queries one request made and, with ``--shapes``, the SQL statements a request repeats most (an
N+1 shows as one shape run once per row).

    DATABASE_URL=postgres://.../centre .venv/bin/python bench/persona_pages.py [--runs 5] [--shapes]

Seed the database first: ``oncotrials migrate && oncotrials seed --size centre-10y``.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# (name, persona, url or a template on {patient}, {registration} or {cohort}), as the load asks.
PAGES = [
    ("nurse: work list", "nurse", "/worklists/"),
    ("nurse: patient list", "nurse", "/patients/"),
    ("patient page (nurse)", "nurse", "/patients/{patient}/"),
    ("investigator: home", "investigator", "/"),
    ("escalation page", "investigator", "/cohorts/{cohort}/escalation/"),
    ("patient page (inv.)", "investigator", "/patients/{patient}/"),
    ("investigator: portfolio", "investigator", "/trials/"),
    ("data queries (dm)", "datamanager", "/crfs/queries/"),
    ("casebook list (dm)", "datamanager", "/crfs/"),
    ("casebook (dm)", "datamanager", "/crfs/registrations/{registration}/"),
    ("casebook list (mon.)", "monitor", "/crfs/"),
    ("casebook (mon.)", "monitor", "/crfs/registrations/{registration}/"),
    ("data queries (mon.)", "monitor", "/crfs/queries/"),
    ("api: patients", "datamanager", "/api/v1/patients?page={page}&page_size=100"),
    ("api: registrations", "datamanager", "/api/v1/registrations?page_size=100"),
    ("api: trials", "datamanager", "/api/v1/trials?page_size=100"),
    ("api: adverse events", "datamanager", "/api/v1/safety/adverse-events?page_size=100"),
    ("api: patient", "datamanager", "/api/v1/patients/{patient}"),
]


def _setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("DATABASE_URL must name the seeded database.")
    os.environ.setdefault("ONCOTRIALS_SECRET_KEY", "bench-" + "x" * 40)
    os.environ.setdefault("ONCOTRIALS_AUDIT_KEY", "bench:" + "k" * 40)
    os.environ["ONCOTRIALS_HTTPS"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oncotrials.web.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _ids(client: Any, url: str, **match: str) -> list[int]:
    r = client.get(url)
    if r.status_code != 200:
        return []
    body = r.json()
    items = body["items"] if isinstance(body, dict) and "items" in body else body
    return [
        int(i["id"])
        for i in items
        if isinstance(i, dict) and "id" in i and all(i.get(k) == v for k, v in match.items())
    ]


def _discover(client: Any) -> dict[str, list[int]]:
    trials = _ids(client, "/api/v1/trials?page_size=100")
    cohorts: list[int] = []
    for t in trials[:10]:
        cohorts += _ids(client, f"/api/v1/trials/{t}/cohorts", kind="escalation")
    return {
        "patient": _ids(client, "/api/v1/patients?page_size=100"),
        "registration": _ids(client, "/api/v1/registrations?page_size=100"),
        "cohort": cohorts,
        "page": list(range(1, 21)),
    }


def _shape(sql: str) -> str:
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    sql = re.sub(r"IN \([?, ]+\)", "IN (...)", sql)
    return sql[:160]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="requests per page (at least 1)")
    parser.add_argument("--shapes", action="store_true", help="print the most repeated SQL")
    parser.add_argument("--only", help="only the pages whose name contains this")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print the N costliest functions"
    )
    args = parser.parse_args()
    _setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from oncotrials.apps.accounts.models import User

    rng = random.Random(args.seed)
    clients: dict[str, Any] = {}
    objects: dict[str, dict[str, list[int]]] = {}
    print(
        f"{'request':<26}{'wall ms':>9}{'CPU ms':>9}{'SQL ms':>9}{'queries':>9}"
        f"   (median of {args.runs}; SQL: the database's answer time, wall)"
    )
    cpu_total = 0.0
    for name, who, template in PAGES:
        if args.only and args.only not in name:
            continue
        if who not in clients:
            clients[who] = Client(SERVER_NAME="127.0.0.1")
            clients[who].force_login(
                User.objects.get(username=who), backend="django.contrib.auth.backends.ModelBackend"
            )
            objects[who] = _discover(clients[who])
        client, found = clients[who], objects[who]
        keys = re.findall(r"{(\w+)}", template)
        if any(not found[k] for k in keys):
            print(f"{name:<26} (nothing to request: no {', '.join(keys)} visible)")
            continue

        def url() -> str:
            return template.format(**{k: rng.choice(found[k]) for k in keys})  # noqa: B023

        client.get(url())  # warm-up
        walls, cpus, sqls, counts, status = [], [], [], [], set()
        slowest: tuple[float, str] = (0.0, "")
        shapes: collections.Counter[str] = collections.Counter()
        for _ in range(max(args.runs, 1)):
            u = url()
            with CaptureQueriesContext(connection) as ctx:
                w0, p0 = time.perf_counter(), time.process_time()
                r = client.get(u)
                walls.append((time.perf_counter() - w0) * 1000)
                cpus.append((time.process_time() - p0) * 1000)
            status.add(r.status_code)
            counts.append(len(ctx.captured_queries))
            sqls.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
            slowest = max([slowest, *((float(q["time"]), q["sql"]) for q in ctx.captured_queries)])
            shapes.update(_shape(q["sql"]) for q in ctx.captured_queries)
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(client.get, url())
            pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
        cpu_total += statistics.median(cpus)
        bad = "" if status == {200} else f"  status {sorted(status)}"
        print(
            f"{name:<26}{statistics.median(walls):>9.1f}{statistics.median(cpus):>9.1f}"
            f"{statistics.median(sqls):>9.1f}{max(counts):>9}{bad}"
        )
        if args.shapes:
            print(f"    slowest {slowest[0] * 1000:.1f} ms: {slowest[1][:300]}")
            for sql, n in shapes.most_common(4):
                if n / len(counts) < 2:
                    break
                print(f"    {n / len(counts):>6.1f}x  {sql}")
    load = os.getloadavg()
    print(
        f"sum of medians {cpu_total:.0f} ms CPU; load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
