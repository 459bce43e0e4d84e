"""Personas shared by the app, web and CLI tests.

An investigator and a data manager at the main site, an investigator at the partner site,
a sponsor monitor of one trial, an administrator, and an outsider who must see nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The file-based SQLite test database lives in the data directory (see settings); no Django
# import here, so that the framework-free core tests also run with ``-p no:django``.
Path(os.environ.get("ONCOTRIALS_DATA_DIR", "var")).mkdir(parents=True, exist_ok=True)

PASSWORD = "a-long-test-password-42"


@dataclass
class Unit:
    main: Any
    partner: Any
    users: dict[str, Any]
    trial_main: Any  # main site only
    trial_shared: Any  # main + partner
    trial_partner: Any  # partner only
    trial_other: Any  # main only, not the monitor's


@pytest.fixture
def unit(db: Any) -> Unit:
    from oncotrials.apps.accounts.models import Role, Site
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.trials.services import cohort_create, dose_level_create, trial_create

    main = Site.objects.create(code="main", name="Main centre")
    partner = Site.objects.create(
        code="partner", name="Partner centre", time_zone="America/New_York"
    )
    users: dict[str, Any] = {}
    for name in [
        "admin",
        "investigator",
        "datamanager",
        "nurse",
        "partner_investigator",
        "monitor",
        "outsider",
        "monitor_other",
    ]:
        users[name] = user_create(username=name, password=PASSWORD)
    admin = users["admin"]

    def make(
        code: str,
        sites: list[Any],
        phase: str = "I-esc",
        tumours: list[str] | None = None,
        targets: list[str] | None = None,
    ) -> Any:
        return trial_create(
            data={
                "protocol_code": code,
                "title": f"Trial {code}",
                "sponsor": "Sponsor",
                "sponsor_type": "industry",
                "phase": phase,
                "modality": "drug",
                "tumour_types": tumours or ["NSCLC"],
                "targets": targets or ["KRAS G12C"],
            },
            sites=sites,
            by=admin,
        )

    trial_main = make("T-MAIN", [main])
    trial_shared = make(
        "T-SHARED", [main, partner], phase="II", tumours=["COAD"], targets=["BRAF V600E"]
    )
    trial_partner = make("T-PARTNER", [partner], phase="III")
    trial_other = make("T-OTHER", [main], phase="I-exp", tumours=["BRCA"], targets=["PIK3CA"])
    cohort = cohort_create(
        trial=trial_main, code="ESC", name="Escalation", kind="escalation", by=admin
    )
    dose_level_create(cohort=cohort, level=1, agent="Drug A", dose="10", unit="mg", by=admin)

    membership_grant(user=admin, role=Role.ADMINISTRATOR, site=main)
    membership_grant(user=users["investigator"], role=Role.INVESTIGATOR, site=main)
    membership_grant(user=users["datamanager"], role=Role.DATA_MANAGER, site=main)
    membership_grant(user=users["nurse"], role=Role.RESEARCH_NURSE, site=main)
    membership_grant(user=users["partner_investigator"], role=Role.INVESTIGATOR, site=partner)
    membership_grant(user=users["monitor"], role=Role.SPONSOR_MONITOR, site=main, trial=trial_main)
    membership_grant(
        user=users["monitor_other"], role=Role.SPONSOR_MONITOR, site=main, trial=trial_other
    )
    return Unit(main, partner, users, trial_main, trial_shared, trial_partner, trial_other)


@pytest.fixture
def client_for(client: Any, unit: Unit) -> Any:
    """A logged-in test client for a persona: ``client_for("monitor")``."""
    from django.test import Client

    def _login(name: str) -> Client:
        c = Client()
        c.force_login(unit.users[name], backend="django.contrib.auth.backends.ModelBackend")
        return c

    return _login
