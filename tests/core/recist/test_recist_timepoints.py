"""Best overall response from a reader's time-point responses (docs/formats/recist-timepoints.md).

Published references: RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-247) Table 1
(time-point response with target disease), Table 2 (non-target disease only), section 4.4 and
Table 3 (confirmation and minimum SD duration); the confirmation rules as made precise by
pharmaverse/admiralonco ``derive_param_confirmed_bor`` (at most one NE between a response and
its confirmation, no PR after a CR, order CR > PR > SD > NON-CR/NON-PD > PD > NE > MISSING).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist import RecistOptions
from oncotrials.core.recist.timepoints import (
    best_overall_response,
    evaluate_timepoints_csv,
    overall_from_components,
    read_timepoints,
)

START = dt.date(2026, 1, 1)
HEADER = "patient_id,date,start_date,target,non_target,new_lesions,overall"


def _day(n: int) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


def _rows(*cells: tuple[int, str, str, str, str], pid: str = "P1") -> list[dict[str, str | None]]:
    keys = HEADER.split(",")
    return [
        dict(zip(keys, [pid, _day(day), START.isoformat(), t, nt, new, overall], strict=True))
        for day, t, nt, new, overall in cells
    ]


def _bor(cells: list[tuple[int, str, str, str, str]], **options: object) -> object:
    ((pid, (start, rows)),) = read_timepoints(_rows(*cells), source="t.csv").items()
    return best_overall_response(pid, start, rows, RecistOptions(**options))  # type: ignore[arg-type]


# RECIST 1.1 Table 1: (target, non-target, new lesions) -> overall; None = no such disease.
TABLE_1 = [
    ("CR", "CR", False, "CR"),
    ("CR", None, False, "CR"),
    ("CR", "NON-CR/NON-PD", False, "PR"),
    ("CR", "NE", False, "PR"),
    ("PR", "NON-CR/NON-PD", False, "PR"),
    ("PR", "NE", False, "PR"),
    ("PR", "CR", False, "PR"),
    ("SD", "NON-CR/NON-PD", False, "SD"),
    ("SD", "NE", False, "SD"),
    ("NE", "NON-CR/NON-PD", False, "NE"),
    ("PD", "CR", False, "PD"),
    ("SD", "PD", False, "PD"),
    ("CR", "CR", True, "PD"),
]
# RECIST 1.1 Table 2 (non-target disease only).
TABLE_2 = [
    ("CR", False, "CR"),
    ("NON-CR/NON-PD", False, "NON-CR/NON-PD"),
    ("NE", False, "NE"),
    ("PD", False, "PD"),
    ("CR", True, "PD"),
]


@pytest.mark.parametrize(("target", "non_target", "new", "overall"), TABLE_1)
def test_table_1(target: str, non_target: str | None, new: bool, overall: str) -> None:
    assert overall_from_components(target, non_target, new)[0] == overall


@pytest.mark.parametrize(("non_target", "new", "overall"), TABLE_2)
def test_table_2(non_target: str, new: bool, overall: str) -> None:
    assert overall_from_components(None, non_target, new)[0] == overall


# RECIST 1.1 Table 3: (first, subsequent) -> BOR with the minimum SD duration met / not met.
# CR then PR or SD: footnote (a), disease after a true CR is PD at that point, so the BOR is SD
# when the minimum SD duration was met, else PD (applied with a warning, see below).
TABLE_3 = [
    ("CR", "CR", "CR", "CR"),
    ("CR", "PR", "SD", "PD"),
    ("CR", "SD", "SD", "PD"),
    ("CR", "PD", "SD", "PD"),
    ("CR", "NE", "SD", "NE"),
    ("PR", "CR", "PR", "PR"),
    ("PR", "PR", "PR", "PR"),
    ("PR", "PD", "SD", "PD"),
    ("PR", "NE", "SD", "NE"),
    ("NE", "NE", "NE", "NE"),
]


@pytest.mark.parametrize(("first", "then", "met", "not_met"), TABLE_3)
def test_table_3_from_recorded_overall_responses(
    first: str, then: str, met: str, not_met: str
) -> None:
    cells = [(56, "", "", "", first), (84, "", "", "", then)]
    assert _bor(cells, confirmation=True, min_sd_days=56).bor.response == met  # type: ignore[attr-defined]
    assert _bor(cells, confirmation=True, min_sd_days=57).bor.response == not_met  # type: ignore[attr-defined]


def test_disease_recorded_after_a_cr_is_pd_with_a_warning() -> None:
    # Eisenhauer 2009 Table 3 footnote (a): "if a CR is truly met at first time point, then any
    # disease seen at a subsequent time point, even disease meeting PR criteria relative to
    # baseline, makes the disease PD at that point". A recorded CR then PR at day 84, then a PR
    # at day 112: the PR of day 84 counts as PD, so the later PR is after progression, and the
    # unconfirmed CR met at day 56 (>= 42) gives SD. The warning names both assessments.
    result = _bor(
        [(56, "", "", "", "CR"), (84, "", "", "", "PR"), (112, "", "", "", "PR")],
        confirmation=True,
    )
    assert result.bor.response == "SD"  # type: ignore[attr-defined]
    assert result.bor_unconfirmed.response == "CR"  # type: ignore[attr-defined]
    assert [r.overall for r in result.rows] == ["CR", "PD", "PR"]  # type: ignore[attr-defined]
    (warning,) = result.warnings  # type: ignore[attr-defined]
    assert warning.startswith("line 3: PR recorded on 2026-03-26 after the CR of 2026-02-26")
    assert "Table 3 footnote a" in warning
    assert "1 assessment(s) after the first PD not counted" in result.notes  # type: ignore[attr-defined]
    # after a PD, a new CR starts afresh: no warning for disease after a CR that came before PD
    again = _bor([(56, "", "", "", "CR"), (84, "", "", "", "PD")], confirmation=True)
    assert again.warnings == ()  # type: ignore[attr-defined]


def test_non_cr_non_pd_non_target_after_pr_with_target_disease() -> None:
    # target PR with non-target NON-CR/NON-PD is an overall PR (Table 1), and confirms the PR
    result = _bor(
        [(56, "PR", "NON-CR/NON-PD", "N", ""), (84, "PR", "NON-CR/NON-PD", "N", "")],
        confirmation=True,
    )
    assert result.bor.response == "PR"  # type: ignore[attr-defined]
    assert result.bor.confirmed_by == START + dt.timedelta(days=84)  # type: ignore[attr-defined]
    assert "Table 1" in result.rows[0].rule  # type: ignore[attr-defined]


def test_overall_non_cr_non_pd_is_refused_for_target_disease() -> None:
    with pytest.raises(ValidationError, match=r"line 3, field overall: .*target disease"):
        _bor([(56, "PR", "CR", "N", ""), (84, "", "", "", "NON-CR/NON-PD")])


def test_non_target_only_disease_gives_non_cr_non_pd_after_the_minimum_duration() -> None:
    late = _bor([(42, "NA", "NON-CR/NON-PD", "N", "")])
    early = _bor([(41, "NA", "NON-CR/NON-PD", "N", "")])
    assert late.bor.response == "NON-CR/NON-PD"  # type: ignore[attr-defined]
    assert early.bor.response == "NE"  # type: ignore[attr-defined]
    # an unconfirmed CR counts as NON-CR/NON-PD (not SD) without target disease
    cr = _bor([(56, "NA", "CR", "N", ""), (63, "NA", "NON-CR/NON-PD", "N", "")], confirmation=True)
    assert cr.bor.response == "NON-CR/NON-PD"  # type: ignore[attr-defined]


def test_a_not_done_assessment_neither_confirms_nor_breaks_a_confirmation() -> None:
    # PR, ND, NE, PR: the ND is no assessment, so only one NE lies between: confirmed
    cells = [
        (56, "", "", "", "PR"),
        (84, "", "", "", "ND"),
        (112, "", "", "", "NE"),
        (140, "", "", "", "PR"),
    ]
    result = _bor(cells, confirmation=True)
    assert result.bor.response == "PR"  # type: ignore[attr-defined]
    assert any("not done" in n for n in result.notes)  # type: ignore[attr-defined]
    # two NE between (max_nr_ne = 1 by default): not confirmed, an SD after day 42
    cells[1] = (84, "", "", "", "NE")
    assert _bor(cells, confirmation=True).bor.response == "SD"  # type: ignore[attr-defined]


def test_no_assessment_done_is_a_missing_best_response_not_ne() -> None:
    result = _bor([(56, "ND", "ND", "", ""), (84, "", "", "", "not done")])
    assert result.bor.response == "MISSING"  # type: ignore[attr-defined]
    assert _bor([(56, "", "", "", "NE")]).bor.response == "NE"  # type: ignore[attr-defined]


def test_one_category_not_done_is_not_evaluated() -> None:
    result = _bor([(56, "PR", "ND", "N", "")])
    assert result.rows[0].non_target == "NE"  # type: ignore[attr-defined]
    assert result.rows[0].overall == "PR"  # type: ignore[attr-defined]


def test_assessments_after_the_first_pd_do_not_count() -> None:
    result = _bor([(56, "", "", "", "PD"), (84, "", "", "", "PR"), (112, "", "", "", "PR")])
    assert result.bor_unconfirmed.response == "PD"  # type: ignore[attr-defined]
    assert any("after the first PD" in n for n in result.notes)  # type: ignore[attr-defined]


def test_errors_name_the_line_and_field_and_nothing_is_returned() -> None:
    with pytest.raises(ValidationError, match=r"t.csv, line 2, field overall: 'PRR'"):
        read_timepoints(_rows((56, "", "", "", "PRR")), source="t.csv")
    with pytest.raises(ValidationError, match=r"line 3, field overall: PR disagrees .* give SD"):
        read_timepoints(_rows((56, "PR", "", "N", "PR"), (84, "SD", "", "N", "PR")), source="t.csv")
    with pytest.raises(ValidationError, match=r"line 2, field new_lesions: empty"):
        read_timepoints(_rows((56, "PR", "", "", "")), source="t.csv")
    with pytest.raises(ValidationError, match=r"line 2, field target: NON-CR/NON-PD is a non"):
        read_timepoints(_rows((56, "NON-CR/NON-PD", "", "N", "")), source="t.csv")
    with pytest.raises(ValidationError, match=r"line 2, field non_target: SD is not"):
        read_timepoints(_rows((56, "", "SD", "N", "")), source="t.csv")
    with pytest.raises(ValidationError, match=r"line 2, field date: .* before the start"):
        read_timepoints(_rows((-3, "", "", "", "PR")), source="t.csv")
    with pytest.raises(ValidationError, match=r"line 1: unknown column\(s\) sum_mm"):
        read_timepoints(
            [{"patient_id": "P", "date": "", "start_date": "", "sum_mm": "3"}], source="t.csv"
        )


CSV = f"""{HEADER}
P1,2026-02-26,2026-01-01,PR,NON-CR/NON-PD,N,
P1,2026-03-26,2026-01-01,PR,NON-CR/NON-PD,N,PR
P1,2026-04-23,2026-01-01,SD,NON-CR/NON-PD,N,
P1,2026-05-21,2026-01-01,SD,PD,N,
P2,2026-02-26,2026-01-01,NA,NON-CR/NON-PD,N,
P2,2026-03-26,2026-01-01,,,,ND
P3,2026-02-26,2026-01-01,,,,ND
"""


def test_csv_file_and_command(tmp_path: Path) -> None:
    from oncotrials.cli.commands.recist import app

    path = tmp_path / "timepoints.csv"
    path.write_text(CSV, encoding="utf-8")
    by_id = {
        p.patient_id: p for p in evaluate_timepoints_csv(path, RecistOptions(confirmation=True))
    }
    assert by_id["P1"].bor.response == "PR"
    assert by_id["P1"].rows[-1].overall == "PD"
    assert by_id["P2"].bor.response == "NON-CR/NON-PD"
    assert by_id["P3"].bor.response == "MISSING"
    result = CliRunner().invoke(app, ["bor", str(path), "--confirm", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [p["bor"]["response"] for p in doc["patients"]] == ["PR", "NON-CR/NON-PD", "MISSING"]
    assert doc["patients"][0]["bor"]["confirmed_by"] == "2026-03-26"
    human = CliRunner().invoke(app, ["bor", str(path)])
    assert human.exit_code == 0
    assert "BOR: PR" in human.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.replace("SD,PD,N,", "SD,PD,N,SD"), encoding="utf-8")
    refused = CliRunner().invoke(app, ["bor", str(bad)])
    assert refused.exit_code != 0
    assert "line 5, field overall: SD disagrees" in refused.output
