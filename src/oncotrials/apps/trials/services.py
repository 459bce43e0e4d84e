"""Writes to the portfolio. Each service owns its transaction and its audit event."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from oncotrials.apps.accounts.core_messages import core_errors_translated
from oncotrials.apps.accounts.models import Membership, Site, User
from oncotrials.apps.audit.services import audit_record, diff, model_snapshot
from oncotrials.core.errors import ConflictError, ValidationError

from .hooks import site_usage
from .models import (
    STATUS_TRANSITIONS,
    Cohort,
    CohortKind,
    DoseLevel,
    Modality,
    Phase,
    SponsorType,
    Trial,
    TrialSite,
    TrialStatus,
    TrialStatusChange,
    VisitScheduleDefinition,
)

_ONCOTREE_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")
_NCT = re.compile(r"^NCT\d{8}$")
_EU_CT = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}$")
#: The words for what a site holds in a trial (``hooks.site_usage``), in the user's language.
_USAGE_WORDS = {"registrations": gettext_lazy("registrations")}

TRIAL_FIELDS = (
    "protocol_code",
    "title",
    "short_title",
    "eu_ct_number",
    "nct_number",
    "sponsor",
    "sponsor_type",
    "phase",
    "modality",
    "tumour_types",
    "targets",
    "eligibility",
)


def _choice(field: str, value: Any, choices: Any) -> str:
    allowed = [c.value for c in choices]
    if value not in allowed:
        raise ValidationError(
            gettext("%(field)s must be one of %(values)s; got %(value)s.")
            % {"field": field, "values": ", ".join(allowed), "value": repr(value)},
            field=field,
        )
    return str(value)


def _clean_trial_data(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = set(data) - set(TRIAL_FIELDS)
    if unknown:
        raise ValidationError(
            gettext("Unknown trial field(s): %(values)s.") % {"values": ", ".join(sorted(unknown))}
        )
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in {"protocol_code", "title", "sponsor"}:
            value = (value or "").strip()
            if not value:
                raise ValidationError(
                    gettext("%(key)s must not be empty.") % {"key": key}, field=key
                )
        elif key == "phase":
            value = _choice(key, value, Phase)
        elif key == "modality":
            value = _choice(key, value, Modality)
        elif key == "sponsor_type":
            value = _choice(key, value, SponsorType)
        elif key == "nct_number" and value and not _NCT.match(value):
            raise ValidationError(
                gettext("nct_number must look like NCT01234567; got %(value)s.")
                % {"value": repr(value)},
                field=key,
            )
        elif key == "eu_ct_number" and value and not _EU_CT.match(value):
            raise ValidationError(
                gettext("eu_ct_number must look like 2023-501234-12-00; got %(value)s.")
                % {"value": repr(value)},
                field=key,
            )
        elif key == "tumour_types":
            value = [str(v).strip().upper() for v in (value or [])]
            bad = [v for v in value if not _ONCOTREE_CODE.match(v)]
            if bad:
                raise ValidationError(
                    gettext("tumour_types must be OncoTree codes such as NSCLC; got %(value)s.")
                    % {"value": repr(bad[0])},
                    field=key,
                )
        elif key == "targets":
            value = [str(v).strip() for v in (value or []) if str(v).strip()]
        elif key == "eligibility":
            value = list(value or [])
            for i, c in enumerate(value):
                if (
                    not isinstance(c, dict)
                    or c.get("kind") not in ("inclusion", "exclusion")
                    or not str(c.get("text", "")).strip()
                ):
                    raise ValidationError(
                        gettext(
                            "eligibility[%(index)s] must be {'kind': 'inclusion'|'exclusion', 'text': ...}; got "
                            "%(got)s."
                        )
                        % {"index": i, "got": repr(c)},
                        field=key,
                    )
        out[key] = value
    if not partial:
        missing = {"protocol_code", "title", "sponsor", "sponsor_type", "phase", "modality"} - set(
            out
        )
        if missing:
            raise ValidationError(
                gettext("Missing trial field(s): %(values)s.")
                % {"values": ", ".join(sorted(missing))}
            )
    return out


def _member_at(user: User, site_ids: Sequence[int], trial: Trial | None) -> bool:
    """Whether ``user`` holds an active membership at one of ``site_ids`` (site-wide, or
    limited to ``trial``)."""
    limited = Q(trial__isnull=True) | (Q(trial=trial) if trial is not None and trial.pk else Q())
    return (
        Membership.objects.active()
        .filter(user=user, site_id__in=list(site_ids))
        .filter(limited)
        .exists()
    )


def _check_investigators(
    *,
    trial: Trial | None,
    sites: Sequence[Site],
    principal_investigator: User | None,
    site_investigators: Mapping[int, User | None],
) -> None:
    """Only a member of a participating site can be the trial's principal investigator, and only
    a member of the site can be that site's principal investigator."""
    by_id = {s.pk: s for s in sites}
    if principal_investigator is not None and not _member_at(
        principal_investigator, list(by_id), trial
    ):
        raise ValidationError(
            gettext(
                "%(user)s has no membership at any participating site "
                "(%(values)s); the principal investigator must be a member of one of them."
            )
            % {
                "user": principal_investigator.username,
                "values": ", ".join(sorted(s.code for s in sites)),
            },
            field="principal_investigator",
        )
    for site_id, user in site_investigators.items():
        if site_id not in by_id:
            raise ValidationError(
                gettext(
                    "Site %(site_id)s does not take part in the trial; it cannot have an investigator."
                )
                % {"site_id": site_id},
                field="sites",
            )
        if user is not None and not _member_at(user, [site_id], trial):
            raise ValidationError(
                gettext(
                    "%(user)s has no membership at %(site)s; a site's principal investigator must be a "
                    "member of that site."
                )
                % {"user": user.username, "site": by_id[site_id].code},
                field=f"site_pi_{site_id}",
            )


