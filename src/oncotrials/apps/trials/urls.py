"""Set-up pages of the portfolio: trials, their lifecycle, cohorts and dose levels."""

from __future__ import annotations

from django.urls import path

from . import views, views_schedule

urlpatterns = [
    path("trials/new/", views.trial_new, name="trial-new"),
    path("trials/<int:trial_id>/edit/", views.trial_edit, name="trial-edit"),
    path("trials/<int:trial_id>/status/", views.trial_status, name="trial-status"),
    path("trials/<int:trial_id>/cohorts/new/", views.cohort_add, name="cohort-add"),
    path(
        "trials/<int:trial_id>/visit-schedule/",
        views_schedule.trial_visit_schedule,
        name="trial-visit-schedule",
    ),
    path("cohorts/<int:cohort_id>/edit/", views.cohort_edit, name="cohort-edit"),
    path("cohorts/<int:cohort_id>/dose-levels/new/", views.dose_level_add, name="dose-level-add"),
    path("dose-levels/<int:dose_level_id>/edit/", views.dose_level_edit, name="dose-level-edit"),
]
