"""The PostgreSQL backend: SQLite's statements as the server runs them, and a server's ways
around the protection of signed notes closed to the workstations' role."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from conftest import PASSWORD, Clinic, sign
from pg_sandbox import SCRIPT, PgSandbox, administer, attack, printed_urls, raw_execute

from ptdoc import cli
from ptdoc.dialect import split_script, translate
from ptdoc.domain import AddendumKind, SessionStatus
from ptdoc.errors import DatabaseError, RecordLocked
from ptdoc.repositories import AuditAction
from ptdoc.services import Workspace
from ptdoc.store import Store

psycopg = pytest.importorskip("psycopg")


# --- the dialect (no server) ----------------------------------------------------------------

@pytest.mark.parametrize("sqlite,postgres", [
    ("SELECT id FROM users WHERE npi = ? AND id IS NOT ?",
     "SELECT id FROM users WHERE npi = %s AND id IS DISTINCT FROM %s"),
    ("SELECT 1 WHERE a IS NOT NULL AND b LIKE ? ESCAPE '\\'",
     "SELECT 1 WHERE a IS NOT NULL AND b ILIKE %s ESCAPE '\\'"),
    ("SELECT x FROM t WHERE mrn GLOB ? AND substr(mrn, ?) NOT GLOB '*[^0-9]*'",
     "SELECT x FROM t WHERE glob(%s, mrn) AND NOT glob('*[^0-9]*', substr(mrn, %s))"),
    ("SELECT id FROM t ORDER BY day DESC, time LIMIT ?",
     "SELECT id FROM t ORDER BY day DESC NULLS LAST, time NULLS FIRST LIMIT %s"),
    ("SELECT id FROM t WHERE id IN (SELECT * FROM (SELECT id FROM p LIMIT ?) UNION ALL "
     "SELECT 1)",
     "SELECT id FROM t WHERE id IN (SELECT * FROM (SELECT id FROM p LIMIT %s) AS _q1 UNION "
     "ALL SELECT 1)"),
    ("SELECT 'a%' || ? FROM t", "SELECT 'a%%' || %s FROM t"),
    ("ALTER TABLE p ADD COLUMN k TEXT COLLATE BINARY NOT NULL DEFAULT ''",
     "ALTER TABLE p ADD COLUMN k TEXT COLLATE \"C\" NOT NULL DEFAULT ''"),
    ("SELECT DISTINCT e.name FROM e JOIN s ON s.id = e.sid WHERE s.p = ? ORDER BY e.name "
     "COLLATE NOCASE",
     "SELECT * FROM (SELECT DISTINCT e.name FROM e JOIN s ON s.id = e.sid WHERE s.p = %s) AS "
     "_distinct ORDER BY name COLLATE NOCASE NULLS FIRST"),
])
def test_sqlite_statements_become_postgresql_ones(sqlite: str, postgres: str) -> None:
    assert " ".join(translate(sqlite).sql.split()) == " ".join(postgres.split())


def test_numbered_parameters_are_reordered_and_inserts_name_their_table() -> None:
    keep = translate("INSERT INTO draft_flags (session_id, blockers) SELECT ?1, ?2 WHERE "
                     "(SELECT status FROM sessions WHERE id = ?1) = 'draft'")
    assert keep.params([7, 3]) == [7, 3, 7]
    assert translate("INSERT INTO audit (id, at) VALUES (?, ?)").insert_into == "audit"
    assert translate("INSERT INTO a (id) SELECT id FROM b").insert_into is None
    assert translate("PRAGMA synchronous = FULL").statements() == ()
    # a column never NULL keeps its plain order, which an index can serve backwards
    assert translate("SELECT hash FROM audit a ORDER BY a.id DESC, time LIMIT 1",
                     frozenset({"id"})).sql == ("SELECT hash FROM audit a ORDER BY a.id DESC, "
                                                "time NULLS FIRST LIMIT 1")


def test_a_refusing_trigger_becomes_a_function_and_a_trigger() -> None:
    statement = translate("CREATE TRIGGER x_locked BEFORE UPDATE ON x WHEN OLD.status IS NOT "
                          "'draft' BEGIN SELECT RAISE(ABORT, 'no'); END")
    function, trigger = statement.statements()
    assert "IF OLD.status IS DISTINCT FROM 'draft' THEN RAISE EXCEPTION 'no'" in function
    assert "RETURN NEW" in function
    assert trigger == ("CREATE TRIGGER x_locked BEFORE UPDATE ON x FOR EACH ROW EXECUTE "
                       "FUNCTION x_locked()")
    deleting = translate("CREATE TRIGGER y BEFORE DELETE ON y BEGIN SELECT RAISE(ABORT, 'no'); "
                         "END").statements()[0]
    assert "RETURN OLD" in deleting and " IF " not in deleting
    assert split_script("CREATE TABLE a (id INTEGER); CREATE TRIGGER t BEFORE DELETE ON a "
                        "BEGIN SELECT RAISE(ABORT, 'x'); END; DROP TABLE b;") == [
        "CREATE TABLE a (id INTEGER)",
        "CREATE TRIGGER t BEFORE DELETE ON a BEGIN SELECT RAISE(ABORT, 'x'); END",
        "DROP TABLE b"]


# --- on the server --------------------------------------------------------------------------

# These tests are about the server: their clinic is on PostgreSQL only.
on_server = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture
def signed_on_server(clinic: Clinic) -> tuple[str, int]:
    draft = clinic.complete_draft()
    pt = clinic.as_("pt")
    sign(pt, draft.id)
    pt.add_addendum(draft.id, AddendumKind.CORRECTION, "Typo", "Sets were 3, not 2.",
                    pt.prove_signer(PASSWORD))
    return clinic.store.db.url, draft.id  # type: ignore[attr-defined]


@on_server
@pytest.mark.parametrize("sql", [
    "ALTER TABLE sessions DISABLE TRIGGER ALL",
    "ALTER TABLE audit DISABLE TRIGGER audit_no_delete",
    "DROP TRIGGER sessions_locked_update ON sessions",
    "DROP FUNCTION sessions_locked_update() CASCADE",
    "TRUNCATE audit",
    "TRUNCATE sessions CASCADE",
    "SET session_replication_role = replica",
    "DROP TABLE addenda CASCADE",
    "CREATE TABLE keep_out (id INTEGER)",
    "UPDATE ptdoc_schema SET version = 1",
])
def test_the_workstations_role_cannot_get_around_the_triggers(
        signed_on_server: tuple[str, int], sql: str) -> None:
    url, _ = signed_on_server
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        raw_execute(url, sql, {})


@on_server
@pytest.mark.parametrize("sql", [
    "UPDATE sessions SET assessment = 'rewritten' WHERE id = :id",
    "DELETE FROM sessions WHERE id = :id",
    "INSERT INTO sessions SELECT * FROM sessions WHERE id = :id ON CONFLICT (id) DO UPDATE "
    "SET assessment = 'rewritten'",
    "DELETE FROM exercises WHERE session_id = :id",
    "UPDATE addenda SET text = 'rewritten' WHERE session_id = :id",
    "DELETE FROM audit",
    "UPDATE signing_keys SET public_key = 'x'",
])
def test_signed_rows_refuse_the_workstations_role(signed_on_server: tuple[str, int],
                                                  sql: str) -> None:
    url, sid = signed_on_server
    with pytest.raises(psycopg.errors.IntegrityError, match=r"locked|append-only|replaced"):
        raw_execute(url, sql, {"id": sid})


@on_server
def test_ptdoc_says_a_locked_note_in_its_own_words(signed_on_server: tuple[str, int],
                                                   clinic: Clinic) -> None:
    _, sid = signed_on_server
    with pytest.raises(RecordLocked, match="signed and locked"):
        clinic.store.sessions.delete_draft(sid)
    assert clinic.store.sessions.get(sid).status == SessionStatus.SIGNED


def test_an_empty_database_needs_its_owner_and_a_bad_address_is_one_line(
        pg_server: PgSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    name = pg_server.empty_database()
    try:
        with pytest.raises(DatabaseError, match="no ptdoc schema yet, and ptdoc_app may not"):
            Store.open(pg_server.url(name))
        with Store.open(pg_server.url(name, "ptdoc_owner")) as owner:
            assert owner.users.count() == 0
        with Store.open(pg_server.url(name)) as workstation:  # the owner made it: usable now
            assert workstation.patients.count() == 0
    finally:
        pg_server.drop(name)
    stdin, sys.stdin = sys.stdin, io.StringIO(f"{PASSWORD}\n")
    try:
        code = cli.main(["sessions", "--db", pg_server.url("no_such_database", "ptdoc_app:hunter2"),
                         "--user", "pt", "--password-stdin"])
    finally:
        sys.stdin = stdin
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "cannot be reached or refused" in err
    assert "no_such_database" in err and "Traceback" not in err
    assert "hunter2" not in err  # a password in the URL is never shown


# --- moving a clinic from its file to a server -----------------------------------------------

def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    stdin, sys.stdin = sys.stdin, io.StringIO(f"{PASSWORD}\n")
    try:
        code = cli.main(list(args))
    finally:
        sys.stdin = stdin
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_clinic_moves_from_its_file_to_an_empty_server_database(
        clinic: Clinic, db_path, pg_server: PgSandbox,
        capsys: pytest.CaptureFixture[str]) -> None:
    pt = clinic.as_("pt")
    signed = sign(pt, clinic.complete_draft().id)
    pt.add_addendum(signed.id, AddendumKind.LATE_ENTRY, "Left out", "Pt reported soreness.",
                    pt.prove_signer(PASSWORD))
    draft = clinic.complete_draft("pta")
    name = pg_server.empty_database()
    owner = pg_server.url(name, "ptdoc_owner")
    try:
        code, out, err = run_cli(capsys, "migrate", "--from", str(db_path), "--to", owner,
                                 "--user", "boss", "--password-stdin")
        assert code == 0, err
        assert "Signed notes: 1;" in out and "Every signature verifies" in out
        with Store.open(db_path) as file, Store.open(pg_server.url(name)) as server:
            assert server.sessions.get(signed.id) == file.sessions.get(signed.id)
            assert server.sessions.get(draft.id) == file.sessions.get(draft.id)
            assert server.audit.check_chain().problems == ()
            assert server.audit.entries(limit=1)[0]["detail"] == "moved from ptdoc.sqlite3"
            # new rows continue after the copied ids
            moved = Workspace(server, server.users.by_username("pt"), codes=clinic.codes)
            assert moved.new_session(clinic.patient.id, draft.date_of_service,
                                     clinic.episode.id).id == draft.id + 1
        # the front desk may not move a clinic; a server that holds a clinic is refused
        code, _, err = run_cli(capsys, "migrate", "--from", str(db_path), "--to", owner,
                               "--user", "desk", "--password-stdin")
        assert code == 2 and "may not" in err
        code, _, err = run_cli(capsys, "migrate", "--from", str(db_path), "--to", owner,
                               "--user", "boss", "--password-stdin")
        assert code != 0 and "is not empty" in err and "changed nothing" in err
        assert err.count("\n") == 1
    finally:
        pg_server.drop(name)


def server_rows(url: str) -> int:
    """Every row in the server database's tables (0 when it has no tables yet)."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables
                   if t != "ptdoc_schema")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_file_that_does_not_verify_stays_where_it_is_unless_moved_as_it_is(
        clinic: Clinic, db_path, pg_server: PgSandbox,
        capsys: pytest.CaptureFixture[str]) -> None:
    pt = clinic.as_("pt")
    broken = sign(pt, clinic.complete_draft().id).id
    sound = sign(pt, clinic.complete_draft(day=clinic.episode.start_date).id).id
    for n in range(20):
        clinic.store.audit.record(None, AuditAction.ADMIN, "clinic", detail=f"setting {n}")
    # One signed note changed after signing, and every audit row rewritten: more problems
    # than a report lists.
    attack(db_path, f"UPDATE exercises SET minutes = 45 WHERE session_id = {broken}",
           "UPDATE audit SET detail = 'rewritten'")
    audit_rows = clinic.store.audit.check_chain().rows
    name = pg_server.empty_database()
    owner = pg_server.url(name, "ptdoc_owner")
    try:
        code, out, err = run_cli(capsys, "migrate", "--from", str(db_path), "--to", owner,
                                 "--user", "boss", "--password-stdin")
        lines = out.splitlines()
        assert code == 1 and err == ""
        assert lines[0] == (f"{db_path} does not verify: 1 of 2 signed notes does not verify; "
                            f"{audit_rows} audit rows break the audit chain.")
        problems = [line for line in lines if line.startswith("PROBLEM")]
        assert len(problems) == 20 and len(lines) == 23  # the summary, 20, how many more, why
        # 20 shown of every broken audit row (the sign-in's own row follows the chain) and
        # the note
        assert lines[21] == f"... and {audit_rows + 1 - 20} more"
        assert lines[22].startswith(f"Nothing was moved: {db_path} is as it was, and nothing "
                                    "was written to the server.")
        assert f"'ptdoc verify --db {db_path}' lists every problem" in lines[22]
        assert "--as-is" in lines[22]
        assert server_rows(owner) == 0
        with Store.open(db_path) as file:
            assert file.sessions.get(broken) == clinic.store.sessions.get(broken)
        code, out, _ = run_cli(capsys, "verify", "--db", str(db_path), "--user", "boss",
                               "--password-stdin")
        assert code == 1 and f"PROBLEM session {broken} (" in out
        assert f"session {sound} " not in out

        # Moved as it is: the same note fails on the server, and the move says so.
        code, out, err = run_cli(capsys, "migrate", "--from", str(db_path), "--to", owner,
                                 "--user", "boss", "--password-stdin", "--as-is")
        assert code == 0, err
        lines = out.splitlines()
        assert len([line for line in lines if line.startswith("PROBLEM")]) == 20
        assert lines[-1].startswith("Moved as it was, with --as-is: on the server, as in the "
                                    "file, 1 of 2 signed notes does not verify; ")
        assert f"'ptdoc verify --db {pg_server.url(name, 'ptdoc_owner')}'" in lines[-1]
        with Store.open(pg_server.url(name)) as server:
            assert server.sessions.get(broken) == clinic.store.sessions.get(broken)
            assert server.audit.entries(limit=1)[0]["detail"].startswith(
                "moved from ptdoc.sqlite3 as it was: 1 of 2 signed notes does not verify")
        code, out, _ = run_cli(capsys, "verify", "--db", pg_server.url(name), "--user",
                               "boss", "--password-stdin")
        assert code == 1 and f"PROBLEM session {broken} (" in out
        assert f"session {sound} " not in out
    finally:
        pg_server.drop(name)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_copy_that_does_not_verify_as_the_file_does_is_not_kept(
        clinic: Clinic, db_path, pg_server: PgSandbox,
        capsys: pytest.CaptureFixture[str]) -> None:
    signed = sign(clinic.as_("pt"), clinic.complete_draft().id).id
    name = pg_server.empty_database()
    owner = pg_server.url(name, "ptdoc_owner")
    try:
        Store.open(owner).close()  # the schema, as the owner's first connection makes it
        # A server that changes what it is given (a rule is no trigger: the copy cannot
        # switch it off).
        administer(owner, "CREATE RULE rewrite_minutes AS ON INSERT TO exercises DO ALSO "
                          "UPDATE exercises SET minutes = 45 WHERE id = NEW.id")
        code, out, err = run_cli(capsys, "migrate", "--from", str(db_path), "--to", owner,
                                 "--user", "boss", "--password-stdin")
        assert code == 1 and err == ""
        lines = out.splitlines()
        assert lines == [
            f"The server's copy does not verify as {db_path} does:",
            f"PROBLEM session {signed} does not verify on the server, and does in the file",
            f"Nothing was kept on the server ({owner} is as it was) and {db_path} is as it "
            "was: keep using the file and report this."]
        assert server_rows(owner) == 1  # the row the schema starts with, nothing copied
        # Once the server is put right, the move runs again.
        administer(owner, "DROP RULE rewrite_minutes ON exercises")
        code, out, err = run_cli(capsys, "migrate", "--from", str(db_path), "--to", owner,
                                 "--user", "boss", "--password-stdin")
        assert code == 0 and "Every signature verifies" in out, out + err
    finally:
        pg_server.drop(name)


