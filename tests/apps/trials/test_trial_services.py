"""The trial lifecycle and the portfolio's rules."""

from __future__ import annotations

import pytest

from oncotrials.apps.trials.selectors import PortfolioFilters, trials_for_user
from oncotrials.apps.trials.services import (
    cohort_create,
    dose_level_create,
    trial_change_status,
    trial_create,
)
from oncotrials.core.errors import ConflictError, ValidationError


def test_status_follows_the_lifecycle_with_a_dated_history(unit):
    admin = unit.users["admin"]
    trial = unit.trial_main
    for status in ["set_up", "open", "on_hold", "open", "closed_to_accrual", "closed"]:
        trial_change_status(trial=trial, to_status=status, by=admin, reason=f"to {status}")
    history = list(trial.status_history.values_list("from_status", "to_status"))
    assert history == [
        ("", "feasibility"),
        ("feasibility", "set_up"),
        ("set_up", "open"),
        ("open", "on_hold"),
        ("on_hold", "open"),
        ("open", "closed_to_accrual"),
        ("closed_to_accrual", "closed"),
    ]


def test_a_status_cannot_skip_the_lifecycle(unit):
    with pytest.raises(ValidationError, match="cannot move to open; allowed: closed, set_up"):
        trial_change_status(
            trial=unit.trial_main, to_status="open", by=unit.users["admin"], reason="x"
        )
    unit.trial_main.refresh_from_db()
    assert unit.trial_main.status == "feasibility"


def test_a_closed_trial_stays_closed(unit):
    admin = unit.users["admin"]
    trial_change_status(trial=unit.trial_main, to_status="closed", by=admin, reason="never opened")
    with pytest.raises(ValidationError, match="none"):
        trial_change_status(trial=unit.trial_main, to_status="set_up", by=admin, reason="x")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phase", "V", "phase must be one of"),
        ("nct_number", "NCT123", "nct_number must look like"),
        ("tumour_types", ["non small cell"], "OncoTree codes"),
        ("title", "  ", "title must not be empty"),
    ],
)
def test_invalid_trial_fields_are_refused_with_the_field_named(unit, field, value, message):
    data = {
        "protocol_code": "NEW",
        "title": "t",
        "sponsor": "s",
        "sponsor_type": "academic",
        "phase": "II",
        "modality": "drug",
    }
    with pytest.raises(ValidationError, match=message):
        trial_create(data={**data, field: value}, sites=[unit.main], by=unit.users["admin"])


def test_duplicate_protocol_code_and_cohort_code_conflict(unit):
    data = {
        "protocol_code": "T-MAIN",
        "title": "t",
        "sponsor": "s",
        "sponsor_type": "academic",
        "phase": "II",
        "modality": "drug",
    }
    with pytest.raises(ConflictError):
        trial_create(data=data, sites=[unit.main], by=unit.users["admin"])
    with pytest.raises(ConflictError):
        cohort_create(
            trial=unit.trial_main,
            code="ESC",
            name="again",
            kind="escalation",
            by=unit.users["admin"],
        )


def test_negative_or_non_numeric_doses_are_refused(unit):
    cohort = unit.trial_main.cohorts.get()
    for bad in ["-1", "abc", "NaN"]:
        with pytest.raises(ValidationError, match="dose must be"):
            dose_level_create(
                cohort=cohort, level=9, agent="A", dose=bad, unit="mg", by=unit.users["admin"]
            )
    assert cohort.dose_levels.count() == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (PortfolioFilters(phase="II"), {"T-SHARED"}),
        (PortfolioFilters(tumour_type="COAD"), {"T-SHARED"}),
        (PortfolioFilters(tumour_type="nsclc"), {"T-MAIN", "T-PARTNER"}),
        (PortfolioFilters(target="PIK3CA"), {"T-OTHER"}),
        (PortfolioFilters(target="kras"), {"T-MAIN", "T-PARTNER"}),
        (PortfolioFilters(status="feasibility"), {"T-MAIN", "T-SHARED", "T-PARTNER", "T-OTHER"}),
        (PortfolioFilters(q="other"), {"T-OTHER"}),
    ],
)
def test_portfolio_filters(unit, filters, expected):
    got = {t.protocol_code for t in trials_for_user(user=unit.users["admin"], filters=filters)}
    assert got == expected


def test_portfolio_list_query_count_does_not_grow_with_trials(
    unit, client_for, django_assert_max_num_queries
):
    c = client_for("investigator")
    with django_assert_max_num_queries(12):
        assert c.get("/api/v1/trials").status_code == 200


def test_the_trial_list_is_in_protocol_order_whatever_the_query_plan(unit, client_for):
    """The cohort count's GROUP BY drops the model's ordering: the list orders itself (an API
    client paging through the portfolio, or a benchmark picking cohorts, sees a stable order)."""
    assert trials_for_user(user=unit.users["admin"]).query.order_by == ("protocol_code", "pk")
    codes = [t["protocol_code"] for t in client_for("admin").get("/api/v1/trials").json()]
    assert codes == sorted(codes)
    assert len(codes) == 4


def test_a_dose_is_never_silently_rounded(unit):
    cohort = unit.trial_main.cohorts.get()
    with pytest.raises(ValidationError, match="4 decimals"):
        dose_level_create(
            cohort=cohort, level=5, agent="A", dose="0.12345", unit="mg", by=unit.users["admin"]
        )
    dl = dose_level_create(
        cohort=cohort, level=5, agent="A", dose=0.1, unit="mg", by=unit.users["admin"]
    )
    dl.refresh_from_db()
    assert str(dl.dose.normalize()) == "0.1"
