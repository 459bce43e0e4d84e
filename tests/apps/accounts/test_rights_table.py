"""The table of rights is the one home of "who may do what".

Every action has its roles; no other module of the apps or the web layer names a role or
builds a role set, so adding a role is the enum, its migration and rows of this table.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from oncotrials.apps.accounts.access import RIGHTS, Action, Target, allows, roles_allowed

SRC = Path(__file__).resolve().parents[3] / "src" / "oncotrials"
ROLE_VALUES = {
    "investigator",
    "research_nurse",
    "cra",
    "data_manager",
    "biostatistician",
    "pharmacovigilance",
    "molecular_biologist",
    "tumour_board_coordinator",
    "sponsor_monitor",
    "administrator",
}


def test_every_action_has_roles():
    assert set(RIGHTS) == set(Action)
    for action, roles in RIGHTS.items():
        assert roles, action


def test_the_sponsor_monitor_only_reads_and_queries():
    monitor = {"sponsor_monitor"}
    allowed = {a for a in Action if allows(monitor, a)}
    # A monitor also takes its own trial's data away, through an audited data cut.
    assert allowed == {
        Action.RAISE_QUERY,
        Action.CLOSE_QUERY,
        Action.VERIFY_SOURCE,
        Action.EXPORT_DATA,
    }


def test_signatures_belong_to_investigators_only():
    assert roles_allowed(Action.SIGN_CRF) == {"investigator"}
    assert roles_allowed(Action.SIGN_RECOMMENDATION) == {"investigator"}


def _role_mentions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Role"
            and node.attr not in {"values", "choices", "labels", "names"}
        ):
            found.append(f"{path.relative_to(SRC)}:{node.lineno}: Role.{node.attr}")
        if isinstance(node, ast.Constant) and node.value in ROLE_VALUES:
            found.append(f"{path.relative_to(SRC)}:{node.lineno}: {node.value!r}")
    return found


ALLOWED = {
    # Roles are defined and granted here, and the demo grants them to its logins.
    "apps/accounts",
    "apps/demo",
    # A CRF choice value ("end of treatment: investigator's decision"), not a role.
    "core/crf",
}


@pytest.mark.parametrize("layer", ["apps", "web", "cli"])
def test_no_role_is_named_outside_the_table(layer):
    mentions = []
    for path in sorted((SRC / layer).rglob("*.py")):
        rel = str(path.relative_to(SRC))
        if "/migrations/" in rel or any(rel.startswith(a) for a in ALLOWED):
            continue
        mentions += _role_mentions(path)
    assert not mentions, "Name roles only in accounts/access.py RIGHTS:\n" + "\n".join(mentions)


def test_a_target_combines_site_wide_and_trial_limited_grants(unit):
    from oncotrials.apps.accounts.access import roles_on

    monitor = unit.users["monitor"]  # T-MAIN at the main site
    on_main = Target(frozenset({unit.main.pk}), frozenset({unit.trial_main.pk}))
    on_other = Target(frozenset({unit.main.pk}), frozenset({unit.trial_other.pk}))
    assert roles_on(monitor, on_main) == {"sponsor_monitor"}
    assert roles_on(monitor, on_other) == set()
    assert roles_on(monitor, unit.main) == set()  # the site itself: site-wide grants only
    assert roles_on(unit.users["investigator"], on_other) == {"investigator"}
    assert roles_on(unit.users["admin"], on_other) == {"administrator"}
    assert roles_on(unit.users["outsider"], on_main) == set()
