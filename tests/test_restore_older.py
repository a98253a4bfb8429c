"""A backup taken by an older ptdoc (its schema some migrations behind), restored by this one:
on a file and on a server, the restored clinic is brought to the current schema and every
signature still verifies; an upgrade that fails leaves the clinic as it was, and says so."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD, TODAY, Clinic, file_schema, sign
from pg_sandbox import PgSandbox, as_superuser

from ptdoc import cli, pg, pg_backup
from ptdoc import db as dbmod
from ptdoc.domain import AddendumKind
from ptdoc.migrations import LATEST_VERSION, MIGRATIONS, m013_service_detail
from ptdoc.store import Store

# The schema before service lines said what was done (m013): the place of service (m014,
# m015), draft locks (m016), name search keys (m017), the draft idle time (m018) and the MRN's
# search key (m019) came later.
OLD = MIGRATIONS.index(m013_service_detail)
# What the steps after OLD added, taken away again, latest first: the same tables as
# migrations stopped at OLD make (checked below), holding the clinic's rows.
LATER = ("DROP INDEX patients_mrn_search", "ALTER TABLE patients DROP COLUMN mrn_key",
         "ALTER TABLE clinic DROP COLUMN draft_idle_minutes",
         "DROP INDEX patients_last_key", "DROP INDEX patients_first_key",
         "ALTER TABLE patients DROP COLUMN first_key",
         "ALTER TABLE patients DROP COLUMN last_key",
         "CREATE INDEX patients_first_name ON patients(first_name COLLATE NOCASE, "
         "last_name COLLATE NOCASE)",
         "DROP TABLE draft_locks", "ALTER TABLE sessions DROP COLUMN place_of_service",
         "ALTER TABLE clinic DROP COLUMN place_of_service",
         "ALTER TABLE services DROP COLUMN detail")


def run(monkeypatch: pytest.MonkeyPatch, capsys, *args: str, user: str = "boss"
        ) -> tuple[int, str]:
    """``ptdoc ARGS`` in this process as ``user`` (the administrator), their password on
    standard input; the exit status and what it said."""
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    capsys.readouterr()
    status = cli.main([*args, "--user", user, "--password-stdin"])
    out = capsys.readouterr()
    return status, out.out + out.err



def _server_schema(url: str) -> set[tuple[str, str]]:
    import psycopg

    with psycopg.connect(as_superuser(url)) as conn:
        columns = conn.execute("SELECT table_name || '.' || column_name FROM "
                               "information_schema.columns WHERE table_schema = 'public'")
        triggers = conn.execute("SELECT DISTINCT event_object_table || '.' || trigger_name "
                                "FROM information_schema.triggers")
        indexes = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        return ({("column", r[0]) for r in columns} | {("trigger", r[0]) for r in triggers}
                | {("index", r[0]) for r in indexes})


def _a_signed_clinic(clinic: Clinic) -> list[int]:
    """Notes signed by a PT and a PTA, one with an addendum: what the old backup holds."""
    pt = clinic.as_("pt")
    first = sign(pt, clinic.complete_draft("pt", TODAY - dt.timedelta(days=3)).id)
    pt.add_addendum(first.id, AddendumKind.LATE_ENTRY, "Phone call", "No soreness next day.",
                    pt.prove_signer(PASSWORD))
    second = sign(clinic.as_("pta"), clinic.complete_draft("pta", TODAY - dt.timedelta(2)).id)
    clinic.complete_draft("dpt", TODAY - dt.timedelta(days=1))  # a draft stays a draft
    return [first.id, second.id]


def _older_file_backup(tmp_path: Path, db_path: Path, undo: tuple[str, ...] = LATER) -> Path:
    """The clinic's file as an older ptdoc kept it: its backup API copy, schema OLD (with
    ``undo`` of what came later taken away)."""
    old = tmp_path / "older" / "ptdoc-backup.sqlite3"
    old.parent.mkdir()
    with sqlite3.connect(db_path) as src, sqlite3.connect(old) as dest:
        src.backup(dest)
    with sqlite3.connect(old) as conn:
        for sql in undo:
            conn.execute(sql)
        conn.execute(f"PRAGMA user_version = {OLD}")
    conn.close()
    reference = tmp_path / "older" / "migrated-to-old.sqlite3"
    made = dbmod.connect(reference)
    made.execute(f"PRAGMA application_id = {dbmod.APPLICATION_ID}")
    dbmod.migrate_to_latest(made, None, target=OLD)
    made.close()
    assert (file_schema(old) == file_schema(reference)) == (undo == LATER)
    return old


def _older_server_dump(tmp_path: Path, url: str, pg_server: PgSandbox,
                       undo: tuple[str, ...] = LATER) -> Path:
    """The clinic's database as an older ptdoc kept it (schema OLD), dumped by pg_dump as
    ``ptdoc backup`` does; the database itself is put back as it was afterwards."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    owner = pg_server.url(name, "ptdoc_owner")
    now = pg_backup.dump(owner, tmp_path / "now.dump").path
    with psycopg.connect(as_superuser(url), autocommit=True) as conn:
        for sql in undo:
            conn.execute(sql)
        conn.execute(f"UPDATE {pg.SCHEMA_TABLE} SET version = %s", [OLD])
    reference = pg_server.empty_database()
    try:
        made = pg.open_database(pg_server.url(reference, "ptdoc_owner"), migrate=False)
        pg.migrate_to_latest(made, target=OLD)
        made.close()
        assert (_server_schema(url) == _server_schema(pg_server.url(reference))) == \
            (undo == LATER)
    finally:
        pg_server.drop(reference)
    dump = pg_backup.dump(owner, tmp_path / "older.dump").path
    assert pg_backup.check_dump(dump).version == OLD
    pg_backup.restore(owner, now)  # the database as it was before going back
    with Store.open(owner) as store:
        pg.grant_application_role(store.db)  # type: ignore[arg-type]
    return dump


