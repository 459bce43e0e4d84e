"""Web pages of the tumour-board app (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("mtb/", views.meetings, name="mtb-meetings"),
    path("mtb/meetings/<int:meeting_id>/", views.meeting, name="mtb-meeting"),
    path("mtb/cases/<int:case_id>/", views.case, name="mtb-case"),
    path(
        "mtb/recommendations/<int:recommendation_id>/edit/",
        views.recommendation_edit,
        name="mtb-recommendation-edit",
    ),
    path(
        "mtb/recommendations/<int:recommendation_id>/sign/",
        views.recommendation_sign_view,
        name="mtb-recommendation-sign",
    ),
    path("mtb/referrals/", views.referrals, name="mtb-referrals"),
    path("mtb/funnel/", views.funnel_page, name="mtb-funnel"),
    path("mtb/funnel.svg", views.funnel_svg, name="mtb-funnel-svg"),
]
