"""The Celery app (``celery -A oncotrials.web.celery worker``); it lives with the jobs it runs.

Without a broker (the embedded default) jobs run in-process and Celery is never imported.
"""

from __future__ import annotations

from oncotrials.apps.jobs.worker import app

__all__ = ["app"]
