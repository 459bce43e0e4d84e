"""Benchmark: accrual forecasting (Gajewski; Anisimov-Fedorov Poisson-gamma).

Targets on a 2-core machine (issue "unit operations"):

- closed-form prediction for 50 centres (MLE already fitted): <= 5 ms;
- Poisson-gamma maximum-likelihood fit over 50 centres: <= 50 ms;
- 100,000-draw Monte Carlo of the time to target with 10 planned openings: <= 1 s;
- calibration: 2,000 trials simulated from the model; the 95 % intervals must cover the truth
  0.95 +/- 0.015 (Gajewski's time to target, exact Bayesian; the Poisson-gamma count interval,
  a plug-in of the MLE, is reported beside it).

Each figure is the median of --repeats runs, with CPU time beside wall time and the load average.

    .venv/bin/python bench/accrual.py [--repeats 3] [--trials 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from oncotrials.core.accrual import (
    Centre,
    GajewskiPrior,
    gajewski_calibration,
    gajewski_time,
    pg_count,
    pg_fit,
    pg_simulate,
    pg_time,
    poisson_gamma_calibration,
)


def timed(fn: Callable[[], Any], repeats: int, inner: int = 1) -> tuple[float, float, Any]:
    walls, cpus = [], []
    out = None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(inner):
            out = fn()
        walls.append((time.perf_counter() - w0) / inner)
        cpus.append((time.process_time() - c0) / inner)
    return statistics.median(walls), statistics.median(cpus), out


def centres(n: int, planned: int, seed: int = 1) -> tuple[list[Centre], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    opened = rng.uniform(0, 9, n)
    k = rng.poisson(rng.gamma(2.0, 1 / 4.0, n) * (12 - opened))
    cs = [Centre(f"c{i}", float(o), int(x)) for i, (o, x) in enumerate(zip(opened, k, strict=True))]
    cs += [Centre(f"new{i}", 12.5 + i, 0) for i in range(planned)]
    return cs, k, 12 - opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=2000)
    args = parser.parse_args()
    r = args.repeats
    cs, k, tau = centres(50, 0)
    fit = pg_fit(k, tau)
    prior = GajewskiPrior(600, 30, 0.5)

    def closed() -> Any:
        return (
            pg_time(fit, cs, now=12, remaining=200),
            pg_count(fit, cs, now=12, horizon=6),
            gajewski_time(prior, accrued=int(k.sum()), elapsed=12),
        )

    rows = []
    w, c, _ = timed(closed, r, inner=50)
    rows.append(("closed-form prediction, 50 centres", w, c, 0.005))
    w, c, _ = timed(lambda: pg_fit(k, tau), r, inner=10)
    rows.append(("Poisson-gamma MLE, 50 centres", w, c, 0.050))
    planned, _, _ = centres(50, 10)
    w, c, sim = timed(
        lambda: pg_simulate(fit, planned, now=12, remaining=200, draws=100_000, rng=1), r
    )
    rows.append(("Monte Carlo 100,000 draws, 10 planned openings", w, c, 1.0))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'step':52} {'wall (median)':>14} {'CPU':>10} {'target':>8}")
    for name, wall, cpu, target in rows:
        ok = "ok" if wall <= target else "SLOW"
        print(f"{name:52} {wall * 1e3:11.2f} ms {cpu * 1e3:7.2f} ms {target * 1e3:6.0f} ms {ok}")
    print(f"  (simulated median end: {sim.time_interval().median:.2f} months)")
    w0, c0 = time.perf_counter(), time.process_time()
    g = gajewski_calibration(trials=args.trials, rng=2026)
    print(
        f"calibration, Gajewski time to target, {g.trials} trials: coverage {g.coverage:.4f} "
        f"(target 0.95 +/- 0.015: {'ok' if abs(g.coverage - 0.95) <= 0.015 else 'OFF'}); "
        f"{time.perf_counter() - w0:.2f} s wall, {time.process_time() - c0:.2f} s CPU"
    )
    w0, c0 = time.perf_counter(), time.process_time()
    p = poisson_gamma_calibration(trials=args.trials, rng=2026)
    print(
        f"calibration, Poisson-gamma count in 6 months, {p.trials} trials x 40 centres: coverage "
        f"{p.coverage:.4f} (plug-in MLE, discrete; reported); "
        f"{time.perf_counter() - w0:.2f} s wall, {time.process_time() - c0:.2f} s CPU"
    )


if __name__ == "__main__":
    main()
