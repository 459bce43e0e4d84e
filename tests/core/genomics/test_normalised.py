"""Normalised frames, the patient map and the stored format of the per-sample content hashes.

Content hashes are stored by the importer: their format must not change, or a re-import of an
unchanged report would no longer be recognised.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.normalised import KINDS, PatientMap, content_hashes
from oncotrials.core.genomics.reading import read_any

LAML = "maftools/tcga_laml.maf.gz"
STUDY = "cbioportal_study_es_0"


def _reference_hashes(parsed: Any) -> dict[str, str]:
    """The stored format, sample by sample: report metadata, then per kind the sample's rows
    sorted on every column and rendered as CSV lines (no header) joined by newlines."""
    out = {}
    for sid in parsed.samples:
        h = hashlib.sha256()
        info = parsed.reports[sid]
        meta = asdict(info)
        del meta["normal_sample"]  # hashed with the rows' normal_sample_id
        meta["reported_on"] = info.reported_on.isoformat() if info.reported_on else None
        if meta["limit_of_detection"] is None:  # declared later: absent, as before it existed
            del meta["limit_of_detection"]
        h.update(json.dumps(meta, sort_keys=True).encode())
        for kind in KINDS:
            f = parsed.frames[kind].filter(pl.col("sample_key") == sid)
            f = f.drop([c for c in f.columns if c == "origin"])  # derived from mutation_status
            groups = [
                [c for c in g if c in f.columns]
                for g in (
                    ("mutation_status", "transcript_id"),
                    ("oncogenicity", "reported"),
                    ("site1_exon", "site2_exon", "site1_transcript", "site2_transcript"),
                )
            ]
            later = [c for g in groups for c in g]
            if f.height:
                base = f.drop(later).sort(f.drop(later).columns, nulls_last=True)
                h.update(kind.encode())
                h.update(base.write_csv(include_header=False).encode().rstrip(b"\n"))
                # each group of later columns: the rows that fill it, with the earlier columns
                for group in (g for g in groups if g):
                    part = f.drop([c for c in later if c not in group])
                    filled = part.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in group))
                    if filled.height:
                        filled = filled.sort(filled.columns, nulls_last=True)
                        h.update(f"{kind}:{','.join(group)}".encode())
                        h.update(filled.write_csv(include_header=False).encode().rstrip(b"\n"))
        out[sid] = h.hexdigest()
    return out


@pytest.mark.parametrize("source", [LAML, STUDY], ids=["maf", "study"])
def test_content_hashes_of_the_whole_file_are_those_of_each_sample_alone(
    fixtures: Path, source: str
) -> None:
    parsed = read_any(fixtures / source, keep_neutral_cna=False).normalised()
    assert content_hashes(parsed) == _reference_hashes(parsed)


def test_content_hashes_keep_their_stored_format(fixtures: Path) -> None:
    # Digests stored by earlier versions for the TCGA LAML MAF; a change here means every
    # report already in a database would be imported again as new content.
    hashes = content_hashes(read_any(fixtures / LAML).normalised())
    assert hashes["TCGA-AB-2802"] == (
        "f162bc4d3cc5a73991f588276bc4ce4500041e3c0ab51b6dae52b41021baa7c6"
    )
    assert hashes["TCGA-AB-2803"] == (
        "91678e106c40494087160015f3e1d8a31e91a3d9b43bd397ed88f7dcec4681f5"
    )


def test_content_hashes_ignore_row_order(fixtures: Path) -> None:
    parsed = read_any(fixtures / LAML).normalised()
    before = content_hashes(parsed)
    parsed.frames["mutations"] = parsed.frames["mutations"].reverse()
    assert content_hashes(parsed) == before


def test_patient_map_errors_name_the_line_and_field() -> None:
    with pytest.raises(ValidationError, match="line 1"):
        PatientMap.parse("sample,who\nA,B")
    with pytest.raises(ValidationError, match="line 3: timepoint") as info:
        PatientMap.parse("sample_id,research_id,timepoint\nA,P1,baseline\nB,P1,later")
    assert info.value.extra["field"] == "timepoint"
    with pytest.raises(ValidationError, match="line 2: research_id and a sample_id"):
        PatientMap.parse("sample_id,research_id\nA,")
    with pytest.raises(ValidationError, match="line 2: kind must be one of") as info:
        PatientMap.parse("sample_id,research_id,kind\nA,P1,saliva")
    assert info.value.extra["field"] == "kind"
    with pytest.raises(ValidationError, match="collected_on must be a date"):
        PatientMap.parse("sample_id,research_id,collected_on\nA,P1,12/01/2026")
    with pytest.raises(ValidationError, match=r"tumour_fraction must be a number in \[0, 1\]"):
        PatientMap.parse("sample_id,research_id,tumour_fraction\nA,P1,12%")


def test_patient_map_reads_sample_metadata(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text(
        "\ufeffsample_id,patient_id,research_id,timepoint,kind,collected_on,tumour_fraction\n"
        "S1,,R1,baseline,tissue,2026-01-12,0.4\n"
        ",P2,R2,,,,\n",
        encoding="utf-8",
    )
    pmap = PatientMap.read(path)
    assert pmap.by_sample == {"S1": "R1"}
    assert pmap.by_patient == {"P2": "R2"}
    info = pmap.sample_info["S1"]
    assert (info.timepoint, info.kind, info.tumour_fraction) == ("baseline", "tissue", 0.4)
    assert info.collected_on is not None
    assert info.collected_on.isoformat() == "2026-01-12"
    with pytest.raises(ValidationError, match=r"missing\.csv: cannot read the patient map"):
        PatientMap.read(tmp_path / "missing.csv")
