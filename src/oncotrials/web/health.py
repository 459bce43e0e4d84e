"""Health of a running instance: liveness, and readiness with the reason for each check.

``GET /healthz`` answers without authentication and says nothing but ``ok`` (liveness: the
process serves requests). ``GET /healthz?ready=1`` runs the checks below and answers 200 ``ok``
or 503 ``unavailable``, still without details, for a load balancer or an orchestrator.
``GET /api/v1/health`` gives each check's result and message to an administrator only.

Checks: the database answers; every migration is applied; the audit key is configured (and not
the development key derived from the secret key); the Celery broker is reachable when one is
configured (``CELERY_BROKER_URL`` other than ``memory://``). No check reads clinical data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str
    ms: float


def _timed(name: str, func: object) -> Check:
    start = time.perf_counter()
    try:
        ok, message = func()  # type: ignore[operator]
    except Exception as exc:  # a failing check is reported, never raised
        ok, message = False, f"{type(exc).__name__}: {exc}"[:300]
    return Check(name, ok, message, round((time.perf_counter() - start) * 1000, 1))


def _database() -> tuple[bool, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return True, f"{connection.vendor} answers"


_migrated = False  # once every migration is applied, it stays so for this process


def _migrations() -> tuple[bool, str]:
    global _migrated
    if _migrated:
        return True, "all applied"
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        return False, f"{len(plan)} migration(s) not applied: {names}"
    _migrated = True
    return True, "all applied"


def _audit_key() -> tuple[bool, str]:
    if not settings.AUDIT_KEY_ID or settings.AUDIT_KEY_ID not in settings.AUDIT_KEYS:
        return False, "no audit key (ONCOTRIALS_AUDIT_KEY or ONCOTRIALS_AUDIT_KEY_FILE)"
    if settings.AUDIT_KEY_DERIVED and not (settings.DEBUG or settings.TESTING):
        return False, "the audit key is the development key derived from the secret key"
    return True, f"key {settings.AUDIT_KEY_ID!r} of {len(settings.AUDIT_KEYS)} in the keyring"


def _broker() -> tuple[bool, str]:
    url: str = settings.CELERY_BROKER_URL
    if url == "memory://":
        return True, "no broker: jobs run in-process"
    from kombu.connection import Connection  # only when a broker is configured

    with Connection(url, connect_timeout=2) as conn:  # type: ignore[no-untyped-call]
        conn.ensure_connection(max_retries=1, timeout=2)
        transport = conn.transport_cls
    return True, f"{transport} broker reachable"


CHECKS = {
    "database": _database,
    "migrations": _migrations,
    "audit_key": _audit_key,
    "broker": _broker,
}


def health_checks() -> list[Check]:
    checks = [_timed("database", _database)]
    if not checks[0].ok:  # the rest need the database (but the key and broker do not)
        checks.append(Check("migrations", False, "database unavailable", 0.0))
    else:
        try:
            checks.append(_timed("migrations", _migrations))
        except DatabaseError as exc:
            checks.append(Check("migrations", False, str(exc)[:300], 0.0))
    checks.append(_timed("audit_key", _audit_key))
    checks.append(_timed("broker", _broker))
    return checks


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness (no query); with ``?ready=1`` readiness, as a status only."""
    if request.GET.get("ready") not in ("1", "true", "yes"):
        return JsonResponse({"status": "ok"})
    ok = all(c.ok for c in health_checks())
    return JsonResponse({"status": "ok" if ok else "unavailable"}, status=200 if ok else 503)
