"""Sessions in a real SQLite file: lossless round trip, locked once signed, audit append-only."""

import datetime as dt
from dataclasses import replace

import pytest
from conftest import NOW, PASSWORD, TODAY, Clinic, rows_written, sign
from hypothesis import HealthCheck, given, settings
from pg_sandbox import REFUSED, raw_execute
from strategies import drafts

from ptdoc.domain import AddendumKind, ExerciseEntry, SessionStatus
from ptdoc.errors import RecordLocked
from ptdoc.repositories import AuditAction
from ptdoc.store import Store


def test_store_round_trip_is_lossless(clinic: Clinic) -> None:
    ids = [u.id for u in clinic.users.values()]

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(drafts(clinic.patient.id, ids, TODAY))
    def check(session):
        saved = clinic.store.sessions.save_draft(session, NOW)
        assert clinic.store.sessions.get(saved.id) == saved
        edited = replace(saved, exercises=saved.exercises[:1], assessment="changed")
        clinic.store.sessions.save_draft(edited, NOW)
        assert clinic.store.sessions.get(saved.id) == edited

    check()


def test_saving_over_a_draft_writes_only_the_rows_that_differ(clinic: Clinic) -> None:
    """Any draft saved over any other reads back as the second; a row stored as it is stays
    untouched (same id, not written), a changed one is updated in place."""
    ids = [u.id for u in clinic.users.values()]
    sessions = clinic.store.sessions

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(drafts(clinic.patient.id, ids, TODAY), drafts(clinic.patient.id, ids, TODAY))
    def check(first, second):
        saved = sessions.save_draft(first, NOW)
        before = dict(clinic.store.db.execute(
            "SELECT position, id FROM exercises WHERE session_id = ?", [saved.id]).fetchall())
        again = replace(second, id=saved.id)
        with rows_written(clinic.store, "exercises") as written:
            sessions.save_draft(again, NOW)
        assert sessions.get(saved.id) == again
        old, new = first.exercises, second.exercises
        differ = {i for i in range(len(new)) if i >= len(old) or old[i] != new[i]}
        assert len(written) == len(differ) + max(0, len(old) - len(new))
        after = dict(clinic.store.db.execute(
            "SELECT position, id FROM exercises WHERE session_id = ?", [saved.id]).fetchall())
        assert all(after[i] == before[i] for i in range(min(len(old), len(new))))
        with rows_written(clinic.store, "exercises") as written:
            sessions.save_draft(again, NOW)  # saved as it is: no exercise row written
        assert written == []

    check()


def test_reopened_file_holds_the_same_session(clinic: Clinic, db_target) -> None:
    draft = clinic.complete_draft()
    signed = sign(clinic.as_("pt"), draft.id)
    clinic.store.close()
    with Store.open(db_target) as again:
        assert again.sessions.get(draft.id) == signed


@pytest.mark.parametrize("sql", [
    "UPDATE sessions SET assessment = 'rewritten' WHERE id = :id",
    "UPDATE sessions SET status = 'draft', content_hash = NULL, signed_at = NULL WHERE id = :id",
    "DELETE FROM sessions WHERE id = :id",
    "UPDATE exercises SET sets = 9 WHERE session_id = :id",
    "DELETE FROM exercises WHERE session_id = :id",
    "INSERT INTO exercises (session_id, position, name, change, code, mode, delivered_by) "
    "VALUES (:id, 99, 'Ghost', 'new', '97110', 'one-on-one', 'PT')",
    "UPDATE services SET units = 4 WHERE session_id = :id",
    "DELETE FROM services WHERE session_id = :id",
    "INSERT INTO services (session_id, position, code) VALUES (:id, 9, '97140')",
    "UPDATE addenda SET text = 'rewritten' WHERE session_id = :id",
    "DELETE FROM addenda WHERE session_id = :id",
    "UPDATE audit SET action = 'view'",
    "DELETE FROM audit",
])
def test_signed_notes_addenda_and_audit_cannot_be_rewritten_in_sqlite(clinic: Clinic,
                                                                      db_target, sql) -> None:
    draft = clinic.complete_draft()
    ws = clinic.as_("pt")
    sign(ws, draft.id)
    ws.add_addendum(draft.id, AddendumKind.LATE_ENTRY, "Left out", "Pt reported soreness.",
                    ws.prove_signer(PASSWORD))
    before = clinic.store.sessions.get(draft.id)
    clinic.store.close()
    # a script or another program, not ptdoc's code (on a server: with the workstations' role)
    with pytest.raises(REFUSED):
        raw_execute(db_target, sql, {"id": draft.id})
    with Store.open(db_target) as again:
        assert again.sessions.get(draft.id) == before


def test_drafts_stay_editable_and_deletable(clinic: Clinic) -> None:
    draft = clinic.complete_draft()
    clinic.store.db.execute("UPDATE exercises SET sets = 4 WHERE session_id = ?", [draft.id])
    clinic.store.sessions.delete_draft(draft.id)
    assert clinic.store.sessions.count() == 0


