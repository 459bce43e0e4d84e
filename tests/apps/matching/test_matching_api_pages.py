"""Trial matching through the API and the pages: roles, site scoping, criteria editing, CTML
upload, bad input (nothing saved)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from matching_helpers import precision_unit

CTML = """
protocol_no: T-MAIN
_summary:
  status: [{value: open to accrual}]
treatment_list:
  step:
    - arm:
        - arm_code: G12C
          arm_description: KRAS G12C NSCLC
          match:
            - and:
                - genomic: {hugo_symbol: KRAS, protein_change: p.G12C}
                - clinical: {oncotree_primary_diagnosis: Non-Small Cell Lung Cancer}
        - arm_code: BRAF
          arm_description: BRAF V600
          match:
            - genomic: {hugo_symbol: BRAF, wildcard_protein_change: p.V600}
"""


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    from oncotrials.apps.matching.engine import reset_matching_cache

    reset_matching_cache()
    yield
    reset_matching_cache()


@pytest.fixture
def unit_p(unit: Any, tmp_path: Any) -> Any:
    return precision_unit(unit, tmp_path)


def _put(c: Any, url: str, body: dict[str, Any]) -> Any:
    return c.put(url, json.dumps(body), content_type="application/json")


def test_patient_matches_api_with_explanations(unit_p: Any, client_for: Any) -> None:
    r = client_for("investigator").get(f"/api/v1/matching/patients/{unit_p.kras_patient.pk}")
    assert r.status_code == 200
    body = {m["level_path"]: m for m in r.json()}
    assert set(body) == {"G12C", "HER2"}
    assert body["G12C"]["open"] is True
    assert body["G12C"]["slots_available"] == 1
    assert body["HER2"]["open"] is False
    first = body["G12C"]["explanation"][0]
    assert first == {
        "criterion": "all of",
        "value": "met",
        "reason": "2 met, 0 not met, 0 unknown",
        "evidence": [],
        "depth": 0,
    }


def test_trial_matches_and_run_api(unit_p: Any, client_for: Any) -> None:
    c = client_for("investigator")
    r = c.get(f"/api/v1/matching/trials/{unit_p.trial.pk}")
    assert r.status_code == 200
    assert {(m["level_path"], m["research_id"]) for m in r.json()} == {
        ("G12C", unit_p.kras_patient.research_id),
        ("HER2", unit_p.kras_patient.research_id),
        ("BRAF", unit_p.braf_patient.research_id),
    }
    run = c.post("/api/v1/matching/runs").json()
    assert run["matches"] == 3  # the partner patient is not visible to this investigator
    assert run["open_matches"] == 2


@pytest.mark.parametrize("persona", ["outsider", "monitor", "monitor_other"])
def test_outsider_and_monitors_get_no_matches(unit_p: Any, client_for: Any, persona: str) -> None:
    c = client_for(persona)
    pid, tid = unit_p.kras_patient.pk, unit_p.trial.pk
    assert c.get(f"/api/v1/matching/patients/{pid}").status_code in (403, 404)
    r = c.get(f"/api/v1/matching/trials/{tid}")
    assert r.status_code in (403, 404)
    assert set(r.json()) == {"code", "message", "extra"}
    assert c.post("/api/v1/matching/runs").status_code == 403
    page = c.get(f"/trials/{tid}/matching/")
    assert unit_p.kras_patient.research_id not in page.content.decode()


def test_monitor_of_the_trial_is_told_matching_is_not_for_the_role(
    unit_p: Any, client_for: Any
) -> None:
    r = client_for("monitor").get(f"/api/v1/matching/trials/{unit_p.trial.pk}")
    assert r.status_code == 403
    assert r.json()["code"] == "matching_forbidden"


def test_partner_staff_see_neither_main_patients_nor_main_only_trial(
    unit_p: Any, client_for: Any
) -> None:
    c = client_for("partner_investigator")
    assert c.get(f"/api/v1/matching/patients/{unit_p.kras_patient.pk}").status_code == 404
    assert c.get(f"/api/v1/matching/trials/{unit_p.trial.pk}").status_code == 404
    mine = c.get(f"/api/v1/matching/patients/{unit_p.partner_patient.pk}")
    assert mine.status_code == 200
    assert mine.json() == []  # T-MAIN is not visible at the partner site
    assert c.post("/api/v1/matching/runs").json()["matches"] == 0


def test_criteria_get_and_put(unit_p: Any, client_for: Any) -> None:
    c = client_for("investigator")
    url = f"/api/v1/matching/trials/{unit_p.trial.pk}/criteria"
    got = c.get(url).json()
    assert got["editable"] is True
    cohorts = {x["code"]: x for x in got["cohorts"]}
    assert cohorts["BRAF"]["criteria"] == {
        "genomic": {"gene": "BRAF", "wildcard_protein_change": "p.V600"}
    }
    r = _put(
        c,
        url,
        {
            "criteria": {"and": [{"age": {"gte": 18}}, {"ecog": {"lte": 1}}]},
            "reason": "protocol v2",
            "expected_version": got["trial_version"],
        },
    )
    assert r.status_code == 200
    assert r.json()["criteria"] == {"and": [{"age": {"gte": 18.0}}, {"ecog": {"lte": 1.0}}]}
    assert r.json()["trial_version"] == got["trial_version"] + 1
    # the same version again is stale now
    stale = _put(
        c, url, {"criteria": None, "reason": "x", "expected_version": got["trial_version"]}
    )
    assert stale.status_code == 409


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"and": [{"diagnosis": "LUNG_X"}]}, "criteria.and[0].diagnosis: unknown OncoTree code"),
        ({"or": [{"genomic": {"gene": "HER2"}}]}, "HER2 is an alias of ERBB2; write ERBB2."),
        ({"genomic": {"gene": "KRAS", "cn_call": "big"}}, "criteria.genomic.cn_call"),
        ({"ages": {"gte": 18}}, "unknown criterion"),
    ],
)
def test_invalid_criteria_name_the_path_and_save_nothing(
    unit_p: Any, client_for: Any, criteria: Any, expected: str
) -> None:
    c = client_for("datamanager")
    trial = unit_p.trial
    before = trial.version
    r = _put(
        c,
        f"/api/v1/matching/trials/{trial.pk}/criteria",
        {
            "criteria": criteria,
            "cohort_id": unit_p.g12c.pk,
            "reason": "typo",
            "expected_version": before,
        },
    )
    assert r.status_code == 422
    assert expected in r.json()["message"]
    trial.refresh_from_db()
    unit_p.g12c.refresh_from_db()
    assert trial.version == before
    assert unit_p.g12c.match_criteria["and"][0] == {"diagnosis": "NSCLC"}


def test_nurse_and_monitor_may_not_edit_criteria(unit_p: Any, client_for: Any) -> None:
    url = f"/api/v1/matching/trials/{unit_p.trial.pk}/criteria"
    body = {"criteria": None, "reason": "x", "expected_version": unit_p.trial.version}
    assert _put(client_for("nurse"), url, body).status_code == 403
    assert _put(client_for("monitor"), url, body).status_code == 403
    assert _put(client_for("outsider"), url, body).status_code == 404
    assert _put(client_for("partner_investigator"), url, body).status_code == 404


def test_criteria_input_schema_forbids_extra_fields(unit_p: Any, client_for: Any) -> None:
    r = _put(
        client_for("investigator"),
        f"/api/v1/matching/trials/{unit_p.trial.pk}/criteria",
        {"criteria": None, "reason": "x", "expected_version": 1, "trial": 3},
    )
    assert r.status_code == 422


def test_ctml_upload_sets_cohort_criteria(unit_p: Any, client_for: Any) -> None:
    c = client_for("investigator")
    check = c.post(
        "/api/v1/matching/ctml",
        {"file": SimpleUploadedFile("t-main.yaml", CTML.encode()), "check_only": "true"},
    )
    assert check.status_code == 200, check.content
    assert check.json()["checked_only"] is True
    r = c.post(
        "/api/v1/matching/ctml",
        {"file": SimpleUploadedFile("t-main.yaml", CTML.encode()), "reason": "CTML v3"},
    )
    assert r.status_code == 200, r.content
    assert {(x["ctml"], x["target"]) for x in r.json()["levels"]} == {
        ("G12C", "cohort G12C"),
        ("BRAF", "cohort BRAF"),
    }
    unit_p.g12c.refresh_from_db()
    # CTML names the diagnosis; the import stores its OncoTree code
    assert {"diagnosis": "NSCLC"} in unit_p.g12c.match_criteria["and"]


def test_ctml_for_an_unknown_protocol_or_unmapped_arm_saves_nothing(
    unit_p: Any, client_for: Any
) -> None:
    c = client_for("investigator")
    unknown = CTML.replace("protocol_no: T-MAIN", "protocol_no: NOPE-1")
    r = c.post("/api/v1/matching/ctml", {"file": SimpleUploadedFile("x.yaml", unknown.encode())})
    assert r.status_code == 404
    assert r.json()["code"] == "ctml_unknown_protocol"
    before = unit_p.trial.version
    bad = CTML.replace("arm_code: BRAF", "arm_code: NRAS").replace(
        "arm_description: BRAF V600", "arm_description: NRAS Q61"
    )
    r = c.post("/api/v1/matching/ctml", {"file": SimpleUploadedFile("x.yaml", bad.encode())})
    assert r.status_code == 422
    assert "arm 'NRAS'" in r.json()["message"]
    unit_p.trial.refresh_from_db()
    unit_p.g12c.refresh_from_db()
    assert unit_p.trial.version == before
    assert unit_p.g12c.match_criteria["and"][0] == {"diagnosis": "NSCLC"}  # untouched
    syntax = c.post(
        "/api/v1/matching/ctml", {"file": SimpleUploadedFile("x.yaml", b"protocol_no: [")}
    )
    assert syntax.status_code == 422
    assert "x.yaml: not valid YAML at line" in syntax.json()["message"]


def test_ctml_upload_by_a_monitor_is_refused(unit_p: Any, client_for: Any) -> None:
    r = client_for("monitor").post(
        "/api/v1/matching/ctml", {"file": SimpleUploadedFile("t.yaml", CTML.encode())}
    )
    assert r.status_code == 403


# ---------------------------------------------------------------------------------- pages
def test_trial_and_patient_pages_load_the_panels(unit_p: Any, client_for: Any) -> None:
    c = client_for("investigator")
    page = c.get(f"/trials/{unit_p.trial.pk}/").content.decode()
    assert f"/trials/{unit_p.trial.pk}/matching/" in page
    panel = c.get(f"/trials/{unit_p.trial.pk}/matching/").content.decode()
    assert "Matched patients" in panel
    assert unit_p.kras_patient.research_id in panel
    assert "alteration KRAS p.G12C" in panel
    assert "Edit machine criteria" in panel
    # the trial, its four cohorts (ESC, G12C, BRAF, HER2) and ESC's dose level
    assert panel.count('data-testid="criteria-form"') == 6
    ppage = c.get(f"/patients/{unit_p.kras_patient.pk}/").content.decode()
    assert f"/patients/{unit_p.kras_patient.pk}/matching/" in ppage
    ppanel = c.get(f"/patients/{unit_p.kras_patient.pk}/matching/").content.decode()
    assert "Matching cohorts" in ppanel
    assert "KRAS G12C NSCLC" in ppanel
    assert "no genomic report" not in ppanel


def test_panels_hide_from_outsiders(unit_p: Any, client_for: Any) -> None:
    c = client_for("outsider")
    assert c.get(f"/trials/{unit_p.trial.pk}/matching/").status_code == 404
    assert c.get(f"/patients/{unit_p.kras_patient.pk}/matching/").status_code == 404
    nurse = client_for("nurse").get(f"/trials/{unit_p.trial.pk}/matching/").content.decode()
    assert "Edit machine criteria" not in nurse


def test_criteria_form_saves_and_shows_errors(unit_p: Any, client_for: Any) -> None:
    c = client_for("investigator")
    url = f"/trials/{unit_p.trial.pk}/matching/criteria/"
    assert c.get(url).status_code == 200
    bad = c.post(
        url,
        {
            "target": f"cohort:{unit_p.braf.pk}",
            "criteria": "genomic:\n  gene: BRAF\n  exon: zero\n",
            "reason": "r",
            "expected_version": unit_p.trial.version,
        },
    )
    assert bad.status_code == 422
    text = bad.content.decode()
    assert "criteria.genomic.exon: an exon is a positive integer" in text
    assert "exon: zero" in text  # the user's text is kept
    ok = c.post(
        url,
        {
            "target": f"cohort:{unit_p.braf.pk}",
            "criteria": '{"genomic": {"gene": "BRAF", "protein_change": "p.V600E"}}',
            "reason": "narrowed to V600E",
            "expected_version": unit_p.trial.version,
        },
    )
    assert ok.status_code == 302
    unit_p.braf.refresh_from_db()
    assert unit_p.braf.match_criteria == {"genomic": {"gene": "BRAF", "protein_change": "p.V600E"}}
    assert client_for("nurse").get(url).status_code == 403


def test_patient_panel_explains_non_matches_on_request(unit_p: Any, client_for: Any) -> None:
    c = client_for("investigator")
    url = f"/patients/{unit_p.untested.pk}/matching/"
    assert "No cohort matches this patient." in c.get(url).content.decode()
    every = c.get(url + "?all=1").content.decode()
    assert "KRAS G12C NSCLC" in every
    assert "no genomic report" in every  # why the untested patient does not match
    assert "First failing clause" in every


def test_patient_panel_names_the_first_failing_clause_and_registration(
    unit_p: Any, client_for: Any
) -> None:
    import datetime as dt

    from oncotrials.apps.subjects.models import Registration

    c = client_for("investigator")
    url = f"/patients/{unit_p.braf_patient.pk}/matching/?all=1"
    page = c.get(url).content.decode()
    # the G12C cohort fails on its first clause, the diagnosis, named by its OncoTree name
    assert (
        "diagnosis Non-Small Cell Lung Cancer (NSCLC): not met (diagnosis Colon Adenocarcinoma "
        "(COAD))" in page
    )
    assert 'data-testid="registered"' not in page
    Registration.objects.create(
        patient=unit_p.braf_patient,
        trial=unit_p.trial,
        cohort=unit_p.braf,
        registered_on=dt.date(2026, 10, 1),
        registered_by=unit_p.unit.users["admin"],
        status="on_treatment",
        status_date=dt.date(2026, 10, 2),
    )
    page = c.get(url).content.decode()
    assert 'data-testid="registered"' in page
    assert "already in the trial: on_treatment" in page


def test_trial_matches_query_count_does_not_grow_with_patients(
    unit_p: Any, client_for: Any, tmp_path: Any, django_assert_max_num_queries: Any
) -> None:
    from matching_helpers import import_report, make_patient

    from oncotrials.apps.matching.engine import matching_state

    c = client_for("investigator")
    url = f"/api/v1/matching/trials/{unit_p.trial.pk}"
    matching_state()
    with django_assert_max_num_queries(40) as few:
        assert len(c.get(url).json()) == 3
    for _ in range(6):
        p = make_patient(unit_p.unit.main, unit_p.unit.users["nurse"], diagnosis="LUAD")
        import_report(tmp_path, p, variants=[{"gene": "KRAS", "protein_change": "p.G12C"}])
    matching_state()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(c.get(url).json()) == 9


def test_ctml_with_clauses_matchminer_ignores_imports_with_warnings(
    unit_p: Any, client_for: Any
) -> None:
    """A CTIMS-style file: disease_status beside the criteria, and an arm with an empty match
    list; the import succeeds, lists both, and stores no trace of disease_status."""
    text = CTML.replace(
        "                - clinical: {oncotree_primary_diagnosis: Non-Small Cell Lung Cancer}\n",
        "                - clinical: {oncotree_primary_diagnosis: Non-Small Cell Lung Cancer}\n"
        "                - clinical: {disease_status: Metastatic}\n",
    ) + (
        "        - arm_code: EMPTY\n          arm_description: not yet written\n          match: []\n"
    )
    r = client_for("investigator").post(
        "/api/v1/matching/ctml",
        {"file": SimpleUploadedFile("t-main.yaml", text.encode()), "reason": "CTIMS export"},
    )
    assert r.status_code == 200, r.content
    warnings = r.json()["warnings"]
    assert any("ignored as MatchMiner does: disease_status" in w for w in warnings)
    assert any("arm[2].match: empty match list" in w for w in warnings)
    unit_p.g12c.refresh_from_db()
    assert "disease_status" not in str(unit_p.g12c.match_criteria)
    assert {"diagnosis": "NSCLC"} in unit_p.g12c.match_criteria["and"]
