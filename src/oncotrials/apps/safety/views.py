"""Safety pages: parse, authorise (404 for what the user may not see), call one service, render."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from oncotrials.apps.accounts.access import (
    Action,
    acting_user,
    allows,
    may,
    refusal,
    require,
    roles_on,
    sites_where,
)
from oncotrials.apps.accounts.models import Site
from oncotrials.apps.accounts.view_helpers import csv_response, wants_csv
from oncotrials.apps.accounts.view_helpers import int_or_none as _int
from oncotrials.apps.accounts.view_helpers import visible_or_404 as _visible
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.subjects.selectors import (
    arm_visible_to,
    patient_get_for_user,
    registrations_visible_to,
)
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.errors import NotFoundError, OncotrialsError, PermissionDeniedError
from oncotrials.core.grading import (
    Consciousness,
    MotorFindings,
    OxygenDevice,
    RaisedIcp,
    Seizure,
    load_catalogue,
)

from .dlt_review import dlt_case_adjudicate, dlt_evaluate, dlt_rules_save, dlt_status_for
from .dlt_templates import DLT_TEMPLATES
from .e2b import icsr_export
from .forms import AdverseEventForm
from .models import (
    AdverseEvent,
    Attribution,
    DltCaseStatus,
    DltRuleSet,
    RecordStatus,
)
from .rights import agents_for_registration
from .selectors import (
    adverse_event_get_for_user,
    adverse_events_for_user,
    ae_summary,
    astct_for_registration,
    dlt_case_get_for_user,
    dlt_cases_for_user,
    dlt_table,
    dlt_tracker,
    irae_register,
    registration_get_for_user,
    roles_for_registration,
    sae_worklist,
    toxicity_case_get_for_user,
    toxicity_cases,
    toxicity_meeting_get_for_user,
    toxicity_meetings_for_user,
    trials_in_escalation_without_rules,
)
from .services import (
    ASTCT_MODALITIES,
    adverse_event_create,
    adverse_event_update,
    adverse_event_void,
    astct_assessment_record,
    completion_issues,
    sae_report_record,
)
from .toxicity_board import toxicity_cases_build, toxicity_meeting_create, toxicity_recommend

# ------------------------------------------------------------------------------- dashboard


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "safety/dashboard.html",
        {
            "sae_rows": sae_worklist(user=request.user),
            "proposed": dlt_cases_for_user(user=request.user, status=DltCaseStatus.PROPOSED)[:200],
            "unruled": trials_in_escalation_without_rules(user=request.user),
            "now": timezone.now(),
        },
    )


@login_required
def irae(request: HttpRequest) -> HttpResponse:
    return render(request, "safety/irae.html", {"events": irae_register(user=request.user)[:1000]})


@login_required
def terms(request: HttpRequest) -> HttpResponse:
    """``<option>`` elements of CTCAE terms for the term field's datalist (htmx)."""
    q = request.GET.get("term", request.GET.get("q", "")).strip().casefold()[:60]
    found = [t for t in load_catalogue() if q and q in t.term.casefold()][:30]
    return render(request, "safety/_partials/term_options.html", {"terms": found})


# ------------------------------------------------------------------------- patient AE pages


