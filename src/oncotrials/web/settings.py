"""One environment-driven settings module; a bad value stops start-up with a clear message.

Environment variables (all optional in debug; see README):

- ``ONCOTRIALS_DEBUG``: ``1``/``0`` (default ``0``).
- ``ONCOTRIALS_SECRET_KEY`` or ``ONCOTRIALS_SECRET_KEY_FILE``: required unless debug.
- ``DATABASE_URL``: e.g. ``postgres://user@host:5432/db``; default SQLite in ``ONCOTRIALS_DATA_DIR``.
- ``DATABASE_OWNER_URL``: the owner role's URL, used instead of ``DATABASE_URL`` by
  ``oncotrials migrate`` and ``oncotrials db grant-app-role`` (the application's own role may
  then only insert audit events; see README, production set-up).
- ``ONCOTRIALS_DATA_DIR``: where the embedded SQLite database lives (default ``./var``).
- ``ONCOTRIALS_ALLOWED_HOSTS``: comma-separated (default ``127.0.0.1,localhost``).
- ``ONCOTRIALS_HTTPS``: ``1`` when served behind TLS (secure cookies, HSTS, redirect); default ``1``
  unless debug. ``oncotrials run`` serves plain HTTP on loopback and sets it to ``0``.
- ``CELERY_BROKER_URL``: default in-process (tasks run eagerly).
- ``ONCOTRIALS_TIME_ZONE``: default display time zone of sites without one (``Europe/Paris``).
- ``ONCOTRIALS_IDLE_TIMEOUT_MINUTES``: a browser session ends after this long without a request
  (default 15), besides the absolute lifetime of 8 hours.
- ``ONCOTRIALS_LOGIN_FAILURE_LIMIT`` (5), ``ONCOTRIALS_LOGIN_FAILURE_LIMIT_PER_ADDRESS`` (30),
  ``ONCOTRIALS_LOGIN_LOCKOUT_MINUTES`` (15), ``ONCOTRIALS_TRUSTED_PROXY_COUNT`` (0): login throttling.
- ``ONCOTRIALS_SIGNATURE_FAILURE_LIMIT`` (5), ``ONCOTRIALS_SIGNATURE_FAILURE_WINDOW_MINUTES`` (15),
  ``ONCOTRIALS_SIGNATURE_LOCK_MINUTES`` (30): wrong passwords when signing electronically.
- ``ONCOTRIALS_API_TOKEN_DAYS`` (90): default lifetime of a personal access token.
- ``ONCOTRIALS_AUDIT_KEY`` (``<id>:<secret>``) or ``ONCOTRIALS_AUDIT_KEY_FILE`` (one ``<id>:<secret>``
  a line, the last one current): the keys sealing audit events; required unless debug.
- ``ONCOTRIALS_AUDIT_SIGNING_KEY_FILE``: Ed25519 private key (PEM) signing audit checkpoints;
  default derived from the current audit key.
- ``ONCOTRIALS_AUDIT_CHECKPOINT_DIR``: where signed checkpoints are written (default
  ``<data dir>/audit-checkpoints``; keep it off the database server).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
SRC_DIR = BASE_DIR.parent


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0 (true/false); got {raw!r}.")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None


def _list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = _bool("ONCOTRIALS_DEBUG", False)
TESTING = _bool("ONCOTRIALS_TESTING", False)

_secret = os.environ.get("ONCOTRIALS_SECRET_KEY", "")
_secret_file = os.environ.get("ONCOTRIALS_SECRET_KEY_FILE", "")
if not _secret and _secret_file:
    try:
        _secret = Path(_secret_file).read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"ONCOTRIALS_SECRET_KEY_FILE={_secret_file!r} cannot be read: {exc.strerror}."
        ) from None
if not _secret:
    if DEBUG or TESTING:
        _secret = "insecure-development-key-never-use-in-production"
    else:
        raise ImproperlyConfigured(
            "ONCOTRIALS_SECRET_KEY (or ONCOTRIALS_SECRET_KEY_FILE) is required unless "
            "ONCOTRIALS_DEBUG=1; `oncotrials run` creates one for the embedded server."
        )
elif len(_secret) < 32 and not (DEBUG or TESTING):
    raise ImproperlyConfigured("ONCOTRIALS_SECRET_KEY must be at least 32 characters long.")
SECRET_KEY = _secret

ALLOWED_HOSTS = _list("ONCOTRIALS_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
if TESTING:
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the API docs' Swagger UI from its own static files, never from a CDN
    "simple_history",
    "axes",
    "oncotrials.apps.accounts",
    "oncotrials.apps.audit",
    "oncotrials.apps.trials",
    "oncotrials.apps.subjects",
    "oncotrials.apps.dosing",
    "oncotrials.apps.crfs",
    "oncotrials.apps.safety",
    "oncotrials.apps.tumours",
    "oncotrials.apps.biobank",
    "oncotrials.apps.genomics",
    "oncotrials.apps.matching",
    "oncotrials.apps.mtb",
    "oncotrials.apps.jobs",
    "oncotrials.apps.exports",
    "oncotrials.apps.operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "oncotrials.web.middleware.SecurityHeadersMiddleware",
    "oncotrials.web.middleware.RejectNulCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "oncotrials.apps.accounts.middleware.IdleSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "oncotrials.web.middleware.FragmentDocumentMiddleware",
    "oncotrials.apps.audit.middleware.AuditContextMiddleware",
    "oncotrials.apps.accounts.middleware.SiteTimezoneMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "oncotrials.web.urls"
WSGI_APPLICATION = "oncotrials.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oncotrials.apps.accounts.context_processors.navigation",
            ],
        },
    }
]
# Inputs and selects rendered in Python, the markup of Django's templates (see the module).
FORM_RENDERER = "oncotrials.web.form_renderer.FormRenderer"

# --- Database -----------------------------------------------------------------------------
DATA_DIR = Path(os.environ.get("ONCOTRIALS_DATA_DIR", "var")).resolve()
_database_url = os.environ.get("DATABASE_URL", "")
if _database_url:
    try:
        _db: dict[str, Any] = dict(dj_database_url.parse(_database_url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if _db.get("ENGINE") not in {
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    }:
        raise ImproperlyConfigured(
            f"DATABASE_URL must point at PostgreSQL or SQLite; got engine {_db.get('ENGINE')!r}."
        )
else:
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "oncotrials.sqlite3",
    }
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed during a write; IMMEDIATE takes the write lock at BEGIN so that
    # two writers queue on the busy timeout instead of failing half-way with "database is locked".
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=20000;"
        ),
    }
    # Tests use a file, not memory, so that threads (live server, races) share it as in production;
    # one file per process, so that concurrent test runs never share one.
    _db.setdefault("TEST", {"NAME": str(DATA_DIR / f"test_oncotrials_{os.getpid()}.sqlite3")})
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (apps/accounts/throttle.py): a name is locked at one client address after
# ONCOTRIALS_LOGIN_FAILURE_LIMIT failures (nobody elsewhere can lock its owner out); an address
# is locked for every name after ONCOTRIALS_LOGIN_FAILURE_LIMIT_PER_ADDRESS failures (spraying).
AXES_HANDLER = "oncotrials.apps.accounts.throttle.LoginThrottleHandler"
AXES_FAILURE_LIMIT = _int("ONCOTRIALS_LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = _int("ONCOTRIALS_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 30)
if AXES_FAILURE_LIMIT < 1 or LOGIN_FAILURE_LIMIT_PER_ADDRESS < AXES_FAILURE_LIMIT:
    raise ImproperlyConfigured(
        "ONCOTRIALS_LOGIN_FAILURE_LIMIT must be at least 1 and "
        "ONCOTRIALS_LOGIN_FAILURE_LIMIT_PER_ADDRESS at least as high."
    )
AXES_COOLOFF_TIME = dt.timedelta(minutes=_int("ONCOTRIALS_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
# Electronic signatures: the password is asked again; after this many wrong ones within the
# window, the user cannot sign for the lock time, even with the right password.
SIGNATURE_FAILURE_LIMIT = _int("ONCOTRIALS_SIGNATURE_FAILURE_LIMIT", 5)
SIGNATURE_FAILURE_WINDOW = dt.timedelta(
    minutes=_int("ONCOTRIALS_SIGNATURE_FAILURE_WINDOW_MINUTES", 15)
)
SIGNATURE_LOCK_TIME = dt.timedelta(minutes=_int("ONCOTRIALS_SIGNATURE_LOCK_MINUTES", 30))
if SIGNATURE_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("ONCOTRIALS_SIGNATURE_FAILURE_LIMIT must be at least 1.")
# Personal access tokens for the API expire after this many days unless created with a date.
API_TOKEN_DAYS = _int("ONCOTRIALS_API_TOKEN_DAYS", 90)
if API_TOKEN_DAYS < 1:
    raise ImproperlyConfigured("ONCOTRIALS_API_TOKEN_DAYS must be at least 1.")
# Behind N reverse proxies that append to X-Forwarded-For, the client is the N-th address from the
# right; without it every client would share the proxy's address (and its limit).
TRUSTED_PROXY_COUNT = _int("ONCOTRIALS_TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "oncotrials.apps.accounts.throttle.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Security -----------------------------------------------------------------------------
HTTPS = _bool("ONCOTRIALS_HTTPS", not (DEBUG or TESTING))
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600  # absolute lifetime from the login, whatever the activity
# Idle timeout of browser sessions: the page warns before it ends; API tokens are not sessions.
SESSION_IDLE_TIMEOUT = _int("ONCOTRIALS_IDLE_TIMEOUT_MINUTES", 15) * 60
if SESSION_IDLE_TIMEOUT <= 0:
    raise ImproperlyConfigured("ONCOTRIALS_IDLE_TIMEOUT_MINUTES must be at least 1.")
SESSION_IDLE_WARNING = min(120, SESSION_IDLE_TIMEOUT // 2)  # seconds of warning before the end
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the meta tag, not the cookie
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [SRC_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # storage; display uses the site's zone
DEFAULT_SITE_TIME_ZONE = os.environ.get("ONCOTRIALS_TIME_ZONE", "Europe/Paris")

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Background work ----------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
# The queue of the jobs' task (workers: ``-Q`` with the same name when it is not the default).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "oncotrials")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ONCOTRIALS_LOG_LEVEL", "WARNING")},
}

# --- Audit trail keys ---------------------------------------------------------------------
# The keyed MAC sealing every audit event: a keyring of ``id -> secret``, the current id sealing
# new events. Never stored in the database; see README "Audit trail keys".
AUDIT_KEYS: dict[str, bytes] = {}
AUDIT_KEY_ID = ""
AUDIT_KEY_DERIVED = False  # a development key derived from SECRET_KEY (system check warns)


def _audit_key_entry(text: str, where: str) -> tuple[str, bytes]:
    key_id, sep, secret = text.strip().partition(":")
    if not sep:  # a bare secret: its id is derived from it, never revealing it
        secret = key_id
        key_id = (
            "k-" + hashlib.sha256(b"oncotrials-audit-key-id:" + secret.encode()).hexdigest()[:12]
        )
    key_id, secret = key_id.strip(), secret.strip()
    if not key_id or len(key_id) > 64 or key_id == "legacy-sha256":
        raise ImproperlyConfigured(f"{where}: the key id must be 1-64 characters; got {key_id!r}.")
    if len(secret) < 32 and not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            f"{where}: the audit key {key_id!r} needs 32 characters or more."
        )
    return key_id, secret.encode()


_audit_key_file = os.environ.get("ONCOTRIALS_AUDIT_KEY_FILE", "")
if _audit_key_file:
    try:
        _lines = Path(_audit_key_file).read_text().splitlines()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"ONCOTRIALS_AUDIT_KEY_FILE={_audit_key_file!r} cannot be read: {exc.strerror}."
        ) from None
    for _n, _line in enumerate(_lines, start=1):
        if _line.strip() and not _line.lstrip().startswith("#"):
            _kid, _secret_bytes = _audit_key_entry(_line, f"ONCOTRIALS_AUDIT_KEY_FILE line {_n}")
            AUDIT_KEYS[_kid] = _secret_bytes
            AUDIT_KEY_ID = _kid  # the last key of the file seals new events
    if not AUDIT_KEYS:
        raise ImproperlyConfigured(f"ONCOTRIALS_AUDIT_KEY_FILE={_audit_key_file!r} holds no key.")
if os.environ.get("ONCOTRIALS_AUDIT_KEY", ""):
    _kid, _secret_bytes = _audit_key_entry(
        os.environ["ONCOTRIALS_AUDIT_KEY"], "ONCOTRIALS_AUDIT_KEY"
    )
    AUDIT_KEYS[_kid] = _secret_bytes
    AUDIT_KEY_ID = _kid  # the key of the environment seals new events; the file's still verify
if not AUDIT_KEYS:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "ONCOTRIALS_AUDIT_KEY (or ONCOTRIALS_AUDIT_KEY_FILE) is required unless "
            "ONCOTRIALS_DEBUG=1: it seals the audit trail; see README, Audit trail keys."
        )
    AUDIT_KEY_ID = "dev-derived"
    AUDIT_KEYS[AUDIT_KEY_ID] = hashlib.sha256(
        b"oncotrials-audit-mac:" + SECRET_KEY.encode()
    ).digest()
    AUDIT_KEY_DERIVED = True

AUDIT_SIGNING_KEY_FILE = os.environ.get("ONCOTRIALS_AUDIT_SIGNING_KEY_FILE", "")
if AUDIT_SIGNING_KEY_FILE and not Path(AUDIT_SIGNING_KEY_FILE).is_file():
    raise ImproperlyConfigured(
        f"ONCOTRIALS_AUDIT_SIGNING_KEY_FILE={AUDIT_SIGNING_KEY_FILE!r} is not a readable file."
    )
_checkpoint_dir = os.environ.get("ONCOTRIALS_AUDIT_CHECKPOINT_DIR", "")
# Tests write checkpoints only where a test puts them (a fresh directory of their own).
AUDIT_CHECKPOINT_DIR: Path | None = (
    Path(_checkpoint_dir).resolve()
    if _checkpoint_dir
    else (None if TESTING else DATA_DIR / "audit-checkpoints")
)
