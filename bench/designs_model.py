"""Benchmark: CRM and TITE-CRM operating characteristics.

CRM: the standard scenario of issue 4 (target 0.3; true DLT rates 0.05/0.10/0.20/0.30/0.45/0.60;
cohorts of 3; 36 patients; 10,000 trials), empiric model with the skeleton
``getprior(0.05, 0.3, 4, 6)``, start at dose 1, dfcrm's restrictions. Reference: dfcrm::crmsim
with the same settings (4,000 trials, seed 1009; tests/core/designs/reference/crm_dfcrm_crmsim.csv)
and its run time measured on the 2-core development machine (one core, other jobs running:
85.5 s for 4,000 trials; designs.md reports ~160 s per 10,000 on an idle core).

TITE-CRM: the same truth and skeleton, 24 patients arriving one at a time, 3 per DLT window
(fixed accrual), 10,000 trials. Reference: dfcrm::titesim(..., 24, 1, nsim=2000, obswin=1,
rate=3, accrual="fixed"): 84.5 s for 2,000 trials (seed 1009) on the same machine; selection %
pooled with a second run of 3,000 trials (seed 2024), tests/core/designs/reference/.

The Simon two-stage search has its own benchmark beside clinfun: bench/simon.py.

Target (issue 4): CRM <= 3 s for 10,000 trials.

    .venv/bin/python bench/designs_model.py [--trials 10000] [--seed 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from oncotrials.core.designs.crm import getprior, simulate_crm
from oncotrials.core.designs.tite_crm import simulate_tite_crm

TRUTH = [0.05, 0.10, 0.20, 0.30, 0.45, 0.60]
REF = Path(__file__).parents[1] / "tests" / "core" / "designs" / "reference"
DFCRM_SECONDS_PER_10000 = 85.5 / 4000 * 10_000  # measured with other jobs on the machine
TITESIM_SECONDS_PER_10000 = 84.5 / 2000 * 10_000


def best_time(func: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    skel = getprior(0.05, 0.3, 4, 6)
    with (REF / "crm_dfcrm_crmsim.csv").open(newline="") as fh:
        ref = [float(r["selection"]) for r in csv.DictReader(fh)]

    result = simulate_crm(TRUTH, skel, 0.3, n_trials=args.trials, rng=args.seed)
    t_crm = best_time(
        lambda: simulate_crm(TRUTH, skel, 0.3, n_trials=args.trials, rng=args.seed), args.repeat
    )
    print(f"CRM, standard scenario, {args.trials} trials (best of {args.repeat})")
    print(f"  ours: {t_crm:.3f} s   dfcrm::crmsim: ~{DFCRM_SECONDS_PER_10000:.0f} s per 10,000 "
          f"(speed-up ~{DFCRM_SECONDS_PER_10000 * args.trials / 10_000 / t_crm:.0f}x; target <= 3 s)")  # fmt: skip
    print("  dose  truth  selection % (ours)  selection % (dfcrm, 4000 trials)  MC SE (ours)")
    for k, (p, s, r, se) in enumerate(
        zip(TRUTH, result.selection, ref, result.selection_se(), strict=True), start=1
    ):
        print(f"  {k:>4}  {p:5.2f}  {100 * s:18.2f}  {100 * r:33.2f}  {100 * se:12.2f}")
    print(f"  mean patients {result.mean_n:.1f}, mean DLTs {result.mean_dlts:.2f}")

    pooled = [0.0] * 6
    for name, nsim in (("crm_dfcrm_titesim.csv", 2000), ("crm_dfcrm_titesim_seed2024.csv", 3000)):
        with (REF / name).open(newline="") as fh:
            for i, r in enumerate(csv.DictReader(fh)):
                pooled[i] += nsim * float(r["selection"]) / 5000
    tref = pooled

    def tite() -> object:
        return simulate_tite_crm(
            TRUTH, skel, 0.3, n_patients=24, rate=3, n_trials=args.trials, rng=args.seed
        )

    tres = tite()
    t_tite = best_time(tite, args.repeat)
    print(f"\nTITE-CRM, 24 patients, 3 per window, {args.trials} trials (best of {args.repeat})")
    print(f"  ours: {t_tite:.3f} s   dfcrm::titesim: ~{TITESIM_SECONDS_PER_10000:.0f} s per 10,000")
    print("  dose  truth  selection % (ours)  selection % (dfcrm, 5000 pooled trials)")
    for k, (p, s_, r) in enumerate(zip(TRUTH, tres.selection, tref, strict=True), start=1):  # type: ignore[attr-defined]
        print(f"  {k:>4}  {p:5.2f}  {100 * s_:18.2f}  {100 * r:33.2f}")

    print("\nSimon two-stage search: bench/simon.py (beside clinfun::ph2simon when R has it)")


if __name__ == "__main__":
    main()
