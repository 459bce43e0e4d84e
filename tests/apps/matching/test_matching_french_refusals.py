"""The criteria language's and the CTML importer's refusals (framework-free core) read in French
for a French user, with the target, the path in the tree and the value in place; without a
language choice they stay the core's English, word for word."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import override
from matching_helpers import precision_unit

from oncotrials.apps.accounts.core_messages import translated
from oncotrials.apps.matching.core_messages import MATCHING_CORE_MESSAGES
from oncotrials.core.errors import ValidationError
from oncotrials.core.matching import parse_criteria, trial_from_ctml


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    from oncotrials.apps.matching.engine import reset_matching_cache

    reset_matching_cache()
    yield
    reset_matching_cache()


@pytest.fixture
def unit_p(unit: Any, tmp_path: Any) -> Any:
    return precision_unit(unit, tmp_path)


def _put(client: Any, url: str, body: dict[str, Any], *, french: bool) -> Any:
    if french:
        client.cookies["django_language"] = "fr"
    else:
        client.cookies.pop("django_language", None)
    return client.put(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("criteria", "english", "french"),
    [
        (
            {"and": [{"diagnosis": "LUNG_X"}]},
            "criteria of T-MAIN cohort G12C: criteria.and[0].diagnosis: unknown OncoTree code; "
            "got 'LUNG_X'.",
            "critères de T-MAIN cohorte G12C : criteria.and[0].diagnosis : code OncoTree "
            "inconnu ; reçu 'LUNG_X'.",
        ),
        (
            {"genomic": {"gene": "KRAS", "cn_call": "big"}},
            "criteria.genomic.cn_call: expected one of ",
            "criteria.genomic.cn_call : une valeur parmi ",
        ),
        (
            {"ages": {"gte": 18}},
            "criteria: unknown criterion; expected and, or, not, genomic",
            "criteria : critère inconnu ; attendu and, or, not, genomic",
        ),
        (
            {"or": [{"genomic": {"gene": "HER2"}}]},
            "unknown gene symbol (not in the gene catalogue); got 'HER2'. HER2 is an alias of "
            "ERBB2; write ERBB2.",
            "symbole de gène inconnu (absent du catalogue des gènes) ; reçu 'HER2'. HER2 est un "
            "alias de ERBB2 ; écrivez ERBB2.",
        ),
    ],
)
def test_a_criteria_refusal_reads_in_french_and_saves_nothing(
    unit_p: Any, client_for: Any, criteria: Any, english: str, french: str
) -> None:
    client = client_for("datamanager")
    trial = unit_p.trial
    url = f"/api/v1/matching/trials/{trial.pk}/criteria"
    body = {
        "criteria": criteria,
        "cohort_id": unit_p.g12c.pk,
        "reason": "typo",
        "expected_version": trial.version,
    }
    plain = _put(client, url, body, french=False)
    assert plain.status_code == 422
    assert english in plain.json()["message"]
    answer = _put(client, url, body, french=True)
    assert answer.status_code == 422
    message = answer.json()["message"]
    assert french in message
    assert "got" not in message
    assert answer.json()["code"] == plain.json()["code"] == "invalid_criteria"
    assert answer.json()["extra"]["path"] == plain.json()["extra"]["path"]
    unit_p.g12c.refresh_from_db()
    assert unit_p.g12c.match_criteria["and"][0] == {"diagnosis": "NSCLC"}


BAD_CTML = """
protocol_no: T-MAIN
treatment_list:
  step:
    - arm:
        - arm_code: G12C
          match:
            - clinical: {gender: male}
