"""The activity report's figures, computed by hand from a small unit's year."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from oncotrials.core.activity import (
    InclusionRow,
    OccupancyRow,
    PatientRow,
    ScreeningRow,
    SlotRow,
    activity_report,
)
from oncotrials.core.errors import ValidationError

D = dt.date


def _rows() -> dict:
    screenings = [
        ScreeningRow(1, "T1", "I", "main", D(2026, 1, 5), "eligible", "", D(2026, 1, 20)),
        ScreeningRow(2, "T1", "I", "main", D(2026, 2, 1), "failed", "progression", D(2026, 2, 9)),
        ScreeningRow(
            3, "T2", "II", "partner", D(2026, 3, 1), "failed", "progression", D(2026, 3, 5)
        ),
        ScreeningRow(4, "T2", "II", "partner", D(2026, 4, 1), "failed", "labs", D(2026, 4, 3)),
        ScreeningRow(5, "T2", "II", "main", D(2025, 12, 1), "eligible", "", D(2026, 1, 2)),
        ScreeningRow(6, "T1", "I", "main", D(2025, 6, 1), "failed", "labs", D(2025, 6, 9)),
    ]
    inclusions = [
        InclusionRow(
            1, "T1", "I", "main", D(2026, 1, 21), D(2026, 1, 25), D(2025, 12, 20), D(2026, 1, 5)
        ),
        InclusionRow(
            5, "T2", "II", "main", D(2026, 1, 3), D(2026, 1, 10), D(2025, 11, 1), D(2025, 12, 1)
        ),
        InclusionRow(
            7, "T1", "I", "main", D(2025, 3, 1), D(2025, 3, 3), D(2025, 1, 1), D(2025, 2, 1)
        ),
    ]
    patients = [PatientRow(i, "main", D(2026, 1, i)) for i in range(1, 6)] + [
        PatientRow(7, "main", D(2025, 1, 1))
    ]
    return {"screenings": screenings, "inclusions": inclusions, "patients": patients}


def test_counts_per_phase_site_and_trial() -> None:
    r = activity_report(year=2026, **_rows())
    assert r.by_phase == [("I", 2, 1), ("II", 2, 1)]
    assert r.by_site == [("main", 2, 2), ("partner", 2, 0)]
    assert r.by_trial == [("T1", "I", 2, 1), ("T2", "II", 2, 1)]


def test_screen_failures_by_reason_and_rate() -> None:
    r = activity_report(year=2026, **_rows())
    assert r.screen_failures[0][:2] == ("progression", 2)
    assert r.screen_failures[1][:2] == ("labs", 1)
    # closed in 2026: patients 1, 2, 3, 4, 5 -> 3 failed of 5
    assert r.screen_failure_rate == pytest.approx(3 / 5)


def test_delays_are_medians_with_numpy_quartiles() -> None:
    r = activity_report(year=2026, **_rows())
    consent_c1d1 = next(d for d in r.delays if d.name == "consent → C1D1")
    values = [20, 40]  # patient 1: 5 Jan -> 25 Jan; patient 5: 1 Dec -> 10 Jan
    assert consent_c1d1.n == 2
    assert consent_c1d1.median == pytest.approx(np.median(values))
    assert consent_c1d1.q1 == pytest.approx(np.quantile(values, 0.25))
    assert consent_c1d1.q3 == pytest.approx(np.quantile(values, 0.75))


def test_share_states_its_denominator() -> None:
    r = activity_report(year=2026, **_rows())
    assert (r.share_numerator, r.share_denominator) == (2, 5)
    assert "new patients referred" in r.share_definition
    t = activity_report(year=2026, denominator="treated", treated_total=40, **_rows())
    assert t.share == pytest.approx(2 / 40)
    assert "treated" in t.share_definition


def test_treated_denominator_needs_its_figure() -> None:
    with pytest.raises(ValidationError) as err:
        activity_report(year=2026, denominator="treated", **_rows())
    assert err.value.extra["field"] == "treated_total"
    with pytest.raises(ValidationError) as err:
        activity_report(year=2026, denominator="everyone", **_rows())
    assert err.value.extra["field"] == "denominator"


def test_slots_and_occupancy() -> None:
    r = activity_report(
        year=2026,
        slots=[SlotRow(D(2026, 1, 1), D(2026, 1, 4)), SlotRow(D(2026, 2, 1), None)],
        occupancy=[OccupancyRow("chair", 100, 80), OccupancyRow("chair", 100, 60)],
        **_rows(),
    )
    assert r.slot_turnaround.n == 1
    assert r.slot_turnaround.median == 3
    assert r.occupancy == [("chair", 200, 140, pytest.approx(0.7))]
    assert set(r.tables()) >= {"by_phase", "delays", "share_in_study"}
