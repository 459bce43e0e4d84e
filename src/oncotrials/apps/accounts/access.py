"""What a user may see and do: the one place that turns memberships into scopes.

Every selector filters through these functions. The rules:

- An administrator (or a superuser) sees every site and trial.
- Any other membership grants its role at its site; without a trial it covers every trial in
  which the site participates; with a trial, that trial only.
- A sponsor monitor's membership always names one trial, and is read-only.
- No active membership, nothing visible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from oncotrials.core.errors import PermissionDeniedError

from .models import Actor, Membership, Role, Site, User
from .prepared import PreparedRead


class Action(StrEnum):
    """What a user may be allowed to do. The text completes "Your role does not allow you to"."""

    EDIT_PORTFOLIO = "edit the portfolio (trials, cohorts, dose levels, status, criteria)"
    READ_IDENTITY = "read a patient's identity"
    WRITE_JOURNEY = "record the patient journey (referral, consent, screening, registration)"
    EDIT_CRF = "enter or change case report form data"
    RAISE_QUERY = "raise a data query"
    ANSWER_QUERY = "answer a data query"
    CLOSE_QUERY = "close a data query"
    VERIFY_SOURCE = "record source-data verification"
    SIGN_CRF = "sign a casebook as investigator"
    RECORD_AE = "record adverse events"
    REPORT_SAE = "report serious adverse events"
    ADJUDICATE_DLT = "adjudicate dose-limiting toxicities"
    EDIT_DLT_RULES = "change the DLT rules"
    SIT_ON_TOXICITY_BOARD = "prepare or schedule the toxicity board"
    DECIDE_DOSE = "record dose-escalation decisions"
    CONFIRM_SLOT = "confirm a slot offered to a patient"
    OVERRIDE_RESPONSE = "override a tumour response"
    IMPORT_GENOMICS = "import genomic reports"
    ORGANISE_BOARD = "organise the molecular tumour board"
    RECOMMEND = "record tumour-board recommendations"
    SIGN_RECOMMENDATION = "sign tumour-board recommendations"
    UNBLIND = "know a blinded patient's arm"
    READ_MATCHES = "see trial-matching results"
    EXPORT_DATA = "make data cuts and export a trial's data"
    HANDLE_SPECIMENS = "collect, process, store or ship specimens"
    SEQUENCE = "record sequencing runs"
    MANAGE_OPERATIONS = "manage the unit's resources, opening hours and bookings"


_INV, _NURSE, _CRA, _DM = Role.INVESTIGATOR, Role.RESEARCH_NURSE, Role.CRA, Role.DATA_MANAGER
_PV, _MB, _MON, _ADMIN = (
    Role.PHARMACOVIGILANCE,
    Role.MOLECULAR_BIOLOGIST,
    Role.SPONSOR_MONITOR,
    Role.ADMINISTRATOR,
)
_CLINICAL = frozenset({_INV, _NURSE, _CRA, _DM, _ADMIN})

# The one table of rights: action -> the roles that may do it (on the object's site and trial).
# Adding a role is its enum value in models.Role, its migration, and its rows here.
RIGHTS: dict[Action, frozenset[Role]] = {
    Action.EDIT_PORTFOLIO: frozenset({_ADMIN, _DM, _INV}),
    Action.READ_IDENTITY: frozenset({_INV, _NURSE, _ADMIN}),
    Action.WRITE_JOURNEY: _CLINICAL,
    Action.EDIT_CRF: _CLINICAL,
    Action.RAISE_QUERY: frozenset({_INV, _CRA, _DM, _MON, _ADMIN}),
    Action.ANSWER_QUERY: _CLINICAL,
    Action.CLOSE_QUERY: frozenset({_CRA, _DM, _MON, _ADMIN}),
    Action.VERIFY_SOURCE: frozenset({_MON, _CRA, _ADMIN}),
    Action.SIGN_CRF: frozenset({_INV}),
    Action.RECORD_AE: _CLINICAL,
    Action.REPORT_SAE: _CLINICAL | {_PV},
    Action.ADJUDICATE_DLT: frozenset({_INV, _ADMIN}),
    Action.EDIT_DLT_RULES: frozenset({_INV, _DM, _ADMIN}),
    Action.SIT_ON_TOXICITY_BOARD: _CLINICAL | {_PV},
    Action.DECIDE_DOSE: frozenset({_INV, _ADMIN}),
    Action.CONFIRM_SLOT: frozenset({_INV, _ADMIN}),
    Action.OVERRIDE_RESPONSE: frozenset({_INV, _ADMIN}),
    Action.IMPORT_GENOMICS: frozenset({_MB, _DM, _ADMIN}),
    Action.ORGANISE_BOARD: frozenset({Role.TUMOUR_BOARD_COORDINATOR, _INV, _MB, _ADMIN}),
    Action.RECOMMEND: frozenset({Role.TUMOUR_BOARD_COORDINATOR, _INV, _MB, _ADMIN}),
    Action.SIGN_RECOMMENDATION: frozenset({_INV}),
    Action.UNBLIND: frozenset({_ADMIN, _PV}),
    # Matching reads patients across trials: every role but the trial-limited sponsor monitor.
    Action.READ_MATCHES: frozenset(Role) - {_MON},
    # A sponsor monitor exports its own trial (the cut records what was handed over).
    Action.EXPORT_DATA: frozenset({_DM, Role.BIOSTATISTICIAN, _INV, _MON, _ADMIN}),
    Action.HANDLE_SPECIMENS: frozenset({Role.BIOBANK_TECHNICIAN, _MB, _NURSE, _INV, _ADMIN}),
    Action.SEQUENCE: frozenset({Role.BIOBANK_TECHNICIAN, _MB, _ADMIN}),
    Action.MANAGE_OPERATIONS: frozenset({Role.UNIT_MANAGER, _ADMIN}),
}


def roles_allowed(action: Action) -> frozenset[str]:
    """The role values that may do ``action`` (for messages and for filters)."""
    return frozenset(r.value for r in RIGHTS[action])


@dataclass(frozen=True)
class Target:
    """Where an object lives for access purposes: its sites and the trials it belongs to.

    Models answer ``access_target()`` (a trial: its participating sites and itself; a patient:
    its site and the trials it was screened or registered in; a registration: the patient's site
    and its trial). A site is its own target, for site-wide work (boards, imports). A model whose
    trials cost a query to find may also answer ``access_sites()`` (its sites alone): rights are
    then checked on its sites without reading its trials for a user whose memberships are all
    site-wide (a trial-limited membership is the only thing the trials decide).
    """

    site_ids: frozenset[int]
    trial_ids: frozenset[int] = frozenset()


def _target(on: Any, *, trials: bool = True) -> Target:
    """The target of ``on``; with ``trials`` False, its trials may be left out (when the object
    answers ``access_sites()``, see ``Target``)."""
    if isinstance(on, Target):
        return on
    if isinstance(on, Site):
        return Target(frozenset({on.pk}))
    if not trials and (sites := getattr(on, "access_sites", None)) is not None:
        return Target(sites())
    resolve = getattr(on, "access_target", None)
    if resolve is None:
        raise TypeError(f"{type(on).__name__} has no access_target(); cannot check rights on it.")
    target = resolve()
    assert isinstance(target, Target)
    return target


def roles_on(user: Actor, on: Any) -> set[str]:
    """The role values the user holds on an object (a site, a trial, a patient, a registration
    or a ``Target``): site-wide memberships at its sites, plus memberships limited to one of its
    trials at those sites. An administrator holds {"administrator"} everywhere."""
    scope = scope_for(user)
    if scope.is_admin:
        return {Role.ADMINISTRATOR.value}
    # The trials only count through trial-limited memberships: none, none read.
    target = _target(on, trials=bool(scope.trial_roles))
    roles: set[str] = set()
    for site_id in target.site_ids:
        roles |= scope.site_roles.get(site_id, frozenset())
    for trial_id in target.trial_ids:
        for site_id, r in scope.trial_roles.get(trial_id, {}).items():
            if site_id in target.site_ids:
                roles |= r
    return roles


def sees(user: Actor, on: Any) -> bool:
    """Whether the user may see one object already read: the rule of ``scope_condition``
    applied to that object's target (any role on it: a site-wide membership at its site, a
    membership limited to its trial at its site, or an administrator). For a read by id that
    must not compile the scope into its SQL; lists filter with ``scope_condition``."""
    return bool(roles_on(user, on))


def allows(roles: set[str] | frozenset[str], action: Action) -> bool:
    """Whether a set of role values allows ``action``."""
    return bool(set(roles) & roles_allowed(action))


def may(user: Actor, action: Action, *, on: Any) -> bool:
    return allows(roles_on(user, on), action)


def acting_user(user: Actor) -> User:
    """The signed-in account behind a request, for a service that records who acted.

    Views and endpoints are behind login, so this only narrows ``request.user``; an anonymous
    user is refused (403) rather than recorded as nobody.
    """
    if not isinstance(user, User):
        raise PermissionDeniedError(gettext("Sign in first."))
    return user


#: What each action reads as in the user's language (the English is the action's value).
ACTION_TEXT: dict[Action, Any] = {
    Action.EDIT_PORTFOLIO: gettext_lazy(
        "edit the portfolio (trials, cohorts, dose levels, status, criteria)"
    ),
    Action.READ_IDENTITY: gettext_lazy("read a patient's identity"),
    Action.WRITE_JOURNEY: gettext_lazy(
        "record the patient journey (referral, consent, screening, registration)"
    ),
    Action.EDIT_CRF: gettext_lazy("enter or change case report form data"),
    Action.RAISE_QUERY: gettext_lazy("raise a data query"),
    Action.ANSWER_QUERY: gettext_lazy("answer a data query"),
    Action.CLOSE_QUERY: gettext_lazy("close a data query"),
    Action.VERIFY_SOURCE: gettext_lazy("record source-data verification"),
    Action.SIGN_CRF: gettext_lazy("sign a casebook as investigator"),
    Action.RECORD_AE: gettext_lazy("record adverse events"),
    Action.REPORT_SAE: gettext_lazy("report serious adverse events"),
    Action.ADJUDICATE_DLT: gettext_lazy("adjudicate dose-limiting toxicities"),
    Action.EDIT_DLT_RULES: gettext_lazy("change the DLT rules"),
    Action.SIT_ON_TOXICITY_BOARD: gettext_lazy("prepare or schedule the toxicity board"),
    Action.DECIDE_DOSE: gettext_lazy("record dose-escalation decisions"),
    Action.CONFIRM_SLOT: gettext_lazy("confirm a slot offered to a patient"),
    Action.OVERRIDE_RESPONSE: gettext_lazy("override a tumour response"),
    Action.IMPORT_GENOMICS: gettext_lazy("import genomic reports"),
    Action.ORGANISE_BOARD: gettext_lazy("organise the molecular tumour board"),
    Action.RECOMMEND: gettext_lazy("record tumour-board recommendations"),
    Action.SIGN_RECOMMENDATION: gettext_lazy("sign tumour-board recommendations"),
    Action.UNBLIND: gettext_lazy("know a blinded patient's arm"),
    Action.READ_MATCHES: gettext_lazy("see trial-matching results"),
    Action.EXPORT_DATA: gettext_lazy("make data cuts and export a trial's data"),
    Action.HANDLE_SPECIMENS: gettext_lazy("collect, process, store or ship specimens"),
    Action.SEQUENCE: gettext_lazy("record sequencing runs"),
    Action.MANAGE_OPERATIONS: gettext_lazy(
        "manage the unit's resources, opening hours and bookings"
    ),
}


def action_text(action: Action) -> str:
    """The action in the user's language, completing "Your role does not allow you to"."""
    return str(ACTION_TEXT.get(action, action.value))


