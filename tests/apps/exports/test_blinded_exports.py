"""Data cuts of a blinded randomised trial: every format carries the subjects' arms or agents, so
only a role that may know a blinded arm (``subjects.selectors.arm_visible_to``) may make or
download one; the others are refused with the reason.

The trial data: the two registered patients of T-SHARED (see ``conftest.py``), moved to arm
ARM-A of a blinded randomisation scheme; the main-site patient received "Drug B".
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import translation

from oncotrials.core.errors import PermissionDeniedError

FORMATS = ["cbioportal", "fhir", "odm", "sdtm"]
# every role that may make data cuts but may not know a blinded arm, each on T-SHARED
BLINDED_EXPORTERS = [
    "investigator",
    "datamanager",
    "partner_investigator",
    "monitor",
    "statistician",
]


@pytest.fixture
def blinded_data(trial_data: Any) -> Any:
    from oncotrials.apps.accounts.access import forget_scope
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.subjects.models import Registration
    from oncotrials.apps.subjects.services import randomisation_scheme_create
    from oncotrials.apps.trials.services import cohort_create

    unit = trial_data.unit
    admin = unit.users["admin"]
    trial = trial_data.cohort.trial
    arm_a, _arm_b = (
        cohort_create(trial=trial, code=code, name=code, kind="randomised_arm", by=admin)
        for code in ("ARM-A", "ARM-B")
    )
    randomisation_scheme_create(
        trial=trial, method="blocks", arms={"ARM-A": 1, "ARM-B": 1}, blinded=True, by=admin
    )
    Registration.objects.filter(trial=trial).update(cohort=arm_a)
    membership_grant(
        user=unit.users["monitor"], role=Role.SPONSOR_MONITOR, site=unit.main, trial=trial
    )
    unit.users["statistician"] = user_create(username="statistician", password="x-pass-word-1")
    membership_grant(user=unit.users["statistician"], role=Role.BIOSTATISTICIAN, site=unit.main)
    for user in unit.users.values():
        forget_scope(user)
    return trial_data


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_role_that_may_not_know_the_arm_may_not_cut_a_blinded_trial(blinded_data: Any, fmt: str):
    from oncotrials.apps.exports.models import DataCut
    from oncotrials.apps.exports.services import data_cut_create

    trial = blinded_data.cohort.trial
    for name in BLINDED_EXPORTERS:
        with pytest.raises(PermissionDeniedError, match="is blinded") as refused:
            data_cut_create(trial=trial, name=name, formats=[fmt], by=blinded_data.unit.users[name])
        assert "administrator" in refused.value.message
    assert not DataCut.objects.exists()


# The formats that write an arm or agent with these data (the cBioPortal timeline writes them
# only for patients with a genomic sample; ODM carries the CRF items, none of them here).
@pytest.mark.parametrize("fmt", ["fhir", "sdtm"])
def test_an_administrator_still_cuts_a_blinded_trial_with_its_arms(blinded_data: Any, fmt: str):
    """What the refusal protects: the format writes the arm or the agent of the subjects."""
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files

    admin = blinded_data.unit.users["admin"]
    cut = data_cut_create(trial=blinded_data.cohort.trial, name="u", formats=[fmt], by=admin)
    assert cut.subjects == 2
    files = data_cut_files(cut=cut, fmt=fmt, by=admin)
    written = b"".join(files.values())
    assert b"ARM-A" in written or b"Drug B" in written


def test_a_cut_made_unblinded_is_not_handed_to_a_blinded_role(blinded_data: Any, client_for: Any):
    from oncotrials.apps.accounts.access import forget_scope
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant
    from oncotrials.apps.exports.services import check_may_export, data_cut_create

    unit = blinded_data.unit
    investigator = unit.users["investigator"]
    membership_grant(user=investigator, role=Role.INVESTIGATOR, site=unit.partner)
    forget_scope(investigator)
    cut = data_cut_create(
        trial=blinded_data.cohort.trial, name="dsmb", formats=FORMATS, by=unit.users["admin"]
    )
    with pytest.raises(PermissionDeniedError, match="is blinded"):
        check_may_export(investigator, cut)
    with translation.override("fr"), pytest.raises(PermissionDeniedError, match="en aveugle"):
        check_may_export(investigator, cut)
    client = client_for("investigator")
    assert client.get(f"/exports/cuts/{cut.pk}/").status_code == 200  # sees that it exists
    for fmt in FORMATS:
        answer = client.get(f"/api/v1/exports/cuts/{cut.pk}/files/{fmt}")
        assert answer.status_code == 403
        assert "is blinded" in answer.json()["message"]
        assert client.get(f"/exports/cuts/{cut.pk}/{fmt}.zip").status_code == 403


def test_the_api_and_the_page_say_why_a_blinded_cut_is_refused(blinded_data: Any, client_for: Any):
    from oncotrials.apps.exports.models import DataCut

    trial = blinded_data.cohort.trial
    client = client_for("datamanager")
    answer = client.post(
        "/api/v1/exports/cuts",
        json.dumps({"trial_id": trial.pk, "name": "x", "formats": ["sdtm"]}),
        content_type="application/json",
    )
    assert answer.status_code == 403
    assert "is blinded" in answer.json()["message"]
    page = client.post(
        "/exports/", {"trial": trial.pk, "name": "x", "formats": ["sdtm"], "reason": ""}
    )
    assert page.status_code == 422
    assert "is blinded" in page.content.decode()
    assert not DataCut.objects.exists()


def test_an_open_trial_is_cut_by_the_same_roles_as_before(trial_data: Any):
    from oncotrials.apps.exports.services import check_may_export, data_cut_create

    investigator = trial_data.unit.users["investigator"]
    cut = data_cut_create(
        trial=trial_data.cohort.trial, name="open", formats=FORMATS, by=investigator
    )
    assert cut.subjects == 1
    check_may_export(investigator, cut)
