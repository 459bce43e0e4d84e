"""Tumour-board pages: parse, authorise (404 for what the user may not see), call one service,
render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.view_helpers import visible_or_404 as _visible
from oncotrials.apps.subjects.models import Patient
from oncotrials.core.errors import NotFoundError, OncotrialsError, PermissionDeniedError

from .forms import (
    CaseAddForm,
    CaseJudgementForm,
    FunnelFilterForm,
    MeetingForm,
    MeetingPeopleForm,
    MeetingStatusForm,
    RecommendationEditForm,
    RecommendationForm,
    RecommendationSignForm,
)
from .models import MEETING_TRANSITIONS, MtbCase
from .selectors import (
    ACTIONABLE_TIERS,
    REFERRAL_STATES,
    Funnel,
    case_detail,
    case_get_for_user,
    cases_of,
    funnel,
    may_organise,
    may_sign,
    meeting_get_for_user,
    meetings_for_user,
    patient_for_board,
    recommendation_get_for_user,
    referrals_for_user,
    sites_for_user,
)
from .services import (
    agenda_build,
    agenda_candidates,
    agenda_window,
    case_add,
    case_update,
    meeting_create,
    meeting_update,
    recommendation_create,
    recommendation_sign,
    recommendation_update,
)


# --------------------------------------------------------------------------------- meetings
@login_required
@_visible
def meetings(request: HttpRequest) -> HttpResponse:
    sites = sites_for_user(request.user)
    form = MeetingForm(request.POST or None, sites=sites)
    refused = False
    if request.method == "POST":
        refused = True
        if form.is_valid():
            try:
                site = form.cleaned_data["site"]
                chair = form.cleaned_data.get("chair")
                meeting = meeting_create(
                    site=site,
                    held_on=form.cleaned_data["held_on"],
                    title=form.cleaned_data["title"],
                    chair=chair,
                    attendees=list(form.cleaned_data.get("attendees") or []),
                    by=acting_user(request.user),
                )
                return redirect("mtb-meeting", meeting_id=meeting.pk)
            except PermissionDeniedError:
                raise
            except OncotrialsError as exc:
                _form_error(form, exc)
    organiser_sites = [s for s in sites if may_organise(request.user, s.pk)]
    return render(
        request,
        "mtb/meetings.html",
        {
            "meetings": meetings_for_user(user=request.user)[:200],
            "form": form if organiser_sites else None,
        },
        status=422 if refused else 200,
    )


def _form_error(form: Any, exc: OncotrialsError) -> None:
    """A service's refusal shown beside the field it names (or above the form)."""
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


@login_required
@_visible
def meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    m = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    error, refused = "", False
    add_form = CaseAddForm()
    people_form: MeetingPeopleForm | None = None
    status_form = MeetingStatusForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "build":
                agenda_build(meeting=m, by=acting_user(request.user))
            elif action == "add":
                add_form = CaseAddForm(request.POST)
                if not add_form.is_valid():
                    raise _Refused
                try:
                    patient = _patient_by_research_id(request, add_form.cleaned_data["research_id"])
                except NotFoundError:
                    add_form.add_error(
                        "research_id",
                        gettext("No patient %(id)s that you may see.")
                        % {"id": add_form.cleaned_data["research_id"]},
                    )
                    raise _Refused from None
                try:
                    case_add(
                        meeting=m,
                        patient=patient,
                        reason=add_form.cleaned_data["reason"],
                        by=acting_user(request.user),
                    )
                except PermissionDeniedError:
                    raise
                except OncotrialsError as exc:
                    field = exc.extra.get("field")
                    add_form.add_error(
                        "research_id"
                        if field == "patient"
                        else field
                        if field in add_form.fields
                        else None,
                        exc.message,
                    )
                    raise _Refused from None
            elif action == "status":
                status_form = MeetingStatusForm(request.POST)
                if not status_form.is_valid():
                    raise _Refused
                try:
                    meeting_update(
                        meeting=m,
                        version=status_form.cleaned_data["version"],
                        status=status_form.cleaned_data["status"],
                        by=acting_user(request.user),
                    )
                except PermissionDeniedError:
                    raise
                except OncotrialsError as exc:
                    status_form.add_error(None, exc.message)
                    raise _Refused from None
            elif action == "people":
                people_form = MeetingPeopleForm(request.POST, meeting=m)
                if not people_form.is_valid():
                    raise _Refused
                try:
                    meeting_update(
                        meeting=m,
                        version=people_form.cleaned_data["version"],
                        chair=people_form.cleaned_data.get("chair"),
                        attendees=list(people_form.cleaned_data.get("attendees") or []),
                        by=acting_user(request.user),
                    )
                except PermissionDeniedError:
                    raise
                except OncotrialsError as exc:
                    _form_error(people_form, exc)
                    raise _Refused from None
            else:
                raise NotFoundError(gettext("Unknown action."))
            return redirect("mtb-meeting", meeting_id=m.pk)
        except _Refused:
            refused = True
            m = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
        except (PermissionDeniedError, NotFoundError):
            raise
        except OncotrialsError as exc:
            error = exc.message
            m = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    since, until = agenda_window(m)
    organiser = may_organise(request.user, m.site_id)
    waiting = len(agenda_candidates(m)) if organiser and m.status != "closed" else None
    attendees = list(m.attendees.all())
    return render(
        request,
        "mtb/meeting.html",
        {
            "meeting": m,
            "cases": cases_of(meeting=m),
            "since": since,
            "until": until,
            "next_statuses": sorted(MEETING_TRANSITIONS[m.status]),
            "attendees": attendees,
            "may_organise": organiser,
            "waiting": waiting,
            "add_form": add_form,
            "people_form": people_form or MeetingPeopleForm(meeting=m, attendees=attendees),
            "status_form": status_form,
            "error": error,
        },
        status=422 if error or refused else 200,
    )


