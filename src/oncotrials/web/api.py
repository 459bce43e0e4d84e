"""The REST API at /api/v1/ (OpenAPI at /api/v1/openapi.json), with one error shape."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from oncotrials.apps.accounts.api import router as accounts_router
from oncotrials.apps.accounts.models import TokenScope
from oncotrials.apps.accounts.schemas import ErrorOut
from oncotrials.apps.accounts.services import token_resolve
from oncotrials.apps.biobank.api import router as biobank_router
from oncotrials.apps.biobank.api_pdx import router as pdx_router
from oncotrials.apps.crfs.api import router as crfs_router
from oncotrials.apps.dosing.api import router as dosing_router
from oncotrials.apps.exports.api import router as exports_router
from oncotrials.apps.genomics.api import router as genomics_router
from oncotrials.apps.matching.api import router as matching_router
from oncotrials.apps.mtb.api import router as mtb_router
from oncotrials.apps.operations.api import router as operations_router
from oncotrials.apps.safety.api import router as safety_router
from oncotrials.apps.subjects.api import router as subjects_router
from oncotrials.apps.trials.api import router as trials_router
from oncotrials.apps.tumours.api import router as tumours_router
from oncotrials.core.errors import OncotrialsError

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class TokenAuth(HttpBearer):
    """``Authorization: Bearer otk_...`` personal access tokens (a read-only one reads only)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_resolve(token)
        if found is None:
            return None
        if found.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise HttpError(403, "This personal access token is read-only.")
        request.user = found.user
        request.oncotrials_token = found  # type: ignore[attr-defined]
        return found.user


api = NinjaAPI(
    title="oncotrials API",
    version="1",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, extra: dict[str, Any] | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "extra": extra or {}}, status=status
    )


@api.exception_handler(OncotrialsError)
def _oncotrials_error(request: HttpRequest, exc: OncotrialsError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, dict(exc.extra))


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = exc.errors
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", []) if p not in ("body", "payload"))
    message = f"Invalid input at {where or 'request'}: {first.get('msg', 'invalid value')}."
    return _error(
        request,
        422,
        "invalid",
        message,
        {
            "errors": [
                {"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", ""))}
                for e in errors
            ]
        },
    )


@api.exception_handler(OverflowError)
def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # An identifier beyond the database's 64-bit range names nothing that exists.
    return _error(request, 404, "not_found", "No such object: the identifier is out of range.")


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request,
        401,
        "unauthenticated",
        "Log in or send a valid personal access token (Authorization: Bearer ...).",
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {404: "not_found", 403: "forbidden", 405: "method_not_allowed"}.get(
        exc.status_code, "error"
    )
    return _error(request, exc.status_code, code, str(exc))


api.add_router("/", accounts_router)
api.add_router("/", trials_router)
api.add_router("/", subjects_router)
api.add_router("/", dosing_router)
api.add_router("/", crfs_router)
api.add_router("/", safety_router)
api.add_router("/", tumours_router)
api.add_router("/", biobank_router)
api.add_router("/", genomics_router)
api.add_router("/", matching_router)
api.add_router("/", mtb_router)


@api.get(
    "/health",
    tags=["health"],
    summary="Health checks (administrators)",
    response={200: dict[str, Any], 401: ErrorOut, 403: ErrorOut},
)
def health(request: HttpRequest) -> dict[str, Any]:
    """Database, migrations, audit key and broker, each with its message: administrators only.

    Unauthenticated probes use ``/healthz`` (liveness) and ``/healthz?ready=1`` (a status).
    """
    from oncotrials.apps.accounts.access import scope_for

    from .health import health_checks

    if not scope_for(request.user).is_admin:
        raise HttpError(403, "Only an administrator may read the health details.")
    checks = health_checks()
    return {
        "status": "ok" if all(c.ok for c in checks) else "unavailable",
        "checks": [{"name": c.name, "ok": c.ok, "message": c.message, "ms": c.ms} for c in checks],
    }


api.add_router("/", exports_router)
api.add_router("/", pdx_router)
api.add_router("/", operations_router)
