"""Benchmark: RECIST 1.1 (and iRECIST) evaluation of 10,000 patients x 8 assessments.

Target: under 1 second for RECIST 1.1 on a 2-core machine, single process.

Diameters are Decimal inputs (0.1 mm, as radiology reports them); the engine checks them once and
works in exact integer hundredths of a millimetre, so every threshold test (-30 %, +20 %, +5 mm)
is exact integer arithmetic (no binary floats, and no Decimal arithmetic in the hot loop).

    .venv/bin/python bench/recist.py [--patients 10000] [--assessments 8] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from decimal import Decimal

from oncotrials.core.recist import (
    Assessment,
    Baseline,
    BaselineLesion,
    LesionObservation,
    LesionRole,
    LesionStatus,
    NewLesion,
    PatientRecord,
    RecistOptions,
    evaluate_irecist,
    evaluate_recist,
)

START = dt.date(2024, 1, 1)
NT_STATUSES = (LesionStatus.PRESENT,) * 8 + (LesionStatus.ABSENT, LesionStatus.NOT_EVALUATED)


def make_patients(n: int, assessments: int, seed: int) -> list[PatientRecord]:
    """Synthetic but plausible patients: 3 targets in 3 organs, 2 non-targets, drifting sizes."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        sizes = [rng.randint(100, 600) for _ in range(3)]  # tenths of a mm
        lesions = [
            BaselineLesion(f"T{k}", organ, Decimal(size).scaleb(-1), role=LesionRole.TARGET)
            for k, (organ, size) in enumerate(zip(("liver", "lung", "adrenal"), sizes, strict=True))
        ]
        lesions += [
            BaselineLesion("NT1", "bone", None, role=LesionRole.NON_TARGET),
            BaselineLesion("NT2", "pleura", None, role=LesionRole.NON_TARGET),
        ]
        trend = rng.uniform(-0.12, 0.10)
        new_size: int | None = None  # a new lesion, once seen, is followed (iRECIST needs it)
        visits = []
        for v in range(assessments):
            sizes = [max(0, round(size * (1 + trend + rng.uniform(-0.05, 0.05)))) for size in sizes]
            observations = [
                LesionObservation(f"T{k}", Decimal(size).scaleb(-1)) for k, size in enumerate(sizes)
            ]
            observations.append(LesionObservation("NT1", status=rng.choice(NT_STATUSES)))
            observations.append(LesionObservation("NT2", status=rng.choice(NT_STATUSES)))
            if new_size is None and rng.random() < 0.03:
                new_size = 120
            elif new_size is not None:
                new_size += rng.randint(-10, 30)
            new: tuple[NewLesion, ...] = ()
            if new_size is not None:
                new = (NewLesion("N1", "brain", diameter_mm=Decimal(new_size).scaleb(-1)),)
            visits.append(
                Assessment(START + dt.timedelta(days=42 * (v + 1)), tuple(observations), new)
            )
        records.append(
            PatientRecord(
                f"P{i:05d}",
                START,
                Baseline(START - dt.timedelta(days=7), tuple(lesions)),
                tuple(visits),
            )
        )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--assessments", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    records = make_patients(args.patients, args.assessments, args.seed)
    options = RecistOptions(confirmation=True)
    for name, evaluate in (("RECIST 1.1", evaluate_recist), ("iRECIST", evaluate_irecist)):
        best = cpu = float("inf")
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            if evaluate is evaluate_recist:
                results = [evaluate_recist(record, options) for record in records]
            else:
                results = [evaluate_irecist(record) for record in records]  # type: ignore[misc]
            best = min(best, time.perf_counter() - t0)
            cpu = min(cpu, time.process_time() - c0)
        assert len(results) == args.patients
        print(
            f"{name:10s}: {args.patients} patients x {args.assessments} assessments in "
            f"{best:.3f} s wall, {cpu:.3f} s CPU (best of {args.repeat}) = "
            f"{args.patients / best:,.0f} patients/s   [target: < 1 s for 10,000 x 8]"
        )


if __name__ == "__main__":
    main()
