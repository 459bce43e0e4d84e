"""Accounts provisioned together with one password (the demo's) are created from one hash."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password

from oncotrials.apps.accounts.models import User
from oncotrials.apps.accounts.services import user_create
from oncotrials.core.errors import ValidationError


@pytest.mark.django_db
def test_users_created_from_one_hash_log_in_with_its_password():
    hashed = make_password("a-long-shared-demo-password")
    for name in ("alice", "bob"):
        user_create(username=name, password_hash=hashed)
    for user in User.objects.filter(username__in=["alice", "bob"]):
        assert user.check_password("a-long-shared-demo-password")
        assert not user.check_password("wrong-password")


@pytest.mark.django_db
def test_a_hash_must_be_a_known_hashers_and_not_given_with_a_password():
    with pytest.raises(ValidationError, match="password_hash"):
        user_create(username="carol", password_hash="not-a-hash")
    with pytest.raises(ValidationError, match="not both"):
        user_create(
            username="carol",
            password="a-long-shared-demo-password",
            password_hash=make_password("a-long-shared-demo-password"),
        )
    assert not User.objects.filter(username="carol").exists()
