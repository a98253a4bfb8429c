"""The clinic's database on a PostgreSQL server (``--db postgresql://user@host/dbname``).

``PgDatabase`` gives the repositories the small part of sqlite-utils' ``Database`` they use
(``execute``, ``query``, ``executescript``, ``atomic``, ``waiting``, ``conn.executemany``,
``conn.in_transaction``), over psycopg 3. Every statement is SQLite's as the repositories
write it, translated once by ``ptdoc.dialect``; this module only runs it and says what went
wrong in ptdoc's words.

- The connection is in autocommit mode: a statement outside ``atomic`` commits alone, as on
  SQLite. ``atomic`` is a transaction (a savepoint when nested) that first takes one
  transaction-level advisory lock, so writers queue as SQLite's BEGIN IMMEDIATE makes them:
  the audit chain reads its last row and appends without a second writer between. A wait
  longer than the lock timeout (5 s; ``waiting`` changes it) raises DatabaseLocked.
- The schema's version and ptdoc's mark are in the table ``ptdoc_schema`` (SQLite keeps them
  in ``PRAGMA user_version`` and ``application_id``). The same migration steps run on both.
- Roles: the tables belong to the role that created them (the database's owner, which runs
  the migrations); workstations connect as another role (``APP_ROLE`` is granted reading and
  writing rows, nothing more), which can neither drop nor disable the triggers that keep
  signed notes, addenda, the key history and the audit log as they were written.
- A dropped network: a statement whose connection is lost raises ``ServerUnreachable``
  (nothing of it was kept: a transaction cut off is rolled back by the server). The next
  statement outside a transaction connects again; while the server stays out of reach, the
  attempts are spaced out (1, 2, 4, then every 8 seconds) and the calls between them are
  refused at once, so a window retrying its save never freezes on a dead address. What the
  old connection held on the server (its advisory locks, its process id) ended with it: the
  callbacks in ``reconnected`` run once the new one is made, before the statement that made
  it (``ptdoc.session_store.DraftLocks`` takes its drafts again there).
- A network that goes silent (a cable pulled, a switch off) sends no error at all: every
  connection asks the operating system for TCP keepalives and a user timeout (``SILENCE``)
  so that a statement waiting for an answer, or an idle connection, is found dead in about
  ten seconds instead of the system's quarter of an hour. A URL's own values are kept.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from ptdoc import dialect, paths
from ptdoc.errors import (
    DatabaseError,
    DatabaseLocked,
    DatabaseTooNew,
    NotAPtdocDatabase,
    ServerUnreachable,
)
from ptdoc.migrations import LATEST_VERSION, MIGRATIONS

log = logging.getLogger(__name__)

APPLICATION_ID = 0x50544443  # "PTDC", as SQLite's application_id
APP_ROLE = "ptdoc_app"
LOCK_TIMEOUT_MS = 5000
WRITER_LOCK = APPLICATION_ID  # the advisory lock every write transaction takes first
SCHEMA_TABLE = "ptdoc_schema"
RECONNECT_FIRST_S = 1.0  # the wait after a failed reconnection, doubled each time...
RECONNECT_MAX_S = 8.0    # ...up to this
RECONNECT_TIMEOUT_S = 3  # a reconnection waits no longer for a silent network (the window waits)
# libpq's parameters for a silent network: an idle connection is probed after 5 s, found dead
# after 3 unanswered probes 2 s apart; data left unacknowledged 8 s ends the connection.
SILENCE = {"keepalives": "1", "keepalives_idle": "5", "keepalives_interval": "2",
           "keepalives_count": "3", "tcp_user_timeout": "8000"}


def shown(url: str) -> str:
    """The URL without its password: what messages and logs may say."""
    return paths.without_password(url)


def server_name(url: str) -> str:
    """The server as the clinic knows it: its host name ("this computer" for a local socket)."""
    try:
        host = conninfo_to_dict(url).get("host") or ""
    except psycopg.Error:
        host = ""
    first = str(host).split(",")[0]
    return "on this computer" if not first or first.startswith("/") else first


def _open(url: str, timeout: int, name: str) -> psycopg.Connection:
    """A connection in autocommit mode, with ``SILENCE`` unless the URL sets its own."""
    given = conninfo_to_dict(url)
    silence = {key: value for key, value in SILENCE.items() if key not in given}
    return psycopg.connect(url, autocommit=True, connect_timeout=timeout,
                           application_name=name, **silence)


def _unique_columns(diag: Any) -> str:
    """"users.npi" from the server's detail "Key (npi)=(...) already exists" (the transaction
    is aborted: the catalog cannot be asked)."""
    found = re.match(r"Key \(([^)]*)\)=", diag.message_detail or "")
    if not found:
        return diag.constraint_name or ""
    return ", ".join(f"{diag.table_name}.{column.strip()}"
                     for column in found.group(1).split(","))


def _refused(exc: pgerrors.IntegrityError) -> sqlite3.IntegrityError:
    """A refused write in SQLite's words (see ptdoc.dialect): callers test one text."""
    diag = exc.diag
    if isinstance(exc, pgerrors.UniqueViolation):
        text = f"UNIQUE constraint failed: {_unique_columns(diag)}"
    elif isinstance(exc, pgerrors.NotNullViolation):
        text = f"NOT NULL constraint failed: {diag.table_name}.{diag.column_name}"
    elif isinstance(exc, pgerrors.ForeignKeyViolation):
        text = "FOREIGN KEY constraint failed"
    elif isinstance(exc, pgerrors.CheckViolation):
        text = f"CHECK constraint failed: {diag.constraint_name}"
    else:  # a trigger's refusal: its own words
        text = diag.message_primary or str(exc)
    return dialect.IntegrityError(text)


