"""Web pages of unit operations (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views, views_planner

urlpatterns: list[URLPattern] = [
    path("operations/", views.dashboard, name="operations-dashboard"),
    path("operations/activity/", views.activity_page, name="operations-activity"),
    path("operations/resources/", views.resources_page, name="operations-resources"),
    path("operations/occupancy/", views.occupancy_page, name="operations-occupancy"),
    path(
        "operations/occupancy/<slug:plot>.svg",
        views.occupancy_plot,
        name="operations-occupancy-plot",
    ),
    path("operations/planner/", views_planner.planner, name="operations-planner"),
    path(
        "operations/planner/runs/<int:run_id>/",
        views_planner.plan_run,
        name="operations-plan-run",
    ),
    path(
        "operations/planner/runs/<int:run_id>/progress/",
        views_planner.plan_run_progress,
        name="operations-plan-run-progress",
    ),
    path(
        "operations/planner/runs/<int:run_id>/save/",
        views_planner.plan_run_save_view,
        name="operations-plan-run-save",
    ),
    path("trials/<int:trial_id>/accrual/", views.trial_accrual_page, name="operations-accrual"),
    path(
        "trials/<int:trial_id>/accrual.svg",
        views.trial_accrual_plot,
        name="operations-accrual-plot",
    ),
]