def _older_backup(backend: str, db_target, tmp_path: Path, request,
                  undo: tuple[str, ...] = LATER) -> tuple[Path, str]:
    """An older backup of the clinic (the file's or pg_dump's), and the --db to restore it
    with (a server's restore is its owner's)."""
    if backend == "sqlite":
        return _older_file_backup(tmp_path, db_target, undo), str(db_target)
    pg_server = request.getfixturevalue("pg_server")
    dump = _older_server_dump(tmp_path, str(db_target), pg_server, undo)
    return dump, pg_server.url(urlsplit(str(db_target)).path.lstrip("/"), "ptdoc_owner")


def _work_since(clinic: Clinic, db_target) -> None:
    """Notes signed after the backup was taken, which a restore takes back."""
    with Store.open(db_target) as clinic.store:
        for days, username in enumerate(("pt", "pta", "dpt")):
            day = TODAY - dt.timedelta(days=10 + days)
            sign(clinic.as_(username), clinic.complete_draft(username, day).id)
        assert clinic.store.sessions.count() == 6


def test_an_older_backup_is_restored_at_the_current_schema_and_verifies(
        clinic: Clinic, db_target, backend: str, tmp_path: Path, request,
        monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    signed = _a_signed_clinic(clinic)
    before = {sid: clinic.store.sessions.get(sid) for sid in signed}
    clinic.store.close()
    backup, target = _older_backup(backend, db_target, tmp_path, request)
    _work_since(clinic, db_target)

    status, said = run(monkeypatch, capsys, "restore", str(backup), "--db", target, "--force")
    assert status == 0, said
    status, said = run(monkeypatch, capsys, "verify", "--db", str(db_target), user="pt")
    assert status == 0 and "Everything verifies." in said, said
    with Store.open(db_target) as store:
        version = (dbmod.pragma(store.db, "user_version") if backend == "sqlite"
                   else store.db.schema_version())  # type: ignore[attr-defined]
        assert version == LATEST_VERSION
        assert store.sessions.count() == 3  # the backup's two signed notes and its draft
        for sid, note in before.items():
            restored = store.sessions.get(sid)
            assert restored.signature == note.signature
            assert restored.addenda == note.addenda
            # signed before notes kept their place of service: the clinic's at the upgrade
            assert restored.place_of_service == "11"
        assert store.audit.check_chain().problems == ()


def test_an_older_backup_whose_upgrade_fails_replaces_nothing(
        clinic: Clinic, db_target, backend: str, tmp_path: Path, request,
        monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """A backup that claims an older schema but already holds a later step's table: the step
    that makes it fails. The restore says so in one line and the clinic is as it was."""
    _a_signed_clinic(clinic)
    clinic.store.close()
    backup, target = _older_backup(backend, db_target, tmp_path, request,
                                   undo=tuple(sql for sql in LATER if "draft_locks" not in sql))
    _work_since(clinic, db_target)

    status, said = run(monkeypatch, capsys, "restore", str(backup), "--db", target, "--force")
    assert status != 0 and said.count("\n") == 1, said
    assert f"{backup} (schema {OLD}) could not be brought to this ptdoc's schema" in said
    assert "draft_locks" in said and "Traceback" not in said
    status, said = run(monkeypatch, capsys, "verify", "--db", str(db_target), user="pt")
    assert status == 0 and "Everything verifies." in said, said
    with Store.open(db_target) as store:
        assert store.sessions.count() == 6  # the work since the backup is all there