class _Result:
    """What ``execute`` returns: a cursor's rows, ``rowcount`` and ``lastrowid``."""

    def __init__(self, cursor: psycopg.Cursor, lastrowid: int | None = None):
        self._cursor = cursor
        self.lastrowid = lastrowid
        self.rowcount = cursor.rowcount

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list:
        return self._cursor.fetchall()

    def __iter__(self) -> Iterator:
        return iter(self._cursor)


class _Connection:
    """The part of a sqlite3 connection the repositories reach through ``db.conn``."""

    def __init__(self, db: PgDatabase):
        self._db = db

    @property
    def in_transaction(self) -> bool:
        # A lost connection (UNKNOWN) holds no transaction any more: the server rolled it back.
        return self._db.raw.info.transaction_status not in (TransactionStatus.IDLE,
                                                            TransactionStatus.UNKNOWN)

    def execute(self, sql: str, parameters: Any = None) -> _Result:
        return self._db.execute(sql, parameters)

    def executemany(self, sql: str, rows: Any) -> None:
        statement = self._db.translate(sql)
        rows = [statement.params(row) for row in rows]
        if not rows:
            return
        with self._db.translated():
            for _row in rows:
                self._db.sent(statement.sql)
            self._db.raw.cursor().executemany(statement.sql, rows)


class _Listener:
    """A connection of its own that LISTENs on a channel: ``received`` gives the payloads
    that arrived (never waits), ``fileno`` the socket that becomes readable when one does.
    The notifications of ``own`` (the workstation's main connection) are left out."""

    def __init__(self, url: str, channel: str, own: int):
        self.raw = _open(url, RECONNECT_TIMEOUT_S, "ptdoc listener")
        self.raw.execute(f"LISTEN {channel}")
        self._own = own
        self._url = url

    def fileno(self) -> int:
        return self.raw.fileno()

    def received(self) -> list[str]:
        """Raises ``ServerUnreachable`` when the connection was lost (a stopped server, a
        silent network found by the keepalives): an idle window learns of an outage here."""
        try:
            return [n.payload for n in self.raw.notifies(timeout=0) if n.pid != self._own]
        except psycopg.OperationalError as exc:
            log.warning("notifications from %s stopped: %s", shown(self._url),
                        _first_line(exc))
            raise ServerUnreachable(server_name(self._url), _first_line(exc)) from exc
        except psycopg.Error as exc:
            raise DatabaseError(f"Notifications from the server stopped "
                                f"({_first_line(exc)}).") from exc

    def close(self) -> None:
        self.raw.close()


