"""Sound genomic records: stored limits checked before writing, VAF units, germline status and
transcripts kept, an older report issued again is current again, classifications from a
controlled vocabulary. Run on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from genomics_helpers import make_patients

from oncotrials.core.genomics.issues import GenomicFileError
from oncotrials.core.genomics.normalised import PatientMap

HEADER = (
    "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\t"
    "Reference_Allele\tTumor_Seq_Allele2\tMutation_Status\tTranscript_ID\tVAF\n"
)


def _row(
    gene: str = "KRAS",
    sample: str = "S1",
    vc: str = "Missense_Mutation",
    protein: str = "p.G12C",
    ref: str = "C",
    alt: str = "A",
    status: str = "Somatic",
    transcript: str = "ENST00000256078",
    vaf: str = "0.25",
) -> str:
    return "\t".join([gene, sample, vc, protein, ref, alt, status, transcript, vaf]) + "\n"


def _maf(tmp_path: Path, rows: list[str], name: str = "x.maf") -> Path:
    p = tmp_path / name
    p.write_text(HEADER + "".join(rows))
    return p


def _pmap(*samples: str) -> PatientMap:
    return PatientMap.parse("sample_id,research_id\n" + "".join(f"{s},P-{s}\n" for s in samples))


@pytest.fixture
def patients(unit: Any) -> None:
    make_patients(unit.main, ["P-S1", "P-S2"], diagnosis="LUAD")


def _stored() -> tuple[int, int, int]:
    from oncotrials.apps.genomics.models import GenomicReport, Mutation, Sample

    return Sample.objects.count(), GenomicReport.objects.count(), Mutation.objects.count()


def test_values_longer_than_their_column_are_refused_by_line_and_field(
    unit, biologist, patients, tmp_path
):
    """A 1,637-character HGVSp, a 300 bp allele, a 45-character gene: nothing is written."""
    from oncotrials.apps.genomics.services import genomics_import

    path = _maf(
        tmp_path,
        [
            _row(),  # line 2: fine
            _row(protein="p." + "A" * 1635),  # line 3: 1,637 characters
            _row(ref="A" * 300, alt="-"),  # line 4
            _row(gene="G" * 45),  # line 5
        ],
    )
    with pytest.raises(GenomicFileError) as exc:
        genomics_import(path=path, by=biologist, patient_map=_pmap("S1"))
    where = {(i.line, i.field) for i in exc.value.issues}
    assert (3, "HGVSp_Short") in where
    assert (4, "Reference_Allele") in where
    assert (5, "Hugo_Symbol") in where
    assert all(i.line != 2 for i in exc.value.issues)
    assert "does not fit; the field holds at most 255 characters" in str(exc.value.issues)
    assert exc.value.extra["line"] == 3
    assert exc.value.extra["field"] == "HGVSp_Short"
    assert _stored() == (0, 0, 0)


def test_whole_numbers_beyond_their_column_are_refused(unit, biologist, patients, tmp_path):
    from oncotrials.apps.genomics.services import genomics_import

    p = tmp_path / "deep.maf"
    p.write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tt_depth\tt_alt_count\n"
        "KRAS\tS1\tMissense_Mutation\t3000000000\t10\n"
    )
    with pytest.raises(GenomicFileError) as exc:
        genomics_import(path=p, by=biologist, patient_map=_pmap("S1"))
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (2, "t_depth")
    assert _stored() == (0, 0, 0)


def test_a_percent_vaf_column_is_read_as_percent_with_a_notice(unit, biologist, patients, tmp_path):
    from oncotrials.apps.genomics.models import Mutation
    from oncotrials.apps.genomics.services import genomics_import

    path = _maf(tmp_path, [_row(vaf="10"), _row(sample="S2", vaf="54")])
    result = genomics_import(path=path, by=biologist, patient_map=_pmap("S1", "S2"))
    assert sorted(Mutation.objects.values_list("vaf", flat=True)) == pytest.approx([0.10, 0.54])
    assert any("read as percent" in n for n in result.notices)


def test_a_declared_unit_wins_and_values_outside_it_are_refused(
    unit, biologist, patients, tmp_path
):
    from oncotrials.apps.genomics.models import Mutation
    from oncotrials.apps.genomics.services import genomics_import

    low = _maf(tmp_path, [_row(vaf="0.5"), _row(sample="S2", vaf="0.8")], "low.maf")
    genomics_import(path=low, by=biologist, patient_map=_pmap("S1", "S2"), vaf_unit="percent")
    assert sorted(Mutation.objects.values_list("vaf", flat=True)) == pytest.approx([0.005, 0.008])

    high = _maf(tmp_path, [_row(vaf="0.2"), _row(sample="S2", vaf="54")], "high.maf")
    with pytest.raises(GenomicFileError) as exc:
        genomics_import(path=high, by=biologist, patient_map=_pmap("S1", "S2"), vaf_unit="fraction")
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (3, "VAF")
    over = _maf(tmp_path, [_row(vaf="20"), _row(sample="S2", vaf="140")], "over.maf")
    with pytest.raises(GenomicFileError) as exc:  # above 100: no unit fits, every line named
        genomics_import(path=over, by=biologist, patient_map=_pmap("S1", "S2"))
    assert {(i.line, i.field) for i in exc.value.issues} == {(2, "VAF"), (3, "VAF")}
    assert Mutation.objects.count() == 2


def test_allele_counts_that_show_a_fraction_refuse_values_above_one(
    unit, biologist, patients, tmp_path
):
    from oncotrials.apps.genomics.services import genomics_import

    p = tmp_path / "counts.maf"
    p.write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tt_depth\tt_alt_count\t"
        "tumor_f\nKRAS\tS1\tMissense_Mutation\t100\t25\t0.25\n"
        "TP53\tS1\tMissense_Mutation\t100\t40\t0.4\n"
        "EGFR\tS1\tMissense_Mutation\t\t\t3\n"
    )
    with pytest.raises(GenomicFileError) as exc:
        genomics_import(path=p, by=biologist, patient_map=_pmap("S1"))
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (4, "tumor_f")


def test_germline_status_and_transcript_are_kept_and_exported(unit, biologist, patients, tmp_path):
    from oncotrials.apps.genomics.export import study_from_database
    from oncotrials.apps.genomics.models import Mutation
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.subjects.models import Patient

    path = _maf(
        tmp_path,
        [_row(), _row(gene="BRCA2", protein="p.K3326*", vc="Nonsense_Mutation", status="Germline")],
    )
    genomics_import(path=path, by=biologist, patient_map=_pmap("S1"))
    got = dict(Mutation.objects.values_list("gene", "mutation_status"))
    assert got == {"KRAS": "Somatic", "BRCA2": "Germline"}
    assert set(Mutation.objects.values_list("transcript_id", flat=True)) == {"ENST00000256078"}
    study = study_from_database(patients=Patient.objects.all(), study_id="s")
    germline = [m for m in study.mutations if m.is_germline]
    assert [m.gene for m in germline] == ["BRCA2"]


def test_an_older_report_issued_again_is_current_again(unit, biologist, patients, tmp_path):
    """A, then B, then A: A is current, B superseded, and the cohort counts follow."""
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.genomics.models import GenomicReport, Mutation
    from oncotrials.apps.genomics.services import genomics_import

    a = _maf(tmp_path, [_row()], "a.maf")
    b = _maf(tmp_path, [_row(protein="p.G12D")], "b.maf")
    genomics_import(path=a, by=biologist, patient_map=_pmap("S1"))
    genomics_import(path=b, by=biologist, patient_map=_pmap("S1"))
    again = genomics_import(path=a, by=biologist, patient_map=_pmap("S1"))
    assert (again.reports_created, again.reports_reinstated, again.reports_superseded) == (0, 1, 1)
    assert again.reports_unchanged == 0
    current = GenomicReport.objects.get(superseded=False)
    assert current.source_file == "a.maf"
    assert GenomicReport.objects.count() == 2
    assert list(Mutation.objects.filter(current=True).values_list("protein_change", flat=True)) == [
        "p.G12C"
    ]
    event = AuditEvent.objects.filter(object_id=str(current.pk), action="update").get()
    assert event.changes["superseded"] == [True, False]
    # the same file once more changes nothing
    same = genomics_import(path=a, by=biologist, patient_map=_pmap("S1"))
    assert (same.reports_unchanged, same.reports_reinstated) == (1, 0)


def test_case_mangled_classification_is_refused_with_the_canonical_spelling(
    unit, biologist, patients, tmp_path
):
    from oncotrials.apps.genomics.models import Mutation
    from oncotrials.apps.genomics.services import genomics_import

    path = _maf(tmp_path, [_row(), _row(vc="MISSENSE_MUTATION")])
    with pytest.raises(GenomicFileError) as exc:
        genomics_import(path=path, by=biologist, patient_map=_pmap("S1"))
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (3, "Variant_Classification")
    assert "'Missense_Mutation'" in exc.value.message
    # a vocabulary term matched case-insensitively is stored in the canonical spelling
    ok = _maf(tmp_path, [_row(vc="Missense_Variant")], "ok.maf")
    genomics_import(path=ok, by=biologist, patient_map=_pmap("S1"))
    assert list(Mutation.objects.values_list("variant_class", flat=True)) == ["Missense_Mutation"]
