"""System checks of the audit trail's configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=False)
def audit_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "AUDIT_KEY_DERIVED", False) and not getattr(settings, "TESTING", False):
        return [
            Warning(
                "The audit trail is sealed with a development key derived from the secret key.",
                hint="Set ONCOTRIALS_AUDIT_KEY or ONCOTRIALS_AUDIT_KEY_FILE (see README, Audit "
                "trail keys); production refuses to start without one.",
                id="audit.W001",
            )
        ]
    return []