@transaction.atomic
def trial_create(
    *,
    data: Mapping[str, Any],
    sites: Sequence[Site],
    by: User,
    lead_site: Site | None = None,
    principal_investigator: User | None = None,
    site_investigators: Mapping[int, User | None] | None = None,
) -> Trial:
    """Create a trial at its participating sites, with its principal investigator (optional,
    a member of one of the sites) and each site's own investigator (optional)."""
    clean = _clean_trial_data(data, partial=False)
    if not sites:
        raise ValidationError(
            gettext("A trial needs at least one participating site."), field="sites"
        )
    if lead_site is not None and lead_site.pk not in {s.pk for s in sites}:
        raise ValidationError(
            gettext("The lead site %(lead_site)s must be one of the participating sites.")
            % {"lead_site": lead_site.code},
            field="lead_site",
        )
    site_pis = dict(site_investigators or {})
    _check_investigators(
        trial=None,
        sites=sites,
        principal_investigator=principal_investigator,
        site_investigators=site_pis,
    )
    if Trial.objects.filter(protocol_code=clean["protocol_code"]).exists():
        raise ConflictError(
            gettext("A trial with protocol code %(protocol_code)s already exists.")
            % {"protocol_code": repr(clean["protocol_code"])}
        )
    trial = Trial(**clean, principal_investigator=principal_investigator)
    trial._history_user = by  # type: ignore[attr-defined]
    trial.save()
    lead = lead_site or sites[0]
    for site in sites:
        TrialSite.objects.create(
            trial=trial,
            site=site,
            is_lead=site.pk == lead.pk,
            principal_investigator=site_pis.get(site.pk),
        )
    TrialStatusChange.objects.create(
        trial=trial,
        from_status="",
        to_status=trial.status,
        changed_at=timezone.now(),
        changed_by=by,
        reason="Created",
    )
    audit_record(
        action="create",
        instance=trial,
        changes={k: [None, v] for k, v in model_snapshot(trial).items()}
        | {"sites": [None, sorted(s.code for s in sites)]}
        | {"lead_site": [None, lead.code]}
        | (
            {"site_investigators": [None, _site_pi_names(site_pis, sites)]}
            if any(site_pis.values())
            else {}
        ),
        by=by,
    )
    return trial


def _site_pi_names(pis: Mapping[int, User | None], sites: Sequence[Site]) -> dict[str, str]:
    codes = {s.pk: s.code for s in sites}
    return {codes[k]: u.username for k, u in sorted(pis.items()) if u is not None and k in codes}


_UNCHANGED: Any = object()


