"""Web pages of the crfs app (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("crfs/", views.casebook_list, name="crfs-casebooks"),
    path("crfs/registrations/<int:registration_id>/", views.casebook_page, name="crfs-casebook"),
    path(
        "crfs/registrations/<int:registration_id>/forms/<slug:visit_code>/<slug:form_name>/",
        views.form_page,
        name="crfs-form",
    ),
    path("crfs/registrations/<int:registration_id>/labs/", views.labs_page, name="crfs-labs"),
    path(
        "crfs/registrations/<int:registration_id>/exposure/",
        views.exposure_page,
        name="crfs-exposure",
    ),
    path("crfs/queries/", views.query_list, name="crfs-queries"),
    path("crfs/queries/<int:query_id>/<str:action>/", views.query_action, name="crfs-query-action"),
    path(
        "crfs/records/<str:record_type>/<int:record_id>/queries/",
        views.record_query,
        name="crfs-record-query",
    ),
    path(
        "crfs/records/<str:record_type>/<int:record_id>/verify/",
        views.record_verify,
        name="crfs-record-verify",
    ),
    path(
        "crfs/records/<str:record_type>/<int:record_id>/sign/",
        views.record_sign,
        name="crfs-record-sign",
    ),
]
