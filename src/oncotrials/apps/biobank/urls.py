"""Web pages of the biobank (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("biobank/", views.specimen_list, name="biobank-specimens"),
    path("biobank/specimens/<int:specimen_id>/", views.specimen_detail, name="biobank-specimen"),
    path(
        "biobank/specimens/<int:specimen_id>/pre-analytics/",
        views.specimen_pre_analytics,
        name="biobank-specimen-pre-analytics",
    ),
    path("biobank/boxes/<int:box_id>/", views.box_detail, name="biobank-box"),
    path("biobank/custody-check/", views.custody_check_page, name="biobank-custody-check"),
    path(
        "patients/<int:patient_id>/serial-samples/",
        views.serial_samples_page,
        name="biobank-serial-samples",
    ),
]