@transaction.atomic
def trial_update(
    *,
    trial: Trial,
    changes: Mapping[str, Any],
    by: User,
    reason: str,
    expected_version: int,
    sites: Sequence[Site] | None = None,
    lead_site: Site | None = None,
    principal_investigator: User | None = _UNCHANGED,
    site_investigators: Mapping[int, User | None] | None = None,
) -> Trial:
    """Change trial fields, its participating sites (``sites``: the full new list), its lead
    site, its principal investigator and the sites' investigators, in one audited change.

    ``expected_version`` is the version the user edited: a stale edit is refused with a
    conflict, never silently applied over someone else's change. A site that holds records of
    the trial (registrations, ...) cannot leave it. Only a member of a participating site can be
    the principal investigator; only a member of a site can be its investigator."""
    if not reason.strip():
        raise ValidationError(
            gettext("A reason for change is required to edit a trial."), field="reason"
        )
    clean = _clean_trial_data(changes, partial=True)
    locked = Trial.objects.select_for_update().get(pk=trial.pk)
    if locked.version != expected_version:
        raise ConflictError(
            gettext(
                "Trial %(trial)s was changed by someone else (version %(version)s, you edited "
                "version %(expected_version)s); reload and apply your change again."
            )
            % {
                "trial": locked.protocol_code,
                "version": locked.version,
                "expected_version": expected_version,
            },
            current_version=locked.version,
        )
    before = model_snapshot(locked, clean.keys())
    for key, value in clean.items():
        setattr(locked, key, value)
    after = model_snapshot(locked, clean.keys())
    delta = diff(before, after)
    delta |= _update_sites_and_investigators(
        locked,
        sites=sites,
        lead_site=lead_site,
        principal_investigator=principal_investigator,
        site_investigators=site_investigators,
    )
    if not delta:
        return locked
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = reason  # type: ignore[attr-defined]
    try:
        locked.save()
    except IntegrityError:
        raise ConflictError(gettext("Another trial already uses that protocol code.")) from None
    audit_record(action="update", instance=locked, changes=delta, reason=reason, by=by)
    return locked


def _update_sites_and_investigators(
    trial: Trial,
    *,
    sites: Sequence[Site] | None,
    lead_site: Site | None,
    principal_investigator: User | None,
    site_investigators: Mapping[int, User | None] | None,
) -> dict[str, list[Any]]:
    """Apply the site and investigator part of ``trial_update`` (the trial row is locked);
    return what changed, for the audit event."""
    rows = {
        ts.site_id: ts
        for ts in TrialSite.objects.select_for_update(of=("self",))
        .filter(trial=trial)
        .select_related("site", "principal_investigator")
        .order_by("pk")
    }
    current_sites = [ts.site for ts in rows.values()]
    wanted = list(sites) if sites is not None else current_sites
    if not wanted:
        raise ValidationError(
            gettext("A trial needs at least one participating site."), field="sites"
        )
    wanted_ids = {s.pk for s in wanted}
    for site_id, ts in rows.items():
        if site_id in wanted_ids:
            continue
        held = site_usage(trial, ts.site)
        if held:
            what = ", ".join(f"{n} {_USAGE_WORDS.get(name, name)}" for name, n in held)
            raise ValidationError(
                gettext(
                    "Site %(site)s cannot leave %(trial)s: it holds %(what)s of this trial. A site "
                    "leaves a trial only when none of its patients is registered in it."
                )
                % {"site": ts.site.code, "trial": trial.protocol_code, "what": what},
                field="sites",
            )
    old_pis = {sid: ts.principal_investigator for sid, ts in rows.items()}
    new_pis = {s.pk: old_pis.get(s.pk) for s in wanted}
    new_pis.update(site_investigators or {})
    pi = (
        trial.principal_investigator
        if principal_investigator is _UNCHANGED
        else principal_investigator
    )
    _check_investigators(
        trial=trial, sites=wanted, principal_investigator=pi, site_investigators=new_pis
    )
    old_lead = next((ts.site for ts in rows.values() if ts.is_lead), None)
    if lead_site is not None and lead_site.pk not in wanted_ids:
        raise ValidationError(
            gettext("The lead site %(lead_site)s must be one of the participating sites.")
            % {"lead_site": lead_site.code},
            field="lead_site",
        )
    lead = lead_site or (old_lead if old_lead is not None and old_lead.pk in wanted_ids else None)
    lead = lead or sorted(wanted, key=lambda s: s.code)[0]
    delta: dict[str, list[Any]] = {}
    old_codes, new_codes = sorted(s.code for s in current_sites), sorted(s.code for s in wanted)
    if old_codes != new_codes:
        delta["sites"] = [old_codes, new_codes]
    if old_lead is None or old_lead.pk != lead.pk:
        delta["lead_site"] = [old_lead.code if old_lead else None, lead.code]
    if (trial.principal_investigator_id or None) != (pi.pk if pi else None):
        delta["principal_investigator_id"] = [
            trial.principal_investigator_id,
            pi.pk if pi else None,
        ]
        trial.principal_investigator = pi
    old_names = _site_pi_names(old_pis, current_sites)
    new_names = _site_pi_names(new_pis, wanted)
    if old_names != new_names:
        delta["site_investigators"] = [old_names, new_names]
    if not delta:
        return delta
    TrialSite.objects.filter(trial=trial).exclude(site_id__in=wanted_ids).delete()
    for site in wanted:
        row = rows.get(site.pk) or TrialSite(trial=trial, site=site)
        row.is_lead = site.pk == lead.pk
        row.principal_investigator = new_pis.get(site.pk)
        row.save()
    return delta


