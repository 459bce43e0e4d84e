"""Reads compiled once per connection (accounts.prepared): each call gives what the queryset
would give for its values, and the building of the SQL is not repeated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oncotrials.apps.accounts.models import Membership, User
from oncotrials.apps.accounts.prepared import PreparedRead


def _memberships(user: int, now: dt.datetime):  # type: ignore[no-untyped-def]
    return (
        Membership.objects.active(now)
        .filter(user_id=user)
        .select_related("user", "site", "trial")
        .annotate(others=Count("site__memberships"))
        .order_by("pk")
    )


MEMBERSHIPS = PreparedRead(_memberships, "user", at=("now",))
ROLES = PreparedRead(
    lambda user: (
        Membership.objects.filter(user_id=user)
        .order_by("pk")
        .values_list("role", "site_id", "trial_id", "valid_from")
    ),
    "user",
)
BY_NAME = PreparedRead(lambda name: User.objects.filter(username=name), text=("name",))


@pytest.mark.django_db
def test_each_call_gives_what_the_queryset_gives_for_its_values(unit):
    now = timezone.now()
    for name in ("admin", "monitor", "outsider", "nurse"):
        user = unit.users[name]
        expected = list(_memberships(user.pk, now))
        got = MEMBERSHIPS.objects(user=user.pk, now=now)
        assert [m.pk for m in got] == [m.pk for m in expected]
        for a, b in zip(got, expected, strict=True):
            # the row, its select_related objects (a trial or none) and its annotation
            assert (a.role, a.site.code, a.user.username, a.others) == (
                b.role,
                b.site.code,
                b.user.username,
                b.others,
            )
            assert (a.trial.protocol_code if a.trial else None) == (
                b.trial.protocol_code if b.trial else None
            )
        rows = ROLES.rows(user=user.pk)
        assert rows == list(
            Membership.objects.filter(user=user)
            .order_by("pk")
            .values_list("role", "site_id", "trial_id", "valid_from")
        )
        assert BY_NAME.first(name=name) == user
    # the date-time is a value: before the memberships began, none is active
    assert MEMBERSHIPS.objects(user=unit.users["nurse"].pk, now=now - dt.timedelta(days=3650)) == []
    assert BY_NAME.first(name="nobody") is None


@pytest.mark.django_db
def test_the_sql_is_built_once_per_connection(unit):
    nurse = unit.users["nurse"]
    MEMBERSHIPS.objects(user=nurse.pk, now=timezone.now())
    with CaptureQueriesContext(connection) as ctx:
        for name in ("nurse", "monitor"):
            MEMBERSHIPS.objects(user=unit.users[name].pk, now=timezone.now())
    first, second = ctx.captured_queries
    assert first["sql"].split("WHERE")[0] == second["sql"].split("WHERE")[0]
    assert str(unit.users["monitor"].pk) in second["sql"]


@pytest.mark.django_db
def test_a_locking_read_locks(unit):
    locked = PreparedRead(lambda user: User.objects.select_for_update().filter(pk=user), "user")
    pk = unit.users["nurse"].pk
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        assert locked.first(user=pk) == unit.users["nurse"]
    locking = [q["sql"] for q in ctx.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == (1 if connection.features.has_select_for_update else 0)


@pytest.mark.django_db
def test_a_value_that_is_not_a_parameter_is_refused(unit):
    # the value only decides the shape of the query: it cannot be substituted later
    shaped = PreparedRead(
        lambda user: User.objects.filter(pk__in=[1, 2]) if user else User.objects.none(), "user"
    )
    with pytest.raises(TypeError, match="user"):
        shaped.objects(user=1)
    with pytest.raises(TypeError, match="values_list"):
        PreparedRead(lambda user: User.objects.filter(pk=user).values("username"), "user").objects(
            user=1
        )


@pytest.mark.django_db
def test_the_scope_read_with_a_token_is_the_scope_of_the_memberships(unit):
    """On PostgreSQL the API token's read carries the user's active memberships: the scope
    built from them is the one ``scope_for`` reads."""
    from oncotrials.apps.accounts.access import Scope, forget_scope, scope_for
    from oncotrials.apps.accounts.services import token_create, token_resolve

    for name in ("admin", "nurse", "monitor", "outsider", "partner_investigator"):
        _, raw = token_create(user=unit.users[name], name="scope")
        token = token_resolve(raw)
        assert token is not None
        primed = getattr(token.user, "_oncotrials_scope", None)
        assert (primed is not None) == (connection.vendor == "postgresql")
        forget_scope(token.user)
        read = scope_for(token.user)
        assert primed is None or primed == read, name
        assert (read == Scope()) == (name == "outsider")
