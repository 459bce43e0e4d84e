"""PostgreSQL roles: the owner runs migrations, the application may only append to the trail.

``app_role_grant`` (run as the owner, ``oncotrials db grant-app-role``) creates the
application's login role if needed and grants it what the platform needs: reading and writing
the ordinary tables, but on the audit event table only SELECT and INSERT, and on the chain heads
SELECT, INSERT and UPDATE (a trigger lets a head move only forward). The role is not the owner of
any table, so it cannot ALTER a table, disable its triggers, TRUNCATE it, nor set
``session_replication_role`` (superusers only).
"""

from __future__ import annotations

from django.db import connection

from oncotrials.core.errors import ValidationError

from .models import AuditChainHead, AuditEvent


def app_role_grant(role: str, *, password: str | None = None) -> list[str]:
    """Create (if missing) and grant the restricted application role; return the statements."""
    if connection.vendor != "postgresql":
        raise ValidationError("Database roles apply to PostgreSQL only.")
    if not role or len(role) > 63:
        raise ValidationError("The role name must be 1 to 63 characters long.")
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cur.fetchone()
        if role == owner:
            raise ValidationError(
                f"{role!r} is the role running this command (the owner): give the application "
                "a role of its own."
            )
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        row = cur.fetchone()
        if row is not None and row[0]:
            raise ValidationError(f"{role!r} is a superuser: it could bypass every guard.")
    r, events, heads = qn(role), qn(AuditEvent._meta.db_table), qn(AuditChainHead._meta.db_table)
    statements: list[tuple[str, list[str]]] = []
    if row is None:
        statements.append(
            (f"CREATE ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS", [])
        )
    if password:
        statements.append((f"ALTER ROLE {r} PASSWORD %s", [password]))
    s, o = qn(schema), qn(owner)
    statements += [
        (f"GRANT CONNECT ON DATABASE {qn(database)} TO {r}", []),
        (f"GRANT USAGE ON SCHEMA {s} TO {r}", []),
        (f"REVOKE CREATE ON SCHEMA {s} FROM {r}", []),
        (f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}", []),
        (f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}", []),
        (f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {events} FROM {r}", []),
        (f"REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON {heads} FROM {r}", []),
        (
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
            [],
        ),
        (
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {r}",
            [],
        ),
    ]
    with connection.cursor() as cur:
        for sql, params in statements:
            cur.execute(sql, params or None)
    return [sql for sql, _ in statements]
