"""The database gate: creation, identity, damage, lock, too-new, migrations, backup, restore."""

import datetime as dt
import sqlite3
import stat
from pathlib import Path

import pytest
from conftest import file_schema

from ptdoc import db as dbmod
from ptdoc import paths
from ptdoc.errors import (
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseTooNew,
    NotAPtdocDatabase,
)
from ptdoc.migrations import LATEST_VERSION, MIGRATIONS
from ptdoc.store import Store


def test_new_database_is_private_and_set_up(db_path: Path) -> None:
    db = dbmod.open_database(db_path)
    try:
        assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
        assert dbmod.pragma(db, "journal_mode") == "wal"
        assert dbmod.pragma(db, "foreign_keys") == 1
        assert dbmod.pragma(db, "application_id") == dbmod.APPLICATION_ID
        assert dbmod.pragma(db, "user_version") == LATEST_VERSION
        assert dbmod.pragma(db, "busy_timeout") == dbmod.BUSY_TIMEOUT_MS
    finally:
        db.close()


def test_a_file_that_is_not_sqlite_is_refused_with_the_way_out(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"these are not the pages you are looking for" * 100)
    with pytest.raises(DatabaseCorrupt) as exc:
        dbmod.open_database(db_path)
    assert "ptdoc restore" in str(exc.value)
    assert db_path.read_bytes().startswith(b"these are not")  # untouched


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(NotAPtdocDatabase):
        dbmod.open_database(other)


