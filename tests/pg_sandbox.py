"""The PostgreSQL sandbox the tests use (packaging/pg-sandbox), and a fresh database per test.

The schema is migrated once into a template database; each test's database is a copy of it
(CREATE DATABASE ... TEMPLATE, a file copy on the server: far faster than migrating).
The tables belong to ptdoc_owner; the tests connect as ptdoc_app, as a workstation does.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "packaging" / "pg-sandbox"


# What a refused write raises at a connection of its own, on either backend.
REFUSED: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
with contextlib.suppress(ImportError):
    import psycopg

    REFUSED = (sqlite3.IntegrityError, psycopg.errors.IntegrityError)


def raw_execute(target: object, sql: str, params: dict) -> None:
    """Run ``sql`` (``:name`` parameters) at a connection of its own, not through ptdoc:
    sqlite3 on a file, psycopg on a server (as the URL's role), and commit."""
    if isinstance(target, Path):
        conn = sqlite3.connect(target)
        try:
            conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(str(target)) as conn:
        conn.execute(re.sub(r":(\w+)", r"%(\1)s", sql), params)


def busy_writer(target: object) -> Any:
    """A connection of its own in the middle of a write transaction, holding what a writer
    waits for (SQLite's write lock, the server's writer lock): ``rollback()`` lets go."""
    if isinstance(target, Path):
        conn = sqlite3.connect(target, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")
        return conn
    import psycopg

    from ptdoc import pg

    conn = psycopg.connect(str(target))
    conn.execute("SELECT pg_advisory_xact_lock(%s)", [pg.WRITER_LOCK])
    return conn


def as_superuser(url: str) -> str:
    """The same database as the server's superuser: whoever administers the server."""
    return re.sub(r"^postgresql://[^@/]*@", "postgresql://postgres@", url)


def attack(target: object, *statements: str) -> None:
    """Run ``statements`` with the protections out of the way, as an attacker who holds the
    database would: on a file, sqlite3 with every trigger dropped; on a server, its
    superuser with triggers off (session_replication_role = replica)."""
    if isinstance(target, Path):
        conn = sqlite3.connect(target)
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                    ).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        for sql in statements:
            conn.execute(sql)
        conn.commit()
        conn.close()
        return
    import psycopg

    with psycopg.connect(as_superuser(str(target))) as conn:
        conn.execute("SET session_replication_role = replica")
        for sql in statements:
            conn.execute(sql)


def administer(target: object, sql: str) -> None:
    """One statement in SQLite's dialect by whoever holds the database (sqlite3 on a file,
    the server's superuser, translated as ptdoc translates its own), with triggers on."""
    if isinstance(target, Path):
        raw_execute(target, sql, {})
        return
    import psycopg

    from ptdoc import dialect

    with psycopg.connect(as_superuser(str(target)), autocommit=True) as conn:
        for statement in dialect.translate(sql).statements():
            conn.execute(statement)


def printed_urls(stdout: str) -> dict[str, str]:
    """The URLs ``pg-sandbox start`` prints, by the first word of their label
    ("Workstations", "Owner"): each line ends with its URL."""
    return {line.split()[0]: line.split()[-1] for line in stdout.splitlines() if line.strip()}


class PgSandbox:
    def __init__(self, folder: Path):
        self.folder = folder
        self.template = f"ptdoc_template_{os.getpid()}"
        self._names = (f"ptdoc_test_{os.getpid()}_{n}" for n in itertools.count(1))
        self._strategy = ""  # how a test's database is copied from the template

    def start(self) -> str:
        """Start the server; an empty string, or why it could not start."""
        if os.environ.get("PTDOC_PG") == "0":
            return "PTDOC_PG=0"
        env = dict(os.environ)
        if env.get("PTDOC_PG") != "1":
            env["PTDOC_PG_NO_INSTALL"] = "1"  # installing a server is for CI (PTDOC_PG=1)
        try:
            done = subprocess.run([str(SCRIPT), "start", str(self.folder)], capture_output=True,
                                  text=True, timeout=120, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if done.returncode != 0:
            return " ".join(done.stderr.split()) or f"pg-sandbox exited {done.returncode}"
        return ""

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.folder)], capture_output=True,
                       timeout=120, check=False)

    def url(self, dbname: str, user: str = "ptdoc_app") -> str:
        return f"postgresql://{user}@/{dbname}?host={self.folder}"

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres", "postgres"), autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)

    def make_template(self) -> None:
        import psycopg

        from ptdoc import pg

        self._admin(f"DROP DATABASE IF EXISTS {self.template}",
                    f"CREATE DATABASE {self.template} OWNER ptdoc_owner")
        pg.open_database(self.url(self.template, "ptdoc_owner")).close()
        # PostgreSQL 15 copies a template page by page through its write-ahead log unless
        # told to copy its files: 87 ms against 16 ms a database here, for every test.
        with psycopg.connect(self.url("postgres", "postgres")) as conn:
            version = int(conn.execute("SHOW server_version_num").fetchone()[0])
        self._strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""

    def fresh_database(self) -> str:
        name = next(self._names)
        self._admin(f"CREATE DATABASE {name} TEMPLATE {self.template} OWNER ptdoc_owner"
                    f"{self._strategy}")
        return name

    def empty_database(self) -> str:
        """A database with nothing in it, its owner's to fill."""
        name = next(self._names)
        self._admin(f"CREATE DATABASE {name} OWNER ptdoc_owner")
        return name

    def cut_off(self, name: str) -> None:
        """The server out of reach for the database ``name``, as after a dropped network:
        every open connection ended, new ones refused until ``let_in``."""
        self._admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false",
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}'")

    def let_in(self, name: str) -> None:
        self._admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")

    def drop(self, name: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
