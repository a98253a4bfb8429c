"""Sessions in a real SQLite file: lossless round trip, locked once signed, audit append-only."""

import datetime as dt
from dataclasses import replace

import pytest
from conftest import NOW, PASSWORD, TODAY, Clinic, rows_written, sign
from hypothesis import HealthCheck, given, settings
from pg_sandbox import REFUSED, raw_execute
from strategies import drafts

from ptdoc.domain import AddendumKind, SessionStatus
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
    clinic.complete_draft(day=TODAY - dt.timedelta(days=3))  # another draft: not a visit yet
    names = clinic.store.sessions.exercise_names(clinic.patient.id)
    assert names == sorted({e.name for e in first.exercises}, key=str.lower)
    history = clinic.store.sessions.exercise_history(clinic.patient.id, "sit TO stand", now.id)
    assert [(h["date"], h["sets"], h["reps"]) for h in history] == [
        ((TODAY - dt.timedelta(days=7)).isoformat(), 3, 10), (TODAY.isoformat(), 3, 10)]