def test_signed_session_refuses_save_and_second_signature(clinic: Clinic) -> None:
    draft = clinic.complete_draft()
    signed = sign(clinic.as_("pt"), draft.id)
    with pytest.raises(RecordLocked):
        clinic.store.sessions.save_draft(replace(draft, assessment="x"), NOW)
    with pytest.raises(RecordLocked):
        clinic.store.sessions.sign(draft.id, signed.signature, "11")


def test_addenda_only_on_signed_sessions(clinic: Clinic) -> None:
    draft = clinic.complete_draft()
    with pytest.raises(RecordLocked):
        clinic.as_("pt").add_addendum(draft.id, AddendumKind.AMENDMENT, "r", "t",
                                      clinic.as_("pt").prove_signer(PASSWORD))


def test_audit_keeps_ids_not_patient_text(clinic: Clinic) -> None:
    draft = clinic.complete_draft()
    sign(clinic.as_("pt"), draft.id)
    clinic.as_("pt").open_session(draft.id)
    entries = clinic.store.audit.entries()
    actions = [e["action"] for e in reversed(entries)]
    for expected in (AuditAction.CREATE, AuditAction.EDIT, AuditAction.SIGN, AuditAction.VIEW):
        assert expected.value in actions
    dump = repr(entries)
    for secret in ("Ann", "Lee", "Sit to stand", "Improving", "MRN-1"):
        assert secret not in dump


def test_day_listing_and_patient_search(clinic: Clinic) -> None:
    clinic.complete_draft(day=TODAY)
    clinic.complete_draft(day=TODAY - dt.timedelta(days=1))
    today = clinic.store.sessions.listing(date=TODAY)
    assert [(r.mrn, r.patient_name, r.status) for r in today] == [
        ("MRN-1", "Lee, Ann", SessionStatus.DRAFT)]
    assert len(clinic.store.sessions.listing(patient_id=clinic.patient.id)) == 2
    for query in ("lee", "Ann", "MRN-1", "1950-03-04"):
        assert [p.mrn for p in clinic.store.patients.search(query)] == ["MRN-1"]
    assert clinic.store.patients.search("%") == []


def test_the_front_desk_finds_a_name_whatever_its_case_and_accents(clinic: Clinic) -> None:
    """A front desk types names as they sound ("jose", "nunez"): the same patients are
    found on both backends, with or without the accents and capitals of the record."""
    from ptdoc.domain import Patient

    born = dt.date(1961, 5, 6)
    for mrn, first, last in (("J-1", "José", "Núñez"), ("J-2", "Jose", "Nunez"),
                             ("J-3", "JOSÉ", "ÑANDÚ"), ("J-4", "Zoë", "Straße"),
                             ("J-5", "Josh", "Núñ%ez")):
        clinic.admin.add_patient(Patient(mrn, first, last, born, clinic.payer.id))
    desk = clinic.as_("desk")

    def found(text: str) -> list[str]:
        return [p.mrn for p in desk.search_patients(text, 20)]

    for typed in ("jose", "JOSE", "José", "josé", "JOSÉ", "jOsÉ"):
        assert found(typed) == ["J-3", "J-1", "J-2"], typed
    for typed in ("nunez", "Núñez", "NUNEZ"):
        assert found(typed) == ["J-1", "J-2"], typed
    assert found("nún") == ["J-5", "J-1", "J-2"]  # "nun%ez" sorts before "nunez"
    assert found("nandu") == found("Ñandú") == ["J-3"]
    assert found("strasse") == found("STRAẞE") == found("zoe") == ["J-4"]
    assert found("núñ%") == ["J-5"]  # a % is a letter typed, not a wildcard
    assert found("%") == found("_") == found("\u0301") == found("josex") == []
    # a corrected name is found by its new spelling only
    jose = clinic.store.patients.by_mrn("J-2")
    clinic.admin.update_patient(replace(jose, first_name="Joaquín"))
    assert found("joaquin") == ["J-2"] and "J-2" not in found("jose")


def test_an_mrn_is_found_whole_in_any_case(clinic: Clinic) -> None:
    from ptdoc.domain import Patient

    clinic.admin.add_patient(Patient("RPT-10014", "Wally", "Ames", dt.date(1944, 2, 3),
                                     clinic.payer.id))
    desk = clinic.as_("desk")

    def found(text: str) -> list[str]:
        return [p.mrn for p in desk.search_patients(text, 20)]

    for typed in ("RPT-10014", "rpt-10014", "Rpt-10014", " rpt-10014 "):
        assert found(typed) == ["RPT-10014"], typed
    assert found("rpt-1001") == found("rpt") == found("10014") == []  # whole, not a part
    # a corrected MRN is found by its new one only
    wally = clinic.store.patients.by_mrn("RPT-10014")
    clinic.admin.update_patient(replace(wally, mrn="RPT-10015"))
    assert found("rpt-10015") == ["RPT-10015"] and found("rpt-10014") == []