@login_required
@_visible
def patient_aes(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    regs = (
        registrations_visible_to(request.user)
        .filter(patient=patient)
        .select_related("trial__randomisation_scheme", "cohort", "dose_level", "patient")
    )
    blocks = []
    for reg in regs:
        roles = roles_for_registration(request.user, reg)
        blocks.append(
            {
                "registration": reg,
                "arm_visible": arm_visible_to(user=request.user, registration=reg),
                "events": adverse_events_for_user(user=request.user, registration_id=reg.pk),
                "dlt_status": dlt_status_for(reg),
                "dlt_cases": dlt_cases_for_user(user=request.user).filter(registration=reg),
                "astct": astct_for_registration(registration=reg),
                "may_write": allows(roles, Action.RECORD_AE),
                "has_rules": DltRuleSet.objects.filter(trial_id=reg.trial_id).exists(),
                "astct_allowed": reg.trial.modality in ASTCT_MODALITIES,
            }
        )
    return render(
        request,
        "safety/patient_aes.html",
        {
            "patient": patient,
            "blocks": blocks,
            "oxygen_devices": [d.value for d in OxygenDevice],
            "consciousness_levels": [c.value for c in Consciousness],
            "seizures": [x.value for x in Seizure],
            "motor_findings": [m.value for m in MotorFindings],
            "raised_icp": [r.value for r in RaisedIcp],
            "attribution_choices": Attribution.choices,
        },
    )


def _ae_form(
    request: HttpRequest, registration: Registration, *, ae: AdverseEvent | None = None
) -> AdverseEventForm:
    """The AE form, bound to the post (or filled from ``ae``)."""
    needs_reason = bool(ae and ae.first_completed_at)
    agents = agents_for_registration(registration)
    if request.method == "POST":
        return AdverseEventForm(request.POST, agents=agents, needs_reason=needs_reason)
    initial = _values_of(ae) if ae is not None else {}
    return AdverseEventForm(initial=initial, agents=agents, needs_reason=needs_reason)


def _form_context(
    registration: Registration,
    form: AdverseEventForm,
    *,
    ae: AdverseEvent | None = None,
    issues: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "registration": registration,
        "ae": ae,
        "form": form,
        "issues": issues if issues is not None else [],
    }


def _values_of(ae: AdverseEvent) -> dict[str, Any]:
    return {
        "term": ae.term,
        "verbatim": ae.verbatim,
        "grade": ae.grade,
        "onset_date": ae.onset_date,
        "resolution_date": ae.resolution_date,
        "seriousness": ae.seriousness,
        **{f"attribution__{a}": v for a, v in (ae.attribution or {}).items()},
        "action_taken": ae.action_taken,
        "outcome": ae.outcome,
        "immune_related": ae.immune_related,
        "expected": ae.expected,
        "supportive_care": ae.supportive_care,
        "due_to_progression": ae.due_to_progression,
    }


def _render_form(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    template = (
        "safety/_partials/ae_form.html"
        if getattr(request, "htmx", False)
        else "safety/ae_form.html"
    )
    return render(request, template, context, status=status)


def _saved(request: HttpRequest, ae: AdverseEvent) -> HttpResponse:
    url = reverse("safety-patient-aes", args=[ae.registration.patient_id])
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@_visible
def ae_new(request: HttpRequest, registration_id: int) -> HttpResponse:
    registration = registration_get_for_user(user=request.user, registration_id=registration_id)
    require(request.user, Action.RECORD_AE, on=registration)
    form = _ae_form(request, registration)
    if request.method != "POST":
        return _render_form(request, _form_context(registration, form))
    if form.is_valid():
        try:
            ae = adverse_event_create(
                registration=registration,
                data=form.service_data(),
                by=acting_user(request.user),
                complete=request.POST.get("action") == "complete",
            )
        except (PermissionDeniedError, NotFoundError):
            raise
        except OncotrialsError as exc:
            form.refused(exc)
        else:
            return _saved(request, ae)
    return _render_form(request, _form_context(registration, form), status=422)


@login_required
@_visible
def ae_edit(request: HttpRequest, ae_id: int) -> HttpResponse:
    ae = adverse_event_get_for_user(user=request.user, ae_id=ae_id)
    registration = ae.registration
    may_write = may(request.user, Action.RECORD_AE, on=registration)
    form = _ae_form(request, registration, ae=ae)
    if request.method != "POST":
        context = _form_context(
            registration,
            form,
            ae=ae,
            issues=[] if ae.status == RecordStatus.COMPLETE else completion_issues(ae),
        )
        context["read_only"] = not may_write or ae.voided
        context["may_report"] = may(request.user, Action.REPORT_SAE, on=registration)
        context["may_void"] = may_write and not ae.voided
        return _render_form(request, context)
    if not may_write:
        raise refusal(Action.RECORD_AE, roles_on(request.user, registration))
    status = 422
    if form.is_valid():
        try:
            saved = adverse_event_update(
                ae=ae,
                data=form.service_data(),
                version=_int(request.POST.get("version")) or 0,
                by=acting_user(request.user),
                complete=request.POST.get("action") == "complete",
                reason=form.cleaned_data.get("reason", ""),
            )
        except (PermissionDeniedError, NotFoundError):
            raise
        except OncotrialsError as exc:
            form.refused(exc)
            current = exc.extra.get("current")
            if isinstance(current, dict):  # a stale save: show the other user's values
                status = 409
                context = _form_context(registration, form, ae=ae)
                context["conflict"] = sorted(current.items())
                return _render_form(request, context, status=status)
        else:
            return _saved(request, saved)
    return _render_form(request, _form_context(registration, form, ae=ae), status=status)


@login_required
@require_POST
@_visible
def ae_void(request: HttpRequest, ae_id: int) -> HttpResponse:
    """Void an AE entered in error (it is never deleted): it stays listed, struck through."""
    ae = adverse_event_get_for_user(user=request.user, ae_id=ae_id)
    try:
        adverse_event_void(
            ae=ae,
            version=_int(request.POST.get("version")) or 0,
            reason=request.POST.get("reason", "")[:1000],
            by=acting_user(request.user),
        )
    except (PermissionDeniedError, NotFoundError):
        raise
    except OncotrialsError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return redirect("safety-ae-edit", ae_id=ae.pk)


@login_required
@require_POST
@_visible
def registration_evaluate(request: HttpRequest, registration_id: int) -> HttpResponse:
    registration = registration_get_for_user(user=request.user, registration_id=registration_id)
    try:
        dlt_evaluate(registration=registration, by=acting_user(request.user))
    except (PermissionDeniedError, NotFoundError):
        raise
    except OncotrialsError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return redirect("safety-dlt-review")


@login_required
@require_POST
@_visible
def sae_report(request: HttpRequest, ae_id: int) -> HttpResponse:
    """Record that an SAE report was sent (from the AE page)."""
    ae = adverse_event_get_for_user(user=request.user, ae_id=ae_id)
    try:
        sent_at = dt.datetime.fromisoformat(request.POST.get("sent_at", ""))
    except ValueError:
        return HttpResponse("sent_at must be a date and time such as 2026-11-20T14:30.", status=422)
    if timezone.is_naive(sent_at):
        sent_at = timezone.make_aware(sent_at, dt.UTC)
    try:
        sae_report_record(
            ae=ae,
            kind=request.POST.get("kind", ""),
            sent_at=sent_at,
            notes=request.POST.get("notes", "")[:2000],
            by=acting_user(request.user),
        )
    except (PermissionDeniedError, NotFoundError):
        raise
    except OncotrialsError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return redirect("safety-ae-edit", ae_id=ae.pk)


@login_required
@require_GET
@_visible
def sae_icsr(request: HttpRequest, ae_id: int) -> HttpResponse:
    """Download the E2B(R3) ICSR of one SAE report version (``?report=N``; default the latest)."""
    ae = adverse_event_get_for_user(user=request.user, ae_id=ae_id)
    try:
        icsr = icsr_export(
            ae=ae, by=acting_user(request.user), sequence=_int(request.GET.get("report"))
        )
    except (PermissionDeniedError, NotFoundError):
        raise
    except OncotrialsError as exc:
        return HttpResponse(exc.message, status=exc.status)
    response = HttpResponse(icsr.content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{icsr.filename}"'
    return response


CRS_FLAGS = (
    "fever_other_cause",
    "antipyretic_or_anticytokine_given",
    "hypotension",
    "hypotension_other_cause",
    "hypoxia_other_cause",
    "death_from_crs",
)
ICANS_FLAGS = ("consciousness_other_cause", "death_from_icans")


def _astct_parameters(request: HttpRequest, scale: str) -> dict[str, Any]:
    post = request.POST
    params: dict[str, Any] = {}
    if scale == "ASTCT_CRS":
        if post.get("temperature_c"):
            params["temperature_c"] = post["temperature_c"]
        if post.get("oxygen_flow_l_min"):
            params["oxygen_flow_l_min"] = post["oxygen_flow_l_min"]
        params["oxygen_device"] = post.get("oxygen_device", "none")
        params["vasopressors"] = [
            v.strip() for v in post.get("vasopressors", "").split(",") if v.strip()
        ]
        for flag in CRS_FLAGS:
            params[flag] = post.get(flag) == "on"
    else:
        if post.get("ice_score"):
            raw = post["ice_score"]
            params["ice_score"] = _int(raw) if _int(raw) is not None else raw
        for key in ("consciousness", "seizure", "motor", "raised_icp"):
            if post.get(key):
                params[key] = post[key]
        for flag in ICANS_FLAGS:
            params[flag] = post.get(flag) == "on"
    return params


@login_required
@require_POST
@_visible
def astct_new(request: HttpRequest, registration_id: int) -> HttpResponse:
    """Record a CRS or ICANS assessment; the ASTCT grade is computed and shown with its rule."""
    registration = registration_get_for_user(user=request.user, registration_id=registration_id)
    scale = request.POST.get("scale", "")
    try:
        assessed_at = dt.datetime.fromisoformat(request.POST.get("assessed_at", ""))
    except ValueError:
        return HttpResponse(
            "assessed_at must be a date and time such as 2026-11-20T14:30.", status=422
        )
    try:
        astct_assessment_record(
            registration=registration,
            scale=scale,
            assessed_at=assessed_at,
            parameters=_astct_parameters(request, scale),
            attribution=request.POST.get("attribution", ""),
            by=acting_user(request.user),
        )
    except (PermissionDeniedError, NotFoundError):
        raise
    except OncotrialsError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return redirect("safety-patient-aes", patient_id=registration.patient_id)


# ----------------------------------------------------------------------------- trial pages


@login_required
@_visible
def trial_safety(request: HttpRequest, trial_id: int) -> HttpResponse | StreamingHttpResponse:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    if request.method == "GET" and wants_csv(request):
        return _ae_listing_csv(request, trial)
    rule_set = DltRuleSet.objects.filter(trial=trial).first()
    error = ""
    if request.method == "POST":
        try:
            dlt_rules_save(
                trial=trial,
                document=request.POST.get("document", ""),
                version=_int(request.POST.get("version")),
                reason=request.POST.get("reason", ""),
                by=acting_user(request.user),
            )
            return redirect("safety-trial", trial_id=trial.pk)
        except PermissionDeniedError:
            raise
        except OncotrialsError as exc:
            error = exc.message
    import yaml

    may_edit_rules = may(request.user, Action.EDIT_DLT_RULES, on=trial)
    template = DLT_TEMPLATES.get(request.GET.get("template", "")) if may_edit_rules else None
    if error:
        rules_text = request.POST.get("document")
    elif template is not None:
        rules_text = yaml.safe_dump(
            template.for_trial(trial.protocol_code), sort_keys=False, allow_unicode=True
        )
    else:
        rules_text = yaml.safe_dump(rule_set.document, sort_keys=False) if rule_set else ""
    return render(
        request,
        "safety/trial_safety.html",
        {
            "trial": trial,
            "summary": ae_summary(user=request.user, trial=trial),
            "dlt_rows": dlt_table(user=request.user, trial=trial),
            "tracker": dlt_tracker(user=request.user, trial=trial),
            "unruled": rule_set is None
            and trials_in_escalation_without_rules(user=request.user).filter(pk=trial.pk).exists(),
            "rule_set": rule_set,
            "rules_text": rules_text,
            "may_edit_rules": may_edit_rules,
            "dlt_templates": DLT_TEMPLATES.values() if may_edit_rules else (),
            "dlt_template": template,
            "error": error,
        },
        status=422 if error else 200,
    )


AE_LISTING_CSV_HEADER = [
    "patient",
    "site",
    "term",
    "meddra_code",
    "soc",
    "verbatim",
    "ctcae_version",
    "grade",
    "onset_date",
    "resolution_date",
    "serious",
    "seriousness",
    "attribution",
    "action_taken",
    "outcome",
    "immune_related",
    "expected",
    "status",
]


def _ae_listing_csv(request: HttpRequest, trial: Any) -> StreamingHttpResponse:
    """Every adverse event of the trial the user may see (voided ones left out), one a row."""
    events = (
        adverse_events_for_user(user=request.user, trial_id=trial.pk)
        .filter(voided_at__isnull=True)
        .select_related("registration__patient__site")
    )
    return csv_response(
        f"{trial.protocol_code}-adverse-events.csv",
        AE_LISTING_CSV_HEADER,
        (
            [
                ae.registration.patient.research_id,
                ae.registration.patient.site.code,
                ae.term,
                ae.meddra_code,
                ae.soc,
                ae.verbatim,
                ae.ctcae_version,
                ae.grade,
                ae.onset_date,
                ae.resolution_date,
                ae.serious,
                "; ".join(str(v) for v in ae.seriousness or []),
                "; ".join(f"{k}: {v}" for k, v in (ae.attribution or {}).items()),
                ae.get_action_taken_display() if ae.action_taken else "",
                ae.get_outcome_display() if ae.outcome else "",
                ae.immune_related,
                ae.expected,
                ae.status,
            ]
            for ae in events.iterator(chunk_size=200)
        ),
    )


@login_required
@_visible
def trial_ae_summary_csv(request: HttpRequest, trial_id: int) -> StreamingHttpResponse:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    summary = ae_summary(user=request.user, trial=trial)
    return csv_response(
        f"{trial.protocol_code}-ae-summary.csv",
        ["term", "soc", "grade_1", "grade_2", "grade_3", "grade_4", "grade_5", "any"],
        ([row["term"], row["soc"], *row["by_grade"], row["any"]] for row in summary["rows"]),
    )


# ------------------------------------------------------------------------------ DLT review


@login_required
def dlt_review(request: HttpRequest) -> HttpResponse:
    cases = list(dlt_cases_for_user(user=request.user)[:500])
    rows = [(c, may(request.user, Action.ADJUDICATE_DLT, on=c.registration)) for c in cases]
    return render(request, "safety/dlt_review.html", {"rows": rows})


@login_required
@require_POST
@_visible
def dlt_adjudicate(request: HttpRequest, case_id: int) -> HttpResponse:
    case = dlt_case_get_for_user(user=request.user, case_id=case_id)
    try:
        dlt_case_adjudicate(
            case=case,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
            meaning=request.POST.get("meaning", ""),
            password=request.POST.get("password", ""),
            version=_int(request.POST.get("version")) or 0,
            by=acting_user(request.user),
        )
    except PermissionDeniedError:
        raise
    except OncotrialsError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return redirect("safety-dlt-review")


# --------------------------------------------------------------------------- toxicity board


@login_required
@_visible
def board(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        site = Site.objects.filter(code=request.POST.get("site", "")).first()
        try:
            if site is None:
                raise NotFoundError(gettext("Unknown site."))
            meeting = toxicity_meeting_create(
                site=site,
                held_on=_date_or_today(request.POST.get("held_on", "")),
                title=request.POST.get("title", ""),
                by=acting_user(request.user),
            )
            return redirect("safety-board-meeting", meeting_id=meeting.pk)
        except PermissionDeniedError:
            raise
        except OncotrialsError as exc:
            error = exc.message
    sites = sites_where(request.user, Action.SIT_ON_TOXICITY_BOARD)
    return render(
        request,
        "safety/board.html",
        {"meetings": toxicity_meetings_for_user(user=request.user), "sites": sites, "error": error},
        status=422 if error else 200,
    )


def _date_or_today(value: str) -> Any:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return timezone.localdate()


@login_required
@_visible
def board_meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = toxicity_meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "build":
                toxicity_cases_build(meeting=meeting, by=acting_user(request.user))
            else:
                case = toxicity_case_get_for_user(
                    user=request.user, case_id=_int(request.POST.get("case")) or 0
                )
                toxicity_recommend(
                    case=case,
                    recommendation=request.POST.get("recommendation", ""),
                    version=_int(request.POST.get("version")) or 0,
                    reason=request.POST.get("reason", ""),
                    by=acting_user(request.user),
                )
            return redirect("safety-board-meeting", meeting_id=meeting.pk)
        except (PermissionDeniedError, NotFoundError):
            raise
        except OncotrialsError as exc:
            error = exc.message
    return render(
        request,
        "safety/board_meeting.html",
        {"meeting": meeting, "cases": toxicity_cases(meeting=meeting), "error": error},
        status=422 if error else 200,
    )


GRADE_COLOURS = ("#9ecae1", "#4292c6", "#fd8d3c", "#d94801", "#7f2704")  # G1 light … G5 dark


def ae_summary_svg(summary: dict[str, Any], title: str, top: int = 20) -> bytes:
    """Horizontal stacked bars: patients per term by worst grade (matplotlib, Agg, SVG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rows = summary["rows"][:top][::-1]
    height = max(2.0, 0.35 * len(rows) + 1.2)
    fig, ax = plt.subplots(figsize=(7.5, height))
    try:
        left = [0] * len(rows)
        labels = [r["term"] for r in rows]
        for g in range(5):
            counts = [r["by_grade"][g] for r in rows]
            if any(counts):
                ax.barh(labels, counts, left=left, color=GRADE_COLOURS[g], label=f"G{g + 1}")
            left = [a + b for a, b in zip(left, counts, strict=True)]
        ax.set_xlabel(gettext("Patients (worst grade per term)"))
        ax.set_title(title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if rows:
            ax.legend(loc="lower right", frameon=False, fontsize="small")
        else:
            ax.text(
                0.5, 0.5, gettext("No complete adverse event"), ha="center", transform=ax.transAxes
            )
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    finally:
        plt.close(fig)
    return buffer.getvalue()


@login_required
@_visible
def trial_ae_summary_plot(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    svg = ae_summary_svg(
        ae_summary(user=request.user, trial=trial),
        gettext("%(code)s: adverse events") % {"code": trial.protocol_code},
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="{trial.protocol_code}-ae-summary.svg"'
        )
    return response
