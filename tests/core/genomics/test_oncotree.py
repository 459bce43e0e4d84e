"""OncoTree 2025-10-03 (cBioPortal/oncotree, CC BY 4.0); facts from the fixtures README."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.genomics.oncotree import load_oncotree


def test_shipped_tree_has_the_known_size() -> None:
    tree = load_oncotree()
    # fixtures README: 898 nodes including the root TISSUE, 32 tissues
    assert len(tree) == 898
    assert sum(1 for n in tree.nodes.values() if n.level == 1) == 32


def test_shipped_tree_is_the_fixture_file(fixtures: Path) -> None:
    shipped = (
        Path(__file__).resolve().parents[3]
        / "src/oncotrials/core/genomics/data/oncotree_2025_10_03.json"
    )
    assert json.loads(shipped.read_text()) == json.loads(
        (fixtures / "oncotree" / "oncotree_2025_10_03.json").read_text()
    )


@pytest.mark.parametrize(
    ("code", "lineage"),
    [
        ("LUAD", ("LUAD", "NSCLC", "LUNG", "TISSUE")),
        ("SKCM", ("SKCM", "MEL", "SKIN", "TISSUE")),
        ("IDC", ("IDC", "BRCA", "BREAST", "TISSUE")),
        ("HGSOC", ("HGSOC", "SOC", "OVT", "OVARY", "TISSUE")),
        ("CML", ("CML", "MPN", "MNM", "MYELOID", "TISSUE")),
    ],
)
def test_ancestry(code: str, lineage: tuple[str, ...]) -> None:
    assert load_oncotree().lineage(code) == lineage


def test_luad_node_facts() -> None:
    node = load_oncotree().get("luad")
    assert (node.level, node.parent, node.main_type) == (3, "NSCLC", "Non-Small Cell Lung Cancer")


def test_subtree_under_nsclc() -> None:
    tree = load_oncotree()
    sub = tree.subtree("NSCLC")
    assert {"NSCLC", "LUAD", "LUSC", "LCLC"} <= sub
    assert "SCLC" not in sub
    assert all(tree.is_a(code, "NSCLC") for code in sub)
    assert set(tree.descendants("NSCLC")) == sub - {"NSCLC"}


def test_unknown_code_is_an_error_with_suggestions() -> None:
    tree = load_oncotree()
    with pytest.raises(NotFoundError, match=r"Unknown OncoTree code 'LUADX'.*LUAD"):
        tree.get("LUADX")
    with pytest.raises(ValidationError, match="LUADX"):
        tree.validate("LUADX")
    assert "LUADX" not in tree


def test_retired_codes_resolve_to_current_ones() -> None:
    tree = load_oncotree()
    # fixtures README: CLL is not a code (use CLLSLL); CLLSLL lists CLL in its history
    assert "CLL" not in tree.nodes
    assert tree.resolve("CLL") == "CLLSLL"


def test_solid_versus_haematological() -> None:
    tree = load_oncotree()
    assert tree.is_solid("LUAD")
    assert not tree.is_solid("CML")
    assert tree.tissue_of("LUAD") == "LUNG"
