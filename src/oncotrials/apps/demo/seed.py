"""Load-test seeds: the demo unit plus the volume of years of a centre's activity.

``seed_load("centre-10y")`` is ten years of a phase I centre: about 10,000 referred patients,
40,000 molecular reports (four per patient, three alterations each) and 300 trials (one cohort
and three dose levels each), a quarter of the patients registered in a trial. ``"small"`` is the
same shape at 1/50 for tests. The demo (sites, personas, its trials and patient journeys) is
loaded first, so every page a persona opens has its usual content; the volume comes on top.

Unlike the demo, the volume is written by bulk inserts, not through the services (a load-test
seed, not a clinical history), but every row gets its audit event, appended through the audit
trail's batch path (``audit_batch``): sealed with the current key, chained per partition, with
the digest of the row as stored, so ``oncotrials audit verify --full --rows`` passes afterwards.
Alterations are not audited one by one, as in a genomic import: their report's event counts
them. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone

from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.audit.context import audit_context
from oncotrials.apps.audit.services import audit_batch, audit_record
from oncotrials.apps.genomics.models import GenomicReport, Mutation, Sample
from oncotrials.apps.subjects.models import Patient, Registration
from oncotrials.apps.trials.models import Cohort, DoseLevel, Trial, TrialSite
from oncotrials.core.errors import ConflictError, ValidationError

from .portfolio import DemoLogin, demo_load


@dataclass(frozen=True)
class SeedSize:
    trials: int
    patients: int
    reports_per_patient: int
    registered_share: float
    demo_patients: bool  # the demo's own patient journeys (slow) or only its portfolio


SIZES: dict[str, SeedSize] = {
    "small": SeedSize(
        trials=40, patients=200, reports_per_patient=4, registered_share=0.25, demo_patients=False
    ),
    "centre-10y": SeedSize(
        trials=300,
        patients=10_000,
        reports_per_patient=4,
        registered_share=0.25,
        demo_patients=True,
    ),
}

YEARS = 10
CHUNK = 2000  # rows per bulk insert and audit batch
TUMOURS = ["NSCLC", "LUAD", "COAD", "BRCA", "PAAD", "PRAD", "OV", "SKCM", "BLCA", "HNSC", "GBM"]
# Alterations drawn per report: (gene, protein change, variant class), a common spectrum.
ALTERATIONS = [
    ("KRAS", "p.G12C", "Missense_Mutation"),
    ("KRAS", "p.G12D", "Missense_Mutation"),
    ("TP53", "p.R273H", "Missense_Mutation"),
    ("TP53", "p.R175H", "Missense_Mutation"),
    ("EGFR", "p.L858R", "Missense_Mutation"),
    ("BRAF", "p.V600E", "Missense_Mutation"),
    ("PIK3CA", "p.H1047R", "Missense_Mutation"),
    ("PIK3CA", "p.E545K", "Missense_Mutation"),
    ("IDH1", "p.R132H", "Missense_Mutation"),
    ("ERBB2", "p.S310F", "Missense_Mutation"),
    ("APC", "p.R1450*", "Nonsense_Mutation"),
    ("PTEN", "p.R130*", "Nonsense_Mutation"),
    ("ARID1A", "p.Q563fs", "Frame_Shift_Del"),
    ("STK11", "p.Q37*", "Nonsense_Mutation"),
]
AGENTS = ["ABC-101", "XYZ-202", "ONC-303", "IMM-404", "ADC-505", "RLT-606"]
M = TypeVar("M", bound=models.Model)


def _bulk(objs: Sequence[M], *, audited: bool = True) -> list[M]:
    """Insert ``objs`` in chunks; with ``audited``, one create event per row, batched."""
    created: list[M] = []
    for start in range(0, len(objs), CHUNK):
        chunk = list(objs[start : start + CHUNK])
        model = type(chunk[0])
        done = model._default_manager.bulk_create(chunk)
        if audited:
            with audit_batch():
                for obj in done:
                    audit_record(action="create", instance=obj, reason="load-test seed")
        created.extend(done)
    return created


def seed_load(
    size: str, *, seed: int = 15, progress: Callable[[str], None] | None = None
) -> tuple[list[DemoLogin], dict[str, int]]:
    """Load the demo and the volume of ``size`` into an empty database.

    Returns the demo logins and the counts of rows added by the seed.
    """
    if size not in SIZES:
        raise ValidationError(f"Unknown seed size {size!r}; use {', '.join(SIZES)}.", field="size")
    if Patient.objects.exists() or Trial.objects.exists():
        raise ConflictError("The database is not empty; seed an empty database.")
    spec = SIZES[size]
    say = progress or (lambda _msg: None)
    logins = demo_load(seed=seed, patients=spec.demo_patients, progress=lambda m: say(f"demo {m}"))
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    with audit_context(channel="system"), transaction.atomic():
        main = Site.objects.get(code="main")
        investigator = User.objects.get(username="investigator")
        today = timezone.localdate()
        start = today - dt.timedelta(days=365 * YEARS)
        trials = _trials(rng, spec.trials - Trial.objects.count(), main, start, today)
        counts["trials"] = len(trials)
        say(f"trials {len(trials)}")
        levels = _cohorts(rng, trials)
        counts["dose_levels"] = len(levels)
        patients = _patients(rng, spec.patients, main, start, today)
        counts["patients"] = len(patients)
        say(f"patients {len(patients)}")
        reports, mutations = _genomics(rng, patients, spec.reports_per_patient, today, say)
        counts["reports"], counts["mutations"] = reports, mutations
        counts["registrations"] = _registrations(
            rng, patients, levels, spec.registered_share, investigator, today
        )
        say(f"registrations {counts['registrations']}")
    if connection.vendor == "postgresql":
        # A bulk load leaves the planner's statistics at an empty database (autovacuum analyses
        # later, on its own schedule): right after a seed it chose nested loops over 10,000
        # patients (a count of the site's registrations on treatment took 150 ms, not 2).
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        say("statistics")
    return logins, counts


def _trials(rng: random.Random, n: int, site: Site, start: dt.date, today: dt.date) -> list[Trial]:
    trials = []
    for i in range(max(n, 0)):
        year = start.year + i * YEARS // max(n, 1)
        agent = rng.choice(AGENTS)
        tumours = rng.sample(TUMOURS, rng.randint(1, 3))
        gene, _, _ = rng.choice(ALTERATIONS)
        # Ten years of a unit: most trials are closed, the last ones open.
        status = "open" if i >= n - max(n // 10, 1) else rng.choice(["closed", "closed_to_accrual"])
        trials.append(
            Trial(
                protocol_code=f"SEED-{year}-{i + 1:04d}",
                title=f"Phase I study of {agent} in {', '.join(tumours)} with {gene} alteration",
                short_title=agent,
                sponsor=rng.choice(["Pharma A", "Pharma B", "Academic group", "Biotech C"]),
                sponsor_type=rng.choice(["industry", "academic"]),
                phase=rng.choice(["I-esc", "I-exp", "I/II"]),
                modality="drug",
                tumour_types=tumours,
                targets=[gene],
                status=status,
            )
        )
    trials = _bulk(trials)
    _bulk(
        [TrialSite(trial=t, site=site, is_lead=True, activated_on=start) for t in trials],
        audited=True,
    )
    return trials


def _cohorts(rng: random.Random, trials: Iterable[Trial]) -> list[DoseLevel]:
    cohorts = _bulk(
        [
            Cohort(
                trial=t,
                code="ESC",
                name="Dose escalation",
                kind="escalation",
                target_accrual=30,
                is_open=t.status == "open",
            )
            for t in trials
        ]
    )
    levels = []
    for c in cohorts:
        agent = c.trial.short_title or "agent"
        for level in (1, 2, 3):
            levels.append(
                DoseLevel(
                    cohort=c,
                    level=level,
                    agent=agent,
                    dose=Decimal(25 * 2**level),
                    unit="mg",
                    schedule="QD d1-21 q28d",
                )
            )
    return _bulk(levels)


def _patients(
    rng: random.Random, n: int, site: Site, start: dt.date, today: dt.date
) -> list[Patient]:
    span = (today - start).days
    patients = [
        Patient(
            research_id=f"C10-{i + 1:06d}",
            site=site,
            sex=rng.choice("FM"),
            year_of_birth=rng.randint(1940, 2000),
            diagnosis=rng.choice(TUMOURS),
            referral_source=rng.choice(["department", "external", "tumour_board"]),
            referral_date=start + dt.timedelta(days=span * i // max(n, 1)),
        )
        for i in range(n)
    ]
    return _bulk(patients)


def _genomics(
    rng: random.Random,
    patients: Sequence[Patient],
    per_patient: int,
    today: dt.date,
    say: Callable[[str], None],
) -> tuple[int, int]:
    now = timezone.now()
    reports_n = mutations_n = 0
    for start in range(0, len(patients), CHUNK // per_patient):
        batch = patients[start : start + CHUNK // per_patient]
        samples: list[Sample] = []
        for p in batch:
            for k in range(per_patient):
                collected = min(p.referral_date + dt.timedelta(days=120 * k), today)
                samples.append(
                    Sample(
                        patient=p,
                        sample_id=f"{p.research_id}-S{k + 1}",
                        kind="tissue" if k == 0 else "cfdna",
                        collected_on=collected,
                        timepoint="baseline" if k == 0 else "on_treatment",
                        oncotree_code=p.diagnosis,
                    )
                )
        samples = _bulk(samples, audited=False)  # their report's event names them
        reports = _bulk(
            [
                GenomicReport(
                    sample=s,
                    assay="Seed panel v1",
                    panel="SEED-500",
                    lab="Molecular lab",
                    reported_on=s.collected_on,
                    genome_build="GRCh38",
                    content_hash=hashlib.sha256(s.sample_id.encode()).hexdigest(),
                    source_file="seed",
                    imported_at=now,
                )
                for s in samples
            ]
        )
        mutations = []
        for r in reports:
            for gene, protein, vclass in rng.sample(ALTERATIONS, 3):
                mutations.append(
                    Mutation(
                        report=r,
                        sample=r.sample,
                        patient_id=r.sample.patient_id,
                        gene=gene,
                        protein_change=protein,
                        protein_change_raw=protein,
                        variant_class=vclass,
                        vaf=round(rng.uniform(0.05, 0.6), 3),
                        depth=rng.randint(200, 900),
                    )
                )
        _bulk(mutations, audited=False)  # counted by their report's event, as in an import
        reports_n += len(reports)
        mutations_n += len(mutations)
        say(f"reports {reports_n}")
    return reports_n, mutations_n


def _registrations(
    rng: random.Random,
    patients: Sequence[Patient],
    levels: Sequence[DoseLevel],
    share: float,
    by: User,
    today: dt.date,
) -> int:
    if not levels:
        return 0
    regs = []
    for p in rng.sample(list(patients), int(len(patients) * share)):
        dl = rng.choice(levels)
        on = min(p.referral_date + dt.timedelta(days=rng.randint(20, 60)), today)
        ended = on + dt.timedelta(days=rng.randint(60, 400))
        status = "off_study" if ended < today else "on_treatment"
        regs.append(
            Registration(
                patient=p,
                trial_id=dl.cohort.trial_id,
                cohort=dl.cohort,
                dose_level=dl,
                registered_on=on,
                registered_by=by,
                status=status,
                treatment_start=on,
                status_date=min(ended, today),
            )
        )
    return len(_bulk(regs))


def seed_counts() -> dict[str, Any]:
    return {
        "trials": Trial.objects.count(),
        "patients": Patient.objects.count(),
        "reports": GenomicReport.objects.count(),
        "mutations": Mutation.objects.count(),
        "registrations": Registration.objects.count(),
    }