class PgDatabase:
    server = True  # a server's locks and notifications (ptdoc.session_store)

    def __init__(self, raw: psycopg.Connection, url: str):
        self.raw = raw
        self.url = url
        self.conn = _Connection(self)
        self._id_tables: frozenset[str] | None = None
        self._never_null: frozenset[str] | None = None
        self._lock_timeout = LOCK_TIMEOUT_MS
        self._depth = 0  # atomic blocks open: a connection lost inside one is not replaced
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._lost = ""  # why the last reconnection failed
        self._trace: Callable[[str], object] | None = None
        # Run after a lost connection was replaced (each handles its own errors).
        self.reconnected: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"<PgDatabase {shown(self.url)}>"

    # --- running statements --------------------------------------------------------------

    def _unreachable(self, why: str) -> ServerUnreachable:
        # libpq's words are in the log (``translated``, ``_reconnect``), not in the message.
        return ServerUnreachable(server_name(self.url), why)

    def _reconnect(self) -> None:
        """A new connection for a lost one, no sooner than the backoff allows."""
        if not self.raw.closed:
            return
        if self._depth:
            raise self._unreachable("the connection was lost during a change; it was not kept")
        now = time.monotonic()
        if now < self._next_attempt:
            raise self._unreachable(self._lost or "connection lost")
        try:
            raw = _open(self.url, RECONNECT_TIMEOUT_S, "ptdoc")
            raw.execute(f"SET lock_timeout = {self._lock_timeout}")
        except psycopg.Error as exc:
            self._backoff = min(max(2 * self._backoff, RECONNECT_FIRST_S), RECONNECT_MAX_S)
            self._next_attempt = now + self._backoff
            self._lost = _first_line(exc)
            log.warning("%s still cannot be reached (%s); next attempt in %.0f s",
                        shown(self.url), self._lost, self._backoff)
            raise self._unreachable(self._lost) from exc
        log.info("connected again to %s", shown(self.url))
        self.raw, self._backoff, self._next_attempt, self._lost = raw, 0.0, 0.0, ""
        for callback in list(self.reconnected):
            callback()

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """psycopg's errors as ptdoc's: refusals, a busy database, a lost server (connected
        again first when it was lost)."""
        self._reconnect()
        try:
            yield
        except pgerrors.IntegrityError as exc:
            raise _refused(exc) from exc
        except (pgerrors.LockNotAvailable, pgerrors.DeadlockDetected) as exc:
            raise DatabaseLocked(f"The database {shown(self.url)} is busy with another "
                                 "workstation's change. Try again in a moment.") from exc
        except pgerrors.InsufficientPrivilege as exc:
            raise DatabaseError(f"The database {shown(self.url)} refused this: "
                                f"{exc.diag.message_primary}. Ask the clinic's database "
                                "administrator.") from exc
        except psycopg.OperationalError as exc:
            log.warning("lost %s: %s", shown(self.url), _first_line(exc))
            raise self._unreachable(_first_line(exc)) from exc

    def id_tables(self) -> frozenset[str]:
        """Tables with an ``id`` column: an INSERT into them returns the new row's id."""
        if self._id_tables is None:
            rows = self.raw.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'id' "
                "AND table_schema = current_schema()").fetchall()
            self._id_tables = frozenset(r[0] for r in rows)
        return self._id_tables

    def translate(self, sql: str) -> dialect.Statement:
        if self._never_null is None:
            rows = self.raw.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() GROUP BY column_name HAVING bool_and(is_nullable = 'NO')"
            ).fetchall()
            self._never_null = frozenset(r[0] for r in rows)
        return dialect.translate(sql, self._never_null)

    def schema_changed(self) -> None:
        """What was read from the catalog is read again (after migrations)."""
        self._id_tables = self._never_null = None

    def sent(self, sql: str) -> None:
        """Told of each statement on its way to the server (see ``traced``)."""
        if self._trace is not None:
            self._trace(sql)

    @contextlib.contextmanager
    def traced(self, seen: Callable[[str], object]) -> Iterator[None]:
        """``seen`` called with each statement sent to the server while inside, as SQLite's
        trace callback is (``db.ClinicDatabase.traced``)."""
        self._trace = seen
        try:
            yield
        finally:
            self._trace = None

    def execute(self, sql: str, parameters: Any = None) -> _Result:
        statement = self.translate(sql)
        returning = statement.insert_into is not None and \
            statement.insert_into in self.id_tables()
        with self.translated():
            cursor = self.raw.cursor()
            for extra in statement.statements()[:-1]:
                self.sent(extra)
                cursor.execute(extra)
            last = statement.statements()[-1] if statement.statements() else "SELECT 1"
            self.sent(last)
            if returning:
                cursor.execute(f"{last} RETURNING id", statement.params(parameters))
                return _Result(cursor, cursor.fetchone()[0])
            cursor.execute(last, statement.params(parameters))
            return _Result(cursor)

    def query(self, sql: str, params: Any = None) -> Iterator[dict[str, Any]]:
        statement = self.translate(sql)
        with self.translated():
            cursor = self.raw.cursor(row_factory=dict_row)
            self.sent(statement.sql)
            cursor.execute(statement.sql, statement.params(params))
            rows = cursor.fetchall()
        yield from rows

    def executescript(self, script: str) -> None:
        for sql in dialect.split_script(script):
            self.execute(sql)
        self.schema_changed()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[PgDatabase]:
        with self.translated(), self.raw.transaction():
            nested = self._depth > 0
            self._depth += 1
            try:
                if not nested:
                    self.sent("SELECT pg_advisory_xact_lock(%s)")
                    self.raw.execute("SELECT pg_advisory_xact_lock(%s)", [WRITER_LOCK])
                yield self
            finally:
                self._depth -= 1

    @contextlib.contextmanager
    def waiting(self, milliseconds: int) -> Iterator[None]:
        """A shorter (or longer) wait for another workstation's write, for the calls inside."""
        self._set_lock_timeout(int(milliseconds))
        try:
            yield
        finally:
            self._set_lock_timeout(LOCK_TIMEOUT_MS)

    def _set_lock_timeout(self, milliseconds: int) -> None:
        # Kept for a new connection too; a lost one is found by the statement that follows.
        self._lock_timeout = milliseconds
        if not self.raw.closed:
            with contextlib.suppress(psycopg.OperationalError):
                self.raw.execute(f"SET lock_timeout = {milliseconds}")

    def close(self) -> None:
        self.raw.close()

    def listener(self, channel: str) -> _Listener:
        """Notifications on ``channel`` from other workstations (see ``_Listener``). While the
        main connection is lost, none is attempted between its reconnections (each attempt
        may wait for a silent network)."""
        self._reconnect()
        try:
            return _Listener(self.url, channel, self.raw.info.backend_pid)
        except psycopg.Error as exc:
            log.warning("no notifications from %s: %s", shown(self.url), _first_line(exc))
            raise self._unreachable(_first_line(exc)) from exc

    # --- the schema ----------------------------------------------------------------------

    def schema_version(self) -> int | None:
        """The schema's version, or None when the database holds no ptdoc schema."""
        if self.raw.execute("SELECT to_regclass(%s)", [SCHEMA_TABLE]).fetchone()[0] is None:
            return None
        app_id, version = self.raw.execute(
            f"SELECT application_id, version FROM {SCHEMA_TABLE}").fetchone()
        if app_id != APPLICATION_ID:
            raise NotAPtdocDatabase(f"{shown(self.url)} holds another program's data, not "
                                    "ptdoc's.")
        return int(version)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def connect(url: str) -> PgDatabase:
    """A connection to the server at ``url``, no checks."""
    try:
        raw = _open(url, 10, "ptdoc")
    except psycopg.Error as exc:
        raise DatabaseError(f"The PostgreSQL server of {shown(url)} cannot be reached or "
                            f"refused the connection ({_first_line(exc)}). Check the address "
                            "in --db or PTDOC_DB, the user and the password.") from exc
    raw.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
    return PgDatabase(raw, url)


