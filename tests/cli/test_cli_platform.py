"""Platform commands: demo, createuser, token create, audit verify; one-line errors and exit 1."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from oncotrials.cli.main import app

runner = CliRunner()


@pytest.fixture
def demo_db(transactional_db):
    result = runner.invoke(app, ["demo", "--seed", "7", "--no-patients", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_demo_loads_a_living_unit(demo_db):
    from oncotrials.apps.accounts.models import Role, Site, User
    from oncotrials.apps.trials.models import Phase, Trial

    assert Site.objects.count() == 2
    roles = set(User.objects.values_list("memberships__role", flat=True))
    assert set(Role.values) <= roles
    assert Trial.objects.count() >= 30
    assert set(Phase.values) <= set(Trial.objects.values_list("phase", flat=True))
    assert Trial.objects.filter(status="open").exists()
    assert {login["username"] for login in demo_db["logins"]} >= {
        "admin",
        "monitor",
        "outsider",
        "nurse",
    }


@pytest.mark.django_db(transaction=True)
def test_demo_is_deterministic_from_its_seed():
    from django.core.management import call_command

    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.subjects.models import Patient, Registration
    from oncotrials.apps.trials.models import DoseLevel, Trial

    # As in a test worker where earlier tests wrote rows (on PostgreSQL a rolled-back insert
    # still moves its sequence on), the first load's ids do not start at 1, and `flush` below
    # starts them at 1 again: nothing in the demo may depend on the value of an id.
    Trial.objects.create(
        protocol_code="ID-SHIFT", title="x", sponsor="x", sponsor_type="industry", phase="II"
    ).delete()

    assert runner.invoke(app, ["demo", "--seed", "7", "--format", "json"]).exit_code == 0
    assert Patient.objects.count() >= 250
    stages = set(Registration.objects.values_list("status", flat=True))
    assert {"registered", "on_treatment", "follow_up", "off_study"} <= stages
    patients = list(
        Patient.objects.order_by("research_id").values_list(
            "research_id", "sex", "year_of_birth", "diagnosis"
        )
    )
    regs = list(
        Registration.objects.order_by("patient__research_id", "cohort_id").values_list(
            "patient__research_id", "status", "registered_on"
        )
    )
    first = list(
        Trial.objects.order_by("protocol_code").values_list("protocol_code", "status", "nct_number")
    )
    doses = list(
        DoseLevel.objects.order_by("cohort__trial__protocol_code", "level").values_list(
            "dose", flat=True
        )
    )
    call_command("flush", interactive=False, verbosity=0)
    assert runner.invoke(app, ["demo", "--seed", "7", "--format", "json"]).exit_code == 0
    assert (
        list(
            Patient.objects.order_by("research_id").values_list(
                "research_id", "sex", "year_of_birth", "diagnosis"
            )
        )
        == patients
    )
    assert (
        list(
            Registration.objects.order_by("patient__research_id", "cohort_id").values_list(
                "patient__research_id", "status", "registered_on"
            )
        )
        == regs
    )
    assert AuditEvent.objects.count() > 3000
    assert (
        list(
            Trial.objects.order_by("protocol_code").values_list(
                "protocol_code", "status", "nct_number"
            )
        )
        == first
    )
    assert (
        list(
            DoseLevel.objects.order_by("cohort__trial__protocol_code", "level").values_list(
                "dose", flat=True
            )
        )
        == doses
    )


def test_demo_refuses_a_database_that_is_not_empty(demo_db):
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 1
    assert "not empty" in result.stderr
    assert "Traceback" not in result.output


def test_demo_reset_asks_then_empties_the_database_and_loads_again(demo_db):
    from oncotrials.apps.accounts.models import User
    from oncotrials.apps.trials.models import Trial

    trials = Trial.objects.count()
    made = runner.invoke(app, ["createuser", "extra.user", "--password", "another-long-password-7"])
    assert made.exit_code == 0, made.output
    refused = runner.invoke(app, ["demo", "--no-patients", "--reset"], input="n\n")
    assert refused.exit_code == 1
    assert "Nothing was deleted" in refused.stderr
    assert User.objects.filter(username="extra.user").exists()
    again = runner.invoke(app, ["demo", "--no-patients", "--reset", "--yes", "--format", "json"])
    assert again.exit_code == 0, again.output
    assert not User.objects.filter(username="extra.user").exists()
    assert Trial.objects.count() == trials
    assert {login["username"] for login in json.loads(again.stdout)["logins"]} >= {"admin"}
    ok = runner.invoke(app, ["audit", "verify", "--format", "json"])
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["ok"] is True


def test_audit_verify_passes_then_catches_tampering(demo_db):
    ok = runner.invoke(app, ["audit", "verify", "--format", "json"])
    assert ok.exit_code == 0
    report = json.loads(ok.stdout)
    assert report["ok"] is True
    assert report["events"] > 100

    from django.db import connection

    from oncotrials.apps.audit.models import AuditEvent

    victim = AuditEvent.objects.order_by("id")[41]  # the 42nd event, in its trial's chain
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
        cur.execute(
            "UPDATE audit_auditevent SET actor_username = 'mallory' WHERE id = %s", [victim.pk]
        )
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = origin")
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert f"broken at event #{victim.seq} of chain {victim.partition}" in bad.stderr


def test_createuser_with_role_and_token(demo_db):
    result = runner.invoke(
        app,
        [
            "createuser",
            "newnurse",
            "--role",
            "research_nurse",
            "--site",
            "partner",
            "--password",
            "another-long-password-7",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    token = runner.invoke(
        app, ["token", "create", "newnurse", "--name", "script", "--format", "json"]
    )
    assert token.exit_code == 0
    assert json.loads(token.stdout)["token"].startswith("otk_")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "createuser",
                "x",
                "--role",
                "wizard",
                "--site",
                "main",
                "--password",
                "another-long-password-7",
            ],
            "Unknown role 'wizard'",
        ),
        (
            [
                "createuser",
                "x",
                "--role",
                "investigator",
                "--site",
                "mars",
                "--password",
                "another-long-password-7",
            ],
            "Unknown site 'mars'",
        ),
        (
            ["createuser", "x", "--role", "investigator", "--password", "another-long-password-7"],
            "--role and --site go together",
        ),
        (["createuser", "x", "--password", "123"], "too short"),
        (["token", "create", "ghost"], "No active user 'ghost'"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_1(demo_db, args, message):
    from oncotrials.apps.accounts.models import User

    before = User.objects.count()
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert User.objects.count() == before
