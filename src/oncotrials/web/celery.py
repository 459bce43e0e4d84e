"""The Celery app. Without a broker (the embedded default) tasks run eagerly, in-process."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oncotrials.web.settings")
app = Celery("oncotrials")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
