"""Benchmark: mRECIST of 10,000 PDX growth series (one CSV in Xeva's layout, read and classified),
the work of ``oncotrials pdx mrecist`` on a large drug screen (the PDXE screen had ~4,700 model x
drug pairs, Gao et al. 2015).

Each series has 20 measurements twice a week over 66 days, exponential growth or decay with
multiplicative noise. Prints the median of --repeat runs: CPU and wall time, series per second,
and the load average.

    PYTHONPATH=src .venv/bin/python bench/pdx_mrecist.py [--series 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import time
from collections import Counter

from oncotrials.core.biobank.pdx import mrecist_all, read_growth_csv


def make_csv(n: int, seed: int) -> str:
    rng = random.Random(seed)
    days = [0, 3, 7, 10, 14, 17, 21, 24, 28, 31, 35, 38, 42, 45, 49, 52, 56, 59, 63, 66]
    lines = ['"model.id","time","volume","drug"']
    for i in range(n):
        v0 = rng.uniform(100, 300)
        rate = rng.uniform(-0.12, 0.06)
        for d in days:
            v = max(0.5, v0 * math.exp(rate * d) * rng.uniform(0.9, 1.1))
            lines.append(f'"M{i:05d}",{d},{v:.1f},"drug{i % 7}"')
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    text = make_csv(args.series, args.seed)
    walls, cpus = [], []
    calls: Counter[str] = Counter()
    for _ in range(args.repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        results = mrecist_all(read_growth_csv(text, name="bench.csv"))
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        calls = Counter(r.call.value if r.call else "NA" for r in results)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"mRECIST of {args.series:,} series x 20 measurements (read CSV + classify)")
    print(
        f"  median of {args.repeat}: {cpu:.2f} s CPU, {wall:.2f} s wall "
        f"({args.series / wall:,.0f} series/s wall)"
    )
    print(f"  calls: {dict(sorted(calls.items()))}")
    print(f"  load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
