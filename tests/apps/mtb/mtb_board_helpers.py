"""Helpers of the tumour-board tests: a main site with a coordinator, patients with genomic
reports imported through the genomics app's public service (JSON genomic reports), an open
trial with a cohort and a consent form, and the journey steps a referral follows."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PASSWORD = "a-long-test-password-42"
_counter = itertools.count(1)


def aware(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


def make_patient(site: Any, by: Any, *, diagnosis: str = "LUAD", born: int = 1958) -> Any:
    from oncotrials.apps.subjects.services import patient_create

    n = next(_counter)
    return patient_create(
        site=site,
        by=by,
        family_name=f"Board{n}",
        given_name="Given",
        birth_date=dt.date(born, 6, 1),
        hospital_number=f"MTB-{n:05d}-{site.code}",
        sex="F",
        referral_source="department",
        referral_date=dt.date(2026, 1, 5),
        diagnosis=diagnosis,
    )


def import_report(
    tmp_path: Path,
    patient: Any,
    *,
    imported_at: dt.datetime,
    variants: list[dict[str, Any]] | None = None,
    reported_on: dt.date | None = None,
    oncotree: str = "LUAD",
) -> Any:
    """One JSON genomic report for ``patient`` (system import), then dated ``imported_at``."""
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.genomics.services import genomics_import

    n = next(_counter)
    doc = {
        "format_version": "1.0",
        "report_id": f"LAB-{n:06d}",
        "patient_id": patient.research_id,
        "sample": {
            "sample_id": f"{patient.research_id}-S{n}",
            "kind": "tissue",
            "collected_on": "2026-01-10",
            "oncotree_code": oncotree,
        },
        "assay": {"name": "Tissue panel", "panel": "TP-500"},
        "reported_on": (reported_on or imported_at.date()).isoformat(),
        "genome_build": "GRCh38",
        "short_variants": [
            {"variant_class": "Missense_Mutation", **v}
            for v in (variants or [{"gene": "TP53", "protein_change": "p.R273H"}])
        ],
        "copy_number_alterations": [],
        "structural_variants": [],
        "biomarkers": [],
    }
    path = tmp_path / f"mtb-report-{n}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = genomics_import(path=path, by=None)
    (report_id,) = result.report_ids
    # Test set-up: the import time is what the agenda rule reads.
    GenomicReport.objects.filter(pk=report_id).update(imported_at=imported_at)
    return GenomicReport.objects.get(pk=report_id)


G12C = [
    {"gene": "KRAS", "protein_change": "p.G12C"}
]  # ESCAT II-B in NSCLC (Mosele et al. Ann Oncol 2020, escat.csv)
TP53 = [{"gene": "TP53", "protein_change": "p.R273H"}]  # no ESCAT tier


@dataclass
class Board:
    unit: Any
    coordinator: Any
    biologist: Any
    trial: Any  # T-SHARED, open at main and partner
    cohort: Any
    form: Any


def make_board(unit: Any) -> Board:
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.subjects.services import consent_form_create
    from oncotrials.apps.trials.services import cohort_create, trial_change_status

    admin = unit.users["admin"]
    coordinator = user_create(
        username="coordinator", password=PASSWORD, first_name="Tara", last_name="Board"
    )
    membership_grant(user=coordinator, role=Role.TUMOUR_BOARD_COORDINATOR, site=unit.main)
    biologist = user_create(username="mtb_biologist", password=PASSWORD)
    membership_grant(user=biologist, role=Role.MOLECULAR_BIOLOGIST, site=unit.main)
    unit.users["coordinator"] = coordinator
    unit.users["mtb_biologist"] = biologist
    trial = unit.trial_shared
    for status in ("set_up", "open"):
        trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
    cohort = cohort_create(trial=trial, code="EXP", name="Expansion", kind="expansion", by=admin)
    form = consent_form_create(
        kind="trial",
        trial=trial,
        version="1.0",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
        by=admin,
    )
    return Board(unit, coordinator, biologist, trial, cohort, form)


def held_meeting(board: Board, day: dt.date, *, chair: Any = None) -> Any:
    from oncotrials.apps.mtb.services import meeting_create, meeting_update

    m = meeting_create(
        site=board.unit.main, held_on=day, by=board.coordinator, chair=chair, title="MTB"
    )
    return meeting_update(meeting=m, version=m.version, status="held", by=board.coordinator)


def signed_referral(board: Board, case: Any, *, cohort: Any = None) -> Any:
    """A trial referral to T-SHARED, signed by the main site's investigator."""
    from oncotrials.apps.mtb.services import recommendation_create, recommendation_sign

    rec = recommendation_create(
        case=case,
        kind="trial_referral",
        rationale="KRAS G12C, ESCAT II-B: refer to the expansion cohort.",
        trial=board.trial,
        cohort=cohort,
        by=board.coordinator,
    )
    return recommendation_sign(
        recommendation=rec,
        meaning="I approve this recommendation on behalf of the board",
        password=PASSWORD,
        by=board.unit.users["investigator"],
    )


def pre_screen(board: Board, patient: Any, on: dt.date, outcome: str = "", reason: str = "") -> Any:
    from oncotrials.apps.subjects.services import screening_close, screening_start

    nurse = board.unit.users["nurse"]
    ep = screening_start(
        patient=patient, trial=board.trial, kind="pre_screening", started_on=on, by=nurse
    )
    if outcome:
        ep = screening_close(
            episode=ep, outcome=outcome, failure_reason=reason, closed_on=on, by=nurse
        )
    return ep


def screen(board: Board, patient: Any, on: dt.date, outcome: str = "", reason: str = "") -> Any:
    from oncotrials.apps.subjects.services import consent_sign, screening_close, screening_start

    nurse = board.unit.users["nurse"]
    consent_sign(patient=patient, form=board.form, signed_on=on, by=nurse)
    ep = screening_start(
        patient=patient,
        trial=board.trial,
        kind="screening",
        started_on=on,
        by=nurse,
        checklist=["ECOG 0-1"],
    )
    if outcome:
        ep = screening_close(
            episode=ep,
            outcome=outcome,
            failure_reason=reason,
            closed_on=on,
            by=nurse,
            checklist=[{"criterion": "ECOG 0-1", "met": outcome == "eligible"}],
        )
    return ep


def include(board: Board, patient: Any, on: dt.date) -> Any:
    from oncotrials.apps.subjects.services import registration_create

    return registration_create(
        patient=patient, cohort=board.cohort, registered_on=on, by=board.unit.users["nurse"]
    )
