"""Web pages of PDX models (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_pdx

urlpatterns: list[URLPattern] = [
    path("pdx/", views_pdx.pdx_list, name="pdx-list"),
    path("pdx/new/", views_pdx.pdx_new, name="pdx-new"),
    path("pdx/export.zip", views_pdx.pdx_export_zip, name="pdx-export"),
    path("pdx/<int:pdx_model_id>/", views_pdx.pdx_detail, name="pdx-detail"),
    path("pdx/<int:pdx_model_id>/growth.svg", views_pdx.pdx_growth_plot, name="pdx-growth-plot"),
]
