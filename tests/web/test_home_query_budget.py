"""Each role's home page costs a fixed number of queries whatever the number of patients: the
same count with 3 registrations (each with a form under an open query) as with 30."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

# The largest measured: the administrator, who sees every section (43 queries with one escalation
# cohort). Each section adds its own few queries, none per row.
HOME_BUDGET = 50
PERSONAS = ("investigator", "nurse", "datamanager", "monitor", "admin")


def _with_queried_forms(journey: Any, regs: list[Any]) -> None:
    from oncotrials.apps.crfs.services import form_save, query_raise

    for reg in regs:
        form = form_save(
            registration=reg,
            visit_code="C1D1",
            form_name="vital_signs",
            data={"assessed_on": "2026-11-13", "systolic_bp": "120", "heart_rate": 72},
            version=0,
            complete=True,
            by=journey.unit.users["nurse"],
        )
        query_raise(
            record=form,
            field="heart_rate",
            text=f"Source says 62 for {reg.patient.research_id}?",
            by=journey.unit.users["datamanager"],
        )


def _home_queries(clients: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for persona, client in clients.items():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/")
        assert response.status_code == 200
        counts[persona] = len(ctx.captured_queries)
    return counts


def test_home_queries_do_not_grow_with_patients(journey, enrol, client_for):
    clients = {persona: client_for(persona) for persona in PERSONAS}
    regs = enrol(3)
    _with_queried_forms(journey, regs)
    _home_queries(clients)  # warm the sessions and the parsed-schedule cache
    small = _home_queries(clients)
    more = enrol(27)
    _with_queried_forms(journey, more)
    large = _home_queries(clients)
    assert large == small, (small, large)
    assert max(large.values()) <= HOME_BUDGET, large
    # The lists were not empty: the rows' queries were counted too.
    admin = clients["admin"].get("/").content.decode()
    assert "Source says 62 for" in admin
    nurse = clients["nurse"].get("/").content.decode()
    visits = nurse.split('data-testid="home-visits-today"', 1)[1].split("</section>", 1)[0]
    assert visits.count("<li>") == 10
