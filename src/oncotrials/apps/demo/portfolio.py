"""A small but realistic phase I unit, deterministic from a seed (``oncotrials demo``).

Two sites, a user for every role, ~30 trials across every phase and modality with cohorts,
dose levels and a dated status history, patient journeys and their casebooks. Everything is
written through the services, so the demo's audit trail is as complete as real use would leave
it. Every date is relative to the day it loads: the same seed gives the same unit, whatever the
day, with this week's work due today.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from oncotrials.apps.accounts.models import Role, Site, User
from oncotrials.apps.accounts.services import (
    membership_grant,
    signing_checks_remembered,
    user_create,
)
from oncotrials.apps.audit.context import audit_context
from oncotrials.apps.biobank.demo_pdx import demo_pdx_load
from oncotrials.apps.matching.engine import reset_matching_cache
from oncotrials.apps.safety.dlt_review import dlt_rules_forget
from oncotrials.apps.safety.selectors import with_ae_save_context
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.subjects.wiring import forget_registration_trials
from oncotrials.apps.trials.models import CohortKind, Modality, Phase, SponsorType, TrialStatus
from oncotrials.apps.trials.services import (
    cohort_create,
    dose_level_create,
    trial_change_status,
    trial_create,
)

from .biobank import demo_biobank_load
from .board import demo_board_load
from .casebooks import populate_casebooks
from .genomics import demo_criteria_load, demo_genomics_load
from .journeys import DEMO_PASSWORD, Staff, _Counter, demo_today, populate_trial
from .operations import demo_operations_load
from .safety import populate_safety
from .tumours import populate_tumours

# (phase, modality, tumour types, targets, agent, sponsor, sponsor type)
_TEMPLATES: list[tuple[str, str, list[str], list[str], str, str, str]] = [
    (
        Phase.I_ESCALATION,
        Modality.DRUG,
        ["NSCLC", "COAD", "PAAD"],
        ["KRAS G12C"],
        "OT-1201",
        "Helix Oncology",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_ESCALATION,
        Modality.DRUG,
        ["BRCA", "OV"],
        ["PIK3CA"],
        "OT-2307",
        "Northbridge Pharma",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_ESCALATION,
        Modality.CELL_THERAPY,
        ["SCLC"],
        ["DLL3"],
        "DLL3xCD3 engager",
        "Aurora Bio",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_ESCALATION,
        Modality.RADIOLIGAND,
        ["PRAD"],
        ["PSMA"],
        "[177Lu]-OT-PSMA",
        "Isotopia",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_ESCALATION,
        Modality.DRUG,
        ["SOLID"],
        ["ATR"],
        "OT-ATRi",
        "Institut academic group",
        SponsorType.ACADEMIC,
    ),
    (
        Phase.I_ESCALATION,
        Modality.DRUG,
        ["MEL", "NSCLC"],
        ["PD-1", "LAG-3"],
        "OT-LAG3 + anti-PD-1",
        "Meridian Therapeutics",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_EXPANSION,
        Modality.DRUG,
        ["NSCLC"],
        ["EGFR exon 20 insertion"],
        "OT-E20",
        "Helix Oncology",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_EXPANSION,
        Modality.DRUG,
        ["CHOL"],
        ["FGFR2 fusion"],
        "OT-FGFR",
        "Northbridge Pharma",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_EXPANSION,
        Modality.DRUG,
        ["SOLID"],
        ["NTRK fusion"],
        "OT-TRK",
        "Aurora Bio",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_EXPANSION,
        Modality.CELL_THERAPY,
        ["SARCOMA"],
        ["MAGE-A4"],
        "MAGE-A4 TCR-T",
        "CellWorks",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_II,
        Modality.DRUG,
        ["COAD", "READ"],
        ["BRAF V600E"],
        "OT-BRAF + cetuximab",
        "Meridian Therapeutics",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_II,
        Modality.DRUG,
        ["PAAD"],
        ["KRAS G12D"],
        "OT-G12D",
        "Helix Oncology",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.I_II,
        Modality.RADIOTHERAPY,
        ["HNSC"],
        [],
        "SBRT + anti-PD-L1",
        "Institut academic group",
        SponsorType.ACADEMIC,
    ),
    (
        Phase.I_II,
        Modality.DRUG,
        ["BRCA"],
        ["HER2"],
        "OT-HER2 ADC",
        "Northbridge Pharma",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.II,
        Modality.DRUG,
        ["SOLID"],
        ["MSI-H", "TMB-H"],
        "anti-PD-1",
        "National cooperative group",
        SponsorType.COOPERATIVE_GROUP,
    ),
    (
        Phase.II,
        Modality.DRUG,
        ["NSCLC"],
        ["MET exon 14"],
        "OT-MET",
        "Aurora Bio",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.II,
        Modality.DRUG,
        ["OV"],
        ["BRCA1", "BRCA2", "HRD"],
        "PARPi rechallenge",
        "Institut academic group",
        SponsorType.ACADEMIC,
    ),
    (
        Phase.II,
        Modality.DRUG,
        ["SOLID"],
        ["ERBB2", "BRAF", "PIK3CA"],
        "Basket (matched therapies)",
        "Precision basket consortium",
        SponsorType.ACADEMIC,
    ),
    (
        Phase.II,
        Modality.CELL_THERAPY,
        ["DLBCLNOS"],
        ["CD19"],
        "CD19 CAR-T",
        "CellWorks",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.III,
        Modality.DRUG,
        ["NSCLC"],
        ["KRAS G12C"],
        "OT-1201 vs docetaxel",
        "Helix Oncology",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.III,
        Modality.DRUG,
        ["PRAD"],
        ["AR"],
        "OT-AR degrader",
        "Northbridge Pharma",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.III,
        Modality.RADIOLIGAND,
        ["PRAD"],
        ["PSMA"],
        "[177Lu]-PSMA vs ARPI switch",
        "Isotopia",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.III,
        Modality.SURGERY,
        ["PAAD"],
        [],
        "Neoadjuvant FOLFIRINOX + surgery",
        "National cooperative group",
        SponsorType.COOPERATIVE_GROUP,
    ),
    (
        Phase.IV,
        Modality.DRUG,
        ["MEL"],
        ["BRAF V600"],
        "BRAF/MEK real-world safety",
        "Meridian Therapeutics",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.IV,
        Modality.DEVICE,
        ["GB"],
        [],
        "Tumour-treating fields registry",
        "MedDevice SA",
        SponsorType.INDUSTRY,
    ),
    (
        Phase.NON_TREATMENT,
        Modality.NONE,
        ["SOLID"],
        [],
        "Serial biopsies for resistance",
        "Institut academic group",
        SponsorType.INSTITUTIONAL,
    ),
    (
        Phase.NON_TREATMENT,
        Modality.NONE,
        ["NSCLC", "COAD"],
        ["ctDNA"],
        "Liquid-biopsy screening programme",
        "Institut academic group",
        SponsorType.INSTITUTIONAL,
    ),
    (
        Phase.NON_TREATMENT,
        Modality.NONE,
        ["SOLID"],
        [],
        "PDX model platform",
        "Institut academic group",
        SponsorType.INSTITUTIONAL,
    ),
    (
        Phase.NON_TREATMENT,
        Modality.NONE,
        ["BRCA"],
        ["germline"],
        "Hereditary cancer cohort",
        "National cooperative group",
        SponsorType.COOPERATIVE_GROUP,
    ),
    (
        Phase.I_ESCALATION,
        Modality.DRUG,
        ["HCC"],
        ["GPC3"],
        "GPC3xCD3 bispecific",
        "Aurora Bio",
        SponsorType.INDUSTRY,
    ),
]

_PATHS: dict[str, list[str]] = {
    TrialStatus.FEASIBILITY: [],
    TrialStatus.SET_UP: [TrialStatus.SET_UP],
    TrialStatus.OPEN: [TrialStatus.SET_UP, TrialStatus.OPEN],
    TrialStatus.ON_HOLD: [TrialStatus.SET_UP, TrialStatus.OPEN, TrialStatus.ON_HOLD],
    TrialStatus.CLOSED_TO_ACCRUAL: [
        TrialStatus.SET_UP,
        TrialStatus.OPEN,
        TrialStatus.CLOSED_TO_ACCRUAL,
    ],
    TrialStatus.CLOSED: [
        TrialStatus.SET_UP,
        TrialStatus.OPEN,
        TrialStatus.CLOSED_TO_ACCRUAL,
        TrialStatus.CLOSED,
    ],
}
_REASONS: dict[str, str] = {
    TrialStatus.SET_UP: "Feasibility approved by the unit",
    TrialStatus.OPEN: "Site initiation visit done; ethics and authority approvals received",
    TrialStatus.ON_HOLD: "Sponsor temporary halt pending safety review",
    TrialStatus.CLOSED_TO_ACCRUAL: "Target accrual reached",
    TrialStatus.CLOSED: "Last patient last visit; close-out visit done",
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    site: str
    scope: str


def _status_mix(rng: random.Random, n: int) -> list[str]:
    weights = [
        (TrialStatus.OPEN, 0.5),
        (TrialStatus.SET_UP, 0.1),
        (TrialStatus.FEASIBILITY, 0.07),
        (TrialStatus.ON_HOLD, 0.07),
        (TrialStatus.CLOSED_TO_ACCRUAL, 0.16),
        (TrialStatus.CLOSED, 0.1),
    ]
    return [rng.choices([w[0] for w in weights], [w[1] for w in weights])[0] for _ in range(n)]


def demo_load(
    *, seed: int = 7, progress: Callable[[str], None] | None = None, patients: bool = True
) -> list[DemoLogin]:
    """Load the demo into an empty database; returns the demo logins."""
    say = progress or (lambda _msg: None)
    # The database is empty: what this process remembers of earlier rows by their ids (a
    # registration's trial, parsed DLT rules, the matching engine) belongs to rows that are gone.
    forget_registration_trials()
    dlt_rules_forget()
    reset_matching_cache()
    rng = random.Random(seed)
    today = demo_today()
    logins: list[DemoLogin] = []
    # The demo's accounts share one published password: hashed once, not once per account; and
    # each signer's password is checked on their first signature, not on each of about a hundred.
    demo_hash = make_password(DEMO_PASSWORD)
    with audit_context(channel="system"), signing_checks_remembered(), transaction.atomic():
        main = Site.objects.create(
            code="main",
            name="Main cancer centre — Phase I unit",
            city="Villejuif",
            country="FR",
            time_zone="Europe/Paris",
        )
        partner = Site.objects.create(
            code="partner",
            name="Partner centre",
            city="Lyon",
            country="FR",
            time_zone="Europe/Paris",
        )
        say("sites")
        admin = user_create(
            username="admin",
            password_hash=demo_hash,
            first_name="Ada",
            last_name="Admin",
            staff=True,
        )
        membership_grant(user=admin, role=Role.ADMINISTRATOR, site=main)
        logins.append(DemoLogin("admin", str(Role.ADMINISTRATOR.label), main.code, "everything"))
        people = {
            Role.INVESTIGATOR: ("investigator", "Irène", "Investigator"),
            Role.RESEARCH_NURSE: ("nurse", "Noé", "Nurse"),
            Role.CRA: ("cra", "Camille", "Associate"),
            Role.DATA_MANAGER: ("datamanager", "Dominique", "Data"),
            Role.BIOSTATISTICIAN: ("biostat", "Bao", "Statistician"),
            Role.PHARMACOVIGILANCE: ("pv", "Paula", "Vigilance"),
            Role.MOLECULAR_BIOLOGIST: ("biologist", "Malik", "Biologist"),
            Role.TUMOUR_BOARD_COORDINATOR: ("mtb", "Tara", "Board"),
            Role.BIOBANK_TECHNICIAN: ("biobank", "Bea", "Biobank"),
        }
        for role, (username, first, last) in people.items():
            u = user_create(
                username=username, password_hash=demo_hash, first_name=first, last_name=last
            )
            membership_grant(user=u, role=role, site=main)
            logins.append(DemoLogin(username, str(role.label), main.code, "all trials of the site"))
        for role, username in [
            (Role.INVESTIGATOR, "partner.investigator"),
            (Role.RESEARCH_NURSE, "partner.nurse"),
        ]:
            u = user_create(
                username=username,
                password_hash=demo_hash,
                first_name="Pat",
                last_name=str(role.label),
            )
            membership_grant(user=u, role=role, site=partner)
            logins.append(
                DemoLogin(username, str(role.label), partner.code, "all trials of the site")
            )
        outsider = user_create(
            username="outsider", password_hash=demo_hash, first_name="Olivier", last_name="Outsider"
        )
        logins.append(DemoLogin(outsider.username, "none", "-", "nothing (no membership)"))
        say("users")

        staff = Staff(
            main=main,
            partner=partner,
            nurse=User.objects.get(username="nurse"),
            investigator=User.objects.get(username="investigator"),
            partner_nurse=User.objects.get(username="partner.nurse"),
            partner_investigator=User.objects.get(username="partner.investigator"),
            admin=admin,
            today=today,
        )
        counter = _Counter()
        statuses = _status_mix(rng, len(_TEMPLATES))
        statuses[0] = TrialStatus.OPEN  # the monitored trial is open
        # The first trial was set up some four years ago.
        base_day = dt.datetime.combine(
            today - dt.timedelta(days=1404), dt.time(9, 0), tzinfo=dt.UTC
        )
        trials = []
        for i, (phase, modality, tumours, targets, agent, sponsor, stype) in enumerate(_TEMPLATES):
            code = f"OT-{2021 + i % 5}-{i + 1:03d}"
            partner_too = i % 3 == 0
            trial = trial_create(
                data={
                    "protocol_code": code,
                    "title": f"{Phase(phase).label} study of {agent} in {', '.join(tumours)}"
                    + (f" with {', '.join(targets)}" if targets else ""),
                    "short_title": f"{agent}"[:120],
                    "nct_number": f"NCT0{5000000 + rng.randrange(999999):07d}"[:11],
                    "eu_ct_number": f"{2022 + i % 4}-50{rng.randrange(1000, 9999)}-{rng.randrange(10, 99)}-00",
                    "sponsor": sponsor,
                    "sponsor_type": stype,
                    "phase": phase,
                    "modality": modality,
                    "tumour_types": tumours,
                    "targets": targets,
                    "eligibility": _eligibility(phase, targets),
                },
                sites=[main, partner] if partner_too else [main],
                by=admin,
            )
            at = base_day + dt.timedelta(days=37 * i)
            steps = []
            for step in _PATHS[statuses[i]]:
                at += dt.timedelta(days=rng.randrange(30, 160))
                steps.append((step, min(at, timezone.now())))
            _cohorts(rng, trial, phase, agent, admin)
            for k, (step, when) in enumerate(steps):
                trial_change_status(
                    trial=trial, to_status=step, by=admin, reason=_REASONS[step], at=when
                )
                if step == TrialStatus.OPEN and patients:
                    until = steps[k + 1][1].date() if k + 1 < len(steps) else today
                    # Every other escalation runs BOIN, by the trial's place in the portfolio
                    # (never by its id, which a database that was emptied gives again).
                    populate_trial(
                        rng,
                        staff,
                        trial,
                        when.date(),
                        until,
                        counter,
                        escalation_design="boin" if i % 2 == 0 else "3+3",
                    )
            trials.append(trial)
            say(f"trials {i + 1}/{len(_TEMPLATES)}")
        say("trials")

        populate_tumours(
            rng,
            list(
                Registration.objects.select_related("trial", "patient")
                .prefetch_related("status_history")
                .order_by("pk")
            ),
            staff,
            today,
        )
        say("tumour assessments")
        populate_safety(
            rng,
            list(
                with_ae_save_context(
                    Registration.objects.select_related("trial", "patient", "cohort")
                ).order_by("pk")
            ),
            staff,
            today,
        )
        say("adverse events")

        demo_criteria_load(say)
        if patients:
            demo_genomics_load(rng, say)
            demo_board_load(rng, say)
            demo_biobank_load(rng, say)
            populate_casebooks(rng, staff, today, say)
            demo_pdx_load(rng, say, today)

        manager, manager_site = demo_operations_load(
            main=main, partner=partner, admin=admin, password_hash=demo_hash, today=today
        )
        logins.append(
            DemoLogin(
                manager, str(Role.UNIT_MANAGER.label), manager_site, "operations of both sites"
            )
        )
        say("operations")

        monitor = user_create(
            username="monitor", password_hash=demo_hash, first_name="Morgan", last_name="Monitor"
        )
        membership_grant(user=monitor, role=Role.SPONSOR_MONITOR, site=main, trial=trials[0])
        logins.append(
            DemoLogin(
                "monitor",
                str(Role.SPONSOR_MONITOR.label),
                main.code,
                f"trial {trials[0].protocol_code} only",
            )
        )
    return logins


def _eligibility(phase: str, targets: list[str]) -> list[dict[str, str]]:
    criteria = [
        {"kind": "inclusion", "text": "Age 18 years or older; signed informed consent"},
        {"kind": "inclusion", "text": "ECOG performance status 0-1"},
        {
            "kind": "inclusion",
            "text": "Adequate organ function (ANC >= 1.5 x 10^9/L, platelets >= 100 x 10^9/L, creatinine clearance >= 50 mL/min)",
        },
    ]
    if phase != Phase.NON_TREATMENT:
        criteria.append({"kind": "inclusion", "text": "Measurable disease per RECIST 1.1"})
    if targets:
        criteria.append(
            {"kind": "inclusion", "text": f"Documented {', '.join(targets)} by a validated assay"}
        )
    criteria += [
        {"kind": "exclusion", "text": "Symptomatic or untreated brain metastases"},
        {"kind": "exclusion", "text": "Anticancer therapy within 21 days before the first dose"},
    ]
    return criteria


def _cohorts(rng: random.Random, trial: Any, phase: str, agent: str, by: User) -> None:
    unit = "mg"
    if phase in (Phase.I_ESCALATION, Phase.I_II):
        start = rng.choice([10, 20, 40, 80])
        esc = cohort_create(
            trial=trial,
            code="ESC",
            name="Dose escalation",
            kind=CohortKind.ESCALATION,
            by=by,
            target_accrual=30,
        )
        factors = [1, 2, 3.3, 5, 7, 9.3]
        dose_level_create(
            cohort=esc,
            level=-1,
            agent=agent,
            dose=start / 2,
            unit=unit,
            schedule="QD, 21-day cycles",
            by=by,
        )
        for lvl, f in enumerate(factors[: rng.randrange(4, 7)], start=1):
            dose_level_create(
                cohort=esc,
                level=lvl,
                agent=agent,
                dose=round(start * f, 1),
                unit=unit,
                schedule="QD, 21-day cycles",
                by=by,
            )
        if phase == Phase.I_II:
            cohort_create(
                trial=trial,
                code="EXP-A",
                name="Phase II expansion at RP2D",
                kind=CohortKind.EXPANSION,
                by=by,
                target_accrual=40,
            )
    elif phase == Phase.I_EXPANSION:
        rp2d = rng.choice([100, 160, 240])
        for code, name in [
            ("EXP-A", "Expansion A: biomarker-positive"),
            ("EXP-B", "Expansion B: pre-treated"),
        ]:
            c = cohort_create(
                trial=trial,
                code=code,
                name=name,
                kind=CohortKind.EXPANSION,
                by=by,
                target_accrual=rng.choice([20, 30, 40]),
            )
            dose_level_create(
                cohort=c,
                level=1,
                agent=agent,
                dose=rp2d,
                unit=unit,
                schedule="QD, 28-day cycles",
                by=by,
            )
    elif phase == Phase.II and "Basket" in agent:
        for code, target in [
            ("B-ERBB2", "ERBB2 amplification"),
            ("B-BRAF", "BRAF V600E"),
            ("B-PIK3CA", "PIK3CA hotspot"),
        ]:
            cohort_create(
                trial=trial,
                code=code,
                name=f"Basket: {target}",
                kind=CohortKind.BASKET,
                by=by,
                target_accrual=25,
            )
    elif phase == Phase.III:
        cohort_create(
            trial=trial,
            code="ARM-A",
            name="Experimental arm",
            kind=CohortKind.RANDOMISED_ARM,
            by=by,
            target_accrual=150,
        )
        cohort_create(
            trial=trial,
            code="ARM-B",
            name="Control arm",
            kind=CohortKind.RANDOMISED_ARM,
            by=by,
            target_accrual=150,
        )
    elif phase == Phase.NON_TREATMENT or phase == Phase.IV:
        cohort_create(
            trial=trial,
            code="OBS",
            name="Observational cohort",
            kind=CohortKind.OBSERVATIONAL,
            by=by,
            target_accrual=200,
        )
    else:
        cohort_create(
            trial=trial,
            code="MAIN",
            name="Single arm",
            kind=CohortKind.SINGLE_ARM,
            by=by,
            target_accrual=rng.choice([29, 43, 54]),
        )
