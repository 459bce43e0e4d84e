"""Web pages of unit operations (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

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
    path("trials/<int:trial_id>/accrual/", views.trial_accrual_page, name="operations-accrual"),
    path(
        "trials/<int:trial_id>/accrual.svg",
        views.trial_accrual_plot,
        name="operations-accrual-plot",
    ),
]
