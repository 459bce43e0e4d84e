from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from oncotrials.apps.accounts import views as account_views
from oncotrials.apps.subjects import views as subject_views
from oncotrials.apps.subjects import views_consent_forms as subject_consent_forms
from oncotrials.apps.subjects import views_journey as subject_journey
from oncotrials.apps.subjects import views_slots as subject_slots
from oncotrials.apps.trials import views as trial_views

from . import views
from .api import api
from .health import healthz

admin.site.site_header = "oncotrials administration"


# The API first: Django tries the patterns in order, and the pages' includes mounted at "" hold
# several hundred patterns, none of which can match a path under api/ (tests/web/test_urls.py).
# Resolving an API call no longer walks them all.
urlpatterns = [
    path("api/v1/", api.urls),
    path("", views.home, name="home"),
    path("trials/", trial_views.portfolio, name="portfolio"),
    path("", include("oncotrials.apps.trials.urls")),
    path("trials/<int:trial_id>/", trial_views.trial_detail, name="trial-detail"),
    path("trials/<int:trial_id>/patients/", subject_views.trial_patients, name="trial-patients"),
    path(
        "trials/<int:trial_id>/screening-log/",
        subject_views.trial_screening_log,
        name="trial-screening-log",
    ),
    path(
        "trials/<int:trial_id>/consent-forms/",
        subject_consent_forms.trial_consent_forms,
        name="trial-consent-forms",
    ),
    path("trials/<int:trial_id>/slots/", subject_slots.trial_slots, name="trial-slots"),
    path("patients/", subject_views.patient_list, name="patient-list"),
    path("patients/new/", subject_journey.patient_new, name="patient-new"),
    path("patients/<int:patient_id>/", subject_views.patient_detail, name="patient-detail"),
    path(
        "patients/<int:patient_id>/identity/",
        subject_views.patient_identity,
        name="patient-identity",
    ),
    path(
        "patients/<int:patient_id>/journey/<slug:action>/",
        subject_journey.patient_action,
        name="patient-action",
    ),
    path("worklists/", subject_views.worklists, name="worklists"),
    path("", include("oncotrials.apps.dosing.urls")),
    path("", include("oncotrials.apps.crfs.urls")),
    path("", include("oncotrials.apps.safety.urls")),
    path("", include("oncotrials.apps.tumours.urls")),
    path("", include("oncotrials.apps.biobank.urls")),
    path("", include("oncotrials.apps.genomics.urls")),
    path("", include("oncotrials.apps.biobank.urls_pdx")),
    path("", include("oncotrials.apps.mtb.urls")),
    path("", include("oncotrials.apps.matching.urls")),
    path("", include("oncotrials.apps.exports.urls")),
    path("", include("oncotrials.apps.operations.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/session/", account_views.session_status, name="account-session"),
    path("account/tokens/", account_views.tokens_page, name="account-tokens"),
    path(
        "account/tokens/<int:token_id>/revoke/",
        account_views.token_revoke_view,
        name="account-token-revoke",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