def _create(db: PgDatabase) -> None:
    """ptdoc's mark and the dialect's helpers in an empty database."""
    tables = db.raw.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchone()[0]
    if tables:
        raise NotAPtdocDatabase(f"{shown(db.url)} already holds tables of another program; "
                                "ptdoc leaves them as they are. Give ptdoc a database of its "
                                "own.")
    with db.raw.transaction():
        for sql in dialect.SETUP:
            db.raw.execute(sql)
        db.raw.execute(f"CREATE TABLE {SCHEMA_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), "
                       "application_id INTEGER NOT NULL, version INTEGER NOT NULL)")
        db.raw.execute(f"INSERT INTO {SCHEMA_TABLE} VALUES (1, %s, 0)", [APPLICATION_ID])


def migrate_to_latest(db: PgDatabase, target: int = LATEST_VERSION) -> list[int]:
    """The same steps as SQLite's, each with its version in one transaction."""
    version = db.schema_version() or 0
    applied = []
    for number in range(version + 1, target + 1):
        step = MIGRATIONS[number - 1]
        log.info("migrating %s to schema %d (%s)", shown(db.url), number, step.__name__)
        with db.atomic():
            step(db)  # type: ignore[arg-type]  # the same interface as sqlite-utils'
            db.raw.execute(f"UPDATE {SCHEMA_TABLE} SET version = %s", [number])
        db.schema_changed()
        applied.append(number)
    if applied:
        grant_application_role(db)
    return applied


