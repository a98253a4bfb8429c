"""Opening, checking, migrating, backing up and restoring the one database file.

The gate every caller passes through (qutebrowser's misc/sql.py is the model): a file that is not
ours, damaged, locked or written by a newer ptdoc is refused with a message that names the way
out, never a traceback. Backups always go through the sqlite3 backup API, never a file copy,
because a WAL database's latest pages may still sit in the -wal file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from ptdoc import paths
from ptdoc.errors import (
    DatabaseCorrupt,
    DatabaseError,
    DatabaseLocked,
    DatabaseTooNew,
    NotAPtdocDatabase,
)
from ptdoc.migrations import LATEST_VERSION, MIGRATIONS

log = logging.getLogger(__name__)

APPLICATION_ID = 0x50544443  # "PTDC"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
DAILY_BACKUPS_KEPT = 14


@contextlib.contextmanager
def _private_umask() -> Iterator[None]:
    """Files ptdoc creates hold patient data: readable by the owner only."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _way_out(path: Path) -> str:
    folder = paths.backup_dir(path)
    backups = sorted(folder.glob("*.sqlite3")) if folder.is_dir() else []
    if backups:
        return (f"Restore the latest backup with: ptdoc restore '{backups[-1]}' "
                f"({len(backups)} backups in {folder})")
    return "Restore a backup with: ptdoc restore FILE"


def _translate(exc: sqlite3.Error, path: Path) -> DatabaseError:
    text = str(exc).lower()
    if _busy(exc):
        return DatabaseLocked(f"The database {path} is in use by another program that is "
                              "writing to it. Close the other ptdoc window or program and try "
                              "again.")
    if _damaged(exc):
        return DatabaseCorrupt(f"The database {path} is damaged ({exc}). {_way_out(path)}")
    if "readonly" in text or "unable to open" in text or "disk i/o" in text or "full" in text:
        return DatabaseError(f"The database {path} cannot be written ({exc}). Check that the "
                             "disk has free space and the folder is writable.")
    return DatabaseError(f"The database {path} cannot be used: {exc}")