def test_patients_registered_before_the_search_keys_are_found_after_upgrading(
        empty_db: object, backend: str) -> None:
    from ptdoc import db as dbmod
    from ptdoc import pg

    before = 16  # the schema before m017_name_search_keys
    if backend == "sqlite":
        empty_db.parent.mkdir(parents=True)  # type: ignore[attr-defined]
        old = dbmod.connect(empty_db)  # type: ignore[arg-type]
        old.execute(f"PRAGMA application_id = {dbmod.APPLICATION_ID}")
        dbmod.migrate_to_latest(old, None, target=before)
    else:
        old = pg.open_database(str(empty_db), migrate=False)
        pg.migrate_to_latest(old, target=before)
    with old.atomic():
        old.execute("INSERT INTO patients (mrn, first_name, last_name, date_of_birth) VALUES "
                    "('A1', 'José', 'Peña', '1950-01-01'), ('A2', 'Ann', 'Lee', '1950-01-02')")
    old.close()
    with Store.open(empty_db) as store:  # type: ignore[arg-type]
        assert [p.mrn for p in store.patients.search("jose")] == ["A1"]
        assert [p.mrn for p in store.patients.search("PENA")] == ["A1"]
        assert [p.mrn for p in store.patients.search("le")] == ["A2"]
        assert [p.mrn for p in store.patients.search("a2")] == ["A2"]  # the MRN's key too


def test_name_search_reads_its_index_on_both_backends(store: Store, backend: str) -> None:
    """Each name prefix is a range of its key's index, on the file and on the server (where
    an ILIKE on the case-insensitive collation read every patient)."""
    low, high = "lee", "lef"
    search = f"SELECT id FROM patients {store.patients.SEARCH}"
    params = ["lee", "lee", low, high, 20, low, high, 20, 20]
    if backend == "sqlite":
        rows = store.db.execute(f"EXPLAIN QUERY PLAN {search}", params).fetchall()
        plan = " ".join(r[-1] for r in rows)
        assert "INDEX patients_last_key (last_key>? AND last_key<?)" in plan, plan
        assert "INDEX patients_first_key (first_key>? AND first_key<?)" in plan, plan
        assert "INDEX patients_mrn_search (mrn_key=?)" in plan, plan
        assert "SCAN patients" not in plan, plan
        return
    # The server chooses by the table's size: asked not to read the table whole, it reads
    # each range as an index condition (an ILIKE could only filter a whole index).
    with store.db.atomic():
        store.db.execute("SET LOCAL enable_seqscan = off")
        plan = " ".join(r[0] for r in store.db.execute(f"EXPLAIN {search}", params))
    for index, column in (("patients_last_key", "last_key"),
                          ("patients_first_key", "first_key")):
        assert f"Index Only Scan using {index}" in plan or f"Index Scan using {index}" in plan
        assert f"Index Cond: (({column} >= " in plan, plan
    assert "Index Cond: (mrn_key = " in plan, plan  # whatever the case typed, by its index
    assert "Seq Scan on patients" not in plan, plan


def test_queries_use_indexes(store: Store, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's query plans (PostgreSQL chooses its own by the table's size)")

    def plan(sql: str, params: list) -> str:
        rows = store.db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        return " ".join(r[-1] for r in rows)

    assert "sessions_date" in plan("SELECT id FROM sessions WHERE date_of_service = ?",
                                   ["2026-01-01"])
    assert "sessions_patient" in plan("SELECT id FROM sessions WHERE patient_id = ? "
                                      "ORDER BY date_of_service", [1])
    assert "exercises" in plan("SELECT * FROM exercises WHERE session_id = ?", [1])
    assert "USING INDEX" in plan("SELECT * FROM patients WHERE mrn = ?", ["A"])


def test_a_patients_exercises_by_name_and_their_history(clinic: Clinic) -> None:
    first = clinic.complete_draft(day=TODAY - dt.timedelta(days=7))
    sign(clinic.as_("pt"), first.id or 0)
    now = clinic.complete_draft()
    other = clinic.complete_draft(day=TODAY - dt.timedelta(days=3))  # not a visit yet
    ws = clinic.as_("pt")
    for draft, name in ((other, "Marching, other draft"), (now, "Bridges, this note")):
        ws.save_draft(replace(draft, exercises=(*draft.exercises, ExerciseEntry(name))))
    names = clinic.store.sessions.exercise_names(clinic.patient.id)
    assert names == sorted({e.name for e in first.exercises}, key=str.lower)
    assert clinic.store.sessions.exercise_names(clinic.patient.id, now.id) == sorted(
        [*names, "Bridges, this note"], key=str.lower)
    history = clinic.store.sessions.exercise_history(clinic.patient.id, "sit TO stand", now.id)
    assert [(h["date"], h["sets"], h["reps"]) for h in history] == [
        ((TODAY - dt.timedelta(days=7)).isoformat(), 3, 10), (TODAY.isoformat(), 3, 10)]