def grant_application_role(db: PgDatabase) -> None:
    """Workstations' role reads and writes rows; the schema (and its triggers) stay the
    owner's."""
    exists = db.raw.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone()
    if not exists or db.raw.execute("SELECT current_user").fetchone()[0] == APP_ROLE:
        return
    with db.translated():
        db.raw.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
                       f"{_schema(db)} TO {APP_ROLE}")
        db.raw.execute(f"REVOKE INSERT, UPDATE, DELETE ON {SCHEMA_TABLE} FROM {APP_ROLE}")
        db.raw.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_schema(db)} "
                       f"TO {APP_ROLE}")


def owns_database(db: PgDatabase) -> bool:
    """Whether the connected role owns the database (or administers the server): what
    replacing its tables (a restore) needs."""
    return bool(db.raw.execute(
        "SELECT pg_has_role(datdba, 'MEMBER') OR (SELECT rolsuper FROM pg_roles WHERE "
        "rolname = current_user) FROM pg_database WHERE datname = current_database()"
    ).fetchone()[0])


def _schema(db: PgDatabase) -> str:
    return db.raw.execute("SELECT quote_ident(current_schema())").fetchone()[0]


def open_database(url: str, *, migrate: bool = True) -> PgDatabase:
    """Open ptdoc's database on the server: make ptdoc's schema in an empty database,
    check it, and bring it to the current version."""
    db = connect(url)
    try:
        with db.translated():
            version = db.schema_version()
            if version is None:
                try:
                    _create(db)
                except pgerrors.InsufficientPrivilege as exc:
                    raise DatabaseError(
                        f"The database {shown(url)} holds no ptdoc schema yet, and "
                        f"{db.raw.info.user} may not make one: connect once as the database's "
                        "owner to make it (see README, A clinic with several workstations)."
                    ) from exc
                version = 0
            if version > LATEST_VERSION:
                raise DatabaseTooNew(f"The database {shown(url)} was written by a newer ptdoc "
                                     f"(schema {version}; this ptdoc knows up to "
                                     f"{LATEST_VERSION}). Update ptdoc.")
            if migrate and version < LATEST_VERSION:
                migrate_to_latest(db)
    except BaseException:
        db.close()
        raise
    return db