def _busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _damaged(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


class ClinicDatabase(Database):
    """sqlite-utils' Database with ptdoc's write discipline.

    Transactions begin IMMEDIATE: they take the write lock (waiting up to the busy timeout for
    another process) before reading, so a read-then-write never fails halfway with "database is
    locked". A database still busy after the wait raises DatabaseLocked, a KnownError that
    callers report plainly, instead of a raw sqlite3 error.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path):
        super().__init__(conn, execute_plugins=False)
        self.path = path

    def execute(self, sql: str, parameters: Any = None) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.OperationalError as exc:
            if _busy(exc) or _damaged(exc):
                raise _translate(exc, self.path) from exc
            raise
        except sqlite3.IntegrityError:
            raise  # a constraint or a lock trigger: the caller says what it means
        except sqlite3.DatabaseError as exc:
            # Damage is found when a read reaches it (the full check runs off the start
            # path): said plainly with the way out, never as a traceback.
            if _damaged(exc):
                raise _translate(exc, self.path) from exc
            raise

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise _translate(exc, self.path) from exc
            raise
        try:
            yield self
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self.rollback()
            if _busy(exc):
                raise _translate(exc, self.path) from exc
            raise
        except BaseException:
            self.rollback()
            raise

    @contextlib.contextmanager
    def traced(self, seen: Callable[[str], object]) -> Iterator[None]:
        """``seen`` called with each statement SQLite runs on this connection while inside
        (its trace callback; ``pg.PgDatabase.traced`` on a server)."""
        self.conn.set_trace_callback(seen)
        try:
            yield
        finally:
            self.conn.set_trace_callback(None)

    @contextlib.contextmanager
    def waiting(self, milliseconds: int) -> Iterator[None]:
        """A shorter (or longer) wait for a busy database, for the calls inside."""
        self.conn.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _check_header(path: Path) -> None:
    """A non-empty file that is not SQLite at all is refused before SQLite touches it."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise DatabaseCorrupt(f"{path} is not a ptdoc database (it is not an SQLite file, or "
                              f"its first page is damaged). {_way_out(path)}")


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot change the file (nor switch it to WAL)."""
    return sqlite3.connect(f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro",
                           uri=True, timeout=BUSY_TIMEOUT_MS / 1000)


def identify(path: Path) -> bool:
    """Whether ``path`` holds ptdoc's database (True) or nothing yet (False), found without
    writing a byte. Anything else there (a folder, an empty or foreign file, damage, a lock)
    raises with the way out: ptdoc never writes into a file it did not create."""
    if not path.exists():
        return False
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file. Choose ptdoc's "
                            f"database file with --db PATH or {paths.DB_ENV}.")
    if not path.is_file():
        raise DatabaseError(f"{path} is not a regular file, so it cannot be ptdoc's database.")
    if path.stat().st_size == 0:
        raise NotAPtdocDatabase(f"{path} is an empty file, not a ptdoc database; ptdoc leaves it "
                                f"as it is. Choose ptdoc's database with --db PATH or "
                                f"{paths.DB_ENV}, remove the empty file to start a new clinic, "
                                f"or restore a backup with: ptdoc restore FILE")
    _check_header(path)
    try:
        conn = _read_only(path)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise _translate(exc, path) from exc
    if app_id != APPLICATION_ID:
        what = "an empty SQLite database" if (app_id, version, tables) == (0, 0, 0) else \
            "an SQLite database of another program"
        raise NotAPtdocDatabase(f"{path} is {what}, not ptdoc's; ptdoc leaves it as it is. "
                                f"Choose ptdoc's database with --db PATH or {paths.DB_ENV}.")
    return True


def _create(path: Path) -> None:
    """A new, empty ptdoc database at ``path``, made beside it and moved into place whole, so
    an interrupted creation never leaves a file that is not yet ptdoc's."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    for suffix in ("", "-journal"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    with _private_umask():
        conn = sqlite3.connect(str(tmp))
    try:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.commit()
        migrate_to_latest(Database(conn, execute_plugins=False))
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    conn.close()
    os.replace(tmp, path)


def connect(path: Path) -> Database:
    """Open ``path`` with ptdoc's pragmas, creating it (privately) when missing. No checks."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _private_umask():
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        with _private_umask():
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        conn.close()
        raise _translate(exc, path) from exc
    return ClinicDatabase(conn, path)


def pragma(db: Database, name: str) -> object:
    return db.conn.execute(f"PRAGMA {name}").fetchone()[0]


def open_database(path: Path, *, migrate: bool = True) -> Database:
    """Open ptdoc's database at ``path``: create it when nothing is there, check it, and
    migrate it to the current schema."""
    if not identify(path):
        try:
            _create(path)
        except sqlite3.Error as exc:
            raise _translate(exc, path) from exc
    db = connect(path)
    try:
        _check_identity_and_health(db, path)
        if migrate:
            migrate_to_latest(db, path)
    except sqlite3.Error as exc:
        db.close()
        raise _translate(exc, path) from exc
    except BaseException:
        db.close()
        raise
    return db


def _check_identity_and_health(db: Database, path: Path) -> None:
    """The checks whose cost does not grow with the file: header (``identify``), application
    id, schema version, and that the schema itself reads. Scanning every page is linear in
    the file (2 s at a million sessions), so it runs off the start path: ``check_health`` on
    a worker once the window shows (the full check after an unclean exit), and the full
    check before each daily backup and backup."""
    app_id = pragma(db, "application_id")
    version = pragma(db, "user_version")
    if app_id != APPLICATION_ID:
        raise NotAPtdocDatabase(f"{path} is an SQLite database of another program, not ptdoc's. "
                                "Choose ptdoc's database with --db PATH or PTDOC_DB.")
    db.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    if version > LATEST_VERSION:
        raise DatabaseTooNew(f"The database {path} was written by a newer ptdoc (schema "
                             f"{version}; this ptdoc knows up to {LATEST_VERSION}). Update "
                             "ptdoc, or restore a backup made by this version.")


def _damage(conn: sqlite3.Connection, check: str = "integrity_check") -> str:
    """What SQLite's check found wrong, or an empty string when the file is sound."""
    result = [r[0] for r in conn.execute(f"PRAGMA {check}(20)").fetchall()]
    if result == ["ok"]:
        return ""
    lines = [line for row in result for line in row.splitlines()
             if line.strip() and not line.startswith("***")]
    first = lines[0] if lines else "unknown damage"
    more = f" and {len(lines) - 1} more" if len(lines) > 1 else ""
    return f"SQLite found: {first}{more}"


def check_health(path: Path, full: bool = False) -> None:
    """SQLite's check of every page (``quick_check``; ``integrity_check`` with ``full``) on
    its own read-only connection, for a worker thread: raises DatabaseCorrupt naming the way
    out when it finds damage. Never writes."""
    try:
        conn = _read_only(path)
        try:
            problems = _damage(conn, "integrity_check" if full else "quick_check")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise _translate(exc, path) from exc
    if problems:
        raise DatabaseCorrupt(f"The database {path} is damaged ({problems}). {_way_out(path)}")


def running_marker(path: Path) -> Path:
    """A file beside the database while a window has it open: still there at the next start,
    it says the last window did not close cleanly (a crash, a power cut)."""
    return path.with_name(f".{path.name}.running")


def migrate_to_latest(db: Database, path: Path | None = None,
                      target: int = LATEST_VERSION) -> list[int]:
    """Apply pending steps, each with its version bump in one transaction; back up first."""
    version = int(pragma(db, "user_version"))
    applied = []
    if version < target and version > 0 and path is not None:
        backup_to(db, paths.backup_dir(path) / f"ptdoc-before-schema-{target}-"
                  f"{dt.datetime.now():%Y%m%d-%H%M%S}.sqlite3")
    for number in range(version + 1, target + 1):
        step = MIGRATIONS[number - 1]
        log.info("migrating database to schema %d (%s)", number, step.__name__)
        with db.atomic():
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
        applied.append(number)
    return applied


def backup_to(db: Database, dest: Path) -> Path:
    """A consistent copy of the live database (sqlite3 backup API), private to the user."""
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dest.with_name(dest.name + ".partial")
    with _private_umask():
        target = sqlite3.connect(str(tmp))
    try:
        db.conn.backup(target)
    finally:
        target.close()
    os.replace(tmp, dest)
    return dest


def checked_backup(db: Database, path: Path, dest: Path) -> Path:
    """``backup_to`` after the full integrity check: a damaged database is refused
    (DatabaseCorrupt) and never becomes a backup that looks good."""
    try:
        problems = _damage(db.conn)
        if problems:
            raise DatabaseCorrupt(f"The database {path} is damaged ({problems}); no backup was "
                                  f"made. {_way_out(path)}")
        return backup_to(db, dest)
    except sqlite3.Error as exc:
        raise _translate(exc, path) from exc


def daily_backup(path: Path, today: dt.date, keep: int = DAILY_BACKUPS_KEPT) -> Path | None:
    """One backup per day (the first open of the day), keeping the newest ``keep``.

    Uses its own connection so it can run on a worker thread. Runs the full integrity check
    first: a damaged database is reported (DatabaseCorrupt) and never replaces a good backup.
    """
    folder = paths.backup_dir(path)
    dest = folder / f"ptdoc-daily-{today.isoformat()}.sqlite3"
    if dest.exists():
        return None
    db = connect(path)
    try:
        checked_backup(db, path, dest)
    finally:
        db.close()
    for old in sorted(folder.glob("ptdoc-daily-*.sqlite3"))[:-keep]:
        old.unlink()
    return dest


def check_backup_file(source: Path) -> int:
    """Check that ``source`` is a healthy ptdoc database this version can use; its schema."""
    if not source.is_file():
        raise DatabaseError(f"No backup file at {source}")
    _check_header(source)
    if source.stat().st_size == 0:
        raise DatabaseCorrupt(f"{source} is empty; it is not a ptdoc backup.")
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            damage = _damage(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise DatabaseCorrupt(f"{source} cannot be read as a ptdoc backup ({exc}).") from exc
    if app_id != APPLICATION_ID:
        raise NotAPtdocDatabase(f"{source} is not a ptdoc database.")
    if damage:
        raise DatabaseCorrupt(f"{source} is damaged ({damage}); choose another backup.")
    if version > LATEST_VERSION:
        raise DatabaseTooNew(f"{source} was written by a newer ptdoc (schema {version}); "
                             f"this ptdoc knows up to {LATEST_VERSION}.")
    return version


def keep_current(path: Path, before: str) -> Path | None:
    """Before ``path`` is replaced: ptdoc's database is backed up, anything else (damaged,
    empty, another program's) is moved aside whole. Where it was kept, or None if nothing
    was there."""
    stamp = f"{dt.datetime.now():%Y%m%d-%H%M%S}"
    try:
        current = open_database(path, migrate=False) if identify(path) else None
    except (DatabaseCorrupt, NotAPtdocDatabase):
        kept = path.with_name(f"{path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            side = Path(str(path) + suffix)
            if side.exists():
                os.replace(side, Path(str(kept) + suffix))
        return kept
    if current is None:
        return None
    try:
        return backup_to(current, paths.backup_dir(path) /
                         f"ptdoc-before-{before}-{stamp}.sqlite3")
    finally:
        current.close()


def contents(path: Path) -> str:
    """What a database holds, in words, read without writing: shown before it is replaced."""
    try:
        if not identify(path):
            return "nothing: no database there yet"
        conn = _read_only(path)
        try:
            count, last = conn.execute(
                "SELECT count(*), max(date_of_service) FROM sessions").fetchone()
        finally:
            conn.close()
    except (DatabaseError, sqlite3.Error) as exc:
        return f"a file ptdoc cannot use ({str(exc).split('. ')[0]})"
    if not count:
        return "no sessions"
    return f"{count} session{'s' * (count != 1)}, the last on {last}"


def restore(path: Path, source: Path) -> Path | None:
    """Replace the database at ``path`` with the checked backup ``source``.

    The current database is kept first: backed up when it opens, moved aside when it is
    damaged. Returns where the previous database was kept, if there was one.
    """
    version = check_backup_file(source)
    # A backup from an older ptdoc is brought to the current schema in a copy of its own
    # first: a step that fails leaves the clinic's database as it was, never half replaced.
    staged = path.with_name(f".{path.name}.restoring")
    try:
        _copy(f"file:{source}?mode=ro", staged)
        try:
            db = connect(staged)
            try:
                migrate_to_latest(db)
            finally:
                db.close()
        except (sqlite3.Error, DatabaseError) as exc:
            raise DatabaseError(
                f"The backup {source} (schema {version}) could not be brought to this ptdoc's "
                f"schema {LATEST_VERSION} ({exc}); nothing was restored: {path} is as it was. "
                "Choose another backup, or keep this one and report it.") from exc
        kept = keep_current(path, "restore")
        _copy(f"file:{staged}?mode=ro", path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(staged) + suffix).unlink()
    open_database(path).close()
    return kept


def _copy(source_uri: str, path: Path) -> None:
    """The database at ``source_uri`` into ``path`` through the backup API (the pages of a
    database in WAL mode may still be in its -wal file: a file copy could miss them)."""
    src = sqlite3.connect(source_uri, uri=True)
    try:
        target = connect(path)
        try:
            src.backup(target.conn)
        finally:
            target.close()
    finally:
        src.close()
