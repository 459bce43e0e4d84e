"""Instances for the scheduling tests (imported by the test modules): the ONC-WEEK fixture and small hand-made ones."""

from __future__ import annotations

import copy
import json
from typing import Any

from fixtures import ONC_WEEK

_WEEK: dict[str, Any] = json.loads(ONC_WEEK.read_text(encoding="utf-8"))


def week_doc() -> dict[str, Any]:
    """A fresh copy of the ONC-WEEK instance document (tests may edit it)."""
    return copy.deepcopy(_WEEK)


def tiny_doc(visits: list[dict[str, Any]], **resources: Any) -> dict[str, Any]:
    """The ONC-WEEK unit (hours, staffing, ward, pharmacy) with other visits and capacities."""
    doc = week_doc()
    doc["name"] = "tiny"
    doc["visits"] = visits
    doc.update(resources)
    return doc


def chair(vid: str, days: list[int], target: int | None = None, **fields: Any) -> dict[str, Any]:
    """A chair visit with the fixture's 'short' defaults (no pre-assessment, no preparation)."""
    out = {
        "id": vid,
        "unit": "chair",
        "kind": "short",
        "days": days,
        "target_day": days[0] if target is None else target,
        "dur": 18,
        "pre": 0,
        "prep": 0,
        "setup": 3,
        "samples": [12],
        "weight": 1,
    }
    out.update(fields)
    return out


def bed(vid: str, days: list[int], **fields: Any) -> dict[str, Any]:
    """A ward stay shaped like the fixture's 24-h PK stays."""
    out = {
        "id": vid,
        "unit": "bed",
        "kind": "pk24",
        "days": days,
        "target_day": days[0],
        "dur": 312,
        "pre": 0,
        "prep": 9,
        "setup": 0,
        "samples": [12, 18, 24, 36, 60, 84, 108, 156, 300],
        "weight": 3,
        "dose_at": 12,
    }
    out.update(fields)
    return out


def wednesday_doc(n_chairs: int = 30, n_beds: int = 3) -> dict[str, Any]:
    """A small slice of the week: ``n_chairs`` Wednesday chair visits (days fixed to
    Wednesday) and ``n_beds`` ward stays, on the week's resources."""
    doc = week_doc()
    chairs = [v for v in doc["visits"] if v["unit"] == "chair" and v["target_day"] == 2]
    beds = [v for v in doc["visits"] if v["unit"] == "bed"]
    for v in chairs:
        v["days"] = [2]
    doc["visits"] = chairs[:n_chairs] + beds[:n_beds]
    doc["name"] = "wednesday-slice"
    return doc
