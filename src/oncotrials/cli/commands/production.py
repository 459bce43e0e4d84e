"""Production evidence: ``oncotrials seed`` (load-test data) and ``oncotrials verify-restore``.

``verify-restore`` proves that a backup restores: it dumps the database with ``pg_dump
--format=custom``, restores the dump into a scratch database with ``pg_restore``, compares every
table of both (row count and a digest of the rows in primary-key order), then runs ``oncotrials
audit verify --full --rows`` on the restored copy, whose events must all keep their seals and
whose audited rows must all match their last event. Exit 0 when everything matches, 1 otherwise.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.table import Table

from oncotrials.cli import django_setup
from oncotrials.cli.output import (
    FormatOption,
    OutputFormat,
    command_errors,
    fail,
    print_json,
    stderr,
    stdout,
)


@command_errors
def seed(
    size: Annotated[
        str, typer.Option(help="small (tests) or centre-10y (10 years of a phase I centre).")
    ] = "small",
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed.")] = 15,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Load a load-test seed (the demo plus years of volume) into an empty database.

    centre-10y: about 10,000 patients, 40,000 molecular reports, 300 trials; every row audited,
    so `oncotrials audit verify --full --rows` passes afterwards.
    """
    django_setup.setup()
    from oncotrials.apps.demo.seed import seed_counts, seed_load

    wall, cpu = time.perf_counter(), time.process_time()
    if fmt is OutputFormat.json:
        _, added = seed_load(size, seed=seed_value)
    else:
        with stderr.status(f"Seeding {size}") as status:
            _, added = seed_load(size, seed=seed_value, progress=lambda m: status.update(m))
    totals_now = seed_counts()
    doc: dict[str, Any] = {
        "size": size,
        "added": added,
        "totals": totals_now,
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
    }
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    totals = ", ".join(f"{v:,} {k}" for k, v in totals_now.items())
    stdout.print(
        f"Seeded {size}: {totals} in {doc['wall_s']} s wall, {doc['cpu_s']} s CPU (this process)."
    )
    stdout.print("Log in as the demo personas (see `oncotrials demo --help` for the password).")


# --- verify-restore ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableCheck:
    table: str
    rows_source: int
    rows_restored: int
    digest_source: str
    digest_restored: str

    @property
    def ok(self) -> bool:
        return (self.rows_source, self.digest_source) == (self.rows_restored, self.digest_restored)


def _libpq_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(_libpq_url(url))
    return urlunsplit(parts._replace(path=f"/{name}"))


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of every public table's rows (as text, in primary-key order), and
    of the sequences' positions (as ``(sequences)``)."""
    import psycopg
    from psycopg import sql

    out: dict[str, tuple[int, str]] = {}
    with psycopg.connect(_libpq_url(url)) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        for table in tables:
            keys = [
                r[0]
                for r in conn.execute(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                    "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass "
                    "AND i.indisprimary ORDER BY a.attnum",
                    [f'"{table}"'],
                )
            ]
            order = (
                sql.SQL(", ").join(sql.Identifier(k) for k in keys) if keys else sql.SQL("t::text")
            )
            query = sql.SQL("SELECT t::text FROM {} AS t ORDER BY {}").format(
                sql.Identifier(table), order
            )
            h = hashlib.sha256()
            n = 0
            with conn.cursor(name=f"digest_{n}_{table}"[:60]) as cur:
                cur.itersize = 5000
                cur.execute(query)
                for (text,) in cur:
                    h.update(text.encode())
                    h.update(b"\n")
                    n += 1
            out[table] = (n, h.hexdigest())
        # Sequences too: a restore that set them back would hand out ids already used.
        seqs = conn.execute(
            "SELECT sequencename, coalesce(last_value, 0) FROM pg_sequences "
            "WHERE schemaname = 'public' ORDER BY sequencename"
        ).fetchall()
        text = "\n".join(f"{name}={value}" for name, value in seqs)
        out["(sequences)"] = (len(seqs), hashlib.sha256(text.encode()).hexdigest())
    return out


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        fail(f"{Path(args[0]).name} failed: {done.stderr.strip()[:500]}")


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        fail(f"{name} is not installed.", remedy="Install the PostgreSQL client tools.")
    return found


