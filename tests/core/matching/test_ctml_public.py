"""CTML as MatchMiner reads it: DFCI's own test trials, and the shapes real trials are written in.

Fixtures: tests/fixtures/ctml/matchengine-V2/ (dfci/matchengine-V2, Apache-2.0; see
tests/fixtures/README.md). A CTIMS-style trial is written inline below in the shapes the CTIMS
editor produces (status at the root, disease_status clauses).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fixtures import FIXTURES
from oncotrials.core.errors import ValidationError
from oncotrials.core.matching import (
    Alteration,
    GenomicReport,
    Matcher,
    OncoTreeMap,
    Patient,
    load_trials,
    trial_from_ctml,
    trials_from_ctml,
)
from oncotrials.core.matching.criteria import Category, Genomic, Numeric, Or, Range
from oncotrials.core.matching.trials import read_document

PUBLIC = FIXTURES / "ctml" / "matchengine-V2"


def _import_all(tree: OncoTreeMap) -> tuple[list[str], dict[str, str]]:
    ok: list[str] = []
    refused: dict[str, str] = {}
    for path in sorted(p for p in PUBLIC.rglob("*") if p.is_file()):
        name = str(path.relative_to(PUBLIC))
        try:
            trials_from_ctml(read_document(path), source=name, oncotree=tree)
        except ValidationError as exc:
            refused[name] = exc.message
        else:
            ok.append(name)
    return ok, refused


def test_22_of_dfcis_24_test_trials_import(oncotree: OncoTreeMap) -> None:
    """13 of 24 imported before the importer read MatchMiner's shapes (fixtures README)."""
    ok, refused = _import_all(oncotree)
    assert (len(ok), len(ok) + len(refused)) == (22, 24)
    assert set(refused) == {"trials/11-112.json", "integration_trials/massive_match_clause.json"}
    assert "protocol_no" in refused["trials/11-112.json"]
    assert (
        ".hugo_symbol: 1 is not a gene symbol"
        in refused["integration_trials/massive_match_clause.json"]
    )


def test_empty_arm_match_lists_are_skipped_with_a_warning(oncotree: OncoTreeMap) -> None:
    trial = trial_from_ctml(
        read_document(PUBLIC / "integration_trials" / "all_open.json"),
        source="all_open.json",
        oncotree=oncotree,
    )
    assert any(
        "arm[1].match: empty match list: MatchMiner matches no patient here; skipped" in w
        for w in trial.warnings
    )
    assert all(level.path != "1" for level in trial.levels)


def test_repeated_arm_codes_are_keyed_by_internal_id(oncotree: OncoTreeMap) -> None:
    trial = trial_from_ctml(
        read_document(PUBLIC / "integration_trials" / "structured_sv.json"),
        source="structured_sv.json",
        oncotree=oncotree,
    )
    paths = [lv.path for lv in trial.levels]
    assert len(paths) == len(set(paths))
    assert any(p.startswith("DOSE#") for p in paths)
    assert any("arm_code 'DOSE' repeats; keyed by arm_internal_id" in w for w in trial.warnings)


def test_arrays_and_consecutive_json_trials_are_read_in_file_mode(
    oncotree: OncoTreeMap, tmp_path: Path
) -> None:
    for name in ("trials_json_array.json", "two_trials_one_doc.json"):
        d = tmp_path / name.removesuffix(".json")
        d.mkdir()
        (d / name).write_bytes((PUBLIC / "trials" / name).read_bytes())
        trials = load_trials(d, oncotree=oncotree)
        assert len(trials) == 2


def ctims(match: list[Any], **root: Any) -> dict[str, Any]:
    return {
        "protocol_no": "CT-1",
        "status": "Open to Accrual",  # CTIMS writes the status at the root
        "treatment_list": {"step": [{"arm": [{"arm_code": "A", "match": match}]}]},
        **root,
    }


