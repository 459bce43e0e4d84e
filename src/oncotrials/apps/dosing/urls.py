from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("cohorts/<int:cohort_id>/escalation/", views.escalation_detail, name="escalation-detail"),
    path("cohorts/<int:cohort_id>/escalation/plan/", views.escalation_plan, name="escalation-plan"),
    path(
        "cohorts/<int:cohort_id>/escalation/plot.svg", views.escalation_plot, name="escalation-plot"
    ),
    path(
        "cohorts/<int:cohort_id>/escalation/decisions/",
        views.escalation_decision,
        name="escalation-decision",
    ),
]