def test_a_newer_schema_is_refused(db_path: Path) -> None:
    dbmod.open_database(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(DatabaseTooNew) as exc:
        dbmod.open_database(db_path)
    assert "newer ptdoc" in str(exc.value)


def _fill(store: Store, rows: int) -> None:
    for i in range(rows):
        store.db.execute("INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                         ["2026-01-01T00:00:00Z", "cli", "view", "x" * 200 + str(i)])


def test_damaged_pages_are_detected_and_restore_is_offered(db_path: Path) -> None:
    with Store.open(db_path) as store:
        _fill(store, 3000)
        dbmod.backup_to(store.db, paths.backup_dir(db_path) / "ptdoc-daily-2026-01-01.sqlite3")
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db_path.read_bytes())
    page = 4096
    for offset in range(page * 20, page * 40):  # scribble over the middle of the file
        data[offset] = 0x5A
    db_path.write_bytes(bytes(data))
    with pytest.raises(DatabaseCorrupt) as exc:
        dbmod.open_database(db_path)
    assert "ptdoc-daily-2026-01-01.sqlite3" in str(exc.value)
    good = paths.backup_dir(db_path) / "ptdoc-daily-2026-01-01.sqlite3"
    before = good.read_bytes()
    with pytest.raises(DatabaseCorrupt):  # a damaged file never becomes a backup
        dbmod.daily_backup(db_path, dt.date(2026, 1, 2))
    assert not (paths.backup_dir(db_path) / "ptdoc-daily-2026-01-02.sqlite3").exists()
    assert good.read_bytes() == before


def test_a_locked_database_gets_a_clear_message(db_path: Path, monkeypatch) -> None:
    dbmod.open_database(db_path).close()
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLocked) as exc:
            db = dbmod.open_database(db_path)
            db.execute("INSERT INTO audit (at, actor, action) VALUES ('x', 'cli', 'view')")
        assert "in use by another program" in str(exc.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("start", range(LATEST_VERSION))
def test_migrating_from_every_older_version(tmp_path: Path, start: int) -> None:
    fresh = tmp_path / "fresh.sqlite3"
    dbmod.open_database(fresh).close()
    old = tmp_path / "old.sqlite3"
    db = dbmod.connect(old)
    db.execute(f"PRAGMA application_id = {dbmod.APPLICATION_ID}")
    dbmod.migrate_to_latest(db, None, target=start)
    if start >= 1:  # data written by the old version survives
        db.execute("INSERT INTO payers (name, profile, unit_method, medicare) "
                   "VALUES ('Medicare', 'medicare', 'cms', 1)")
        db.execute("INSERT INTO patients (mrn, first_name, last_name, date_of_birth, payer_id) "
                   "VALUES ('A1', 'Ann', 'Lee', '1950-01-01', 1)")
    db.close()
    db = dbmod.open_database(old)
    assert dbmod.pragma(db, "user_version") == LATEST_VERSION
    db.close()
    assert file_schema(old) == file_schema(fresh)
    if start >= 1:
        with Store.open(old) as store:
            assert store.patients.by_mrn("A1").last_name == "Lee"
        backups = list(paths.backup_dir(old).glob("ptdoc-before-schema-*.sqlite3"))
        assert len(backups) == 1
        conn = sqlite3.connect(backups[0])
        assert conn.execute("PRAGMA user_version").fetchone()[0] == start
        conn.close()


def test_each_migration_is_one_transaction(tmp_path: Path) -> None:
    """A step that fails leaves the previous version and no half-made schema."""
    path = tmp_path / "half.sqlite3"
    db = dbmod.connect(path)
    db.execute(f"PRAGMA application_id = {dbmod.APPLICATION_ID}")
    dbmod.migrate_to_latest(db, None, target=1)
    db.execute("CREATE INDEX sessions_content_hash ON sessions(content_hash)")  # m002 collides
    with pytest.raises(sqlite3.OperationalError):
        dbmod.migrate_to_latest(db, None)
    assert dbmod.pragma(db, "user_version") == 1
    assert "next_visit" not in {c[1] for c in db.conn.execute("PRAGMA table_info(patients)")}
    db.close()


def test_migrations_are_numbered_in_order() -> None:
    for number, step in enumerate(MIGRATIONS, start=1):
        assert step.__name__.startswith(f"m{number:03d}_")


def test_daily_backup_once_a_day_and_rotated(db_path: Path) -> None:
    with Store.open(db_path):
        first = dt.date(2026, 1, 1)
        for day in range(20):
            dbmod.daily_backup(db_path, first + dt.timedelta(days=day), keep=5)
        assert dbmod.daily_backup(db_path, first + dt.timedelta(days=19), keep=5) is None
    kept = sorted(p.name for p in paths.backup_dir(db_path).glob("ptdoc-daily-*"))
    assert kept == [f"ptdoc-daily-2026-01-{d:02d}.sqlite3" for d in range(16, 21)]
    assert stat.S_IMODE((paths.backup_dir(db_path) / kept[0]).stat().st_mode) == 0o600


def test_restore_checks_the_file_and_keeps_the_current_database(db_path: Path,
                                                                tmp_path: Path) -> None:
    with Store.open(db_path) as store:
        store.db.execute("INSERT INTO payers (name, profile, unit_method, medicare) "
                         "VALUES ('Old', 'commercial', 'per-code', 0)")
        backup = dbmod.backup_to(store.db, tmp_path / "b.sqlite3")
        store.db.execute("INSERT INTO payers (name, profile, unit_method, medicare) "
                         "VALUES ('New', 'commercial', 'per-code', 0)")
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database")
    with pytest.raises(DatabaseCorrupt):
        dbmod.restore(db_path, junk)
    kept = dbmod.restore(db_path, backup)
    with Store.open(db_path) as store:
        assert [p.name for p in store.payers.all()] == ["Old"]
    with Store.open(kept) as previous:
        assert [p.name for p in previous.payers.all()] == ["New", "Old"]


def test_restore_over_a_damaged_database_moves_it_aside(db_path: Path, tmp_path: Path) -> None:
    with Store.open(db_path) as store:
        backup = dbmod.backup_to(store.db, tmp_path / "b.sqlite3")
    db_path.write_bytes(b"garbage" * 1000)
    kept = dbmod.restore(db_path, backup)
    assert kept is not None and kept.read_bytes().startswith(b"garbage")
    with Store.open(db_path) as store:
        assert store.payers.all() == []


def test_one_npi_one_user_even_in_a_clinic_that_had_two(tmp_path: Path) -> None:
    """m009: an NPI held twice before the unique index stays with the user who had it first;
    the later holder is disabled without it. Then the database refuses a second holder."""
    from ptdoc.migrations import m009_unique_npi

    path = tmp_path / "old.sqlite3"
    db = dbmod.connect(path)
    db.execute(f"PRAGMA application_id = {dbmod.APPLICATION_ID}")
    dbmod.migrate_to_latest(db, None, target=MIGRATIONS.index(m009_unique_npi))
    for username, npi in (("mchen", "1234567893"), ("jdoe", None), ("mimic", "1234567893")):
        db.execute("INSERT INTO users (username, full_name, credential, npi, password_hash) "
                   "VALUES (?, 'Maria Chen', 'DPT', ?, 'x')", [username, npi])
    db.close()
    with Store.open(path) as store:
        users = {u.username: u for u in store.users.all()}
        assert (users["mchen"].npi, users["mchen"].active) == ("1234567893", True)
        assert (users["mimic"].npi, users["mimic"].active) == (None, False)
        assert users["jdoe"].active
        with pytest.raises(sqlite3.IntegrityError):
            store.db.execute("UPDATE users SET npi = '1234567893' WHERE username = 'jdoe'")
