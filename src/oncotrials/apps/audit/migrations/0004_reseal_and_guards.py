"""Re-seal the existing trail with the keyed MAC; guard heads and refuse TRUNCATE on PostgreSQL.

The events written before the keyed MAC carry an unkeyed SHA-256 chain that anyone with write
access to the database could recompute. This migration first checks that chain completely (it
refuses to go on if any link is broken: the trail must be investigated first), then re-seals
every event, in its order, with the current audit key into the ``global`` partition, so that no
unkeyed event remains for a forger to imitate. Its order, times and contents are unchanged.

On PostgreSQL it also adds:
- a TRUNCATE trigger on the event and head tables that refuses anyone but the tables' owner
  (the application's role is not the owner, see README, production set-up);
- a trigger on chain heads refusing DELETE and any move that is not forward;
- in the append-only trigger, one exception: this re-seal, run by the owner in a migration.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from oncotrials.apps.audit import sealing  # the current seal; the key comes from settings

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION oncotrials_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('oncotrials.audit_reseal', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')
    THEN
        RETURN NEW;  -- the owner re-sealing in a migration (0004)
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

GUARDS = """
CREATE OR REPLACE FUNCTION oncotrials_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')
    THEN
        RAISE EXCEPTION 'the audit trail cannot be truncated: % refused on %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditevent_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION oncotrials_audit_no_truncate();
CREATE TRIGGER audit_auditchainhead_no_truncate
    BEFORE TRUNCATE ON audit_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION oncotrials_audit_no_truncate();

CREATE OR REPLACE FUNCTION oncotrials_audit_head_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit chain heads cannot be deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.partition <> OLD.partition OR NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'an audit chain head only moves forward (% at #%, asked #%)',
            OLD.partition, OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditchainhead_forward_only
    BEFORE UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION oncotrials_audit_head_forward_only();
"""

DROP_GUARDS = """
DROP TRIGGER IF EXISTS audit_auditchainhead_forward_only ON audit_auditchainhead;
DROP FUNCTION IF EXISTS oncotrials_audit_head_forward_only();
DROP TRIGGER IF EXISTS audit_auditchainhead_no_truncate ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS oncotrials_audit_no_truncate();
"""


def append_only(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def guards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARDS, params=None)


def drop_guards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_GUARDS, params=None)


def reseal(apps: Any, schema_editor: Any) -> None:
    event_model = apps.get_model("audit", "AuditEvent")
    head_model = apps.get_model("audit", "AuditChainHead")
    alias = schema_editor.connection.alias
    events = event_model.objects.using(alias).order_by("seq")
    if not events.exists():
        return
    prev = "0" * 64
    for expected, ev in enumerate(events.iterator(chunk_size=2000), start=1):
        if ev.seq != expected or ev.prev_hash != prev or sealing.legacy_digest(prev, ev) != ev.hash:
            raise RuntimeError(
                f"The audit trail is broken at event #{expected}: it is not re-sealed. Run "
                "`oncotrials audit verify` with the previous version and investigate first."
            )
        prev = ev.hash
    head = head_model.objects.using(alias).filter(partition="global").first()
    if head is not None and (head.seq, head.last_hash) != (expected, prev):
        raise RuntimeError(
            f"The audit trail ends at event #{expected} but its head says #{head.seq}: it is not "
            "re-sealed. Investigate first."
        )
    key_id, key = sealing.current_key()
    with schema_editor.connection.cursor() as cur:
        if schema_editor.connection.vendor == "postgresql":
            cur.execute("SET LOCAL oncotrials.audit_reseal = 'on'")
        prev = "0" * 64
        batch: list[Any] = []
        for ev in events.iterator(chunk_size=2000):
            ev.partition, ev.key_id, ev.row_digest, ev.prev_hash = "global", key_id, "", prev
            ev.hash = prev = sealing.seal(ev, key)
            batch.append(ev)
            if len(batch) == 1000:
                event_model.objects.using(alias).bulk_update(
                    batch, ["partition", "key_id", "row_digest", "prev_hash", "hash"]
                )
                batch = []
        if batch:
            event_model.objects.using(alias).bulk_update(
                batch, ["partition", "key_id", "row_digest", "prev_hash", "hash"]
            )
        if schema_editor.connection.vendor == "postgresql":
            cur.execute("SET LOCAL oncotrials.audit_reseal = 'off'")
    head_model.objects.using(alias).update_or_create(
        partition="global", defaults={"seq": expected, "last_hash": prev}
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_partitions_and_keyed_mac")]
    operations = [
        migrations.RunPython(append_only, migrations.RunPython.noop),
        migrations.RunPython(reseal, migrations.RunPython.noop),
        migrations.RunPython(guards, drop_guards),
    ]