@transaction.atomic
def trial_change_status(
    *, trial: Trial, to_status: str, by: User, reason: str, at: Any = None
) -> TrialStatusChange:
    to_status = _choice("status", to_status, TrialStatus)
    locked = Trial.objects.select_for_update().get(pk=trial.pk)
    allowed = STATUS_TRANSITIONS[locked.status]
    if to_status not in allowed:
        options = ", ".join(sorted(allowed)) or "none (the trial is closed)"
        raise ValidationError(
            gettext(
                "A trial in status %(status)s cannot move to %(to_status)s; allowed: %(options)s."
            )
            % {"status": locked.status, "to_status": to_status, "options": options},
            field="status",
        )
    if not reason.strip():
        raise ValidationError(
            gettext("A reason is required to change a trial's status."), field="reason"
        )
    change = TrialStatusChange.objects.create(
        trial=locked,
        from_status=locked.status,
        to_status=to_status,
        changed_at=at or timezone.now(),
        changed_by=by,
        reason=reason,
    )
    old = locked.status
    locked.status = to_status
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = reason  # type: ignore[attr-defined]
    locked.save(update_fields=["status", "version"])
    audit_record(
        action="status", instance=locked, changes={"status": [old, to_status]}, reason=reason, by=by
    )
    return change


@transaction.atomic
def cohort_create(
    *,
    trial: Trial,
    code: str,
    name: str,
    kind: str,
    by: User,
    description: str = "",
    target_accrual: int | None = None,
    is_open: bool = True,
) -> Cohort:
    code = code.strip()
    if not code or not name.strip():
        raise ValidationError(
            gettext("A cohort needs a code and a name."), field="code" if not code else "name"
        )
    kind = _choice("kind", kind, CohortKind)
    if target_accrual is not None and target_accrual < 0:
        raise ValidationError(
            gettext("target_accrual must be ≥ 0; got %(target_accrual)s.")
            % {"target_accrual": target_accrual},
            field="target_accrual",
        )
    if Cohort.objects.filter(trial=trial, code=code).exists():
        raise ConflictError(
            gettext("Trial %(trial)s already has a cohort %(code)s.")
            % {"trial": trial, "code": repr(code)}
        )
    cohort = Cohort(
        trial=trial,
        code=code,
        name=name.strip(),
        kind=kind,
        description=description,
        target_accrual=target_accrual,
        is_open=is_open,
    )
    cohort._history_user = by  # type: ignore[attr-defined]
    cohort.save()
    audit_record(
        action="create",
        instance=cohort,
        changes={k: [None, v] for k, v in model_snapshot(cohort).items()},
        by=by,
    )
    return cohort


@transaction.atomic
def dose_level_create(
    *,
    cohort: Cohort,
    level: int,
    agent: str,
    dose: Decimal | float | str,
    unit: str,
    by: User,
    schedule: str = "",
) -> DoseLevel:
    amount = _dose_amount(dose)
    if not agent.strip() or not unit.strip():
        raise ValidationError(
            gettext("A dose level needs an agent and a unit."),
            field="agent" if not agent.strip() else "unit",
        )
    if DoseLevel.objects.filter(cohort=cohort, level=level, agent=agent.strip()).exists():
        raise ConflictError(
            gettext("Cohort %(cohort)s already has level %(level)s for %(agent)s.")
            % {"cohort": cohort, "level": level, "agent": agent.strip()}
        )
    dl = DoseLevel(
        cohort=cohort,
        level=level,
        agent=agent.strip(),
        dose=amount,
        unit=unit.strip(),
        schedule=schedule,
    )
    dl._history_user = by  # type: ignore[attr-defined]
    dl.save()
    audit_record(
        action="create",
        instance=dl,
        changes={k: [None, v] for k, v in model_snapshot(dl).items()},
        by=by,
    )
    return dl