class _Refused(Exception):
    """A form of the page was refused; its errors are on the form."""


def _patient_by_research_id(request: HttpRequest, research_id: str) -> Patient:
    p = Patient.objects.filter(research_id=research_id.strip()).first()
    if p is None:
        raise NotFoundError(
            gettext("No patient %(research_id)s that you may see.")
            % {"research_id": repr(research_id)}
        )
    return patient_for_board(user=request.user, patient_id=p.pk)


# ------------------------------------------------------------------------------------ cases
@login_required
@_visible
def case(request: HttpRequest, case_id: int) -> HttpResponse:
    c = case_get_for_user(user=request.user, case_id=case_id)
    if request.method != "POST":
        return _case_page(request, c)
    action = request.POST.get("action", "")
    by = acting_user(request.user)
    if action == "recommend":
        form = RecommendationForm(request.POST, site=c.meeting.site)
        if form.is_valid() and _applied(
            form, lambda: recommendation_create(case=c, by=by, **form.service_kwargs())
        ):
            return redirect("mtb-case", case_id=c.pk)
        return _case_page(request, c, form=form)
    if action == "actionable":
        judgement = CaseJudgementForm(request.POST, case=c)
        if judgement.is_valid() and _applied(
            judgement, lambda: case_update(case=c, by=by, **judgement.service_kwargs())
        ):
            return redirect("mtb-case", case_id=c.pk)
        return _case_page(request, c, judgement=judgement)
    raise NotFoundError(gettext("Unknown action."))


def _applied(form: Any, write: Callable[[], object]) -> bool:
    """Call the service; its refusal goes beside the field it names. A refusal of the user's
    rights is not a form error: it propagates (403)."""
    try:
        write()
    except PermissionDeniedError:
        raise
    except OncotrialsError as exc:
        _form_error(form, exc)
        return False
    return True