def roles_text(action: Action) -> str:
    """The roles that may take ``action``, in the user's language ("a or b")."""
    return gettext(" or ").join(sorted(str(r.label).lower() for r in RIGHTS[action]))


def refusal(action: Action, roles: set[str] | frozenset[str]) -> PermissionDeniedError:
    who = roles_text(action)
    values = {"action": action_text(action), "who": who}
    if roles:
        labels = {r.value: str(r.label).lower() for r in Role}
        values["roles"] = ", ".join(sorted(labels.get(r, r) for r in roles))
        return PermissionDeniedError(
            gettext("Your role (%(roles)s) does not allow you to %(action)s; ask %(who)s.") % values
        )
    return PermissionDeniedError(
        gettext("Your role does not allow you to %(action)s; ask %(who)s.") % values
    )


def require(user: Actor, action: Action, *, on: Any) -> set[str]:
    """Refuse (403) unless the user's roles on ``on`` allow ``action``; returns those roles.

    Visibility is not checked here: callers read the object through a selector first, so an
    object the user may not see has already answered 404.
    """
    roles = roles_on(user, on)
    if not allows(roles, action):
        raise refusal(action, roles)
    return roles


def require_roles(roles: set[str] | frozenset[str], action: Action) -> None:
    """As ``require``, for callers that already hold the roles on the object."""
    if not allows(roles, action):
        raise refusal(action, roles)


