"""Benchmark: whole-process time of the command line, as a user runs it.

Each command runs in a fresh interpreter (what the ``oncotrials`` console script does:
``from oncotrials.cli.main import main; main()``), ``--repeat`` times; the median wall time and
the median CPU time (user + system of the child, from ``resource.getrusage(RUSAGE_CHILDREN)``)
are printed with the load average. Targets (CPU): ``--help`` <= 0.5 s, ``ctcae grade`` <= 0.8 s,
``design simulate boin`` with 10,000 trials of the standard scenario <= 1.5 s.

    .venv/bin/python bench/cli_startup.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

ENTRY = "from oncotrials.cli.main import main; main()"
CASES: list[tuple[str, list[str], float]] = [
    ("oncotrials --help", ["--help"], 0.5),
    (
        "oncotrials ctcae grade -a ANC -v 750 -u /mm3",
        ["ctcae", "grade", "-a", "ANC", "-v", "750", "-u", "/mm3"],
        0.8,
    ),
    (
        "oncotrials design simulate boin (10,000 trials, standard scenario)",
        [
            "design",
            "simulate",
            "boin",
            "--truth",
            "0.05,0.10,0.20,0.30,0.45,0.60",
            "--trials",
            "10000",
            "--seed",
            "1",
            "--format",
            "json",
        ],
        1.5,
    ),
]


def run_once(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "100"},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, args, target in CASES:
        run_once(args)  # warm the file cache
        runs = [run_once(args) for _ in range(max(3, opts.repeat))]
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        verdict = "met" if cpu <= target else "NOT met"
        print(
            f"{label}: median of {len(runs)}: {wall:.2f} s wall, {cpu:.2f} s CPU "
            f"(target <= {target} s CPU: {verdict})"
        )
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
