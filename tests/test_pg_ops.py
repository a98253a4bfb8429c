"""Looking after a clinic's server: backups and restores with PostgreSQL's own tools."""

from __future__ import annotations

import datetime as dt
import io
import stat
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD, Clinic, sign

from ptdoc import cli, pg_backup
from ptdoc.domain import Patient
from ptdoc.errors import NotAPtdocDatabase
from ptdoc.store import Store

pytestmark = pytest.mark.server


def run(monkeypatch: pytest.MonkeyPatch, capsys, *args: str, stdin: str = "") -> tuple[int, str]:
    """``ptdoc ARGS`` in this process, ``stdin`` on standard input (not a terminal); the exit
    status and what it said (out and err)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    status = cli.main(list(args))
    out = capsys.readouterr()
    return status, out.out + out.err


def owner_url(pg_server, url: str) -> str:
    return pg_server.url(urlsplit(url).path.lstrip("/"), "ptdoc_owner")


@pytest.mark.parametrize("backend", ["postgres"])
def test_backup_and_restore_on_a_server(clinic: Clinic, db_target, pg_server, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    url = str(db_target)
    signed = sign(clinic.as_("pt"), clinic.complete_draft("pt").id)
    dest = tmp_path / "keep" / "clinic.dump"
    status, said = run(monkeypatch, capsys, "--db", url, "backup", str(dest), "--user", "boss",
                       "--password-stdin", stdin=f"{PASSWORD}\n")
    assert status == 0, said
    assert f"to {dest}" in said
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    facts = pg_backup.check_dump(dest)  # pg_restore --list reads it, ptdoc's tables inside
    assert {"sessions", "audit", "ptdoc_schema"} <= facts.tables

    clinic.admin.add_patient(Patient("MRN-2", "Bo", "Park", dt.date(1960, 1, 2),
                                     clinic.payer.id))
    assert clinic.store.patients.count() == 2

    # The workstations' role may not replace tables; nothing is changed.
    status, said = run(monkeypatch, capsys, "--db", url, "restore", str(dest), "--force",
                       "--user", "boss", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert status == 2 and "owner" in said and said.count("\n") == 1
    owner = owner_url(pg_server, url)
    # Not on a terminal and without --force: says what it would replace, and replaces nothing.
    status, said = run(monkeypatch, capsys, "--db", owner, "restore", str(dest), "--user",
                       "boss", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert status == 2 and "--force" in said
    assert "This replaces the clinic in" in said and "2 patients" in said
    assert f"with {dest} (a dump of " in said
    garbage = tmp_path / "garbage.dump"
    garbage.write_bytes(b"PGDMP not really")
    status, said = run(monkeypatch, capsys, "--db", owner, "restore", str(garbage), "--force",
                       "--user", "boss", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert status == 1 and "not a dump pg_restore can read" in said
    assert clinic.store.patients.count() == 2

    status, said = run(monkeypatch, capsys, "--db", owner, "restore", str(dest), "--force",
                       "--user", "boss", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert status == 0, said
    assert "Every signature verifies and the audit chain is intact." in said
    with Store.open(url) as fresh:  # a workstation again: its role still reads and writes
        assert fresh.patients.count() == 1
        assert fresh.sessions.get(signed.id).signature == signed.signature
        assert fresh.audit.check_chain().problems == ()
        rows = list(fresh.db.query("SELECT action, detail FROM audit ORDER BY id DESC LIMIT 1"))
        assert rows == [{"action": "restore", "detail": dest.name}]


def test_a_dump_of_another_database_is_refused(pg_server, tmp_path: Path) -> None:
    name = pg_server.empty_database()
    try:
        import psycopg

        with psycopg.connect(pg_server.url(name, "ptdoc_owner"), autocommit=True) as conn:
            conn.execute("CREATE TABLE sessions (id integer)")
        other = tmp_path / "other.dump"
        pg_backup._run("pg_dump", ["--format=custom", f"--file={other}"],
                       pg_server.url(name, "ptdoc_owner"))
        with pytest.raises(NotAPtdocDatabase, match="not of a ptdoc clinic"):
            pg_backup.check_dump(other)
    finally:
        pg_server.drop(name)


@pytest.mark.parametrize("backend", ["postgres"])
def test_the_demo_clinic_on_an_empty_server_database(empty_db, monkeypatch, capsys) -> None:
    url = str(empty_db)  # the owner's: the first connection makes ptdoc's schema
    status, said = run(monkeypatch, capsys, "demo", "--db", url)
    assert status == 0, said
    assert said.startswith("Demo clinic created in postgresql://") and "password demo1234" in said
    with Store.open(url) as store:
        patients, sessions = store.patients.count(), store.sessions.count()
        assert patients > 0 and sessions > 0 and f"{patients} patients" in said
    status, said = run(monkeypatch, capsys, "verify", "--db", url, "--user", "mchen",
                       "--password-stdin", stdin="demo1234\n")
    assert status == 0 and "Everything verifies." in said, said
    # A database holding a clinic is never replaced by the demo, --force or not.
    status, said = run(monkeypatch, capsys, "demo", "--db", url, "--force")
    assert status == 2 and said.count("\n") == 1
    assert "already holds a clinic (6 users" in said and "nothing was changed" in said
    with Store.open(url) as store:
        assert (store.patients.count(), store.sessions.count()) == (patients, sessions)
