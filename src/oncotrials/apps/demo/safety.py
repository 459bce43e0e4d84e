"""Adverse events of the demo's treated patients: common CTCAE terms, a few serious ones with their
sponsor reports sent, immune-related events in immunotherapy trials."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db.models import prefetch_related_objects

from oncotrials.apps.audit.services import audit_batch
from oncotrials.apps.safety.dlt_review import dlt_review_deferred
from oncotrials.apps.safety.rights import agents_for_registration
from oncotrials.apps.safety.services import adverse_event_create, sae_report_record
from oncotrials.apps.subjects.models import Registration

_TERMS = [
    ("Fatigue", (1, 2)),
    ("Nausea", (1, 2)),
    ("Diarrhea", (1, 3)),
    ("Anemia", (1, 3)),
    ("Neutrophil count decreased", (2, 4)),
    ("Rash maculo-papular", (1, 3)),
    ("Alanine aminotransferase increased", (1, 3)),
    ("Anorexia", (1, 2)),
]
_IMMUNE = [("Colitis", (2, 3)), ("Hypothyroidism", (1, 2)), ("Pneumonitis", (2, 3))]
_RELATED = ["unrelated", "unlikely", "possible", "probable"]


@audit_batch()  # one append to the audit chain (nothing caught here undoes a change)
@dlt_review_deferred()  # each patient's DLT review run once, over all the AEs (none read here)
def populate_safety(
    rng: random.Random, registrations: list[Registration], staff: Any, today: dt.date
) -> int:
    written = 0
    # The regimens of all the patients read at once, not once per patient.
    prefetch_related_objects(registrations, "cohort__dose_levels")
    for reg in registrations:
        if reg.treatment_start is None:
            continue
        by = (
            staff.investigator
            if reg.patient.site_id == staff.main.pk
            else staff.partner_investigator
        )
        agents = agents_for_registration(reg)
        immuno = any(
            k in " ".join(agents + reg.trial.targets) for k in ("PD-1", "PD-L1", "LAG", "CD3")
        )
        pool = _TERMS + (_IMMUNE if immuno else [])
        for _ in range(rng.randrange(0, 4)):
            term, (low, high) = rng.choice(pool)
            onset = reg.treatment_start + dt.timedelta(days=rng.randrange(2, 60))
            if onset > today:
                continue
            grade = rng.randint(low, high)
            resolved = onset + dt.timedelta(days=rng.randrange(3, 30))
            # serious (and reported to the sponsor) when the site knew of it before today
            serious = grade >= 3 and rng.random() < 0.4 and onset <= today - dt.timedelta(days=2)
            data = {
                "term": term,
                "grade": grade,
                "onset_date": onset.isoformat(),
                "resolution_date": resolved.isoformat() if resolved <= today else None,
                "outcome": "recovered" if resolved <= today else "recovering",
                "attribution": {a: rng.choice(_RELATED) for a in agents},
                "action_taken": "none" if grade < 3 else rng.choice(["reduced", "interrupted"]),
                "seriousness": ["hospitalisation"] if serious else [],
                "immune_related": (term, (low, high)) in _IMMUNE,
                # now and then a severe event the reference safety information does not list
                "expected": not (grade >= 3 and rng.random() < 0.2),
            }
            if serious:
                data["awareness_at"] = dt.datetime.combine(
                    onset, dt.time(10, 0), tzinfo=dt.UTC
                ).isoformat()
            ae = adverse_event_create(registration=reg, data=data, by=by, complete=True)
            if serious:
                sae_report_record(
                    ae=ae,
                    kind="initial",
                    sent_at=dt.datetime.combine(onset, dt.time(10, 0), tzinfo=dt.UTC)
                    + dt.timedelta(hours=rng.choice([3, 8, 20])),
                    by=by,
                )
            written += 1
    return written
