"""Long jobs (genomic imports, matching runs): one row per job, keyed by what it does.

``key`` is the idempotency key: the job's kind, its parameters and the SHA-256 of its input
file(s). Submitting the same work again finds the same row instead of creating a second job, and
running a job that is already done does nothing. The job's work and its move to ``done`` commit
in one transaction, so a process killed mid-run leaves the job ``running`` with nothing of its
work stored, and the next run (Celery's redelivery, or ``oncotrials jobs run``) does it again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobKind(models.TextChoices):
    GENOMICS_IMPORT = "genomics_import", _("Genomic import")
    MATCHING_RUN = "matching_run", _("Matching run")


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Job(models.Model):
    kind = models.CharField(max_length=32, choices=JobKind.choices)
    key = models.CharField(max_length=64, unique=True)  # SHA-256 of kind, parameters, input
    params = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} ({self.state})"
