"""A small library of common DLT definitions to start a trial's rule file from.

Each template is a rule document (docs/formats/dlt-rules.md) the user edits before saving: the
protocol code is filled in, and every template loads with the core loader (tested).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

_ATTRIBUTION = ["possible", "probable", "definite"]
_HAEM_G4 = {
    "id": "HAEM_G4_PROLONGED",
    "description": "grade 4 haematological toxicity lasting more than 7 days",
    "category": "hematologic",
    "min_grade": 4,
    "min_duration_days": 8,
}
_FN = {"id": "FEBRILE_NEUTROPENIA", "terms": ["Febrile neutropenia"], "min_grade": 3}
_NONHEME_G3 = {
    "id": "NONHEME_G3",
    "description": "any grade >= 3 non-haematological toxicity",
    "category": "non_hematologic",
    "min_grade": 3,
    "exclude_if_disease_progression": True,
    "exceptions": [
        {
            "id": "GI_CONTROLLED",
            "description": "grade 3 nausea, vomiting or diarrhoea back to grade <= 1 within 72 h "
            "with supportive care",
            "terms": ["Nausea", "Vomiting", "Diarrhea"],
            "max_grade": 3,
            "resolves_to_grade": 1,
            "within_hours": 72,
            "requires_supportive_care": True,
        },
        {"id": "ALOPECIA", "terms": ["Alopecia"]},
    ],
}
_PLT_BLEEDING = {
    "id": "PLT_G3_BLEEDING",
    "description": "grade 3 thrombocytopenia with bleeding",
    "terms": ["Platelet count decreased"],
    "min_grade": 3,
    "with_concurrent": {
        "term_contains": ["hemorrhage", "epistaxis", "hematuria", "hematoma"],
        "min_grade": 2,
        "or_intervention": "platelet transfusion",
    },
}
_G5 = {
    "id": "G5",
    "description": "death not due to disease progression",
    "min_grade": 5,
    "exclude_if_disease_progression": True,
}


def _document(days: int, rules: list[dict[str, Any]], description: str) -> dict[str, Any]:
    return {
        "dlt": {
            "protocol": "",
            "description": description,
            "ctcae_version": "5.0",
            "window": {"anchor": "first_dose", "days": days},
            "require_attribution": list(_ATTRIBUTION),
            "evaluability": {"min_fraction_planned_dose": 0.75},
            "rules": rules,
        }
    }


@dataclass(frozen=True)
class DltTemplate:
    key: str
    label: Any
    document: dict[str, Any]

    def for_trial(self, protocol_code: str) -> dict[str, Any]:
        doc = copy.deepcopy(self.document)
        doc["dlt"]["protocol"] = protocol_code
        return doc


DLT_TEMPLATES: dict[str, DltTemplate] = {
    t.key: t
    for t in (
        DltTemplate(
            "standard-28",
            _(
                "CTCAE grade ≥ 3 non-haematological, grade 4 haematological > 7 days, "
                "febrile neutropenia; 28-day window"
            ),
            _document(
                28,
                [_NONHEME_G3, _HAEM_G4, _FN, _G5],
                "DLTs are events in the first 28 days at least possibly related to the study drug.",
            ),
        ),
        DltTemplate(
            "standard-21",
            _(
                "CTCAE grade ≥ 3 non-haematological, grade 4 haematological > 7 days, "
                "febrile neutropenia, grade 3 thrombocytopenia with bleeding; 21-day window"
            ),
            _document(
                21,
                [_NONHEME_G3, _HAEM_G4, _FN, _PLT_BLEEDING, _G5],
                "DLTs are events in cycle 1 (21 days) at least possibly related to the study drug.",
            ),
        ),
        DltTemplate(
            "cell-therapy-28",
            _(
                "Cell therapy: ASTCT CRS grade ≥ 3 > 72 h or grade 4, ICANS grade ≥ 3, "
                "CTCAE grade ≥ 3 non-haematological; 28-day window"
            ),
            _document(
                28,
                [
                    {
                        "id": "CRS_G3_PROLONGED",
                        "scale": "ASTCT_CRS",
                        "terms": ["Cytokine release syndrome"],
                        "min_grade": 3,
                        "min_duration_hours": 72,
                    },
                    {"id": "CRS_G4", "scale": "ASTCT_CRS", "min_grade": 4},
                    {"id": "ICANS_G3", "scale": "ASTCT_ICANS", "min_grade": 3},
                    _NONHEME_G3,
                    _G5,
                ],
                "DLTs are events in the first 28 days after infusion at least possibly related "
                "to the cell product.",
            ),
        ),
    )
}
