"""Two agendas built at once over the same new reports (two meetings of the site): each report
lands on exactly one case; the loser adds nothing (SQLite serialises the writers) or answers a
conflict (PostgreSQL), never a half-built agenda."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from mtb_board_helpers import aware, import_report, make_board, make_patient

from oncotrials.core.errors import ConflictError


@pytest.mark.django_db(transaction=True)
def test_concurrent_agendas_claim_each_report_once(unit, tmp_path):
    from django.db import connection

    from oncotrials.apps.mtb.models import MtbCase, MtbCaseReport
    from oncotrials.apps.mtb.services import agenda_build, meeting_create

    board = make_board(unit)
    reports = [
        import_report(
            tmp_path,
            make_patient(unit.main, unit.users["nurse"]),
            imported_at=aware(dt.date(2026, 9, 12)),
        )
        for _ in range(6)
    ]
    meetings = [
        meeting_create(site=unit.main, held_on=dt.date(2026, 9, d), by=board.coordinator)
        for d in (17, 18)
    ]
    outcomes: list[Any] = []
    start = threading.Barrier(2)

    def run(meeting: Any) -> None:
        try:
            start.wait()
            outcomes.append(agenda_build(meeting=meeting, by=board.coordinator))
        except ConflictError as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(m,)) for m in meetings]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == 2
    built = [o for o in outcomes if not isinstance(o, ConflictError)]
    assert sorted(len(o) for o in built)[-1] == 6  # one agenda took every patient
    assert MtbCaseReport.objects.count() == 6
    assert set(MtbCaseReport.objects.values_list("report_id", flat=True)) == {r.pk for r in reports}
    # The loser left no case behind.
    assert MtbCase.objects.values("meeting").distinct().count() == 1
