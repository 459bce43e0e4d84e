"""Web pages of the safety app (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("safety/", views.dashboard, name="safety-dashboard"),
    path("safety/irae/", views.irae, name="safety-irae"),
    path("safety/terms/", views.terms, name="safety-terms"),
    path("safety/dlt/", views.dlt_review, name="safety-dlt-review"),
    path(
        "safety/dlt/<int:case_id>/adjudicate/",
        views.dlt_adjudicate,
        name="safety-dlt-adjudicate",
    ),
    path("safety/toxicity-board/", views.board, name="safety-board"),
    path(
        "safety/toxicity-board/<int:meeting_id>/",
        views.board_meeting,
        name="safety-board-meeting",
    ),
    path(
        "safety/registrations/<int:registration_id>/adverse-events/new/",
        views.ae_new,
        name="safety-ae-new",
    ),
    path(
        "safety/registrations/<int:registration_id>/dlt-evaluate/",
        views.registration_evaluate,
        name="safety-dlt-evaluate",
    ),
    path("safety/adverse-events/<int:ae_id>/", views.ae_edit, name="safety-ae-edit"),
    path("safety/adverse-events/<int:ae_id>/void/", views.ae_void, name="safety-ae-void"),
    path(
        "safety/adverse-events/<int:ae_id>/sae-reports/",
        views.sae_report,
        name="safety-sae-report",
    ),
    path(
        "safety/adverse-events/<int:ae_id>/icsr.xml",
        views.sae_icsr,
        name="safety-sae-icsr",
    ),
    path(
        "safety/registrations/<int:registration_id>/astct/",
        views.astct_new,
        name="safety-astct-new",
    ),
    path(
        "patients/<int:patient_id>/adverse-events/",
        views.patient_aes,
        name="safety-patient-aes",
    ),
    path("trials/<int:trial_id>/safety/", views.trial_safety, name="safety-trial"),
    path(
        "trials/<int:trial_id>/safety/ae-summary.svg",
        views.trial_ae_summary_plot,
        name="safety-trial-ae-svg",
    ),
    path(
        "trials/<int:trial_id>/safety/ae-summary.csv",
        views.trial_ae_summary_csv,
        name="safety-trial-ae-csv",
    ),
]
