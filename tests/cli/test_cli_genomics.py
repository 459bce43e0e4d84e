"""``oncotrials genomics`` commands, run through Typer's CliRunner against the genomics fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixtures import GENOMICS
from oncotrials.cli.commands.genomics import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "formats" / "genomic-report.example.json"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _one_line_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    # ONCOTRIALS_DEBUG=1 turns one-line errors into tracebacks; these tests check the one line.
    monkeypatch.delenv("ONCOTRIALS_DEBUG", raising=False)


@pytest.fixture(scope="module")
def fixtures() -> Path:
    return GENOMICS


def test_read_maf_json_counts(fixtures: Path) -> None:
    result = runner.invoke(
        app, ["read", str(fixtures / "maftools" / "tcga_laml.maf.gz"), "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    # fixtures README: 2207 rows, 193 samples; FLT3 52 / DNMT3A 48 / NPM1 33 mutated samples
    assert (doc["rows"], doc["samples"]) == (2207, 193)
    assert list(doc["mutated_samples_per_gene"].items())[:3] == [
        ("FLT3", 52),
        ("DNMT3A", 48),
        ("NPM1", 33),
    ]


def test_read_maf_human_shows_top_genes_and_notices(fixtures: Path) -> None:
    result = runner.invoke(
        app, ["read", str(fixtures / "maftools" / "tcga_laml.maf.gz"), "--top", "3"]
    )
    assert result.exit_code == 0
    assert "FLT3" in result.stdout
    assert "i_TumorVAF_WU" in result.stderr


def test_read_broken_maf_lists_errors_with_line_and_field(fixtures: Path) -> None:
    path = fixtures / "cbioportal_negative" / "data_mutations_invalid_variant_classification.maf"
    result = runner.invoke(app, ["read", str(path), "--strict", "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["valid"] is False
    assert {(e["line"], e["field"]) for e in doc["errors"]} >= {(13, "Variant_Classification")}
    human = runner.invoke(app, ["read", str(path)])
    assert human.exit_code == 1
    assert "line 13, field Variant_Classification" in human.stderr


def test_read_study_and_vcf_and_report(fixtures: Path) -> None:
    study = runner.invoke(
        app, ["read", str(fixtures / "cbioportal_study_es_0"), "--format", "json"]
    )
    assert study.exit_code == 0, study.stderr
    doc = json.loads(study.stdout)
    assert (doc["patients"], doc["samples"], doc["copy_number_calls"]) == (841, 845, 6304)
    vcf = runner.invoke(
        app, ["read", str(fixtures / "vcf2maf" / "test_mutect.vcf"), "--format", "json"]
    )
    assert json.loads(vcf.stdout)["filters"] == {"REJECT": 495, "PASS": 5}
    report = runner.invoke(app, ["read", str(EXAMPLE), "--format", "json"])
    assert json.loads(report.stdout)["short_variants"] == 3


def test_read_missing_path_is_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["read", str(tmp_path / "nope.maf")])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr


def test_oncotree_ancestry_and_subtree() -> None:
    result = runner.invoke(app, ["oncotree", "luad", "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert [a["code"] for a in doc["ancestors"]] == ["NSCLC", "LUNG", "TISSUE"]
    nsclc = json.loads(runner.invoke(app, ["oncotree", "NSCLC", "--format", "json"]).stdout)
    assert "LUAD" in nsclc["subtree"]
    assert "LUSC" in nsclc["subtree"]
    bad = runner.invoke(app, ["oncotree", "LUADX"])
    assert bad.exit_code == 1
    assert "Did you mean LUAD" in bad.stderr


def test_annotate_report_for_luad() -> None:
    result = runner.invoke(app, ["annotate", str(EXAMPLE), "--tumour", "LUAD", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    tiers = {a["alteration"]: a["tier"] for a in json.loads(result.stdout)["annotations"]}
    # Mosele 2020 NSCLC: EGFR L858R I-A, MET amplification II-B
    assert tiers == {"EGFR p.L858R": "I-A", "MET amplification": "II-B"}
    bad = runner.invoke(app, ["annotate", str(EXAMPLE), "--tumour", "NOPE"])
    assert bad.exit_code == 1


def test_resistance_on_apl_pair(fixtures: Path) -> None:
    args = [
        "resistance",
        "--baseline", str(fixtures / "maftools" / "APL_primary.maf.gz"),
        "--progression", str(fixtures / "maftools" / "APL_relapse.maf.gz"),
        "--baseline-sample", "DS6D", "--progression-sample", "DS6R",
        "--drug", "ATRA", "--drug", "arsenic trioxide", "--format", "json",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    # fixtures README: DS6 relapse-only PML D219E + S220C
    assert {(a["alteration"], a["mechanism"]) for a in doc["acquired"]} == {
        ("PML p.D219E", "on_target_secondary"),
        ("PML p.S220C", "on_target_secondary"),
    }


def test_resistance_needs_a_sample_in_multi_sample_files(fixtures: Path) -> None:
    maf = str(fixtures / "maftools" / "APL_primary.maf.gz")
    result = runner.invoke(
        app, ["resistance", "--baseline", maf, "--progression", maf, "--drug", "ATRA"]
    )
    assert result.exit_code == 1
    assert "--baseline-sample" in result.stderr


def test_read_single_study_files(fixtures: Path) -> None:
    study = fixtures / "cbioportal_study_es_0"
    cna = json.loads(
        runner.invoke(app, ["read", str(study / "data_cna_discrete.txt"), "-f", "json"]).stdout
    )
    # fixtures README: CNA long values 0:4561, -1:1491, 1:189, 2:49, -2:14
    assert cna["values"] == {"-2": 14, "-1": 1491, "0": 4561, "1": 189, "2": 49}
    bad = runner.invoke(
        app, ["read", str(fixtures / "cbioportal_negative" / "data_clin_wrong_ids.txt")]
    )
    assert bad.exit_code == 1
    assert "line 6, field SAMPLE_ID" in bad.stderr


def test_read_refuses_statuses_and_oncogenicity_outside_their_vocabularies(
    tmp_path: Path,
) -> None:
    path = tmp_path / "x.maf"
    path.write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tMutation_Status\tONCOGENIC\n"
        "KRAS\tT1\tMissense_Mutation\tSomatic\tOncogenic\n"
        "TP53\tT1\tMissense_Mutation\tsomatik\tONCOGENIC\n"
    )
    result = runner.invoke(app, ["read", str(path), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert {(e["line"], e["field"]) for e in doc["errors"]} == {
        (3, "Mutation_Status"),
        (3, "ONCOGENIC"),
    }
