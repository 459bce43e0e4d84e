"""``oncotrials seed`` and ``oncotrials verify-restore``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from typer.testing import CliRunner

from oncotrials.cli.main import app

runner = CliRunner()
PG = connection.vendor == "postgresql"


def _url(name: str | None = None) -> str:
    s = connection.settings_dict
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{s['USER']}@{host}:{port}/{name or s['NAME']}"


def test_seed_small_adds_its_volume_with_a_verifiable_trail(db: Any) -> None:
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.demo.seed import SIZES, seed_counts, seed_load
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.subjects.models import Patient

    spec = SIZES["small"]
    logins, added = seed_load("small")
    assert {login.username for login in logins} >= {"nurse", "investigator", "monitor"}
    totals = seed_counts()
    assert totals["trials"] == spec.trials
    assert added["trials"] > 0
    assert added["dose_levels"] == 3 * added["trials"]
    assert added["patients"] == spec.patients
    assert added["reports"] == spec.patients * spec.reports_per_patient
    assert added["mutations"] == 3 * added["reports"]
    assert added["registrations"] == int(spec.patients * spec.registered_share)
    seeded = Patient.objects.filter(research_id__startswith="C10-")
    assert seeded.count() == spec.patients
    assert GenomicReport.objects.filter(source_file="seed").count() == added["reports"]
    report = audit_verify(rows=True)
    assert report.ok, report.problem
    assert report.rows_checked >= spec.patients + added["reports"] + added["registrations"]
    if PG:  # the planner's statistics describe the seeded volume, not an empty database
        with connection.cursor() as cur:
            cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'subjects_patient'")
            assert cur.fetchone()[0] >= spec.patients
    again = runner.invoke(app, ["seed", "--size", "small"])
    assert again.exit_code != 0  # only into an empty database
    assert "not empty" in again.output


def test_seed_refuses_an_unknown_size(db: Any) -> None:
    result = runner.invoke(app, ["seed", "--size", "huge"])
    assert result.exit_code != 0
    assert "centre-10y" in result.output


@pytest.mark.django_db(transaction=True)
def test_verify_restore_matches_every_table_and_the_trail(unit: Any) -> None:
    if not PG:
        pytest.skip("pg_dump / pg_restore: PostgreSQL")
    from django.conf import settings

    from oncotrials.cli.commands.production import table_digests

    env = {"DATABASE_URL": _url(), "ONCOTRIALS_SECRET_KEY": settings.SECRET_KEY}
    target = f"{connection.settings_dict['NAME']}_rc"
    result = runner.invoke(
        app, ["verify-restore", "--target", target, "--keep", "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout[result.stdout.index("{") :])
    assert doc["ok"]
    assert doc["tables"] > 50
    assert doc["mismatched"] == []
    assert doc["audit"]["exit_code"] == 0
    assert doc["audit"]["rows_checked"] > 0
    # The comparison sees a change: one row edited in the restored copy differs.
    import psycopg

    restored = _url(target)
    try:
        with psycopg.connect(restored.replace("postgres://", "postgresql://")) as c:
            c.execute(
                "UPDATE trials_trial SET title = title || '!' WHERE id = %s", [unit.trial_main.pk]
            )
        before, after = table_digests(_url()), table_digests(restored)
        differs = [t for t in before if before[t] != after[t]]
        assert differs == ["trials_trial"]
    finally:
        with psycopg.connect(
            _url("postgres").replace("postgres://", "postgresql://"), autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{target}"')
