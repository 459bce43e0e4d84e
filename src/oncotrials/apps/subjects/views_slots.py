"""Slot allocations and the waitlist of a trial, from the trial page (htmx panel).

Allocations are part of the trial's set-up (``Action.EDIT_PORTFOLIO``); the waitlist is part of
the patient journey (``Action.WRITE_JOURNEY`` on the patient, checked by the services). A freed
slot is offered to the waitlist in the order patients were added (``waitlist_promote``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from oncotrials.apps.accounts.access import Action, acting_user, may
from oncotrials.apps.accounts.models import Site
from oncotrials.apps.accounts.view_helpers import form_panel, form_refused
from oncotrials.apps.trials.models import Cohort, DoseLevel, Trial
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.errors import (
    ConflictError,
    NotFoundError,
    OncotrialsError,
    PermissionDeniedError,
)

from .models import BookingStatus, SlotBooking, WaitlistEntry
from .selectors import patients_visible_to, slot_summary
from .services import (
    slot_allocate,
    slot_book,
    slot_confirm,
    slot_release,
    waitlist_add,
    waitlist_promote,
)

DATE = forms.DateInput(attrs={"type": "date"})


class AllocationForm(forms.Form):
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    cohort = forms.ModelChoiceField(label=_("Cohort"), queryset=Cohort.objects.none())
    dose_level = forms.ModelChoiceField(
        label=_("Dose level"), queryset=DoseLevel.objects.none(), required=False
    )
    slots = forms.IntegerField(label=_("Slots"), min_value=1, max_value=500)
    open_from = forms.DateField(label=_("Open from"), widget=DATE)
    open_until = forms.DateField(label=_("Open until"), widget=DATE, required=False)

    def __init__(self, *args: Any, trial: Trial, sites: list[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set("site", Site.objects.filter(pk__in=[s.pk for s in sites]).order_by("code"))
        self._set("cohort", Cohort.objects.filter(trial=trial).order_by("code"))
        self._set(
            "dose_level",
            DoseLevel.objects.filter(cohort__trial=trial).select_related("cohort"),
        )

    def _set(self, name: str, queryset: Any) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = queryset

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        level, cohort = data.get("dose_level"), data.get("cohort")
        if level is not None and cohort is not None and level.cohort_id != cohort.pk:
            self.add_error("dose_level", _("This dose level is not a level of the cohort."))
        start, end = data.get("open_from"), data.get("open_until")
        if start and end and end < start:
            self.add_error("open_until", _("The end cannot be before the start."))
        return data


class WaitlistForm(forms.Form):
    research_id = forms.CharField(label=_("Patient (research id)"), max_length=20)
    cohort = forms.ModelChoiceField(label=_("Cohort"), queryset=Cohort.objects.none())

    def __init__(self, *args: Any, trial: Trial, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["cohort"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Cohort.objects.filter(trial=trial, is_open=True).order_by("code")


def _int(value: str | None) -> int:
    """The posted id, or 0 (no row has it) when it is missing or not a number."""
    try:
        return int(value or "")
    except ValueError:
        return 0


@login_required
@require_http_methods(["GET", "POST"])
def trial_slots(request: HttpRequest, trial_id: int) -> HttpResponse:
    try:
        trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        raise Http404("No such trial.") from None
    editable = may(request.user, Action.EDIT_PORTFOLIO, on=trial)
    alloc_sites = [s for s in trial.sites.all() if may(request.user, Action.EDIT_PORTFOLIO, on=s)]
    patients = patients_visible_to(request.user)
    alloc_form: AllocationForm | None = None
    wait_form: WaitlistForm | None = None
    error = ""
    message = ""
    conflict = done = False
    if request.method == "POST":
        action = request.POST.get("action", "")
        user = acting_user(request.user)
        try:
            if action == "allocate":
                if not editable:
                    raise PermissionDenied("Your role does not allow you to edit the portfolio.")
                alloc_form = AllocationForm(
                    request.POST, trial=trial, sites=alloc_sites, prefix="alloc"
                )
                if alloc_form.is_valid():
                    try:
                        slot_allocate(by=user, **alloc_form.cleaned_data)
                    except OncotrialsError as exc:
                        form_refused(alloc_form, exc)
                        conflict = isinstance(exc, ConflictError)
                    else:
                        alloc_form, message = None, str(_("Allocation added."))
            elif action in ("waitlist", "offer", "release", "promote") and not may(
                request.user, Action.WRITE_JOURNEY, on=trial
            ):
                raise PermissionDenied("Your role does not allow you to record the journey.")
            elif action == "waitlist":
                wait_form = WaitlistForm(request.POST, trial=trial, prefix="wait")
                if wait_form.is_valid():
                    patient = patients.filter(
                        research_id=wait_form.cleaned_data["research_id"].strip()
                    ).first()
                    if patient is None:
                        wait_form.add_error("research_id", _("No such patient in your sight."))
                    else:
                        try:
                            waitlist_add(
                                patient=patient, cohort=wait_form.cleaned_data["cohort"], by=user
                            )
                        except PermissionDeniedError:
                            raise
                        except OncotrialsError as exc:
                            wait_form.add_error(None, exc.message)
                            conflict = isinstance(exc, ConflictError)
                        else:
                            wait_form, message = None, str(_("Patient added to the waitlist."))
            elif action == "offer":
                entry = _entry(request, trial, patients)
                slot_book(patient=entry.patient, cohort=entry.cohort, by=user)
                message = str(_("A slot is held for the patient."))
            elif action == "confirm":
                booking = _booking(request, trial, patients)
                if not may(request.user, Action.CONFIRM_SLOT, on=booking.patient):
                    raise PermissionDenied(
                        "Your role does not allow you to confirm a slot offered to a patient."
                    )
                slot_confirm(booking=booking, by=user)
                message = str(
                    _("The slot offered to %(patient)s is confirmed.")
                    % {"patient": booking.patient}
                )
            elif action == "release":
                booking = _booking(request, trial, patients)
                slot_release(booking=booking, reason=request.POST.get("reason", ""), by=user)
                message = str(_("The slot is released."))
            elif action == "promote":
                cohort = Cohort.objects.filter(
                    trial=trial, pk=_int(request.POST.get("cohort"))
                ).first()
                if cohort is None:
                    raise Http404("No such cohort.")
                promoted = waitlist_promote(cohort=cohort, by=user)
                message = (
                    str(_("A slot is held for %(patient)s.") % {"patient": promoted.patient})
                    if promoted
                    else str(_("No waiting patient could take a free slot."))
                )
            else:
                error = str(_("Unknown action."))
        except PermissionDeniedError:
            raise
        except OncotrialsError as exc:
            error = exc.message
            conflict = isinstance(exc, ConflictError)
        done = not error and alloc_form is None and wait_form is None
        if done and not getattr(request, "htmx", False):
            return redirect("trial-detail", trial_id=trial.pk)
    if editable and alloc_form is None and alloc_sites:
        alloc_form = AllocationForm(
            trial=trial,
            sites=alloc_sites,
            prefix="alloc",
            initial={"open_from": timezone.localdate()},
        )
    if wait_form is None:
        wait_form = WaitlistForm(trial=trial, prefix="wait")
    waiting = (
        WaitlistEntry.objects.filter(cohort__trial=trial, active=True, patient__in=patients)
        .select_related("patient", "cohort")
        .order_by("cohort__code", "added_at", "pk")
    )
    held = (
        SlotBooking.objects.filter(
            allocation__cohort__trial=trial, status=BookingStatus.HELD, patient__in=patients
        )
        .select_related("patient", "allocation__cohort", "allocation__site", "confirmed_by")
        .order_by("booked_at", "pk")
    )
    context = {
        "trial": trial,
        "slots": slot_summary(trial=trial, user=request.user),
        "alloc_form": alloc_form,
        "wait_form": wait_form,
        "waiting": waiting,
        "held": held,
        "cohorts": Cohort.objects.filter(trial=trial, waitlist__active=True).distinct(),
        "error": error,
        "message": message,
        "may_confirm": may(request.user, Action.CONFIRM_SLOT, on=trial),
    }
    return form_panel(
        request,
        "subjects/trial_slots.html",
        "subjects/_partials/trial_slots.html",
        context,
        refused=request.method == "POST" and not done,
        conflict=conflict,
    )


def _entry(request: HttpRequest, trial: Trial, patients: Any) -> WaitlistEntry:
    entry = (
        WaitlistEntry.objects.filter(
            pk=_int(request.POST.get("entry")),
            cohort__trial=trial,
            active=True,
            patient__in=patients,
        )
        .select_related("patient", "cohort")
        .first()
    )
    if entry is None:
        raise Http404("No such waitlist entry.")
    return entry


def _booking(request: HttpRequest, trial: Trial, patients: Any) -> SlotBooking:
    booking = SlotBooking.objects.filter(
        pk=_int(request.POST.get("booking")),
        allocation__cohort__trial=trial,
        patient__in=patients,
    ).first()
    if booking is None:
        raise Http404("No such slot booking.")
    return booking