@command_errors
def verify_restore(
    target: Annotated[
        str | None,
        typer.Option(help="Scratch database to restore into (default: <database>_restore_check)."),
    ] = None,
    dump: Annotated[
        Path | None, typer.Option(help="Keep the dump at this path (default: a temporary file).")
    ] = None,
    keep: Annotated[bool, typer.Option(help="Keep the restored database afterwards.")] = False,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Dump, restore into a scratch database, compare every table and verify the audit trail.

    Needs DATABASE_URL on PostgreSQL, pg_dump and pg_restore, and the right to create a
    database. Exit 0 when every table matches and the restored trail verifies, else 1.
    """
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        fail("verify-restore needs DATABASE_URL on PostgreSQL.")
    import psycopg
    from psycopg import sql

    source_name = urlsplit(url).path.lstrip("/")
    target = target or f"{source_name}_restore_check"
    if target == source_name:
        fail("The target database must differ from the source.")
    target_url = _with_database(url, target)
    admin_url = _with_database(url, "postgres")
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="oncotrials-restore-") as tmp:
        path = dump or Path(tmp) / "backup.dump"
        stderr.print(f"pg_dump {source_name} -> {path.name}")
        _run([_tool("pg_dump"), "--format=custom", f"--file={path}", _libpq_url(url)])
        with psycopg.connect(_libpq_url(admin_url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(target)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))
        try:
            stderr.print(f"pg_restore -> {target}")
            _run(
                [
                    _tool("pg_restore"),
                    "--no-owner",
                    "--exit-on-error",
                    f"--dbname={target_url}",
                    str(path),
                ]
            )
            stderr.print("Comparing tables")
            source, restored = table_digests(url), table_digests(target_url)
            checks = []
            for t in sorted(set(source) | set(restored)):
                (n_src, d_src), (n_dst, d_dst) = source.get(t, (-1, "")), restored.get(t, (-1, ""))
                checks.append(TableCheck(t, n_src, n_dst, d_src, d_dst))
            stderr.print("oncotrials audit verify --full --rows on the restored copy")
            env = {**os.environ, "DATABASE_URL": target_url}
            verify = subprocess.run(  # noqa: S603
                [_oncotrials(), "audit", "verify", "--full", "--rows", "--format", "json"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        finally:
            if not keep:
                with psycopg.connect(_libpq_url(admin_url), autocommit=True) as conn:
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(target))
                    )
    audit = _audit_doc(verify)
    bad = [c for c in checks if not c.ok]
    ok = not bad and audit.get("exit_code") == 0
    doc: dict[str, Any] = {
        "ok": ok,
        "tables": len(checks),
        "rows": sum(c.rows_source for c in checks),
        "mismatched": [c.__dict__ for c in bad],
        "audit": audit,
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
    }
    if fmt is OutputFormat.json:
        print_json(doc)
    else:
        table = Table(title=f"Restore check: {len(checks)} tables, {doc['rows']:,} rows")
        for col in ("table", "rows", "restored", "digest"):
            table.add_column(col)
        for c in bad:
            table.add_row(c.table, str(c.rows_source), str(c.rows_restored), "differs")
        if bad:
            stdout.print(table)
        events = audit.get("events", "?")
        verdict = "intact" if audit.get("exit_code") == 0 else f"NOT intact: {audit}"
        stdout.print(
            f"{len(checks) - len(bad)}/{len(checks)} tables identical ({doc['rows']:,} rows); "
            f"audit trail of the restored copy {verdict} ({events} events); "
            f"{doc['wall_s']} s wall, {doc['cpu_s']} s CPU."
        )
    if not ok:
        raise typer.Exit(code=1)


def _oncotrials() -> str:
    import sys

    exe = Path(sys.executable).parent / "oncotrials"
    return str(exe) if exe.exists() else "oncotrials"


def _audit_doc(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    import json

    try:
        doc: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return {"exit_code": done.returncode, "error": (done.stderr or done.stdout)[-500:]}
    return doc
