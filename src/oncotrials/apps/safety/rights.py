"""The shared vocabulary of attribution and the regimen of a registration.

Used by the AE/SAE/ASTCT services, the DLT review and the toxicity board alike. Who may do what
is in ``accounts.access.RIGHTS``.
"""

from __future__ import annotations

from oncotrials.apps.subjects.models import Registration

from .models import Attribution

RELATEDNESS = [a.value for a in Attribution]  # weakest to strongest


def agents_for_registration(registration: Registration) -> list[str]:
    """The agents of the patient's regimen: every agent of the cohort's dose levels, in order."""
    cached = getattr(registration, "_safety_agents", None)
    if cached is not None:
        return list(cached)
    seen: list[str] = []
    levels = sorted(registration.cohort.dose_levels.all(), key=lambda d: (d.level, d.pk))
    for agent in (d.agent for d in levels):  # .all(): uses a prefetch when the list has one
        if agent not in seen:
            seen.append(agent)
    setattr(registration, "_safety_agents", tuple(seen))  # noqa: B010 - per-request cache
    return seen
