"""Someone with a shell and the database file tries to rewrite a signed note, an addendum or
the audit log with REPLACE, which deletes the old row without firing delete triggers."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import PASSWORD, Clinic, only_sqlite, sign

from ptdoc.domain import AddendumKind

ATTACKS = [
    # A signed session rewritten whole, as a draft with another assessment.
    "INSERT OR REPLACE INTO sessions SELECT id, patient_id, episode_id, date_of_service, "
    "note_type, 'draft', delivered_by, supervised_by, supervisor_availability, mode, "
    "group_size, time_in, time_out, total_treatment_minutes, diagnoses, patient_response, "
    "'rewritten', home_program, acknowledgements, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, "
    "created_at, updated_at, '22' FROM sessions WHERE id = {signed}",
    # A signed note's place of service changed (recorded at signing, like the rest).
    "UPDATE sessions SET place_of_service = '22' WHERE id = {signed}",
    "UPDATE OR REPLACE sessions SET place_of_service = '22' WHERE id = {signed}",
    "REPLACE INTO sessions (id, patient_id, date_of_service, note_type, status, mode, "
    "created_at, updated_at) VALUES ({signed}, 1, '2026-01-01', 'daily', 'draft', "
    "'one-on-one', 'x', 'x')",
    # A draft's id moved onto the signed one.
    "UPDATE OR REPLACE sessions SET id = {signed} WHERE id = {draft}",
    # An addendum and an audit row replaced by new text.
    "REPLACE INTO addenda SELECT id, session_id, kind, author_id, author_name, created_at, "
    "reason, 'rewritten' FROM addenda WHERE session_id = {signed}",
    "REPLACE INTO audit (id, at, actor, action) SELECT id, at, actor, 'view' FROM audit "
    "WHERE action = 'sign'",
    # A signed note's exercise row taken over by a draft's row.
    "REPLACE INTO exercises SELECT id, {draft}, 99, 'rewritten', region, side, body_position, "
    "equipment, load, load_unit, sets, reps, hold_seconds, duration_minutes, distance, "
    "distance_unit, assistance, cues, change, modification, modification_reason, pain_before, "
    "pain_after, response, minutes, code, mode, delivered_by FROM exercises "
    "WHERE session_id = {signed} LIMIT 1",
    "UPDATE OR REPLACE services SET id = (SELECT min(id) FROM services WHERE session_id = "
    "{signed}) WHERE session_id = {draft}",
]


def _snapshot(path: Path) -> list:
    conn = sqlite3.connect(path)
    try:
        return [conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
                for t in ("sessions", "exercises", "services", "addenda", "audit")]
    finally:
        conn.close()


@pytest.fixture
def signed_clinic(clinic: Clinic, db_path: Path, backend: str) -> tuple[Path, dict[str, int]]:
    only_sqlite(backend, "REPLACE is SQLite's (test_pg covers the server's ways around a trigger)")
    signed = clinic.complete_draft()
    pt = clinic.as_("pt")
    sign(pt, signed.id)
    pt.add_addendum(signed.id, AddendumKind.CORRECTION, "Typo", "Sets were 3, not 2.",
                    pt.prove_signer(PASSWORD))
    draft = clinic.complete_draft()
    clinic.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db_path, {"signed": signed.id, "draft": draft.id}


def test_replace_is_refused_from_python(signed_clinic: tuple[Path, dict[str, int]]) -> None:
    path, ids = signed_clinic
    before = _snapshot(path)
    for attack in ATTACKS:
        conn = sqlite3.connect(path)  # as an attacker would: default settings, no ptdoc
        try:
            with pytest.raises(sqlite3.IntegrityError, match=r"cannot be replaced|locked"):
                conn.execute(attack.format(**ids))
            conn.commit()
        finally:
            conn.close()
    assert _snapshot(path) == before
    conn = sqlite3.connect(path)
    try:  # plain inserts still work: the triggers refuse collisions only
        conn.execute("INSERT INTO audit (at, actor, action) VALUES ('x', 'cli', 'view')")
        conn.execute("UPDATE sessions SET assessment = 'edited' WHERE id = ?", [ids["draft"]])
    finally:
        conn.close()


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 tool is not installed")
def test_replace_is_refused_from_the_sqlite3_shell(
        signed_clinic: tuple[Path, dict[str, int]]) -> None:
    path, ids = signed_clinic
    before = _snapshot(path)
    for attack in ATTACKS:
        result = subprocess.run(["sqlite3", str(path)], input=attack.format(**ids) + ";\n",
                                capture_output=True, text=True, timeout=30)
        assert "cannot be replaced" in result.stderr or "locked" in result.stderr, attack
    assert _snapshot(path) == before