COHORT_FIELDS = ("code", "name", "kind", "description", "target_accrual", "is_open")
DOSE_LEVEL_FIELDS = ("level", "agent", "dose", "unit", "schedule")
# What a patient was treated with: fixed once a row refers to the dose level.
_DOSE_DEFINING = ("level", "agent", "dose", "unit")


def _check_version(instance: Any, expected_version: int | None) -> None:
    if expected_version is not None and instance.version != expected_version:
        raise ConflictError(
            gettext(
                "%(instance)s was changed by someone else (version %(version)s, you edited version "
                "%(expected_version)s); reload and apply your change again."
            )
            % {
                "instance": instance,
                "version": instance.version,
                "expected_version": expected_version,
            },
            current_version=instance.version,
        )


def _referenced(instance: Any) -> bool:
    """True when a row of another table (a registration, an escalation plan or decision, ...)
    refers to ``instance``: the apps above this one are not imported, their relations are read."""
    for rel in instance._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one) or rel.related_model is type(instance):
            continue
        if rel.related_model._meta.model_name.startswith("historical"):
            continue
        if rel.related_model._default_manager.filter(**{rel.field.name: instance}).exists():
            return True
    return False


@transaction.atomic
def cohort_update(
    *,
    cohort: Cohort,
    changes: Mapping[str, Any],
    by: User,
    reason: str,
    expected_version: int | None = None,
) -> Cohort:
    """Change a cohort's fields (a reason is required); the change is audited."""
    unknown = set(changes) - set(COHORT_FIELDS)
    if unknown:
        raise ValidationError(
            gettext("Unknown cohort field(s): %(values)s.") % {"values": ", ".join(sorted(unknown))}
        )
    if not reason.strip():
        raise ValidationError(
            gettext("A reason for change is required to edit a cohort."), field="reason"
        )
    locked = Cohort.objects.select_for_update().get(pk=cohort.pk)
    _check_version(locked, expected_version)
    clean = dict(changes)
    if "code" in clean:
        clean["code"] = str(clean["code"]).strip()
        if not clean["code"]:
            raise ValidationError(gettext("A cohort needs a code."), field="code")
        if (
            Cohort.objects.filter(trial_id=locked.trial_id, code=clean["code"])
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise ValidationError(
                gettext("Trial %(trial)s already has a cohort %(code)s.")
                % {"trial": locked.trial, "code": repr(clean["code"])},
                field="code",
            )
    if "name" in clean:
        clean["name"] = str(clean["name"]).strip()
        if not clean["name"]:
            raise ValidationError(gettext("A cohort needs a name."), field="name")
    if "kind" in clean:
        clean["kind"] = _choice("kind", clean["kind"], CohortKind)
        if clean["kind"] != locked.kind and _referenced_by_plan(locked):
            raise ValidationError(
                gettext("%(cohort)s runs an escalation plan; its kind cannot change.")
                % {"cohort": locked},
                field="kind",
            )
    target = clean.get("target_accrual")
    if target is not None and target < 0:
        raise ValidationError(
            gettext("target_accrual must be ≥ 0; got %(target_accrual)s.")
            % {"target_accrual": target},
            field="target_accrual",
        )
    before = model_snapshot(locked, clean.keys())
    for key, value in clean.items():
        setattr(locked, key, value)
    delta = diff(before, model_snapshot(locked, clean.keys()))
    if not delta:
        return locked
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = reason  # type: ignore[attr-defined]
    locked.save()
    audit_record(action="update", instance=locked, changes=delta, reason=reason, by=by)
    return locked


def _referenced_by_plan(cohort: Cohort) -> bool:
    """True when a row of an app above holds the cohort one-to-one (its escalation plan)."""
    for rel in cohort._meta.related_objects:
        model: Any = rel.related_model
        if (
            rel.one_to_one
            and rel.field.name == "cohort"
            and model._default_manager.filter(cohort=cohort).exists()
        ):
            return True
    return False


def _dose_amount(dose: Any) -> Decimal:
    try:
        amount = Decimal(str(dose))
    except ArithmeticError:
        raise ValidationError(
            gettext("dose must be a number; got %(dose)s.") % {"dose": repr(dose)}, field="dose"
        ) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(
            gettext("dose must be a finite number ≥ 0; got %(dose)s.") % {"dose": repr(dose)},
            field="dose",
        )
    amount = amount.normalize()
    if amount != amount.quantize(Decimal("0.0001")) or amount >= Decimal("1e8"):
        raise ValidationError(
            gettext(
                "dose is kept to 4 decimals below 100,000,000; got %(dose)s. Change the unit (e.g. "
                "µg instead of mg) rather than lose precision."
            )
            % {"dose": repr(dose)},
            field="dose",
        )
    return amount


@transaction.atomic
def dose_level_update(
    *,
    dose_level: DoseLevel,
    changes: Mapping[str, Any],
    by: User,
    reason: str,
    expected_version: int | None = None,
) -> DoseLevel:
    """Change a dose level (a reason is required). Its level, agent, dose and unit are fixed
    once a patient, a plan or a decision refers to it: what was given is never rewritten."""
    unknown = set(changes) - set(DOSE_LEVEL_FIELDS)
    if unknown:
        raise ValidationError(
            gettext("Unknown dose-level field(s): %(values)s.")
            % {"values": ", ".join(sorted(unknown))}
        )
    if not reason.strip():
        raise ValidationError(
            gettext("A reason for change is required to edit a dose level."), field="reason"
        )
    locked = DoseLevel.objects.select_for_update().get(pk=dose_level.pk)
    _check_version(locked, expected_version)
    clean = dict(changes)
    if "dose" in clean:
        clean["dose"] = _dose_amount(clean["dose"])
    for key in ("agent", "unit"):
        if key in clean:
            clean[key] = str(clean[key]).strip()
            if not clean[key]:
                raise ValidationError(gettext("A dose level needs an agent and a unit."), field=key)
    before = model_snapshot(locked, clean.keys())
    for key, value in clean.items():
        setattr(locked, key, value)
    delta = diff(before, model_snapshot(locked, clean.keys()))
    if not delta:
        return locked
    fixed = [k for k in _DOSE_DEFINING if k in delta]
    if fixed and _referenced(locked):
        raise ValidationError(
            gettext(
                "%(dose_level)s is already in use (patients, an escalation plan or a decision refer "
                "to it); its %(fixed)s cannot change. Add a new dose level instead."
            )
            % {"dose_level": dose_level, "fixed": fixed[0]},
            field=fixed[0],
        )
    if (
        DoseLevel.objects.filter(cohort_id=locked.cohort_id, level=locked.level, agent=locked.agent)
        .exclude(pk=locked.pk)
        .exists()
    ):
        raise ValidationError(
            gettext("Cohort %(cohort)s already has level %(level)s for %(agent)s.")
            % {"cohort": locked.cohort, "level": locked.level, "agent": locked.agent},
            field="level",
        )
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = reason  # type: ignore[attr-defined]
    locked.save()
    audit_record(action="update", instance=locked, changes=delta, reason=reason, by=by)
    return locked


def schedule_problems(document: Any) -> list[Any]:
    """The core's problems for a schedule document (errors and warnings, with stable codes),
    worded in the active language."""
    from oncotrials.core.schedule import check_schedule_document

    from .schedule_messages import problem_translated

    return [problem_translated(p) for p in check_schedule_document(document)]


@transaction.atomic
def schedule_set(
    *, trial: Trial, document: Mapping[str, Any], by: User, reason: str = ""
) -> VisitScheduleDefinition:
    """Declare or replace the trial's visit schedule; a schedule with errors is refused whole."""
    from oncotrials.core.schedule import load_schedule

    from .schedule_messages import SCHEDULE_MESSAGES

    with core_errors_translated(SCHEDULE_MESSAGES):  # schema faults name the path
        load_schedule(
            document,
            source=gettext("visit schedule of %(protocol_code)s")
            % {"protocol_code": trial.protocol_code},
        )
    errors = [p for p in schedule_problems(document) if p.is_error]
    if errors:
        raise ValidationError(
            gettext("The visit schedule has %(count)s error(s); first: %(code)s %(message)s")
            % {"count": len(errors), "code": errors[0].code, "message": errors[0].message},
            field="document",
            problems=[f"{p.code} {p.message}" for p in errors],
        )
    existing = VisitScheduleDefinition.objects.select_for_update().filter(trial=trial).first()
    if existing is None:
        definition = VisitScheduleDefinition.objects.create(trial=trial, document=dict(document))
        audit_record(
            action="create",
            instance=definition,
            changes={"document": [None, dict(document)]},
            by=by,
        )
        return definition
    if not reason.strip():
        raise ValidationError(
            gettext("A reason (e.g. the protocol amendment) is required to change a schedule."),
            field="reason",
        )
    old = existing.document
    existing.document = dict(document)
    existing.version += 1
    existing.save()
    audit_record(
        action="update",
        instance=existing,
        changes={"document": [old, dict(document)]},
        reason=reason,
        by=by,
    )
    return existing