"""


def test_a_ctml_refusal_reads_in_french_with_its_file_and_path(
    unit_p: Any, client_for: Any
) -> None:
    client = client_for("investigator")
    answers = []
    for french in (False, True):
        if french:
            client.cookies["django_language"] = "fr"
        answers.append(
            client.post(
                "/api/v1/matching/ctml",
                {"file": SimpleUploadedFile("arm.yaml", BAD_CTML.encode())},
            )
        )
    english, french_answer = (a.json() for a in answers)
    assert answers[0].status_code == answers[1].status_code == 422
    path = "treatment_list.step[0].arm[0].match[0].clinical.gender"
    assert english["message"] == (
        f"arm.yaml: {path}: DFCI matches gender case-sensitively: write 'Male' or 'Female'; "
        "got 'male'."
    )
    assert french_answer["message"] == (
        f"arm.yaml : {path} : le DFCI compare le sexe en respectant la casse : écrivez 'Male' "
        "ou 'Female' ; reçu 'male'."
    )
    assert french_answer["code"] == english["code"] == "invalid_ctml"
    assert french_answer["extra"]["reason"] == "ctml_gender"


def _refusal(call: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value


REFUSALS = {
    "criteria_range_object": lambda: parse_criteria({"age": 18}),
    "criteria_bound_key": lambda: parse_criteria({"age": {"over": 18}}),
    "criteria_list": lambda: parse_criteria({"and": []}),
    "criteria_at_least_one": lambda: parse_criteria({"genomic": {"origin": []}}),
    "criteria_genomic_field": lambda: parse_criteria({"genomic": {"allele": "x"}}),
    "ctml_not_object": lambda: trial_from_ctml([], source="t.json"),
    "ctml_match_list": lambda: trial_from_ctml({"protocol_no": "P", "match": "x"}, source="t"),
    "ctml_list": lambda: trial_from_ctml({"protocol_no": "P", "match": [{"or": []}]}, source="t"),
}


@pytest.mark.parametrize("reason", sorted(REFUSALS))
def test_each_core_refusal_is_the_same_english_and_french_with_its_values(reason: str) -> None:
    exc = _refusal(REFUSALS[reason])
    assert reason in (exc.extra.get("reason"), exc.code)
    with override("en"):
        assert translated(exc, MATCHING_CORE_MESSAGES).message == exc.message
    with override("fr"):
        french = translated(exc, MATCHING_CORE_MESSAGES)
    assert french.message != exc.message
    assert "%(" not in french.message
    assert (type(french), french.code, dict(french.extra)) == (
        type(exc),
        exc.code,
        dict(exc.extra),
    )


WARNED_CTML = """
protocol_no: T-MAIN
treatment_list:
  step:
    - arm:
        - arm_code: G12C
          arm_description: KRAS G12C NSCLC
          match:
            - and:
                - genomic: {hugo_symbol: KRAS, protein_change: p.G12C}
                - clinical:
                    oncotree_primary_diagnosis: Non-Small Cell Lung Cancer
                    disease_status: [Advanced]
        - arm_code: BRAF
          arm_description: BRAF V600
          match: []
"""


def test_a_ctml_imports_warnings_read_in_french(unit_p: Any, client_for: Any) -> None:
    """What the import accepted without matching on it is listed in the user's language, each
    warning with its file and path."""
    client = client_for("investigator")
    answers = []
    for french in (False, True):
        if french:
            client.cookies["django_language"] = "fr"
        answers.append(
            client.post(
                "/api/v1/matching/ctml",
                {
                    "file": SimpleUploadedFile("arm.yaml", WARNED_CTML.encode()),
                    "check_only": "true",
                },
            )
        )
    assert [a.status_code for a in answers] == [200, 200]
    english, french_answer = (a.json()["warnings"] for a in answers)
    clinical = "treatment_list.step[0].arm[0].match[0].and[1].clinical"
    assert english == [
        f"arm.yaml: {clinical}: ignored as MatchMiner does: disease_status",
        "arm.yaml: treatment_list.step[0].arm[1].match: empty match list: MatchMiner matches no "
        "patient here; skipped",
    ]
    assert french_answer == [
        f"arm.yaml : {clinical} : ignoré, comme le fait MatchMiner : disease_status",
        "arm.yaml : treatment_list.step[0].arm[1].match : liste 'match' vide : MatchMiner n’y "
        "apparie aucun patient ; ignorée",
    ]
