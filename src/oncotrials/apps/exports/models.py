"""Data cuts: a named, audited, frozen copy of a study's data from which exports are made.

A cut stores the plain data of each export format it was made for (canonical JSON) and the
SHA-256 of every file the formats wrote from it. An export re-writes the files from the stored
data and checks them against those digests, so a cut always gives the same files.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from oncotrials.apps.accounts.access import Target


class DataCut(models.Model):
    name = models.CharField(max_length=100)
    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="data_cuts")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    formats = models.JSONField(default=list)  # ["sdtm", ...]
    # format -> canonical JSON text of the plain data the format writes from
    content = models.JSONField(default=dict)
    content_sha256 = models.JSONField(default=dict)  # format -> SHA-256 of that text
    # format -> {file name: {"sha256": ..., "bytes": n}}
    files = models.JSONField(default=dict)
    subjects = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "name"], name="data_cut_name_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.trial_id})"

    def access_target(self) -> Target:
        return Target(
            frozenset(self.cut_sites.values_list("site_id", flat=True)),
            frozenset({self.trial_id}),
        )


class DataCutSite(models.Model):
    """A site whose registrations the cut holds: a user sees the cut only if they see its
    trial's registrations at every one of its sites."""

    cut = models.ForeignKey(DataCut, on_delete=models.CASCADE, related_name="cut_sites")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["cut", "site"]
        constraints = [
            models.UniqueConstraint(fields=["cut", "site"], name="data_cut_site_once"),
        ]

    def __str__(self) -> str:
        return f"{self.cut_id} @ {self.site_id}"
