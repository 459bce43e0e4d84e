"""Twenty technicians store twenty specimens into the same box position at the same moment:
exactly one is stored, and each of the others is told which specimen now holds the position.

PostgreSQL only: SQLite serialises every write transaction, so there is no race to lose. The
box row lock (``select_for_update`` in ``specimen_store``) is what makes the losers read the
winner; without it they collide on the unique constraint instead (and the test fails: see the
assertion on the message).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from oncotrials.core.errors import ConflictError

N = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_one_position_one_specimen(bank: Any, collect: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL (DATABASE_URL)")
    from oncotrials.apps.biobank.models import CustodyEvent, Specimen
    from oncotrials.apps.biobank.services import specimen_store

    specimens = [collect(bank, received_at=None) for _ in range(N)]
    barrier = threading.Barrier(N)
    outcomes: dict[str, str] = {}
    lock = threading.Lock()

    def store(s: Any) -> None:
        try:
            barrier.wait()
            specimen_store(specimen=s, box=bank.box, row=4, column=4, by=bank.tech)
            result = "stored"
        except ConflictError as exc:
            result = f"conflict: {exc.message}"
        finally:
            connections.close_all()
        with lock:
            outcomes[s.label] = result

    threads = [threading.Thread(target=store, args=(s,)) for s in specimens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [label for label, r in outcomes.items() if r == "stored"]
    assert len(outcomes) == N
    assert len(winners) == 1
    (winner,) = winners
    assert list(
        Specimen.objects.filter(box=bank.box, row=4, column=4).values_list("label", flat=True)
    ) == [winner]
    assert CustodyEvent.objects.filter(kind="stored").count() == 1
    # Under the box lock every loser read the winner and was told who holds the position.
    for label, r in outcomes.items():
        if label != winner:
            assert (
                r
                == f"conflict: Position F-80-1 / R1 / B1 D4 holds {winner}; choose a free position."
            )