def test_the_window_opens_a_server_database_or_says_why_it_cannot(
        qtbot, pg_server: PgSandbox, monkeypatch: pytest.MonkeyPatch, artifacts) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ptdoc.ui.app import open_store

    name = pg_server.empty_database()
    try:
        store, notice = open_store(pg_server.url(name, "ptdoc_owner"), demo_if_missing=True)
        assert store is not None and notice == ""
        assert store.users.count() == 0  # no demo on a server: the setup steps come next
        store.close()
    finally:
        pg_server.drop(name)
    shown: list[str] = []

    def exec_box(box: QMessageBox) -> int:
        box.show()
        box.grab().save(str(artifacts / "server-unreachable.png"))
        shown.append(box.text())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_box)
    store, _ = open_store(pg_server.url("no_such_database", "ptdoc_app:hunter2"),
                          demo_if_missing=True)
    assert store is None and len(shown) == 1
    assert "cannot be reached or refused" in shown[0] and "no_such_database" in shown[0]
    assert "hunter2" not in shown[0]


def test_the_sandbox_prints_the_workstations_url_and_the_owners(pg_server: PgSandbox) -> None:
    for action in ("start", "status"):  # start on a running sandbox says the same as status
        done = subprocess.run([str(SCRIPT), action, str(pg_server.folder)], capture_output=True,
                              text=True, timeout=120, check=True)
        lines = done.stdout.splitlines()
        assert [line.split(":")[0] for line in lines] == [
            "Workstations (ptdoc_app)", "Owner (ptdoc_owner), for migrate, restore and demo"]
        urls = printed_urls(done.stdout)
        for label, role in (("Workstations", "ptdoc_app"), ("Owner", "ptdoc_owner")):
            with psycopg.connect(urls[label]) as conn:
                assert conn.execute("SELECT current_user, current_database()").fetchone() == (
                    role, "ptdoc")