def sites_where(user: Actor, action: Action) -> list[Site]:
    """Sites where a site-wide membership allows ``action`` (every site for an administrator)."""
    scope = scope_for(user)
    if scope.is_admin:
        return list(Site.objects.order_by("code"))
    allowed = roles_allowed(action)
    ids = [s for s, roles in scope.site_roles.items() if roles & allowed]
    return list(Site.objects.filter(pk__in=ids).order_by("code"))


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


# Read on every request: compiled once per connection (see prepared).
_MEMBERSHIPS = PreparedRead(
    lambda user, now: (
        Membership.objects.active(now)
        .filter(user_id=user)
        .order_by()
        .values_list("role", "site_id", "trial_id")
    ),
    "user",
    at=("now",),
)


def scope_for(user: Actor) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached: Scope | None = getattr(user, "_oncotrials_scope", None)
    if cached is not None:
        return cached
    scope = scope_from_memberships(user, _MEMBERSHIPS.rows(user=user.pk, now=timezone.now()))
    user._oncotrials_scope = scope
    return scope


def scope_from_memberships(user: User, rows: Iterable[tuple[str, int, int | None]]) -> Scope:
    """The scope of the user's active memberships given as (role, site id, trial id or None):
    what ``scope_for`` reads, when they were read with the user (the API token's read)."""
    site_roles: dict[int, set[str]] = {}
    trial_roles: dict[int, dict[int, set[str]]] = {}
    is_admin = bool(user.is_superuser)
    for role, site_id, trial_id in rows:
        if role == Role.ADMINISTRATOR and trial_id is None:
            is_admin = True
        if trial_id is None:
            site_roles.setdefault(site_id, set()).add(role)
        else:
            trial_roles.setdefault(trial_id, {}).setdefault(site_id, set()).add(role)
    return Scope(
        is_admin=is_admin,
        site_roles={k: frozenset(v) for k, v in site_roles.items()},
        trial_roles={t: {s: frozenset(r) for s, r in d.items()} for t, d in trial_roles.items()},
    )


def scope_condition(user: Actor, *, site: str, trial: str | None = None) -> Q | None:
    """The one rule of visibility, as a filter over rows that belong to a site and a trial.

    ``site`` and ``trial`` are the lookups from the row to its site id and its trial id (for a
    registration: ``patient__site_id`` and ``trial_id``; for an adverse event:
    ``registration__patient__site_id`` and ``registration__trial_id``). A row is visible through
    a site-wide membership at its site, or through a membership limited to its trial at its
    site. Rows that belong to no trial (``trial=None``) are visible through site-wide
    memberships only. ``None`` means everything (an administrator); no grant gives an empty
    condition, never a missing one.
    """
    scope = scope_for(user)
    if scope.is_admin:
        return None
    cond = Q(pk__in=[])
    if scope.site_roles:
        cond |= Q(**{f"{site}__in": sorted(scope.site_roles)})
    if trial is not None:
        for trial_id, per_site in sorted(scope.trial_roles.items()):
            cond |= Q(**{trial: trial_id, f"{site}__in": sorted(per_site)})
    return cond


def forget_scope(user: Actor) -> None:
    """Drop the cached scope (after memberships change)."""
    if hasattr(user, "_oncotrials_scope"):
        del user._oncotrials_scope
