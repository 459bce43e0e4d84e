"""Who may write what in safety, and the shared vocabulary of attribution.

Used by the AE/SAE/ASTCT services, the DLT review and the toxicity board alike, so that none of
them imports another for a role set.
"""

from __future__ import annotations

from typing import Any

from oncotrials.apps.accounts.access import scope_for
from oncotrials.apps.accounts.models import Role, Site
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.subjects.services import CLINICAL_WRITERS
from oncotrials.core.errors import PermissionDeniedError

from .models import Attribution

WRITERS = frozenset(r.value for r in CLINICAL_WRITERS)
SAE_REPORTERS = WRITERS | {Role.PHARMACOVIGILANCE.value}
ADJUDICATORS = frozenset({Role.INVESTIGATOR.value, Role.ADMINISTRATOR.value})
RULE_EDITORS = frozenset(
    {Role.INVESTIGATOR.value, Role.DATA_MANAGER.value, Role.ADMINISTRATOR.value}
)
BOARD_MEMBERS = WRITERS | {Role.PHARMACOVIGILANCE.value}
RELATEDNESS = [a.value for a in Attribution]  # weakest to strongest


def require_role(roles: set[str], allowed: frozenset[str], what: str) -> None:
    if not roles & allowed:
        raise PermissionDeniedError(f"Your role does not allow you to {what}.")


def site_roles(user: Any, site: Site) -> set[str]:
    scope = scope_for(user)
    if scope.is_admin:
        return {Role.ADMINISTRATOR.value}
    return set(scope.site_roles.get(site.pk, frozenset()))


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
