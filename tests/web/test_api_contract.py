"""The API's one error shape, personal access tokens, and bad input that changes nothing."""

from __future__ import annotations

import json

import pytest

from oncotrials.apps.trials.models import Trial


def _post(c, url, body):
    return c.post(
        url,
        json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
    )


def test_openapi_document_is_served(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/api/v1/trials", "/api/v1/trials/{trial_id}", "/api/v1/me", "/api/v1/sites"} <= set(
        paths
    )


def test_openapi_document_has_no_duplicated_key(client):
    """Swagger UI reads the document as YAML, which refuses a key given twice (an endpoint that
    declares status 200 both in ``response`` and in ``openapi_extra`` gives ``200`` and ``"200"``,
    both written "200"); the docs page then stays blank."""

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        dupes = {k for k in keys if keys.count(k) > 1}
        assert not dupes, f"duplicated keys {sorted(dupes)} in {keys}"
        return dict(pairs)

    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    json.loads(r.content, object_pairs_hook=no_duplicates)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("{not json", "request"),
        (
            {
                "protocol_code": "X",
                "title": "t",
                "sponsor": "s",
                "sponsor_type": "industry",
                "phase": "V",
                "modality": "drug",
                "sites": ["main"],
            },
            "phase",
        ),
        (
            {
                "protocol_code": "X",
                "title": "t",
                "sponsor": "s",
                "sponsor_type": "industry",
                "phase": "II",
                "modality": "drug",
                "sites": [],
            },
            "sites",
        ),
        ({"title": "t"}, "protocol_code"),
    ],
)
def test_malformed_payloads_get_422_in_the_error_shape_and_change_nothing(client_for, body, where):
    before = Trial.objects.count()
    r = _post(client_for("admin"), "/api/v1/trials", body)
    assert r.status_code in (400, 422)
    payload = r.json()
    assert set(payload) == {"code", "message", "extra"}
    assert where in payload["message"] or where == "request"
    assert Trial.objects.count() == before


def test_service_validation_error_names_the_field(client_for):
    body = {
        "protocol_code": "X",
        "title": "t",
        "sponsor": "s",
        "sponsor_type": "industry",
        "phase": "II",
        "modality": "drug",
        "sites": ["main"],
        "nct_number": "123",
    }
    r = _post(client_for("admin"), "/api/v1/trials", body)
    assert r.status_code == 422
    assert r.json() == {
        "code": "invalid",
        "message": "nct_number must look like NCT01234567; got '123'.",
        "extra": {"field": "nct_number"},
    }


def test_unknown_ids_are_404_in_the_error_shape(client_for):
    r = client_for("admin").get("/api/v1/trials/999999")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_unknown_site_code_is_404_and_writes_nothing(client_for):
    body = {
        "protocol_code": "X",
        "title": "t",
        "sponsor": "s",
        "sponsor_type": "industry",
        "phase": "II",
        "modality": "drug",
        "sites": ["nowhere"],
    }
    r = _post(client_for("admin"), "/api/v1/trials", body)
    assert r.status_code == 404
    assert "nowhere" in r.json()["message"]
    assert not Trial.objects.filter(protocol_code="X").exists()


def test_stale_patch_answers_409_with_the_current_version(unit, client_for):
    c = client_for("datamanager")
    url = f"/api/v1/trials/{unit.trial_main.pk}"
    assert (
        c.patch(
            url,
            json.dumps({"expected_version": 1, "reason": "r", "title": "A"}),
            content_type="application/json",
        ).status_code
        == 200
    )
    r = c.patch(
        url,
        json.dumps({"expected_version": 1, "reason": "r", "title": "B"}),
        content_type="application/json",
    )
    assert r.status_code == 409
    assert r.json()["extra"] == {"current_version": 2}


def test_personal_access_token_lifecycle(unit, client_for, client):
    c = client_for("investigator")
    r = _post(c, "/api/v1/tokens", {"name": "notebook"})
    assert r.status_code == 201
    raw = r.json()["token"]
    assert raw.startswith("otk_")
    from oncotrials.apps.accounts.models import ApiToken

    stored = ApiToken.objects.get()
    assert raw not in {stored.digest, stored.prefix}  # only a digest is stored

    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    r = client.get("/api/v1/trials", **auth)
    assert r.status_code == 200
    assert {t["protocol_code"] for t in r.json()} == {
        "T-MAIN",
        "T-SHARED",
        "T-OTHER",
    }  # scoped like the user
    assert client.get("/api/v1/me", **auth).json()["username"] == "investigator"

    assert c.delete(f"/api/v1/tokens/{stored.pk}").status_code == 200
    assert client.get("/api/v1/trials", **auth).status_code == 401


def test_someone_elses_token_cannot_be_revoked(unit, client_for):
    from oncotrials.apps.accounts.services import token_create

    token, _ = token_create(user=unit.users["nurse"], name="nurse's")
    r = client_for("investigator").delete(f"/api/v1/tokens/{token.pk}")
    assert r.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_wrong_token_is_401(unit, client):
    assert client.get("/api/v1/trials", HTTP_AUTHORIZATION="Bearer otk_forged").status_code == 401


def test_session_writes_need_the_csrf_token(unit):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(unit.users["admin"], backend="django.contrib.auth.backends.ModelBackend")
    r = c.post(
        f"/api/v1/trials/{unit.trial_main.pk}/cohorts",
        json.dumps({"code": "Z", "name": "z", "kind": "expansion"}),
        content_type="application/json",
    )
    assert r.status_code == 403
    assert not unit.trial_main.cohorts.filter(code="Z").exists()


@pytest.mark.parametrize("expires", ["2528-12-19T13:25:05-19:38", "2030-01-01T00:00:00+14:00"])
def test_any_valid_offset_is_stored_in_utc(unit, client_for, expires):
    # PostgreSQL refuses offsets beyond ±15:59; every client date-time is converted to UTC first.
    r = _post(client_for("nurse"), "/api/v1/tokens", {"name": "far", "expires_at": expires})
    assert r.status_code == 201, r.content
    assert r.json()["expires_at"].endswith(("Z", "+00:00"))


def test_naive_and_past_expiry_are_refused(unit, client_for):
    assert (
        _post(
            client_for("nurse"),
            "/api/v1/tokens",
            {"name": "x", "expires_at": "2030-01-01T00:00:00"},
        ).status_code
        == 422
    )
    r = _post(
        client_for("nurse"), "/api/v1/tokens", {"name": "x", "expires_at": "2001-01-01T00:00:00Z"}
    )
    assert r.status_code == 422
    assert r.json()["extra"] == {"field": "expires_at"}


def test_nul_characters_are_refused_in_the_error_shape(unit, client_for):
    # PostgreSQL cannot store NUL; the API refuses it rather than failing with a server error.
    body = '{"protocol_code": "X\\u0000", "title": "t", "sponsor": "s", "sponsor_type": "industry", "phase": "II", "modality": "drug", "sites": ["main"]}'
    r = _post(client_for("admin"), "/api/v1/trials", body)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid"
    assert client_for("admin").get("/api/v1/trials?q=a%00b").status_code == 422
    assert not Trial.objects.filter(protocol_code__startswith="X").exists()
