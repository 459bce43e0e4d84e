"""The trial page and its patient section cost a fixed number of queries whatever the number of
registrations."""

from __future__ import annotations

import pytest

TRIAL_PAGE_BUDGET = 16  # 13 measured
TRIAL_PATIENTS_BUDGET = 17  # 14 measured


@pytest.mark.parametrize("n", [3, 30])
def test_trial_page_queries_do_not_grow_with_registrations(
    journey, enrol, client_for, django_assert_max_num_queries, n
):
    regs = enrol(n)
    trial = journey.cohort.trial
    c = client_for("investigator")
    c.get(f"/trials/{trial.pk}/")
    with django_assert_max_num_queries(TRIAL_PAGE_BUDGET):
        r = c.get(f"/trials/{trial.pk}/")
    assert r.status_code == 200
    c.get(f"/trials/{trial.pk}/patients/")
    with django_assert_max_num_queries(TRIAL_PATIENTS_BUDGET):
        r = c.get(f"/trials/{trial.pk}/patients/")
    assert regs[-1].patient.research_id in r.content.decode()
