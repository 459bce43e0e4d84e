"""Web pages of trial matching (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path(
        "trials/<int:trial_id>/matching/", views.trial_matching_panel, name="matching-trial-panel"
    ),
    path(
        "trials/<int:trial_id>/matching/criteria/",
        views.trial_criteria_edit,
        name="matching-criteria-edit",
    ),
    path(
        "patients/<int:patient_id>/matching/",
        views.patient_matching_panel,
        name="matching-patient-panel",
    ),
]
