"""The health endpoints: liveness for anyone, readiness as a status, details for administrators."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.mark.django_db
def test_liveness_and_readiness_answer_anyone_with_a_status_only() -> None:
    client = Client()
    r = client.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})
    r = client.get("/healthz?ready=1")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_details_are_for_administrators_only(unit: Any) -> None:
    anonymous = Client()
    assert anonymous.get("/api/v1/health").status_code == 401
    nurse = Client()
    nurse.force_login(unit.users["nurse"], backend="django.contrib.auth.backends.ModelBackend")
    assert nurse.get("/api/v1/health").status_code == 403
    admin = Client()
    admin.force_login(unit.users["admin"], backend="django.contrib.auth.backends.ModelBackend")
    r = admin.get("/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert [c["name"] for c in body["checks"]] == ["database", "migrations", "audit_key", "broker"]
    assert all(c["ok"] for c in body["checks"])


def test_an_unreachable_broker_or_a_missing_key_makes_the_instance_unavailable(
    unit: Any, settings: Any
) -> None:
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens there
    r = Client().get("/healthz?ready=1")
    assert (r.status_code, r.json()) == (503, {"status": "unavailable"})  # no detail leaked
    admin = Client()
    admin.force_login(unit.users["admin"], backend="django.contrib.auth.backends.ModelBackend")
    broker = {c["name"]: c for c in admin.get("/api/v1/health").json()["checks"]}["broker"]
    assert not broker["ok"]
    assert broker["message"]
    settings.CELERY_BROKER_URL = "memory://"
    settings.AUDIT_KEY_ID = "missing"
    r = admin.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "unavailable"
    key = {c["name"]: c for c in r.json()["checks"]}["audit_key"]
    assert not key["ok"]
    assert "audit key" in key["message"]


def test_unapplied_migrations_are_reported(unit: Any, monkeypatch: Any) -> None:
    from django.db.migrations.executor import MigrationExecutor

    from oncotrials.web import health

    monkeypatch.setattr(health, "_migrated", False)  # as in a process started before migrating

    def plan(self: Any, targets: Any) -> list[Any]:
        class M:
            app_label, name = "jobs", "0002_future"

        return [(M(), False)]

    monkeypatch.setattr(MigrationExecutor, "migration_plan", plan)
    admin = Client()
    admin.force_login(unit.users["admin"], backend="django.contrib.auth.backends.ModelBackend")
    checks = {c["name"]: c for c in admin.get("/api/v1/health").json()["checks"]}
    assert not checks["migrations"]["ok"]
    assert "jobs.0002_future" in checks["migrations"]["message"]
