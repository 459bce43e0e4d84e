"""`oncotrials audit verify|checkpoint` and `db grant-app-role`: outputs and exit codes."""

from __future__ import annotations

import json

from django.db import connection
from typer.testing import CliRunner

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_record
from oncotrials.cli.main import app

runner = CliRunner()


def test_checkpoint_then_incremental_verify_then_exit_codes(unit, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "cp"
    written = runner.invoke(app, ["audit", "checkpoint", "--format", "json"])
    assert written.exit_code == 0, written.output
    assert json.loads(written.stdout)["path"].startswith(str(tmp_path / "cp"))
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "since checkpoint checkpoint-" in ok.stdout
    assert "1 signed checkpoints hold" in ok.stdout
    full = runner.invoke(app, ["audit", "verify", "--full", "--rows", "--format", "json"])
    report = json.loads(full.stdout)
    assert (full.exit_code, report["ok"], report["since_checkpoint"]) == (0, True, "")
    assert report["rows_checked"] > 10

    audit_record(action="update", instance=unit.trial_main, reason="after the checkpoint")
    victim = AuditEvent.objects.order_by("-id")[0]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("UPDATE audit_auditevent SET reason = 'x' WHERE id = %s", [victim.pk])
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL session_replication_role = origin")
    bad = runner.invoke(app, ["audit", "verify"])  # incremental: the tail since the checkpoint
    assert bad.exit_code == 1
    assert f"broken at event #{victim.seq} of chain {victim.partition}" in bad.stderr
    refused = runner.invoke(app, ["audit", "checkpoint"])
    assert refused.exit_code == 1
    assert "No checkpoint written" in refused.stderr
    assert len(list((tmp_path / "cp").glob("checkpoint-*.json"))) == 1

    settings.AUDIT_KEYS = {"other": b"o" * 40}
    settings.AUDIT_KEY_ID = "other"
    unverifiable = runner.invoke(app, ["audit", "verify", "--full"])
    assert unverifiable.exit_code == 2
    assert "Cannot verify" in unverifiable.stderr


def test_grant_app_role_refuses_the_owner_and_sqlite(unit):
    result = runner.invoke(app, ["db", "grant-app-role", "postgres"])
    assert result.exit_code == 1
    if connection.vendor == "postgresql":
        assert "the owner" in result.stderr or "superuser" in result.stderr
    else:
        assert "PostgreSQL only" in result.stderr
