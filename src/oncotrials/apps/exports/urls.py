"""Web pages of the exports app (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("exports/", views.exports_index, name="exports-index"),
    path("exports/cuts/<int:cut_id>/", views.exports_cut, name="exports-cut"),
    path(
        "exports/cuts/<int:cut_id>/<slug:fmt>.zip",
        views.exports_cut_archive,
        name="exports-cut-archive",
    ),
    path(
        "exports/cuts/<int:cut_id>/<slug:fmt>/<path:filename>",
        views.exports_cut_file,
        name="exports-cut-file",
    ),
]
