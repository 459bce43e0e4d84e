"""Tumour assessments for the demo's treated patients: baseline lesions and follow-up scans every
six weeks until the end of treatment, whose course matches how each patient's treatment ended
(progression or not)."""

from __future__ import annotations

import datetime as dt
import random
from itertools import groupby
from typing import Any

from oncotrials.apps.audit.services import audit_batch
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.trials.models import Phase
from oncotrials.apps.tumours.services import evaluations_deferred, tumour_records_create

_TARGETS = [("T1", "liver", False, 42), ("T2", "lung", False, 27), ("T3", "lymph node", True, 19)]


@audit_batch()  # one append to the audit chain (nothing caught here undoes a change)
@evaluations_deferred()  # each patient's response evaluated once, from all the scans
def populate_tumours(
    rng: random.Random, registrations: list[Registration], staff: Any, today: dt.date
) -> int:
    """Baselines and follow-ups for treated patients; returns the number of assessments written."""
    # Each patient's record (its baseline, then its scans), in the order of the registrations.
    records: list[tuple[Any, dict[str, Any]]] = []
    for reg in registrations:
        if reg.treatment_start is None or reg.trial.phase in (Phase.NON_TREATMENT, Phase.IV):
            continue
        by = (
            staff.investigator
            if reg.patient.site_id == staff.main.pk
            else staff.partner_investigator
        )
        targets = _TARGETS[: rng.choice([2, 3])]
        base_day = reg.registered_on - dt.timedelta(days=rng.randrange(3, 10))
        scale = rng.uniform(0.7, 1.4)
        baseline: list[dict[str, Any]] = [
            {
                "lesion_id": lid,
                "organ": organ,
                "role": "target",
                "nodal": nodal,
                "method": "CT",
                "diameter_mm": f"{max(size * scale, 16 if nodal else 11):.1f}",
            }
            for lid, organ, nodal, size in targets
        ] + [{"lesion_id": "NT1", "organ": "bone", "role": "non_target", "method": "CT"}]
        # Scans stop at the end of treatment (the imaging visits of the schedule do too).
        eot = next(
            (h.on for h in reg.status_history.all() if h.to_status == "end_of_treatment"), None
        )
        progressed = eot is not None and any(
            h.to_status == "end_of_treatment" and h.reason == "Disease progression"
            for h in reg.status_history.all()
        )
        ended = reg.status in ("end_of_treatment", "follow_up", "off_study")
        end = min(eot or (reg.status_date if ended else today), today)
        # Each patient's course: a per-scan relative change, shrinking for responders.
        slope = rng.choice([-0.22, -0.15, -0.08, -0.03, 0.02, 0.06])
        day, k = reg.treatment_start + dt.timedelta(days=42), 1
        nadir = 1.0
        follow_ups: list[dict[str, Any]] = []
        while day <= end:
            last = day + dt.timedelta(days=42) > end
            factor = max(0.0, 1 + slope * k)
            if last and progressed:
                factor = nadir * 1.3 + 0.05
            nadir = min(nadir, factor)
            measurements = [
                {
                    "lesion_id": row["lesion_id"],
                    "diameter_mm": f"{float(row['diameter_mm']) * factor:.1f}",
                }
                for row in baseline
                if row["role"] == "target"
            ] + [{"lesion_id": "NT1", "status": "present"}]
            follow_ups.append({"date": day, "measurements": measurements})
            day, k = day + dt.timedelta(days=42), k + 1
        records.append(
            (
                by,
                {
                    "registration": reg,
                    "baseline": {"date": base_day, "method": "CT", "lesions": baseline},
                    "follow_ups": follow_ups,
                },
            )
        )
    # The records written together, each run of patients of the same investigator at once.
    written = 0
    for by, run in groupby(records, key=lambda item: item[0]):
        written += len(tumour_records_create(records=[record for _, record in run], by=by))
    return written
