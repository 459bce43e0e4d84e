"""Benchmark: the ODM 1.3.2 document of a phase I trial's data cut, written and checked.

A trial with the standard form library and the example visit schedule; each subject has
completed vital-signs and ECOG forms at C1D1..C<n>D1 (every value with its audit record, one
signature and one query per form). Measured: ``odm_files`` (build with odmlib, OID check,
serialisation, XSD validation), median of 3 runs after one warm-up run (which compiles the XSD).

    .venv/bin/python bench/odm_export.py [--subjects 100] [--cycles 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from pathlib import Path

import yaml

from oncotrials.core.crf import STANDARD_DECLARATIONS
from oncotrials.core.odm import (
    Audit,
    FormRecord,
    OdmStudy,
    Query,
    Signed,
    Site,
    Subject,
    Value,
    odm_files,
)

SCHEDULE = Path(__file__).resolve().parents[1] / "docs" / "formats" / "visit-schedule.example.yaml"


def make_study(subjects: int, cycles: int) -> OdmStudy:
    at = "2026-11-13T09:00:00+00:00"
    audit = Audit("nurse", at)
    people = []
    for i in range(subjects):
        forms = []
        for c in range(1, cycles + 1):
            forms.append(
                FormRecord(
                    visit=f"C{c}D1",
                    form="vital_signs",
                    values=(
                        Value("assessed_on", "2026-11-13", audit),
                        Value("weight_kg", "71.5", audit),
                        Value("systolic_bp", "128", Audit("nurse", at, "transcription error")),
                        Value("diastolic_bp", "81", audit),
                        Value("heart_rate", "72", audit),
                        Value("temperature", "36.8", audit),
                    ),
                    audit=audit,
                    signature=Signed(i * 1000 + c, "investigator", at, "reviewed"),
                    queries=(Query(i * 1000 + c, "heart_rate", "Confirm", "closed", at),),
                )
            )
            forms.append(
                FormRecord(
                    f"C{c}D1",
                    "ecog",
                    (Value("assessed_on", "2026-11-13", audit), Value("performance_status", "1")),
                    audit,
                )
            )
        people.append(Subject(f"ONC-{i:05d}", "main", tuple(forms)))
    return OdmStudy(
        study_id="ONC-PH1-001",
        title="Benchmark",
        declarations=tuple(STANDARD_DECLARATIONS),
        schedule=yaml.safe_load(SCHEDULE.read_text()),
        sites=(Site("main", "Main centre"),),
        subjects=tuple(people),
        effective="2026-02-01",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=10)
    args = parser.parse_args()
    study = make_study(args.subjects, args.cycles)
    created = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    odm_files(study, created=created)  # warm-up: compiles the ODM 1.3.2 XSD once per process
    walls, cpus, size = [], [], 0
    for _ in range(3):
        w, c = time.perf_counter(), time.process_time()
        size = len(odm_files(study, created=created)["odm.xml"])
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    forms = args.subjects * args.cycles * 2
    print(
        f"odm_files: {args.subjects} subjects, {forms} forms, {size / 1e6:.1f} MB: "
        f"median {statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU "
        f"(3 runs); load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