@login_required
@require_POST
@_visible
def recommendation_edit(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    rec = recommendation_get_for_user(user=request.user, recommendation_id=recommendation_id)
    form = RecommendationEditForm(request.POST, recommendation=rec)
    if form.is_valid() and _applied(
        form,
        lambda: recommendation_update(
            recommendation=rec, by=acting_user(request.user), **form.service_kwargs()
        ),
    ):
        return redirect("mtb-case", case_id=rec.case_id)
    c = case_get_for_user(user=request.user, case_id=rec.case_id)
    return _case_page(request, c, edit={rec.pk: form})


@login_required
@require_POST
@_visible
def recommendation_sign_view(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    rec = recommendation_get_for_user(user=request.user, recommendation_id=recommendation_id)
    form = RecommendationSignForm(request.POST, recommendation=rec)
    if form.is_valid():
        try:
            recommendation_sign(
                recommendation=rec,
                meaning=form.cleaned_data["meaning"],
                password=form.cleaned_data["password"],
                by=acting_user(request.user),
            )
            return redirect("mtb-case", case_id=rec.case_id)
        except PermissionDeniedError as exc:
            # A wrong password (or signing locked after wrong ones) belongs to the password
            # field; any other refusal of the right to sign is a 403.
            if exc.extra.get("field") != "password":
                raise
            form.add_error("password", exc.message)
        except OncotrialsError as exc:
            _form_error(form, exc)
    c = case_get_for_user(user=request.user, case_id=rec.case_id)
    return _case_page(request, c, sign={rec.pk: form})


def _case_page(
    request: HttpRequest,
    c: MtbCase,
    *,
    form: RecommendationForm | None = None,
    judgement: CaseJudgementForm | None = None,
    edit: dict[int, RecommendationEditForm] | None = None,
    sign: dict[int, RecommendationSignForm] | None = None,
) -> HttpResponse:
    """The case page; a refused form comes back bound (its errors beside its fields, what was
    typed kept) with status 422, every other form fresh."""
    refused = any(f is not None for f in (form, judgement)) or bool(edit) or bool(sign)
    c = case_get_for_user(user=request.user, case_id=c.pk)
    detail = case_detail(user=request.user, case=c)
    edit, sign = edit or {}, sign or {}
    recommendations = [
        {
            "rec": rec,
            "sig": sig,
            "state": state,
            "edit": edit.get(rec.pk) or RecommendationEditForm(recommendation=rec),
            "sign": sign.get(rec.pk) or RecommendationSignForm(recommendation=rec),
            "open": rec.pk in edit,
        }
        for rec, sig, state in detail.recommendations
    ]
    return render(
        request,
        "mtb/case.html",
        {
            "case": c,
            "d": detail,
            "recommendations": recommendations,
            "form": form or RecommendationForm(site=c.meeting.site),
            "judgement": judgement or CaseJudgementForm(case=c),
            "actionable_tiers": ACTIONABLE_TIERS,
            "may_organise": may_organise(request.user, c.meeting.site_id),
            "may_sign": may_sign(request.user, c.meeting),
        },
        status=422 if refused else 200,
    )


# -------------------------------------------------------------------------------- referrals
@login_required
@_visible
def referrals(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in REFERRAL_STATES:
        state = ""
    return render(
        request,
        "mtb/referrals.html",
        {
            "rows": referrals_for_user(user=request.user, state=state),
            "states": REFERRAL_STATES,
            "state": state,
        },
    )


# ----------------------------------------------------------------------------------- funnel
def _funnel_args(request: HttpRequest) -> tuple[dict[str, Any], FunnelFilterForm]:
    form = FunnelFilterForm(request.GET or None, sites=sites_for_user(request.user))
    args: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        args = {
            "site": form.cleaned_data.get("site"),
            "date_from": form.cleaned_data.get("date_from"),
            "date_to": form.cleaned_data.get("date_to"),
        }
    return args, form


@login_required
@_visible
def funnel_page(request: HttpRequest) -> HttpResponse:
    args, form = _funnel_args(request)
    f = funnel(user=request.user, **args)
    return render(
        request,
        "mtb/funnel.html",
        {"funnel": f, "form": form, "query": request.GET.urlencode()},
        status=422 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
@_visible
def funnel_svg(request: HttpRequest) -> HttpResponse:
    args, _form = _funnel_args(request)
    f = funnel(user=request.user, **args)
    response = HttpResponse(render_funnel_svg(f), content_type="image/svg+xml")
    if request.GET.get("download"):
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="mtb-funnel-{stamp}.svg"'
    return response


STAGES = ("screened", "actionable", "referred", "included")
STAGE_COLOURS = ("#9ecae1", "#4292c6", "#2171b5", "#08306b")
STAGE_LABELS = {
    "screened": gettext_lazy("Screened"),
    "actionable": gettext_lazy("Actionable"),
    "referred": gettext_lazy("Referred"),
    "included": gettext_lazy("Included"),
}


def render_funnel_svg(f: Funnel) -> str:
    """A horizontal funnel per site (matplotlib, Agg, SVG): patients at each stage."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    # One panel per site, and the total when there are several.
    rows = [*f.rows, f.total] if len(f.rows) > 1 else (f.rows or [f.total])
    rc: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "oncotrials", "font.size": 9}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(7.5, 1.0 + 1.3 * len(rows)))
        axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
        for ax, row in zip(axes, rows, strict=True):
            values = [getattr(row, s) for s in STAGES]
            top = max(values[0], 1)
            bars = ax.barh(
                [str(STAGE_LABELS[s]) for s in STAGES][::-1],
                values[::-1],
                color=list(STAGE_COLOURS)[::-1],
                height=0.7,
            )
            for bar, value, stage in zip(bars, values[::-1], list(STAGES)[::-1], strict=True):
                bar.set_gid(f"funnel-{row.site_code}-{stage}")
                pct = (
                    f" ({100 * value / values[0]:.0f}%)"
                    if values[0] and stage != "screened"
                    else ""
                )
                ax.text(
                    value + top * 0.01,
                    bar.get_y() + bar.get_height() / 2,
                    f"{value}{pct}",
                    va="center",
                )
            median = row.median_days_to_inclusion
            title = row.site_name + (
                " — "
                + gettext("median %(days)s days from report to inclusion") % {"days": f"{median:g}"}
                if median is not None
                else ""
            )
            ax.set_title(title, loc="left")
            ax.set_xlim(0, top * 1.25)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