# --- moving a clinic from its SQLite file to a server ---------------------------------------

def _tables_in_order(source: Any) -> list[str]:
    """The SQLite database's tables, each after the tables its foreign keys name."""
    names = [r[0] for r in source.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    needs = {name: {r[2] for r in source.conn.execute(f"PRAGMA foreign_key_list({name})")}
             - {name} for name in names}
    ordered: list[str] = []
    while needs:
        ready = sorted(name for name, wanted in needs.items() if wanted <= set(ordered))
        if not ready:
            raise DatabaseError(f"The tables {sorted(needs)} refer to each other in a circle; "
                                "they cannot be copied one after another.")
        ordered += ready
        for name in ready:
            del needs[name]
    return ordered


def _rows(db: PgDatabase | Any, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# A clinic's database made by the first migrations holds this one row before any clinic data.
_MADE_BY_MIGRATIONS = {"keyed_signatures": 1}


def copy_clinic(source: Any, target: PgDatabase, batch: int = 2000,
                check: Callable[[], object] | None = None) -> dict[str, int]:
    """Every row of ptdoc's SQLite database ``source`` (a sqlite-utils Database at the current
    schema) into ``target`` (the server's database at the same schema, connected as its owner),
    in one transaction: all or nothing. Refuses a target that holds any clinic data. The
    triggers that refuse changes to signed notes would refuse their rows arriving after the
    note: they are off for this transaction only (nobody else sees them off) and the rows
    arrive as they were, ids included; each id's sequence then continues after the highest.
    ``check`` runs last in the transaction, reading the copy through ``target``: whatever it
    raises leaves the server's database as it was (empty, so the move can be run again).
    Returns the rows copied per table, checked against the source."""
    tables = _tables_in_order(source)
    held = {t: n for t in tables if (n := _rows(target, t)) > _MADE_BY_MIGRATIONS.get(t, 0)}
    if held:
        what = ", ".join(f"{n} in {t}" for t, n in sorted(held.items()))
        raise DatabaseError(f"The database {shown(target.url)} is not empty ({what}); ptdoc "
                            "moves a clinic only into an empty database, and changed nothing.")
    counts = {}
    with target.atomic():
        for table in tables:
            target.raw.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for table in _MADE_BY_MIGRATIONS:
            target.raw.execute(f"DELETE FROM {table}")
        for table in tables:
            cursor = source.conn.execute(f"SELECT * FROM {table}")
            columns = [d[0] for d in cursor.description]
            insert = (f"INSERT INTO {table} ({', '.join(columns)}) "
                      f"VALUES ({', '.join(['%s'] * len(columns))})")
            counts[table] = 0
            while rows := cursor.fetchmany(batch):
                try:
                    target.raw.cursor().executemany(insert, rows)
                except psycopg.DataError as exc:
                    raise DatabaseError(f"A row of {table} cannot be copied: "
                                        f"{_first_line(exc)}") from exc
                counts[table] += len(rows)
        for table in tables:
            target.raw.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        for table in sorted(set(tables) & target.id_tables()):
            target.raw.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"max(id)) FROM {table} HAVING max(id) IS NOT NULL")
        # Counted again on both sides before the commit: a difference leaves the server empty.
        differ = [f"{t}: {_rows(source, t)} in the file, {_rows(target, t)} on the server"
                  for t in tables if _rows(target, t) != _rows(source, t)]
        if differ:
            raise DatabaseError("The copy does not hold what the file holds ("
                                + "; ".join(differ) + "); nothing was kept on the server.")
        if check is not None:
            check()
    return counts
