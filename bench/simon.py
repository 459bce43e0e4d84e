"""Benchmark: the Simon two-stage search beside ``clinfun::ph2simon``, in process.

Settings: the Simon (1989) Table 1 style cases below, ``nmax = 100``. Each figure is the median
of ``--runs`` runs, a run being ``--loops`` searches in a row divided by ``--loops``; CPU time
(user + system of the process) is printed beside wall time, with the load average.

The reference runs when ``Rscript`` can load clinfun (R 4.x with clinfun 1.1.x on its library
path, e.g. ``R_LIBS=<dir> .venv/bin/python bench/simon.py``): the same settings are searched in
one R process, timed with ``proc.time()`` the same way, and the optimal and minimax designs of
both are compared. Without R the reference columns say so and nothing else changes.

    .venv/bin/python bench/simon.py [--runs 7] [--loops 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time

from oncotrials.core.designs.phase2 import simon_two_stage

CASES = [
    (0.05, 0.25, 0.05, 0.20),
    (0.10, 0.30, 0.05, 0.20),
    (0.20, 0.40, 0.10, 0.10),
    (0.30, 0.50, 0.05, 0.20),
    (0.20, 0.35, 0.05, 0.05),
]
NMAX = 100

# Our own driver of clinfun's public function; prints one CSV line per setting.
R_DRIVER = """
suppressPackageStartupMessages(library(clinfun))
args <- commandArgs(trailingOnly = TRUE)
runs <- as.integer(args[1]); loops <- as.integer(args[2]); nmax <- as.integer(args[3])
cases <- matrix(as.numeric(strsplit(args[4], ",")[[1]]), ncol = 4, byrow = TRUE)
for (i in seq_len(nrow(cases))) {
  p <- cases[i, ]
  invisible(ph2simon(p[1], p[2], p[3], p[4], nmax = nmax))
  wall <- numeric(runs); cpu <- numeric(runs)
  for (k in seq_len(runs)) {
    t0 <- proc.time()
    for (j in seq_len(loops)) d <- ph2simon(p[1], p[2], p[3], p[4], nmax = nmax)
    t1 <- proc.time() - t0
    wall[k] <- t1[["elapsed"]] / loops; cpu[k] <- (t1[["user.self"]] + t1[["sys.self"]]) / loops
  }
  o <- d$out[which.min(d$out[, 5]), ]; m <- d$out[1, ]
  cat(sprintf("%g,%g,%g,%g,%.6f,%.6f,%d/%d,%d/%d,%d/%d,%d/%d\\n", p[1], p[2], p[3], p[4],
      median(wall), median(cpu), o[1], o[2], o[3], o[4], m[1], m[2], m[3], m[4]))
}
"""


def ours(case: tuple[float, float, float, float], runs: int, loops: int) -> tuple[float, float]:
    simon_two_stage(*case, nmax=NMAX)  # scipy's import and first call are not the search
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(loops):
            simon_two_stage(*case, nmax=NMAX)
        wall.append((time.perf_counter() - w0) / loops)
        cpu.append((time.process_time() - c0) / loops)
    return statistics.median(wall), statistics.median(cpu)


def clinfun(runs: int, loops: int) -> dict[tuple[float, ...], list[str]] | str:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return "R not installed"
    flat = ",".join(f"{v:g}" for case in CASES for v in case)
    proc = subprocess.run(
        [rscript, "-e", R_DRIVER, str(runs), str(loops), str(NMAX), flat],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ,
    )
    if proc.returncode != 0:
        return "clinfun not loadable: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    out: dict[tuple[float, ...], list[str]] = {}
    for line in proc.stdout.split():
        cells = line.split(",")
        out[tuple(float(v) for v in cells[:4])] = cells[4:]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--loops", type=int, default=20)
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"Simon two-stage search, nmax = {NMAX}; median of {args.runs} runs of {args.loops} "
        f"searches; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    ref = clinfun(args.runs, args.loops)
    if isinstance(ref, str):
        print(f"  reference: {ref}")
    print(
        "  p0    p1    alpha beta   optimal          minimax          "
        "ours wall / CPU (ms)  clinfun wall / CPU (ms)  same designs"
    )
    for case in CASES:
        res = simon_two_stage(*case, nmax=NMAX)
        o, m = res.optimal, res.minimax
        wall, cpu = ours(case, args.runs, args.loops)
        mine = [f"{o.r1}/{o.n1}", f"{o.r}/{o.n}", f"{m.r1}/{m.n1}", f"{m.r}/{m.n}"]
        if isinstance(ref, dict) and case in ref:
            r = ref[case]
            theirs = f"{1e3 * float(r[0]):8.1f} / {1e3 * float(r[1]):5.1f}"
            same = "yes" if r[2:] == mine else f"NO: clinfun {' '.join(r[2:])}"
        else:
            theirs, same = "       -", "-"
        p0, p1, a, b = case
        print(
            f"  {p0:<5} {p1:<5} {a:<5} {b:<5}  {mine[0]},{mine[1]} EN {o.en0:5.2f}"
            f"  {mine[2]},{mine[3]} EN {m.en0:5.2f}  {1e3 * wall:8.1f} / {1e3 * cpu:5.1f}"
            f"       {theirs}          {same}"
        )
    load = os.getloadavg()
    print(f"  load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
