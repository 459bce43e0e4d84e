"""Benchmark: operating characteristics of the dose-finding designs, standard scenario.

Target 0.3; true DLT rates 0.05/0.10/0.20/0.30/0.45/0.60; cohorts of 3; 36 patients;
10,000 trials. Prints our time and selection % per design, next to the figures of the R
reference code (selection % from 10,000 trials with R's RNG, and the R run time on one core of
the 2-core development machine), as recorded in tests/core/designs/reference/oc_montecarlo.json.
Targets: BOIN <= 0.5 s (>= 25x faster than BOIN::get.oc).

    .venv/bin/python bench/designs.py [--trials 10000] [--seed 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oncotrials.core.designs import BOIN, MTPI2, I3Plus3, Keyboard, ThreePlusThree

TRUTH = [0.05, 0.10, 0.20, 0.30, 0.45, 0.60]
REF_FILE = (
    Path(__file__).parents[1] / "tests" / "core" / "designs" / "reference" / "oc_montecarlo.json"
)


def reference() -> dict[str, dict[str, Any]]:
    doc = json.loads(REF_FILE.read_text())
    out: dict[str, dict[str, Any]] = {}
    for case in doc["cases"]:
        if case["truth"] == TRUTH and not case["params"]:
            out[case["design"]] = case
    times = doc["timing_seconds_R_one_core"]
    for key, design in (
        ("BOIN::get.oc standard scenario", "boin"),
        ("Keyboard::get.oc.kb standard scenario", "keyboard"),
        ("FIND::run_sim_i3plus3 standard scenario", "i3+3"),
        ("FIND::run_sim_3plus3 standard scenario", "3+3"),
    ):
        out[design]["seconds"] = times[key]
    return out


def crm_runner(trials: int, seed: int) -> Callable[[], Any] | None:
    """The CRM line, when oncotrials.core.designs.crm exposes a simulation function."""
    try:
        from oncotrials.core.designs import crm
    except ImportError:
        return None
    sim = getattr(crm, "simulate_crm", None)
    getprior = getattr(crm, "getprior", None)
    if sim is None or getprior is None:
        return None
    skeleton = getprior(0.05, 0.3, 4, 6)
    return lambda: sim(
        TRUTH, skeleton, 0.3, n_patients=36, cohort_size=3, n_trials=trials, rng=seed
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = ap.parse_args()
    ref = reference()
    runs: list[tuple[str, Callable[[], Any], str | None]] = [
        ("boin", lambda: BOIN(0.3).simulate(TRUTH, n_trials=args.trials, rng=args.seed), "boin"),
        (
            "keyboard",
            lambda: Keyboard(0.3).simulate(TRUTH, n_trials=args.trials, rng=args.seed),
            "keyboard",
        ),
        ("mtpi2", lambda: MTPI2(0.3).simulate(TRUTH, n_trials=args.trials, rng=args.seed), "mtpi2"),
        ("i3+3", lambda: I3Plus3(0.3).simulate(TRUTH, n_trials=args.trials, rng=args.seed), "i3+3"),
        (
            "3+3",
            lambda: ThreePlusThree().simulate(TRUTH, n_trials=args.trials, rng=args.seed),
            "3+3",
        ),
        ("3+3 exact", lambda: ThreePlusThree().exact(TRUTH), "3+3"),
    ]
    crm = crm_runner(args.trials, args.seed)
    if crm is not None:
        runs.append(("crm", crm, None))
    print(f"standard scenario: truth {TRUTH}, target 0.3, cohorts of 3, N=36, {args.trials} trials")
    print(
        f"{'design':10} {'ours (s)':>9} {'R (s)':>7} {'speed-up':>8}  selection % ours | R reference"
    )
    for name, fn, ref_key in runs:
        fn()  # warm-up (decision tables are cached per design)
        best = float("inf")
        res: Any = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            res = fn()
            best = min(best, time.perf_counter() - t0)
        ours = " ".join(f"{100 * v:5.1f}" for v in res.selection)
        r = ref.get(ref_key or "", {})
        r_sel = " ".join(f"{v:5.1f}" for v in r.get("selection_percent", []))
        r_time = r.get("seconds")
        speed = f"{r_time / best:7.0f}x" if r_time else "       -"
        r_txt = f"{r_time:7.2f}" if r_time else "      -"
        print(f"{name:10} {best:9.3f} {r_txt} {speed}  {ours} | {r_sel or '-'}")
    print(
        "R reference: BOIN 2.7.2 get.oc, Keyboard 0.1.3 get.oc.kb, FIND 0.1.1 run_sim_* (seed 6),"
    )
    print("10,000 trials each; R times measured on one core of this 2-core machine (R 4.2.2).")
    print("3+3 exact is the full path enumeration (bcrm::threep3 semantics), not a simulation.")


if __name__ == "__main__":
    main()
