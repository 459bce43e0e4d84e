"""Web pages of the genomics app (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("genomics/", views.cohort, name="genomics-cohort"),
    path("genomics/oncoprint/", views.oncoprint_view, name="genomics-oncoprint"),
    path("genomics/upload/", views.upload, name="genomics-upload"),
    path("genomics/resistance/", views.atlas, name="genomics-atlas"),
    path("genomics/patients/<int:patient_id>/", views.patient_genomics, name="genomics-patient"),
    path("genomics/reports/<int:report_id>/", views.report_detail, name="genomics-report"),
    path(
        "genomics/patients/<int:patient_id>/resistance/",
        views.patient_resistance,
        name="genomics-patient-resistance",
    ),
    path(
        "genomics/patients/<int:patient_id>/segments.svg",
        views.patient_segments_plot,
        name="genomics-patient-segments-plot",
    ),
]