def test_a_ctims_trial_imports_with_the_ignored_clauses_listed(oncotree: OncoTreeMap) -> None:
    doc = ctims(
        [
            {
                "and": [
                    {"clinical": {"disease_status": ["Metastatic"]}},
                    {
                        "clinical": {
                            "oncotree_primary_diagnosis": "Non-Small Cell Lung Cancer",
                            "her2_status": "Negative",
                        }
                    },
                    {"genomic": {"hugo_symbol": "KRAS", "variant_category": "MUTATION"}},
                ]
            }
        ]
    )
    trial = trial_from_ctml(doc, source="ct-1.json", oncotree=oncotree)
    assert trial.open  # status read at the root
    (arm,) = trial.levels
    assert "disease_status" not in repr(arm.criteria)
    assert any("ignored as MatchMiner does: disease_status" in w for w in trial.warnings)
    assert any("ignored as MatchMiner does: her2_status" in w for w in trial.warnings)
    # a level made only of ignored clauses matches any tumour
    only = trial_from_ctml(
        ctims([{"clinical": {"disease_status": "Advanced"}}]), source="x", oncotree=oncotree
    )
    assert only.levels[0].criteria == Or(
        (Category("diagnosis", "_SOLID_"), Category("diagnosis", "_LIQUID_"))
    )
    # a configurable status key
    closed = trial_from_ctml(
        ctims(
            [{"genomic": {"hugo_symbol": "KRAS"}}], status="Closed", ctims_status="open to accrual"
        ),
        source="x",
        oncotree=oncotree,
        status_key="ctims_status",
    )
    assert closed.open


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        ({"genomic": {"hugo_symbol": "ERBB2", "variant_category": "CNV"}}, "cnv"),
        ({"genomic": {"hugo_symbol": "ERBB2", "cnv_call": "High level amplification"}}, "amp"),
        ({"clinical": {"tmb_numerical": "==40"}}, "tmb"),
    ],
)
def test_matchminer_spellings_are_read(oncotree: OncoTreeMap, leaf: Any, expected: str) -> None:
    (level,) = trial_from_ctml(ctims([leaf]), source="x", oncotree=oncotree).levels
    if expected == "cnv":
        assert isinstance(level.criteria, Genomic)
        assert level.criteria.categories == frozenset({"cnv"})
    elif expected == "amp":
        assert isinstance(level.criteria, Genomic)
        assert level.criteria.cn_call == "amplification"
    else:
        assert level.criteria == Numeric("tmb", Range(gte=40.0, lte=40.0))


@pytest.mark.parametrize(
    "match",
    [
        [{"match_all": True}],
        [{"genomic": {"hugo_symbol": "KRAS", "WT": True}}],
    ],
)
def test_ctims_extensions_are_refused_as_unsupported(oncotree: OncoTreeMap, match: Any) -> None:
    with pytest.raises(ValidationError, match=r"extension of the CTIMS editor.*unsupported"):
        trial_from_ctml(ctims(match), source="x", oncotree=oncotree)


def test_ignored_clauses_do_not_change_who_matches(oncotree: OncoTreeMap) -> None:
    """The same arm with and without disease_status matches the same patients."""
    plain = ctims([{"genomic": {"hugo_symbol": "KRAS", "protein_change": "p.G12C"}}])
    noisy = ctims(
        [
            {
                "and": [
                    {"clinical": {"disease_status": "Metastatic"}},
                    {"genomic": {"hugo_symbol": "KRAS", "protein_change": "p.G12C"}},
                ]
            }
        ]
    )
    patients = [
        Patient(
            "p1",
            diagnosis="LUAD",
            report=GenomicReport((Alteration("KRAS", protein_change="p.G12C"),)),
        ),
        Patient(
            "p2",
            diagnosis="LUAD",
            report=GenomicReport((Alteration("KRAS", protein_change="p.G12D"),)),
        ),
    ]
    got = [
        set(
            Matcher(
                [trial_from_ctml(doc, source="x", oncotree=oncotree)], patients, oncotree
            ).match_sets()[("CT-1", "A")]
        )
        for doc in (plain, noisy)
    ]
    assert got[0] == got[1] == {"p1"}
