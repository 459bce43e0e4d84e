"""A registered patient in an escalation cohort (trial T-SHARED, Drug B), and DLT rules."""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest

REGISTERED_ON = dt.date(2026, 11, 12)  # first dose (no treatment start recorded); TODAY is 11-20

DLT_RULES: dict[str, Any] = {
    "dlt": {
        "protocol": "T-SHARED",
        "ctcae_version": "5.0",
        "window": {"anchor": "first_dose", "days": 21},
        "require_attribution": ["possible", "probable", "definite"],
        "rules": [
            {
                "id": "NEUT_G4_PROLONGED",
                "terms": ["Neutrophil count decreased"],
                "min_grade": 4,
                "min_duration_days": 8,
            },
            {
                "id": "NONHEME_G3",
                "category": "non_hematologic",
                "min_grade": 3,
                "exceptions": [
                    {
                        "id": "GI_CONTROLLED",
                        "terms": ["Nausea", "Vomiting", "Diarrhea"],
                        "max_grade": 3,
                        "resolves_to_grade": 1,
                        "within_hours": 72,
                        "requires_supportive_care": True,
                    }
                ],
            },
            {"id": "CRS_G3", "scale": "ASTCT_CRS", "min_grade": 3},
        ],
    }
}


@dataclass
class Safety:
    journey: Any
    registration: Any
    users: dict[str, Any]


@pytest.fixture
def safety(journey, screen) -> Safety:
    from oncotrials.apps.subjects.services import registration_create

    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=REGISTERED_ON,
        by=nurse,
    )
    return Safety(journey, reg, journey.unit.users)


@pytest.fixture
def rules(safety):
    from oncotrials.apps.safety.dlt_review import dlt_rules_save

    return dlt_rules_save(
        trial=safety.registration.trial, document=DLT_RULES, by=safety.users["investigator"]
    )


def _complete_ae(**overrides: Any) -> dict[str, Any]:
    """A complete AE payload for Drug B (the regimen's only agent)."""
    data = {
        "term": "Colitis",
        "grade": 3,
        "onset_date": "2026-11-14",
        "attribution": {"Drug B": "probable"},
        "action_taken": "interrupted",
        "outcome": "recovering",
        "immune_related": True,
    }
    data.update(overrides)
    return data


def _send(client: Any, url: str, body: Any, method: str = "post") -> Any:
    return getattr(client, method)(
        url, json.dumps(body, default=str), content_type="application/json"
    )


@pytest.fixture
def dlt_rules_doc() -> dict[str, Any]:
    """A fresh copy of the DLT rule document the ``rules`` fixture saves."""
    return copy.deepcopy(DLT_RULES)


@pytest.fixture
def complete_ae():
    """``complete_ae(**overrides)``: a complete AE payload for Drug B (the only agent)."""
    return _complete_ae


@pytest.fixture
def send():
    """``send(client, url, body, method="post")``: a JSON request."""
    return _send
