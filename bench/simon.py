"""Benchmark: the Simon two-stage search beside ``clinfun::ph2simon``, in process.

Settings: the Simon (1989) Table 1 style cases below, ``nmax = 100``. Each figure is the median
of ``--runs`` runs, a run being ``--loops`` searches in a row divided by ``--loops``; CPU time
(user + system of the process) is printed beside wall time, with the load average.

The reference runs when ``Rscript`` can load clinfun (R 4.x with clinfun 1.1.x on its library
path, e.g. ``R_LIBS=<dir> .venv/bin/python bench/simon.py``): one R process stays open and the
runs alternate, one of clinfun then one of ours, so that both see the same load on a shared
machine; each R run is timed with ``proc.time()`` the same way, and the optimal and minimax
designs of both are compared. Without R the reference columns say so and nothing else changes.

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

# Our own driver of clinfun's public function: reads "p0,p1,alpha,beta,nmax,loops" lines and
# answers each with one CSV line (wall, CPU per search, optimal and minimax r1/n1, r/n).
R_DRIVER = """
suppressPackageStartupMessages(library(clinfun))
con <- file("stdin"); open(con)
cat("ready\\n"); flush(stdout())
while (length(line <- readLines(con, n = 1)) > 0) {
  a <- as.numeric(strsplit(line, ",")[[1]])
  t0 <- proc.time()
  for (j in seq_len(a[6])) d <- ph2simon(a[1], a[2], a[3], a[4], nmax = a[5])
  t1 <- proc.time() - t0
  o <- d$out[which.min(d$out[, 5]), ]; m <- d$out[1, ]
  cat(sprintf("%.6f,%.6f,%d/%d,%d/%d,%d/%d,%d/%d\\n", t1[["elapsed"]] / a[6],
      (t1[["user.self"]] + t1[["sys.self"]]) / a[6], o[1], o[2], o[3], o[4], m[1], m[2], m[3], m[4]))
  flush(stdout())
}
"""


class Clinfun:
    """One R process running ``ph2simon`` on request."""

    def __init__(self) -> None:
        self.error = ""
        self.proc: subprocess.Popen[str] | None = None
        rscript = shutil.which("Rscript")
        if rscript is None:
            self.error = "R not installed"
            return
        self.proc = subprocess.Popen(
            [rscript, "-e", R_DRIVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            err = self.proc.communicate()[1].strip().splitlines() or ["?"]
            self.error = "clinfun not loadable: " + err[-1]
            self.proc = None

    def run(self, case: tuple[float, float, float, float], loops: int) -> list[str]:
        """One run of ``loops`` searches: [wall, cpu, optimal r1/n1, r/n, minimax r1/n1, r/n]."""
        assert self.proc is not None
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(",".join(f"{v:g}" for v in (*case, NMAX, loops)) + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip().split(",")

    def close(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait()


def ours(case: tuple[float, float, float, float], loops: int) -> tuple[float, float]:
    """One run of ``loops`` searches: (wall, CPU) per search in seconds."""
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(loops):
        simon_two_stage(*case, nmax=NMAX)
    return (time.perf_counter() - w0) / loops, (time.process_time() - c0) / loops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--loops", type=int, default=20)
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"Simon two-stage search, nmax = {NMAX}; median of {args.runs} runs of {args.loops} "
        f"searches, runs alternating with clinfun's; load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    ref = Clinfun()
    if ref.error:
        print(f"  reference: {ref.error}")
    print(
        "  p0    p1    alpha beta   optimal          minimax          "
        "ours wall / CPU (ms)  clinfun wall / CPU (ms)  same designs"
    )
    for case in CASES:
        res = simon_two_stage(*case, nmax=NMAX)  # scipy's import and first call are not the search
        o, m = res.optimal, res.minimax
        mine = [f"{o.r1}/{o.n1}", f"{o.r}/{o.n}", f"{m.r1}/{m.n1}", f"{m.r}/{m.n}"]
        runs: list[tuple[float, float]] = []
        theirs_runs: list[list[str]] = []
        if ref.proc is not None:
            ref.run(case, 1)
        for _ in range(args.runs):
            if ref.proc is not None:
                theirs_runs.append(ref.run(case, args.loops))
            runs.append(ours(case, args.loops))
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        if theirs_runs:
            r_wall = statistics.median(float(r[0]) for r in theirs_runs)
            r_cpu = statistics.median(float(r[1]) for r in theirs_runs)
            theirs = f"{1e3 * r_wall:8.1f} / {1e3 * r_cpu:5.1f}"
            designs = theirs_runs[-1][2:]
            same = "yes" if designs == mine else f"NO: clinfun {' '.join(designs)}"
        else:
            theirs, same = "       -", "-"
        p0, p1, a, b = case
        print(
            f"  {p0:<5} {p1:<5} {a:<5} {b:<5}  {mine[0]},{mine[1]} EN {o.en0:5.2f}"
            f"  {mine[2]},{mine[3]} EN {m.en0:5.2f}  {1e3 * wall:8.1f} / {1e3 * cpu:5.1f}"
            f"       {theirs}          {same}"
        )
    ref.close()
    load = os.getloadavg()
    print(f"  load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
