from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "oncotrials.apps.accounts"
    label = "accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        from .signals import connect  # models are ready only now

        connect()
