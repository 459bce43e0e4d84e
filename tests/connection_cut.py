"""Cut the database connection of a save in the middle, from another connection (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection


def _url() -> str:
    s = connection.settings_dict
    return f"postgresql://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def terminate_this_backend() -> None:
    """``pg_terminate_backend`` of this thread's connection, run on a second connection."""
    import psycopg

    pid = connection.connection.info.backend_pid
    with psycopg.connect(_url(), autocommit=True) as other:
        row = other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()
        assert row is not None, "the backend was not terminated"
        assert row[0], "the backend was not terminated"


@contextmanager
def cut_on(target: Any, name: str) -> Iterator[list[int]]:
    """Within the block, the first call of ``target.name`` cuts the connection first.

    Yields a list that receives one element per cut made.
    """
    original = getattr(target, name)
    cuts: list[int] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not cuts:
            cuts.append(connection.connection.info.backend_pid)
            terminate_this_backend()
        return original(*args, **kwargs)

    setattr(target, name, wrapper)
    try:
        yield cuts
    finally:
        setattr(target, name, original)
