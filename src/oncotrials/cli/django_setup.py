"""Start Django for commands that need the database (the science commands never do)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def data_dir() -> Path:
    return Path(os.environ.get("ONCOTRIALS_DATA_DIR", "var")).resolve()


def ensure_local_secret() -> None:
    """The embedded server keeps a random secret key in its data directory."""
    if os.environ.get("ONCOTRIALS_SECRET_KEY") or os.environ.get("ONCOTRIALS_SECRET_KEY_FILE"):
        return
    path = data_dir() / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    os.environ["ONCOTRIALS_SECRET_KEY_FILE"] = str(path)


def ensure_local_audit_key() -> None:
    """The embedded server keeps its audit key in its data directory (not in the database).

    Debug and test runs use the development key derived from the secret key instead.
    """
    if os.environ.get("ONCOTRIALS_AUDIT_KEY") or os.environ.get("ONCOTRIALS_AUDIT_KEY_FILE"):
        return
    if any(
        os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"}
        for v in ("ONCOTRIALS_DEBUG", "ONCOTRIALS_TESTING")
    ):
        return
    path = data_dir() / "audit_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"local-1:{secrets.token_urlsafe(48)}\n")
        path.chmod(0o600)
    os.environ["ONCOTRIALS_AUDIT_KEY_FILE"] = str(path)


def setup(*, local: bool = True) -> None:
    """Configure and start Django once; ``local`` creates a key for the embedded default."""
    import django
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oncotrials.web.settings")
    if local:
        ensure_local_secret()
        ensure_local_audit_key()
    (data_dir() / "static").mkdir(parents=True, exist_ok=True)
    django.setup()
