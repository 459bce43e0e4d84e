"""Benchmark: `audit verify` throughput, and false alarms while writers append, on PostgreSQL.

Creates a throwaway PostgreSQL database, migrates it, appends N events spread over P trial
chains (batches of 10, as services do), then times a full verification three times (median,
CPU time of this process beside wall time, events per second) and the verification with the
row digests. Then it starts W writer threads appending to their own partitions and runs the
verification R times meanwhile, counting false alarms (a report that is not ok). Prints the load
average; drops the database at the end.

    .venv/bin/python bench/audit_verify.py [--events 20000] [--partitions 8] [--runs 20] \
        [--writers 2] [--pg postgres://postgres@127.0.0.1:5432]

Target (issue 15): 0 false alarms over 20 runs during a write load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg


def _admin_sql(server: str, sql: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    name = f"oncotrials_bench_audit_{uuid.uuid4().hex[:8]}"
    _admin_sql(args.pg, f'CREATE DATABASE "{name}"')
    try:
        os.environ.update(
            DATABASE_URL=f"{args.pg}/{name}",
            DJANGO_SETTINGS_MODULE="oncotrials.web.settings",
            ONCOTRIALS_SECRET_KEY="bench-" + "x" * 40,
            ONCOTRIALS_AUDIT_KEY="bench:" + "k" * 40,
            ONCOTRIALS_DATA_DIR=str(Path(".bench-var").resolve()),
        )
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, transaction

        from oncotrials.apps.audit.services import audit_batch, audit_record, audit_verify

        call_command("migrate", verbosity=0)

        def append(partition: str, n: int, tag: str) -> None:
            with transaction.atomic(), audit_batch():
                for i in range(n):
                    audit_record(
                        action="update",
                        object_type="bench.thing",
                        object_id=f"{tag}-{i}",
                        changes={"grade": [1, 2]},
                        reason="bench",
                        partition=partition,
                    )

        for k in range(args.events // 10):
            append(f"trial-{k % args.partitions}", 10, str(k))

        def timed(**kw: object) -> tuple[float, float, object]:
            w0, c0 = time.perf_counter(), time.process_time()
            report = audit_verify(**kw)  # type: ignore[arg-type]
            return time.perf_counter() - w0, time.process_time() - c0, report

        runs = [timed() for _ in range(3)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        report = runs[0][2]
        assert getattr(report, "ok", False), report
        n = report.events  # type: ignore[attr-defined]
        print(f"full verify of {n} events in {args.partitions} chains (median of 3):")
        print(f"  wall {wall:.2f} s, CPU {cpu:.2f} s, {n / wall:,.0f} events/s")

        stop = threading.Event()
        appended = [0] * args.writers

        def writer(w: int) -> None:
            try:
                while not stop.is_set():
                    append(f"trial-w{w}", 3, f"w{w}-{appended[w]}")
                    appended[w] += 3
            finally:
                connection.close()

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(args.writers)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        alarms, walls = 0, []
        for _ in range(args.runs):
            w, _c, r = timed()
            walls.append(w)
            alarms += not getattr(r, "ok", False)
        stop.set()
        for t in threads:
            t.join()
        final = audit_verify()
        print(
            f"verify during {args.writers} writers: {alarms} false alarms over {args.runs} runs "
            f"(median {statistics.median(walls):.2f} s), {sum(appended)} events appended "
            f"meanwhile; final verify ok={final.ok} with {final.events} events (target: 0)"
        )
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        connection.close()
        return 0 if alarms == 0 and final.ok else 1
    finally:
        _admin_sql(args.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
