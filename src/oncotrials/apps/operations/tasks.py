"""Background work of unit operations: the week's solve. Thin: the task takes an id and calls
the service. Without a broker (the embedded default) it runs in a thread of the web process, so
the page can show its progress; with a broker, on a Celery worker."""

from __future__ import annotations

import threading

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections, connection


@shared_task  # type: ignore[untyped-decorator]
def plan_run_task(run_id: int) -> None:
    from .services import plan_run_execute  # the task module loads before the app registry

    plan_run_execute(run_id=run_id)


def _in_thread(run_id: int) -> None:
    try:
        close_old_connections()
        plan_run_task.run(run_id)
    finally:
        connection.close()


def plan_run_dispatch(run_id: int) -> None:
    """Queue the solve: a thread without a broker, Celery with one."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True):
        threading.Thread(
            target=_in_thread, args=(run_id,), daemon=True, name=f"plan-{run_id}"
        ).start()
    else:
        plan_run_task.delay(run_id)
