"""Web pages of the tumours app (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("efficacy/", views.efficacy_index, name="tumours-efficacy-index"),
    path("trials/<int:trial_id>/efficacy/", views.trial_efficacy, name="tumours-efficacy"),
    path(
        "trials/<int:trial_id>/efficacy/<slug:plot>.svg",
        views.efficacy_plot,
        name="tumours-efficacy-plot",
    ),
    path(
        "trials/<int:trial_id>/tumour-settings/",
        views.settings_update,
        name="tumours-settings",
    ),
    path("patients/<int:patient_id>/tumours/", views.patient_tumours, name="tumours-patient"),
    path(
        "registrations/<int:registration_id>/tumour-baseline/",
        views.baseline_create,
        name="tumours-baseline-create",
    ),
    path(
        "registrations/<int:registration_id>/tumour-assessments/",
        views.assessment_create,
        name="tumours-assessment-create",
    ),
    path(
        "registrations/<int:registration_id>/tumour-override/",
        views.override_create,
        name="tumours-override",
    ),
]
