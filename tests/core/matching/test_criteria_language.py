"""The criteria language: parsing, canonical form, JSON Schema agreement, error messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from matching_strategies import trees

from oncotrials.core.errors import ValidationError
from oncotrials.core.matching import (
    And,
    Genomic,
    Node,
    Not,
    OncoTreeMap,
    load_trial,
    parse_criteria,
    to_dict,
)

DOCS = Path(__file__).parents[3] / "docs" / "formats"
SCHEMA = json.loads((DOCS / "criteria.schema.json").read_text(encoding="utf-8"))
CRITERION = {**SCHEMA, "$ref": "#/$defs/criterion"}
for key in ("required", "properties", "additionalProperties", "anyOf", "type"):
    CRITERION.pop(key, None)


def schema_accepts(criterion: Any) -> bool:
    try:
        jsonschema.validate(criterion, CRITERION)
    except jsonschema.ValidationError:
        return False
    return True


@settings(max_examples=80, deadline=None)
@given(node=trees)
def test_canonical_form_round_trips_and_satisfies_the_schema(node: Node) -> None:
    data = to_dict(node)
    assert parse_criteria(json.loads(json.dumps(data))) == node
    assert schema_accepts(data)


def test_example_trial_satisfies_schema_and_parses() -> None:
    data = yaml.safe_load((DOCS / "criteria.example.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    trial = load_trial(DOCS / "criteria.example.yaml")
    assert [lvl.path for lvl in trial.levels] == ["ESC", "ESC/DL1", "ESC/DL2", "NSCLC-2L", "BASKET"]
    assert [lvl.open for lvl in trial.levels] == [True, True, True, True, False]
    assert trial.levels[2].slots == 3


@pytest.mark.parametrize(
    ("criterion", "path", "value"),
    [
        ({"and": []}, "criteria.and", "[]"),
        ({"and": [{"age": {"gte": 18}}, {"ecgo": {"lte": 1}}]}, "criteria.and[1]", "'ecgo'"),
        (
            {"genomic": {"gene": "KRAS", "category": "fusion"}},
            "criteria.genomic.category",
            "'fusion'",
        ),
        ({"genomic": {"gene": "KRAS G12C"}}, "criteria.genomic.gene", "'KRAS G12C'"),
        ({"genomic": {"cn_call": "High Amplification"}}, "criteria.genomic.cn_call", "'High"),
        ({"genomic": {"exon": "19"}}, "criteria.genomic.exon", "'19'"),
        (
            {"genomic": {"gene": "BRCA2", "origin": "inherited"}},
            "criteria.genomic.origin",
            "'inherited'",
        ),
        ({"genomic": {"gene": "BRCA2", "origin": []}}, "criteria.genomic.origin", "[]"),
        ({"age": {">=": 18}}, "criteria.age.>=", "'>='"),
        ({"age": {}}, "criteria.age", "{}"),
        ({"sex": "F"}, "criteria.sex", "'F'"),
        (
            {"not": {"and": [{"or": [{"tmb": {"gte": "ten"}}]}]}},
            "criteria.not.and[0].or[0].tmb.gte",
            "'ten'",
        ),
        ({"lab": {"gte": 60}}, "criteria.lab.name", "None"),
        ({"age": {"gte": 18}, "sex": "female"}, "criteria", "'age'"),
    ],
)
def test_invalid_trees_are_rejected_by_parser_and_schema(
    criterion: dict[str, Any], path: str, value: str
) -> None:
    with pytest.raises(ValidationError) as err:
        parse_criteria(criterion, source="trials/t1.yaml")
    message = err.value.message
    assert message.startswith("trials/t1.yaml: ")
    assert f" {path}: " in message
    assert value in message
    assert not schema_accepts(criterion)


def test_unknown_gene_with_a_catalogue(oncotree: OncoTreeMap) -> None:
    crit = {"or": [{"genomic": {"gene": "KRAS"}}, {"genomic": {"gene": "KRSA"}}]}
    with pytest.raises(ValidationError, match=r"criteria\.or\[1\]\.genomic\.gene.*'KRSA'"):
        parse_criteria(crit, genes={"KRAS", "EGFR"})
    assert parse_criteria(crit) == parse_criteria(crit, genes={"KRAS", "KRSA"})


def test_a_germline_criterion_names_its_origins_and_reads_so() -> None:
    from oncotrials.core.matching import describe

    node = parse_criteria({"genomic": {"gene": "BRCA2", "origin": ["germline", "somatic"]}})
    assert node == Genomic(gene="BRCA2", origins=frozenset({"germline", "somatic"}))
    assert to_dict(node) == {"genomic": {"gene": "BRCA2", "origin": ["somatic", "germline"]}}
    assert describe(node) == "alteration BRCA2 (somatic or germline)"
    assert parse_criteria({"genomic": {"gene": "BRCA2"}}) == Genomic(gene="BRCA2")
    assert Genomic(gene="BRCA2").origins == frozenset({"somatic", "unknown"})


def test_parsed_nodes_are_normalised() -> None:
    node = parse_criteria(
        {
            "and": [
                {
                    "genomic": {
                        "gene": "kras",
                        "wildcard_protein_change": "g12",
                        "kb_class": "Oncogenic",
                    }
                },
                {"not": {"genomic": {"gene": "EGFR", "category": "any"}}},
            ]
        }
    )
    assert node == And(
        (
            Genomic(gene="KRAS", wildcard_protein_change="P.G12", kb_class="oncogenic"),
            Not(Genomic(gene="EGFR")),
        )
    )


def test_invalid_trial_file_names_file_and_path(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text(
        "trial_id: T1\ncohorts:\n  - id: A\n    slots: -1\n    criteria: {age: {gte: 18}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match=r"t\.yaml: cohorts\[0\]\.slots: .*got -1"):
        load_trial(bad)
    bad.write_text("trial_id: T1\ncohorts: [{id: A}]\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="has no criteria"):
        load_trial(bad)
    bad.write_text("trial_id: [T1\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"t\.yaml: not valid YAML at line"):
        load_trial(bad)
