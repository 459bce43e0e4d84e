"""The columnar import path: tiers per distinct alteration, row order, all or nothing.

ESCAT tiers are worked out once per distinct alteration after a vectorised prefilter; these
tests hold them to ``annotate`` (the rules of Mateo et al., Ann Oncol 2018;29:1895-1902, as
shipped in escat.csv) row by row. The stored format of the content hashes is tested with the
code, in tests/core/genomics/test_normalised.py.
"""

from __future__ import annotations

import gzip
from typing import Any

import polars as pl
import pytest
from genomics_helpers import LAML, identity_map, make_patients

from oncotrials.core.genomics.actionability import annotate
from oncotrials.core.genomics.model import Mutation, VariantClass

# (gene, protein change, class) x tumour: exact rules, codon rules (p.G719X), exon rules, gene
# rules ("mutation"), hotspot lists, silent changes, tumour ancestry (LUAD under NSCLC), tier
# III-A from other tumours, unknown and empty tumour codes.
ALTERATIONS = [
    ("EGFR", "p.E746_A750del", "In_Frame_Del"),
    ("EGFR", "p.L747_P753delinsS", "In_Frame_Del"),
    ("EGFR", "p.A767_V769dup", "In_Frame_Ins"),
    ("EGFR", "p.G719S", "Missense_Mutation"),
    ("EGFR", "p.G719C", "Missense_Mutation"),
    ("EGFR", "p.G719*", "Nonsense_Mutation"),
    ("EGFR", "p.L858R", "Missense_Mutation"),
    ("EGFR", "p.L858R", "Silent"),
    ("EGFR", "p.R108K", "Missense_Mutation"),
    ("MET", "p.D1010_splice", "Splice_Site"),
    ("MET", None, "Splice_Site"),
    ("MET", "p.X1010_splice", "Splice_Region"),
    ("MET", "p.T1010I", "Missense_Mutation"),
    ("PIK3CA", "p.H1047R", "Missense_Mutation"),
    ("PIK3CA", "p.E545K", "Missense_Mutation"),
    ("PIK3CA", "p.H1047Q", "Missense_Mutation"),
    ("ERBB2", "p.S310F", "Missense_Mutation"),
    ("ERBB2", "p.S310S", "Silent"),
    ("ERBB2", None, "Frame_Shift_Del"),
    ("BRAF", "p.V600E", "Missense_Mutation"),
    ("BRAF", "p.V600K", "Missense_Mutation"),
    ("KRAS", "p.G12C", "Missense_Mutation"),
    ("KRAS", "p.G12D", "Missense_Mutation"),
    ("BRCA2", "p.K3326*", "Nonsense_Mutation"),
    ("IDH1", "p.R132H", "Missense_Mutation"),
    ("TP53", "p.R175H", "Missense_Mutation"),
]
TUMOURS = ["NSCLC", "LUAD", "MEL", "SKCM", "BRCA", "COADREAD", "PAAD", "PRAD", "CHOL", "AML", ""]


def test_tiers_per_distinct_alteration_are_those_of_annotate_row_by_row() -> None:
    from oncotrials.apps.genomics.services import _tiers, _valid_tumour

    rows = [(f"S{t}", g, p, c) for t in range(len(TUMOURS)) for g, p, c in ALTERATIONS]
    rows += rows[:40]  # repeated alterations share one annotation
    frame = pl.DataFrame(
        rows, schema=["sample_key", "gene", "protein_change", "variant_class"], orient="row"
    )
    tumour_of = {f"S{t}": _valid_tumour(code) for t, code in enumerate(TUMOURS)}
    got = _tiers("mutations", frame, tumour_of).to_list()
    expected = []
    for sample, gene, change, cls in rows:
        tumour = tumour_of[sample]
        m = Mutation("", gene, VariantClass(cls), protein_change=change)
        expected.append((annotate(m, tumour).tier or "") if tumour else "")
    assert got == expected
    assert {"I-A", "I-B", "II-B", "III-A", ""} <= set(got)  # the cases above reach every kind


def test_rows_of_a_report_are_stored_in_file_order_with_their_tiers(
    unit, biologist, laml_aml, tmp_path
):
    # The cohort query's first page is in id order and relies on each gene being spread over
    # the ids as in the file (a frequent gene then fills the page from the first ids). The LAML
    # MAF is sorted by gene: its rows reversed are in no order the import could impose.
    from oncotrials.apps.genomics.models import Mutation as MutationRow
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics import read_maf

    lines = gzip.decompress(LAML.read_bytes()).decode().splitlines()
    path = tmp_path / "laml_reversed.maf"
    path.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    result = genomics_import(path=path, by=biologist, patient_map=identity_map(laml_aml))
    assert result.mutations == 2207
    in_file = read_maf(path).frame.select("sample_id", "gene", "protein_change")
    stored = MutationRow.objects.order_by("pk").values_list(
        "sample__sample_id", "gene", "protein_change"
    )
    assert list(stored) == [(s, g, p or "") for s, g, p in in_file.iter_rows()]
    # AML: IDH1 is tier I-A only in cholangiocarcinoma, so tier III-A here (ESCAT rule).
    idh1 = MutationRow.objects.filter(gene="IDH1").exclude(variant_class="Silent")
    assert idh1.exists()
    assert set(idh1.values_list("escat_tier", flat=True)) == {"III-A"}


def test_a_failure_while_hashing_writes_nothing(unit, biologist, laml_aml, monkeypatch):
    from oncotrials.apps.genomics import services

    before = services.Mutation.objects.count(), services.GenomicReport.objects.count()

    def failing(parsed: Any) -> dict[str, str]:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(services, "content_hashes", failing)
    with pytest.raises(RuntimeError, match="out of memory"):
        services.genomics_import(path=LAML, by=biologist, patient_map=identity_map(laml_aml))
    assert (services.Mutation.objects.count(), services.GenomicReport.objects.count()) == before
    assert not services.Sample.objects.exists()


@pytest.fixture
def laml_aml(unit: Any) -> tuple[str, ...]:
    from oncotrials.core.genomics import read_maf

    samples = read_maf(LAML).samples
    make_patients(unit.main, samples, diagnosis="AML")
    return samples
