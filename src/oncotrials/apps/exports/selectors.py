"""Reads of data cuts, filtered by the one rule of access (``accounts.access.scope_condition``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, Target, may, scope_condition
from oncotrials.apps.accounts.models import Actor, Site
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.trials.models import Trial
from oncotrials.apps.trials.selectors import trials_visible_to
from oncotrials.core.errors import NotFoundError

from .models import DataCut


def data_cuts_visible_to(user: Actor) -> QuerySet[DataCut]:
    """Cuts whose every site the user sees for the cut's trial (a cut holding another site's
    patients stays hidden, even from a monitor of the same trial)."""
    cond = scope_condition(user, site="cut_sites__site_id", trial="trial_id")
    cuts = DataCut.objects.all()
    if cond is None:
        return cuts
    return cuts.annotate(
        n_sites=Count("cut_sites", distinct=True),
        n_seen=Count("cut_sites", filter=cond, distinct=True),
    ).filter(n_seen=F("n_sites"), n_sites__gt=0)


def data_cuts_for_user(*, user: Actor, trial_id: int | None = None) -> QuerySet[DataCut]:
    cuts = data_cuts_visible_to(user).select_related("trial", "created_by")
    if trial_id is not None:
        cuts = cuts.filter(trial_id=trial_id)
    return cuts.order_by("-created_at", "-pk")


def data_cut_get_for_user(*, user: Actor, cut_id: int) -> DataCut:
    cut = data_cuts_for_user(user=user).filter(pk=cut_id).first()
    if cut is None:
        raise NotFoundError(
            gettext("No data cut %(cut_id)s that you may see.") % {"cut_id": cut_id}
        )
    return cut


def export_sites(*, user: Actor | None, trial: Trial) -> list[Site]:
    """The sites of ``trial`` whose registrations ``user`` may export (every site of the
    trial's registrations and participating sites for a system export, ``user=None``)."""
    ids = set(trial.trial_sites.values_list("site_id", flat=True)) | set(
        Registration.objects.filter(trial=trial).values_list("patient__site_id", flat=True)
    )
    sites = list(Site.objects.filter(pk__in=ids).order_by("code"))
    if user is None:
        return sites
    return [
        s
        for s in sites
        if may(user, Action.EXPORT_DATA, on=Target(frozenset({s.pk}), frozenset({trial.pk})))
    ]


def trials_exportable_by(user: Actor) -> list[Trial]:
    return [
        t
        for t in trials_visible_to(user).order_by("protocol_code")
        if export_sites(user=user, trial=t)
    ]


def cut_summary(cut: DataCut) -> dict[str, Any]:
    return {
        "id": cut.pk,
        "name": cut.name,
        "trial_id": cut.trial_id,
        "trial": cut.trial.protocol_code,
        "created_at": cut.created_at,
        "created_by": cut.created_by.username if cut.created_by else "",
        "reason": cut.reason,
        "formats": list(cut.formats),
        "sites": list(cut.cut_sites.order_by("site__code").values_list("site__code", flat=True)),
        "subjects": cut.subjects,
        "files": [
            {"format": fmt, "name": name, "sha256": info["sha256"], "bytes": info["bytes"]}
            for fmt in cut.formats
            for name, info in sorted(cut.files.get(fmt, {}).items())
        ],
    }


__all__ = ["Q"]
