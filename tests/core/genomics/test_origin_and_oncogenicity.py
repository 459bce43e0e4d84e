"""Origin (Mutation_Status), OncoKB oncogenicity and the reported flag in the MAF and JSON
readers and the MAF writer; the matched normal of a report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oncotrials.core.genomics.issues import GenomicFileError
from oncotrials.core.genomics.maf import read_maf, write_maf
from oncotrials.core.genomics.model import Oncogenicity, Origin, origin_of
from oncotrials.core.genomics.normalised import content_hashes
from oncotrials.core.genomics.reading import read_any
from oncotrials.core.genomics.report import read_report_json, write_report_json

DOCS = Path(__file__).parents[3] / "docs" / "formats"
HEADER = "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short"


def _maf(tmp_path: Path, extra: str, rows: list[str]) -> Path:
    p = tmp_path / "x.maf"
    p.write_text("\n".join([HEADER + extra, *rows]) + "\n")
    return p


@pytest.mark.parametrize(
    ("status", "origin"),
    [
        ("Somatic", Origin.SOMATIC),
        ("Germline", Origin.GERMLINE),
        ("LOH", Origin.GERMLINE),  # a germline variant whose other allele the tumour lost
        ("Unknown", Origin.UNKNOWN),
        ("None", Origin.UNKNOWN),
        ("Post-transcriptional modification", Origin.UNKNOWN),
        (None, Origin.UNKNOWN),
    ],
)
def test_mutation_status_gives_the_origin(status: str | None, origin: Origin) -> None:
    assert origin_of(status) is origin


def test_maf_columns_read_with_their_vocabularies(tmp_path: Path) -> None:
    path = _maf(
        tmp_path,
        "\tMutation_Status\tONCOGENIC\tReported",
        [
            "KRAS\tT1\tMissense_Mutation\tp.G12C\tSomatic\tOncogenic\tyes",
            "BRCA2\tT1\tNonsense_Mutation\tp.K3326*\tLOH\tLikely Neutral\tno",
            "TP53\tT1\tMissense_Mutation\tp.R175H\t\tInconclusive\t",
        ],
    )
    table = read_maf(path)
    rows = [(m.gene, m.origin, m.oncogenicity, m.reported) for m in table.mutations()]
    assert rows == [
        ("KRAS", Origin.SOMATIC, Oncogenicity.ONCOGENIC, True),
        ("BRCA2", Origin.GERMLINE, Oncogenicity.LIKELY_NEUTRAL, False),
        ("TP53", Origin.UNKNOWN, Oncogenicity.INCONCLUSIVE, None),
    ]
    assert not table.nonstandard_columns


def test_a_bad_reported_value_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = _maf(tmp_path, "\tReported", ["KRAS\tT1\tMissense_Mutation\tp.G12C\tperhaps"])
    with pytest.raises(GenomicFileError, match="line 2, field Reported: expected yes or no"):
        read_maf(path)


def test_written_maf_reads_back_and_carries_the_cbioportal_driver(tmp_path: Path) -> None:
    path = _maf(
        tmp_path,
        "\tMutation_Status\tONCOGENIC\tReported",
        [
            "KRAS\tT1\tMissense_Mutation\tp.G12C\tSomatic\tLikely Oncogenic\tyes",
            "BRCA2\tT1\tNonsense_Mutation\tp.K3326*\tGermline\tVUS\tno",
            "TP53\tT1\tMissense_Mutation\tp.R175H\t\t\t",
        ],
    )
    mutations = read_maf(path).to_mutations()
    out = tmp_path / "out.maf"
    write_maf(mutations, out)
    assert read_maf(out).to_mutations() == mutations
    lines = [line.split("\t") for line in out.read_text().splitlines()[1:]]
    header = lines[0]
    driver = [
        (r[header.index("cbp_driver")], r[header.index("cbp_driver_annotation")]) for r in lines[1:]
    ]
    assert driver == [
        ("Putative_Driver", "OncoKB oncogenicity: Likely Oncogenic"),
        ("Unknown", "OncoKB oncogenicity: VUS"),
        ("", ""),
    ]
    assert all(len(a) <= 80 for _, a in driver)  # cBioPortal's limit


def test_json_report_matched_normal_and_flags_round_trip(tmp_path: Path) -> None:
    doc = json.loads((DOCS / "genomic-report.example.json").read_text())
    doc["matched_normal"] = {"sample_id": "ONC-0042-B1"}
    doc["short_variants"][0].update(
        mutation_status="Somatic", oncogenicity="Oncogenic", reported=True
    )
    src = tmp_path / "r.json"
    src.write_text(json.dumps(doc))
    report, _ = read_report_json(src)
    assert report.normal_sample_id == "ONC-0042-B1"
    m = report.mutations[0]
    assert (m.origin, m.oncogenicity, m.reported) == (Origin.SOMATIC, Oncogenicity.ONCOGENIC, True)
    assert m.normal_sample_id == "ONC-0042-B1"
    out = tmp_path / "out.json"
    write_report_json(report, out)
    again, _ = read_report_json(out)
    assert again == report
    parsed = read_any(out).normalised()
    assert parsed.reports[report.sample.sample_id].normal_sample == "ONC-0042-B1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"oncogenicity": "likely oncogenic"}, "short_variants/0/oncogenicity: 'likely oncogenic'"),
        ({"mutation_status": "somatik"}, "short_variants/0/mutation_status: 'somatik'"),
        ({"reported": "yes"}, "short_variants/0/reported: 'yes' is not of type 'boolean'"),
    ],
)
def test_json_values_outside_the_vocabulary_are_refused(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    doc = json.loads((DOCS / "genomic-report.example.json").read_text())
    doc["short_variants"][0].update(change)
    src = tmp_path / "r.json"
    src.write_text(json.dumps(doc, indent=2))
    with pytest.raises(GenomicFileError, match=message):
        read_report_json(src)


def test_a_report_without_the_new_fields_keeps_its_content_hash(tmp_path: Path) -> None:
    """Filling oncogenicity changes the digest; a file without it keeps the one it had."""
    plain = _maf(tmp_path, "\tMutation_Status", ["KRAS\tT1\tMissense_Mutation\tp.G12C\tSomatic"])
    before = content_hashes(read_any(plain).normalised())
    flagged = tmp_path / "y.maf"
    flagged.write_text(
        HEADER + "\tMutation_Status\tONCOGENIC\nKRAS\tT1\tMissense_Mutation\tp.G12C\tSomatic\tVUS\n"
    )
    assert content_hashes(read_any(flagged).normalised()) != before
    # The same file with an empty ONCOGENIC column is the same report.
    empty = tmp_path / "z.maf"
    empty.write_text(
        HEADER + "\tMutation_Status\tONCOGENIC\nKRAS\tT1\tMissense_Mutation\tp.G12C\tSomatic\t\n"
    )
    assert content_hashes(read_any(empty).normalised()) == before
