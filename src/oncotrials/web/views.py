"""Pages of the site itself, which draw on several apps (the apps never import each other
upwards for them)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from oncotrials.apps.subjects.selectors import inclusion_figures
from oncotrials.apps.trials.selectors import portfolio_summary


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: the trials the user can see and the patients included in them."""
    return render(
        request,
        "home.html",
        {
            "summary": portfolio_summary(user=request.user),
            "inclusions": inclusion_figures(user=request.user),
        },
    )
