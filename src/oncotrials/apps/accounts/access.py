"""What a user may see and do: the one place that turns memberships into scopes.

Every selector filters through these functions. The rules:

- An administrator (or a superuser) sees every site and trial.
- Any other membership grants its role at its site; without a trial it covers every trial in
  which the site participates; with a trial, that trial only.
- A sponsor monitor's membership always names one trial, and is read-only.
- No active membership, nothing visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import Membership, Role

READ_ONLY_ROLES = frozenset({Role.SPONSOR_MONITOR})
# Who may create trials and change the portfolio (cohorts, dose levels, status).
PORTFOLIO_EDITORS = frozenset({Role.ADMINISTRATOR, Role.DATA_MANAGER, Role.INVESTIGATOR})
IDENTITY_READERS = frozenset({Role.INVESTIGATOR, Role.RESEARCH_NURSE, Role.ADMINISTRATOR})


@dataclass(frozen=True)
class Scope:
    """The caller's active grants, resolved once per request."""

    is_admin: bool = False
    # site id -> roles held at that site for all its trials
    site_roles: dict[int, frozenset[str]] = field(default_factory=dict)
    # trial id -> (site id, roles) for trial-limited memberships
    trial_roles: dict[int, dict[int, frozenset[str]]] = field(default_factory=dict)

    @property
    def site_ids(self) -> set[int]:
        ids = set(self.site_roles)
        for per_site in self.trial_roles.values():
            ids.update(per_site)
        return ids

    def roles(self) -> set[str]:
        out: set[str] = set()
        for r in self.site_roles.values():
            out |= r
        for per_site in self.trial_roles.values():
            for r in per_site.values():
                out |= r
        return out


def scope_for(user: Any) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached = getattr(user, "_oncotrials_scope", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    site_roles: dict[int, set[str]] = {}
    trial_roles: dict[int, dict[int, set[str]]] = {}
    is_admin = bool(user.is_superuser)
    for m in Membership.objects.active().filter(user=user).only("role", "site_id", "trial_id"):
        if m.role == Role.ADMINISTRATOR and m.trial_id is None:
            is_admin = True
        if m.trial_id is None:
            site_roles.setdefault(m.site_id, set()).add(m.role)
        else:
            trial_roles.setdefault(m.trial_id, {}).setdefault(m.site_id, set()).add(m.role)
    scope = Scope(
        is_admin=is_admin,
        site_roles={k: frozenset(v) for k, v in site_roles.items()},
        trial_roles={t: {s: frozenset(r) for s, r in d.items()} for t, d in trial_roles.items()},
    )
    user._oncotrials_scope = scope
    return scope


def forget_scope(user: Any) -> None:
    """Drop the cached scope (after memberships change)."""
    if hasattr(user, "_oncotrials_scope"):
        del user._oncotrials_scope


def roles_for_trial(user: Any, *, trial_id: int, trial_site_ids: set[int]) -> set[str]:
    """Roles the user holds on one trial, through site-wide or trial-limited memberships."""
    scope = scope_for(user)
    if scope.is_admin:
        return {Role.ADMINISTRATOR.value}
    roles: set[str] = set()
    for site_id in trial_site_ids:
        roles |= scope.site_roles.get(site_id, frozenset())
    for site_id, r in scope.trial_roles.get(trial_id, {}).items():
        if site_id in trial_site_ids:
            roles |= r
    return roles


def can_edit_portfolio(roles: set[str]) -> bool:
    return bool(roles & {r.value for r in PORTFOLIO_EDITORS})
