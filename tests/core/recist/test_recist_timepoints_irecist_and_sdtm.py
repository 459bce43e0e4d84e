"""iRECIST time-point responses and SDTM RS rows as input of the best overall response
(docs/formats/recist-timepoints.md).

References: Seymour L et al., iRECIST, Lancet Oncol 2017;18:e143-e152 (iUPD confirmed as iCPD at
the next assessment 4-8 weeks later; the confirmed iUPD dates the progression; iBOR is the best
time-point response, so an iUPD does not block a later iCR/iPR/iSD: Table 3); Eisenhauer EA et
al., RECIST 1.1, Eur J Cancer 2009;45:228-247 (section 4.4 and Table 3: confirmation, minimum SD
duration, footnote a). The SDTM tables are pharmaversesdtm's RECIST 1.1 and iRECIST examples
(tests/fixtures/exports/README.md); the expected best responses below are derived by hand from
their rows, each step named.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oncotrials.cli.commands.recist import app
from oncotrials.core.errors import ValidationError
from oncotrials.core.recist.model import IRecistOptions, RecistOptions
from oncotrials.core.recist.sdtm_rs import read_rs_csv, read_start_dates
from oncotrials.core.recist.timepoints import (
    best_overall_response_irecist,
    evaluate_grouped,
    read_timepoints,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "exports" / "pharmaversesdtm"
RS_RECIST = FIXTURES / "rs_onco_recist.csv"
RS_IRECIST = FIXTURES / "rs_onco_irecist.csv"
DM = FIXTURES / "dm.csv"
START = dt.date(2026, 1, 1)
HEADER = ("patient_id", "date", "start_date", "target", "non_target", "new_lesions", "overall")


def _day(n: int) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


def _ibor(*cells: tuple[int, str], **recist: object):  # type: ignore[no-untyped-def]
    records = [
        dict(zip(HEADER, ["P1", _day(day), START.isoformat(), "", "", "", o], strict=True))
        for day, o in cells
    ]
    ((pid, (start, rows)),) = read_timepoints(records, source="t.csv", criteria="irecist").items()
    options = IRecistOptions(recist=RecistOptions(**recist))  # type: ignore[arg-type]
    return best_overall_response_irecist(pid, start, rows, options)


# ------------------------------------------------------------------------------- iRECIST rows


def test_iupd_confirmed_by_icpd_is_progression_dated_at_the_iupd() -> None:
    # Seymour 2017 Table 3: iUPD then iCPD at the next assessment -> iBOR iCPD; the progression
    # is the date of the iUPD that was confirmed.
    result = _ibor((42, "iSD"), (84, "iUPD"), (119, "iCPD"), (147, "iSD"))
    assert result.bor.response == "iSD"
    result = _ibor((42, "iUPD"), (77, "iCPD"))
    assert result.bor.response == "iCPD"
    assert result.bor.date == START + dt.timedelta(days=42)
    assert result.progression_date == START + dt.timedelta(days=42)
    assert result.warnings == ()


def test_an_iupd_never_confirmed_is_no_progression_and_does_not_block_a_later_response() -> None:
    # Seymour 2017: iUPD then iPR resets the bar; iBOR is the best time-point response (iPR).
    reset = _ibor((42, "iUPD"), (84, "iPR"), (126, "iPR"))
    assert reset.bor.response == "iPR"
    assert reset.progression_date is None
    assert any("the bar is reset" in n for n in reset.notes)
    # iUPD followed only by NE: never confirmed, iBOR iUPD (better than iCPD, worse than iSD)
    pending = _ibor((42, "iUPD"), (84, "NE"))
    assert pending.bor.response == "iUPD"
    assert pending.progression_date is None
    assert any("never confirmed" in n for n in pending.notes)
    # iUPD that remains iUPD, then iCPD: the progression dates from the first iUPD
    remains = _ibor((42, "iUPD"), (84, "iUPD"), (126, "iCPD"))
    assert remains.progression_date == START + dt.timedelta(days=42)


def test_a_confirming_scan_outside_four_to_eight_weeks_is_used_with_a_warning() -> None:
    # 8 weeks + the 2-day protocol tolerance = 58 days: day 42 -> 100 is 58 days (no warning),
    # day 42 -> 101 is 59 days (warning, still confirms).
    assert _ibor((42, "iUPD"), (100, "iCPD")).warnings == ()
    late = _ibor((42, "iUPD"), (101, "iCPD"))
    assert late.bor.response == "iCPD"
    (warning,) = late.warnings
    assert "59 days after the iUPD" in warning
    assert "4-8 weeks" in warning
    # fewer than 4 weeks - 2 days (26): the scan would be disregarded unless done for symptoms
    early = _ibor((42, "iUPD"), (67, "iCPD"))
    (warning,) = early.warnings
    assert "25 days after the iUPD" in warning
    assert "less than 4 weeks" in warning
    assert _ibor((42, "iUPD"), (68, "iCPD")).warnings == ()


def test_icpd_without_a_previous_iupd_is_refused_naming_the_line() -> None:
    with pytest.raises(ValidationError, match=r"line 3, field overall: iCPD .* no iUPD before it"):
        _ibor((42, "iSD"), (84, "iCPD"))
    with pytest.raises(ValidationError, match=r"line 4, field overall: iCPD"):
        _ibor((42, "iUPD"), (84, "iSD"), (126, "iCPD"))  # after a reset, iUPD again first


def test_irecist_vocabulary_and_components_are_checked() -> None:
    with pytest.raises(ValidationError, match=r"line 2, field overall: 'PR' is not an iRECIST"):
        _ibor((42, "PR"))
    records = [dict(zip(HEADER, ["P1", _day(42), _day(0), "iPR", "", "", "iPR"], strict=True))]
    with pytest.raises(ValidationError, match=r"line 2, field target: iRECIST .* overall"):
        read_timepoints(records, source="t.csv", criteria="irecist")
    assert _ibor((42, "non-icr/non-iupd")).rows[0].overall == "NON-iCR/NON-iUPD"


def test_icr_confirmation_and_the_minimum_sd_duration_apply_under_irecist() -> None:
    confirmed = _ibor((42, "iCR"), (70, "iCR"), confirmation=True)
    assert confirmed.bor.response == "iCR"
    assert confirmed.bor.confirmed_by == START + dt.timedelta(days=70)
    single = _ibor((42, "iCR"), confirmation=True)
    assert single.bor.response == "iSD"  # unconfirmed iCR met after 42 days: iSD (Table 3)
    assert _ibor((41, "iSD")).bor.response == "NE"


# ------------------------------------------------------------------------------ SDTM RS input


def _rows_of(table) -> list:  # type: ignore[no-untyped-def]
    return [r for _start, rows in table.patients.values() for r in rows]


def test_rs_recist_reads_every_overall_response_of_each_evaluator() -> None:
    # pharmaversesdtm rs_onco_recist: 66 OVRLRESP rows = 22 per reader (investigator,
    # radiologists 1 and 2): SD 22, PR 12, CR 9, NON-CR/NON-PD 9, NE 7, PD 7.
    starts = read_start_dates(DM)
    counts: collections.Counter[str] = collections.Counter()
    for reader in ("INVESTIGATOR", "RADIOLOGIST 1", "RADIOLOGIST 2"):
        table = read_rs_csv(RS_RECIST, evaluator=reader, start_dates=starts)
        counts.update(r.overall for r in _rows_of(table))
    assert counts == {"SD": 22, "PR": 12, "CR": 9, "NON-CR/NON-PD": 9, "NE": 7, "PD": 7}


def test_rs_irecist_reads_every_overall_response() -> None:
    # pharmaversesdtm rs_onco_irecist: 75 OVRLRESP rows, iUPD 21, iPR 16, iSD 14, iCR 10, NE 9,
    # NON-iCR/NON-iUPD 3, iCPD 2. Two of the NE rows are RSSTAT = NOT DONE: not done (ND).
    table = read_rs_csv(RS_IRECIST, criteria="irecist", start_dates=read_start_dates(DM))
    counts = collections.Counter(r.overall for r in _rows_of(table))
    assert counts == {
        "iUPD": 21,
        "iPR": 16,
        "iSD": 14,
        "iCR": 10,
        "NE": 7,
        "ND": 2,
        "NON-iCR/NON-iUPD": 3,
        "iCPD": 2,
    }
    assert len(table.patients) == 26


def test_rs_recist_best_responses_derived_by_hand() -> None:
    table = read_rs_csv(RS_RECIST, evaluator="INVESTIGATOR", start_dates=read_start_dates(DM))
    assert "imputed to the last day of the month" in " ".join(table.notes)
    result = {p.patient_id: p for p in evaluate_grouped(table.patients, source="rs")}
    assert len(result) == 8
    # 01-701-1015, start 2014-01-02: SD day 21 (< 42: NE), NE on "2014-02" (imputed 02-28), CR
    # 2014-03-06 (day 63). Unconfirmed: CR. Confirmed: the CR has no confirmation and was met
    # after the minimum SD duration: SD (Table 3, CR then NE).
    p = result["01-701-1015"]
    assert (p.bor_unconfirmed.response, p.bor_confirmed.response) == ("CR", "SD")
    assert p.rows[1].date == dt.date(2014, 2, 28)
    # 01-701-1133, start 2012-10-28: PR 11-18, CR 12-09 (day 42 exactly), PD 12-30. The PR is
    # not confirmed (the CR is 21 days later, < 28), nor the CR (PD follows); the CR was met 42
    # days after start, inclusive: SD (Table 3, CR then PD).
    p = result["01-701-1133"]
    assert (p.bor_unconfirmed.response, p.bor_confirmed.response) == ("CR", "SD")
    # 01-701-1118, start 2014-03-12: SD, PR 04-23, NE 05-14, PR 06-04: the PR is confirmed 42
    # days later across one NE (at most one allowed): PR.
    p = result["01-701-1118"]
    assert p.bor_confirmed.response == "PR"
    assert p.bor_confirmed.confirmed_by == dt.date(2014, 6, 4)
    # 01-701-1028: SD on day 21 (NE), PD, then SD after the PD (not counted): PD.
    p = result["01-701-1028"]
    assert (p.bor_unconfirmed.response, p.bor_confirmed.response) == ("PD", "PD")
    assert "1 assessment(s) after the first PD not counted" in p.notes
    # 01-701-1097: NON-CR/NON-PD only on day 21 (< 42): NE.
    assert result["01-701-1097"].bor.response == "NE"


def test_rs_independent_reads_use_the_adjudicated_read() -> None:
    table = read_rs_csv(
        RS_RECIST, evaluator="INDEPENDENT ASSESSOR", start_dates=read_start_dates(DM)
    )
    assert any("RSACPTFL = Y" in n for n in table.notes)
    result = {p.patient_id: p for p in evaluate_grouped(table.patients, source="rs")}
    # 01-701-1133 week 3: radiologist 1 (accepted) read SD where the investigator read PR
    assert [r.overall for r in result["01-701-1133"].rows] == ["SD", "CR", "PD"]


def test_rs_irecist_best_responses_derived_by_hand() -> None:
    table = read_rs_csv(RS_IRECIST, criteria="irecist", start_dates=read_start_dates(DM))
    options = IRecistOptions()
    result = {
        p.patient_id: p
        for p in evaluate_grouped(table.patients, options, criteria="irecist", source="rs")
    }
    # 01-702-1082: iUPD 2013-09-06, iCPD 2013-11-17, 72 days later (> 8 weeks + 2 days): the
    # iUPD is confirmed (Seymour 2017) with a warning; iBOR iCPD, progression 2013-09-06.
    p = result["01-702-1082"]
    assert p.bor.response == "iCPD"
    assert p.progression_date == dt.date(2013, 9, 6)
    assert len(p.warnings) == 1
    assert "72 days after the iUPD" in p.warnings[0]
    # 01-701-1130: iUPD, iCR (reset), iCR 36 days later, iUPD never confirmed: iBOR iCR, and
    # confirmed (>= 28 days apart, RECIST 1.1 section 4.4).
    p = result["01-701-1130"]
    assert (p.bor_unconfirmed.response, p.bor_confirmed.response) == ("iCR", "iCR")
    assert p.progression_date is None
    # 01-701-1294: iUPD then NE only: iBOR iUPD, no progression.
    assert result["01-701-1294"].bor.response == "iUPD"
    # 01-703-1076: iUPD 2013-12-04, iSD 20 days later: a scan < 4 weeks after iUPD would be
    # disregarded (EORTC FAQ); taken as recorded, with a warning.
    p = result["01-703-1076"]
    assert p.bor.response == "iSD"
    assert "20 days after the iUPD" in p.warnings[0]
    # 01-701-1239: iCR then iPR: Table 3 footnote (a) contradicted; warned, taken as recorded.
    p = result["01-701-1239"]
    assert p.bor_unconfirmed.response == "iCR"
    assert "footnote a" in p.warnings[0]
    # 01-701-1028: iUPD dated "2013-08" (imputed to 08-31), iCPD 2013-10-09 (39 days later).
    assert result["01-701-1028"].progression_date == dt.date(2013, 8, 31)


def test_rs_errors_name_the_choice_to_make() -> None:
    with pytest.raises(ValidationError, match=r"several evaluators .*INDEPENDENT ASSESSOR"):
        read_rs_csv(RS_RECIST, start_dates=read_start_dates(DM))
    with pytest.raises(ValidationError, match=r"no row with RSCAT .RECIST 1\.1."):
        read_rs_csv(RS_IRECIST, criteria="recist", start_dates=read_start_dates(DM))
    # without DM, the start comes from RSDY; this table's study days disagree for a subject
    with pytest.raises(ValidationError, match=r"RSDY of subject .* imply different starts"):
        read_rs_csv(RS_IRECIST, criteria="irecist")
    with pytest.raises(ValidationError, match="has no start of treatment: give the DM table"):
        read_rs_csv(RS_RECIST, evaluator="INVESTIGATOR")


def test_rs_year_only_date_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rs.csv"
    path.write_text(
        "USUBJID,RSTESTCD,RSSTRESC,RSDTC,RSDY\n"
        "S1,OVRLRESP,SD,2014-03-01,43\n"
        "S1,OVRLRESP,PD,2014,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match=r"rs.csv, line 3, field RSDTC: '2014' is not"):
        read_rs_csv(path)


def test_rs_components_are_checked_against_the_overall_response(tmp_path: Path) -> None:
    path = tmp_path / "rs.csv"
    path.write_text(
        "USUBJID,RSTESTCD,RSSTRESC,RSDTC,RSDY\n"
        "S1,TRGRESP,PR,2014-03-01,43\n"
        "S1,NTRGRESP,NON-CR/NON-PD,2014-03-01,43\n"
        "S1,NEWLPROG,UNEQUIVOCAL,2014-03-01,43\n"
        "S1,OVRLRESP,PR,2014-03-01,43\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match="PR disagrees with the components, which give PD"):
        read_rs_csv(path)


def test_command_reads_sdtm_rs_under_irecist() -> None:
    result = CliRunner().invoke(
        app,
        [
            "bor",
            str(RS_IRECIST),
            "--criteria",
            "irecist",
            "--input-format",
            "sdtm-rs",
            "--dm",
            str(DM),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["criteria"] == "iRECIST"
    by_id = {p["patient_id"]: p for p in doc["patients"]}
    assert by_id["01-702-1082"]["bor"]["response"] == "iCPD"
    assert by_id["01-702-1082"]["progression_date"] == "2013-09-06"
    assert by_id["01-702-1082"]["warnings"]
    refused = CliRunner().invoke(app, ["bor", str(RS_RECIST), "--input-format", "sdtm-rs"])
    assert refused.exit_code == 1
    assert "--evaluator" in refused.output


def test_the_documented_irecist_example_gives_what_the_format_page_says() -> None:
    from oncotrials.core.recist.timepoints import evaluate_timepoints_csv

    example = (
        Path(__file__).parents[3] / "docs/formats/examples/recist-timepoints-irecist.example.csv"
    )
    result = {p.patient_id: p for p in evaluate_timepoints_csv(example, criteria="irecist")}
    assert (result["I001"].bor.response, result["I001"].progression_date) == (
        "iSD",
        dt.date(2026, 3, 26),
    )
    assert result["I002"].bor.response == "iPR"
    assert result["I003"].bor.response == "iCPD"
    assert "67 days after the iUPD" in result["I003"].warnings[0]
    assert (result["I004"].bor.response, result["I004"].progression_date) == ("iUPD", None)
