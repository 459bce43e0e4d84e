"""The activity report as CSV (one file, one section per table), Excel (one sheet per table)
and JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from oncotrials.core.activity import ActivityReport


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return "'" + value  # a spreadsheet must not read a text as a formula
    return value


def activity_csv(report: ActivityReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["activity report", report.year])
    for name, (header, rows) in report.tables().items():
        w.writerow([])
        w.writerow([name])
        w.writerow(header)
        for row in rows:
            w.writerow(["" if v is None else _cell(v) for v in row])
    return buf.getvalue()


def activity_xlsx(report: ActivityReport) -> bytes:
    from openpyxl import Workbook  # loaded on export only

    wb = Workbook()
    first = True
    for name, (header, rows) in report.tables().items():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        first = False
        ws.title = name[:31]
        ws.append(header)
        for row in rows:
            ws.append([_cell(v) for v in row])
    defs = wb.create_sheet("definitions")
    defs.append(["figure", "definition"])
    for k, v in report.definitions.items():
        defs.append([k, v])
    defs.append(["share_in_study", report.share_definition])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def activity_json(report: ActivityReport) -> str:
    tables = {
        name: [dict(zip(header, row, strict=True)) for row in rows]
        for name, (header, rows) in report.tables().items()
    }
    return json.dumps(
        {
            "year": report.year,
            "tables": tables,
            "screen_failure_rate": report.screen_failure_rate,
            "definitions": {**report.definitions, "share_in_study": report.share_definition},
        },
        ensure_ascii=False,
        indent=2,
    )


__all__ = ["activity_csv", "activity_json", "activity_xlsx"]
