"""CTML imported into the database keeps MatchMiner's levels: the trial, each arm and each dose
level are independent levels (a cohort does not inherit the trial's criteria), so database
mode matches exactly the patients file mode matches on the same document.

Documents: DFCI matchengine-V2's own test trials (tests/fixtures/ctml/matchengine-V2,
Apache-2.0, see tests/fixtures/README.md), and a hand-made trial reproducing the reported
defect (a trial-level NSCLC clause and a BRAF V600 basket arm: the arm's 6 patients in file
mode became 0 in the database before the import kept the levels apart).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from matching_helpers import import_report, make_patient

from fixtures import FIXTURES
from oncotrials.core.errors import ValidationError
from oncotrials.core.matching import Matcher, Trial, trials_from_ctml
from oncotrials.core.matching.trials import read_document

PUBLIC = FIXTURES / "ctml" / "matchengine-V2"

BASKET = {
    "protocol_no": "BASKET-1",
    "_summary": {"status": [{"value": "open to accrual"}]},
    "match": [{"clinical": {"oncotree_primary_diagnosis": "Non-Small Cell Lung Cancer"}}],
    "treatment_list": {
        "step": [
            {
                "arm": [
                    {
                        "arm_code": "BRAF",
                        "arm_description": "BRAF V600 basket",
                        "match": [
                            {
                                "genomic": {
                                    "hugo_symbol": "BRAF",
                                    "wildcard_protein_change": "p.V600",
                                    "variant_category": "Mutation",
                                }
                            }
                        ],
                    }
                ]
            }
        ]
    },
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    from oncotrials.apps.matching.engine import reset_matching_cache

    reset_matching_cache()
    yield
    reset_matching_cache()


def _cohort_code(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")


def _level_number(code: str) -> int:
    found = re.search(r"-?\d+", code)
    assert found is not None, code
    return int(found.group())


def _db_trial(unit: Any, parsed: Trial) -> Any:
    """Our trial for a CTML document: one cohort per arm, one dose level per CTML dose level."""
    from oncotrials.apps.trials.services import (
        cohort_create,
        dose_level_create,
        trial_change_status,
        trial_create,
    )

    admin = unit.users["admin"]
    trial = trial_create(
        data={
            "protocol_code": parsed.id,
            "title": f"Trial {parsed.id}",
            "sponsor": "DFCI",
            "sponsor_type": "academic",
            "phase": "I-esc",
            "modality": "drug",
            "tumour_types": ["NSCLC"],
            "targets": ["EGFR"],
        },
        sites=[unit.main],
        by=admin,
    )
    for status in ("set_up", "open"):
        trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
    cohorts: dict[str, Any] = {}
    for level in parsed.levels:
        arm = level.path.partition("/")[0] if level.kind == "dose_level" else level.path
        if level.kind not in ("arm", "dose_level") or arm in cohorts:
            continue
        cohorts[arm] = cohort_create(
            trial=trial, code=_cohort_code(arm), name=arm, kind="expansion", by=admin
        )
    for level in parsed.levels:
        if level.kind == "dose_level":
            arm, _, dcode = level.path.partition("/")
            dose_level_create(
                cohort=cohorts[arm],
                level=_level_number(dcode),
                agent="Drug",
                dose="10",
                unit="mg",
                by=admin,
            )
    return trial


def _db_path(level: Any) -> str:
    """Where a CTML level lands in our trial: trial and step levels on the trial itself."""
    if level.kind in ("trial", "step"):
        return ""
    if level.kind == "arm":
        return _cohort_code(level.path)
    arm, _, dcode = level.path.partition("/")
    return f"{_cohort_code(arm)}/DL{_level_number(dcode)}"


def _patients(unit: Any, tmp_path: Path) -> list[Any]:
    """Patients the DFCI trials and the basket trial tell apart (reports through the import)."""
    nurse = unit.users["nurse"]
    out = []

    def add(diagnosis: str, born: int, sex: str = "F", **report: Any) -> None:
        p = make_patient(unit.main, nurse, diagnosis=diagnosis, born=born, sex=sex)
        if report:
            import_report(tmp_path, p, oncotree=diagnosis, **report)
        out.append(p)

    egfr = {"gene": "EGFR", "protein_change": "p.E746_A750del", "variant_class": "In_Frame_Del"}
    add("LUAD", 1960, variants=[egfr], biomarkers=[{"kind": "TMB", "value": 12}])
    add("NSCLC", 1955, sex="M", variants=[egfr])
    add("LUAD", 2015, variants=[egfr])  # a child with the EGFR deletion
    add("LUAD", 1970, variants=[{"gene": "BRAF", "protein_change": "p.V600E"}])
    add("LUAD", 1962)  # no report
    for diagnosis, change in (
        ("COAD", "p.V600E"),
        ("COAD", "p.V600K"),
        ("SKCM", "p.V600E"),
        ("THPA", "p.V600E"),
        ("MEL", "p.V600D"),
        ("HGSOC", "p.V600E"),
    ):
        add(diagnosis, 1965, variants=[{"gene": "BRAF", "protein_change": change}])
    add(
        "SKCM",
        1950,
        sex="M",
        variants=[
            {"gene": "TP53", "protein_change": "p.R273H"},
            {"gene": "NRAS", "protein_change": "p.G12D"},
            {"gene": "ARID1A", "protein_change": "p.R911Q"},
        ],
        biomarkers=[{"kind": "TMB", "value": 40}],
    )
    add("MCC", 1948, sex="M", svs=[{"gene1": "EML4", "gene2": "ALK", "event_info": "Fusion"}])
    add("GB", 2018, variants=[{"gene": "NRAS", "protein_change": "p.G12D"}])
    return out


def _compare(unit: Any, doc: dict[str, Any], source: str) -> dict[str, set[str]]:
    """Import ``doc`` into the database and return {db level: patients}, asserting file mode
    matches the same patients at every level."""
    from oncotrials.apps.matching.criteria import ctml_import, shipped_oncotree
    from oncotrials.apps.matching.engine import build_full_state

    tree = shipped_oncotree()
    (parsed,) = trials_from_ctml(doc, source=source, oncotree=tree)
    trial = _db_trial(unit, parsed)
    ctml_import(data=doc, source=source, by=unit.users["admin"], reason="CTML")
    state = build_full_state()
    records = list(state.records_for(sorted(state.clinical)).values())
    file_sets = Matcher([parsed], records, tree).match_sets()
    expected: dict[str, set[str]] = {}
    for level in parsed.levels:
        expected.setdefault(_db_path(level), set()).update(file_sets[level.key])
    tid = str(trial.pk)
    db_sets = {path: set(ids) for (t, path), ids in state.matcher.match_sets().items() if t == tid}
    assert db_sets == expected, source
    return db_sets


def test_a_cohort_does_not_inherit_the_trial_level_clause(unit: Any, tmp_path: Path) -> None:
    patients = _patients(unit, tmp_path)
    got = _compare(unit, copy.deepcopy(BASKET), "basket.yaml")
    braf_any_tumour = {str(p.pk) for p in [patients[3], *patients[5:11]]}
    assert got["BRAF"] == braf_any_tumour  # 7 BRAF V600 patients; 1 is NSCLC (was 1 of 7)
    assert len(got["BRAF"] - got[""]) == 6  # the 6 who are not NSCLC, lost before
    assert got[""] == {str(p.pk) for p in patients[:5]}  # the trial level: every NSCLC


def test_database_mode_equals_file_mode_on_dfcis_test_trials(unit: Any, tmp_path: Path) -> None:
    _patients(unit, tmp_path)
    compared = 0
    matched_levels = 0
    refused: dict[str, str] = {}
    for n, path in enumerate(sorted(p for p in PUBLIC.rglob("*") if p.is_file())):
        data = read_document(path)
        docs = data if isinstance(data, list) else [data]
        for m, doc in enumerate(docs):
            doc = copy.deepcopy(doc)
            try:
                trials_from_ctml(doc, source=path.name)
            except ValidationError:
                continue  # the two documents refused in file mode too (test_ctml_public)
            doc["protocol_no"] = f"D{n}-{m}"  # several documents share a protocol_no
            try:
                got = _compare(unit, doc, path.name)
            except ValidationError as exc:
                refused[path.name] = exc.message
                continue
            compared += 1
            matched_levels += sum(1 for ids in got.values() if ids)
    # The database import checks genes against the platform's catalogue (file mode has none):
    # DFCI's placeholder gene "None" (signature test) and "BRCA" (not a gene: BRCA1, BRCA2).
    assert set(refused) == {"signatures.json", "structured_sv.json"}
    assert "gene catalogue); got 'None'" in refused["signatures.json"]
    assert "gene catalogue); got 'BRCA'" in refused["structured_sv.json"]
    assert compared + len(refused) == 24  # every document that imports in file mode
    assert matched_levels >= 10  # the comparison is not between empty sets


def test_the_import_marks_the_trial_and_audits_it(unit: Any, tmp_path: Path) -> None:
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.matching.criteria import ctml_import, shipped_oncotree

    (parsed,) = trials_from_ctml(BASKET, source="basket.yaml", oncotree=shipped_oncotree())
    trial = _db_trial(unit, parsed)
    assert trial.match_levels == "inherit"
    result = ctml_import(data=BASKET, source="basket.yaml", by=unit.users["admin"], reason="v2")
    trial.refresh_from_db()
    assert trial.match_levels == "independent"
    assert trial.match_criteria == {"diagnosis": "NSCLC"}
    assert {c for c, _t in result.assigned} == {"(trial)", "BRAF"}
    event = AuditEvent.objects.filter(reason="v2", object_type="trials.trial").get()
    assert event.changes["match_levels"] == ["inherit", "independent"]


def test_a_step_level_clause_goes_to_the_trial_level_with_a_warning(
    unit: Any, tmp_path: Path
) -> None:
    from oncotrials.apps.matching.criteria import ctml_import

    doc = read_document(PUBLIC / "integration_trials" / "wildcard_protein_found.json")
    doc["protocol_no"] = "WILD-1"
    (parsed,) = trials_from_ctml(doc, source="w.json")
    trial = _db_trial(unit, parsed)
    result = ctml_import(data=doc, source="w.json", by=unit.users["admin"], reason="CTML")
    assert any("step-level match" in w for w in result.warnings)
    trial.refresh_from_db()
    assert trial.match_criteria["genomic"]["gene"] == "BRAF"
