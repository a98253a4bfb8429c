"""Sessions in SQLite (or on a server): drafts saved on every edit, signing, addenda, day
lists; who has a draft open for editing (``DraftLocks``); whether another workstation changed
sessions since last asked (``Changes``).

A draft is saved in one transaction (its row, then those of its exercise and service rows that
differ from the stored ones), so a crash leaves either the previous or the new version, never
half of one. Once signed, triggers in the schema refuse any change to the session or its rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import socket
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from sqlite_utils import Database

from ptdoc.codec import to_plain
from ptdoc.domain import Addendum, ExerciseEntry, NoteType, Session, SessionStatus, Signature
from ptdoc.errors import DatabaseError, NotFound, RecordLocked
from ptdoc.fields import DRAFT_IDLE_DEFAULT
from ptdoc.migrations import LOCKED
from ptdoc.repositories import load_rows

# Session fields kept in columns of the sessions table (the rest are child rows or signature).
_SESSION_COLUMNS = (
    "patient_id", "episode_id", "date_of_service", "note_type", "status", "delivered_by",
    "supervised_by", "supervisor_availability", "mode", "group_size", "time_in", "time_out",
    "total_treatment_minutes", "diagnoses", "patient_response", "assessment", "home_program",
    "acknowledgements",
)
_SIGNATURE_COLUMNS = {"signer": "signer_id", "signer_name": "signer_name",
                      "credential": "signer_credential", "npi": "signer_npi",
                      "signed_at": "signed_at", "content_hash": "content_hash",
                      "key_id": "key_id", "value": "signature_value",
                      "content": "signed_content"}
_EXERCISE_FIELDS = [f.name for f in dataclasses.fields(ExerciseEntry)]
# "position" is the row order in the table, so the body position is stored as body_position.
_EXERCISE_COLUMNS = ["body_position" if n == "position" else n for n in _EXERCISE_FIELDS]
_SERVICE_COLUMNS = ["code", "minutes", "units", "modifiers", "detail"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionListing:
    """One line of a day list or search: enough to show and pick, no clinical content."""

    id: int
    date_of_service: dt.date
    time_in: dt.time | None
    patient_id: int
    mrn: str
    patient_name: str
    clinician: str | None
    clinician_username: str | None
    status: SessionStatus
    note_type: NoteType
    payer: str = ""        # the patient's payer now ("" self-pay), as the paper prints it
    member_id: str = ""


def _locked(exc: sqlite3.IntegrityError) -> Exception:
    if LOCKED in str(exc):
        return RecordLocked("This session is signed and locked; add an addendum to correct it.")
    return exc


class SessionRepository:
    def __init__(self, db: Database):
        self.db = db

    # --- writing -------------------------------------------------------------------------

    def save_draft(self, session: Session, now: dt.datetime) -> Session:
        """Insert or update a draft in one transaction, writing only the exercise and service
        rows that changed (a cell typed in a 40-row flowsheet writes one); returns it with
        its id."""
        if session.status != SessionStatus.DRAFT:
            raise RecordLocked("Only drafts can be edited; a signed session takes addenda.")
        plain = {c: to_plain(getattr(session, c)) for c in _SESSION_COLUMNS}  # rows below
        values = [json.dumps(plain[c]) if c in ("diagnoses", "acknowledgements") else plain[c]
                  for c in _SESSION_COLUMNS]
        stamp = to_plain(now)
        try:
            with self.db.atomic():
                if session.id is None:
                    cur = self.db.execute(
                        f"INSERT INTO sessions ({', '.join(_SESSION_COLUMNS)}, created_at, "
                        f"updated_at) VALUES ({', '.join('?' * (len(_SESSION_COLUMNS) + 2))})",
                        [*values, stamp, stamp])
                    session = replace(session, id=cur.lastrowid)
                else:
                    sets = ", ".join(f"{c} = ?" for c in _SESSION_COLUMNS)
                    cur = self.db.execute(
                        f"UPDATE sessions SET {sets}, updated_at = ? WHERE id = ?",
                        [*values, stamp, session.id])
                    if cur.rowcount != 1:
                        raise NotFound(f"No session with id {session.id}")
                exercises = []
                for entry in session.exercises:
                    plain = to_plain(entry)
                    plain["cues"] = json.dumps(plain["cues"])
                    exercises.append(tuple(plain[n] for n in _EXERCISE_FIELDS))
                self._write_rows("exercises", _EXERCISE_COLUMNS, session.id, exercises)
                self._write_rows("services", _SERVICE_COLUMNS, session.id, [
                    (s.code, s.minutes, s.units, json.dumps(list(s.modifiers)), s.detail)
                    for s in session.services])
                self._announce(session.id, session.date_of_service)
        except sqlite3.IntegrityError as exc:
            raise _locked(exc) from exc
        return session

    def _announce(self, session_id: int | None, day: dt.date | None) -> None:
        announce(self.db, session_id, day)

    def _write_rows(self, table: str, columns: list[str], session_id: int,
                    rows: list[tuple]) -> None:
        """Make the session's rows of ``table`` (by position) ``rows``: rows stored as they are
        stay untouched, changed ones are updated in place, the rest inserted or deleted."""
        names = ", ".join(columns)
        stored = {r[0]: tuple(r[1:]) for r in self.db.execute(
            f"SELECT position, {names} FROM {table} WHERE session_id = ?", [session_id])}
        if len(stored) > len(rows):
            self.db.execute(f"DELETE FROM {table} WHERE session_id = ? AND position >= ?",
                            [session_id, len(rows)])
        changed = [(session_id, i, *row) for i, row in enumerate(rows) if stored.get(i) != row]
        if changed:
            # A changed position keeps its row (and id): UPDATE, which the lock triggers see.
            self.db.conn.executemany(
                f"INSERT INTO {table} (session_id, position, {names}) VALUES "
                f"({', '.join('?' * (len(columns) + 2))}) ON CONFLICT (session_id, position) "
                f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns)}", changed)

    @contextlib.contextmanager
    def durable(self) -> Iterator[None]:
        """A transaction that is on disk when it commits (synchronous=FULL for it): a
        signature and its audit row are never lost to a power cut after the signer saw it."""
        # The level cannot change inside a transaction; an outer one keeps its own.
        own = not self.db.conn.in_transaction
        if own:
            self.db.execute("PRAGMA synchronous = FULL")
        try:
            with self.db.atomic():
                yield
        finally:
            if own:
                self.db.execute("PRAGMA synchronous = NORMAL")

    def sign(self, session_id: int, signature: Signature, place_of_service: str) -> None:
        """Mark a draft signed with the clinic's place of service of the moment (callers wrap
        it in ``durable`` with its audit row)."""
        sig = to_plain(signature)
        try:
            with self.db.atomic():
                cur = self.db.execute(
                    "UPDATE sessions SET status = 'signed', place_of_service = ?, "
                    + ", ".join(f"{col} = ?" for col in _SIGNATURE_COLUMNS.values())
                    + " WHERE id = ? AND status = 'draft'",
                    [place_of_service] + [sig[k] for k in _SIGNATURE_COLUMNS] + [session_id])
                if cur.rowcount != 1:
                    raise RecordLocked(f"Session {session_id} is already signed or does not "
                                       "exist.")
                self._announce(session_id, None)
                # Its count is gone, and the patient's other drafts see another year-to-date.
                self.db.execute(
                    "DELETE FROM draft_flags WHERE session_id IN (SELECT id FROM sessions "
                    "WHERE patient_id = (SELECT patient_id FROM sessions WHERE id = ?))",
                    [session_id])
        except sqlite3.IntegrityError as exc:
            raise _locked(exc) from exc

    def add_addendum(self, session_id: int, addendum: Addendum) -> Addendum:
        try:
            cur = self.db.execute(
                "INSERT INTO addenda (session_id, kind, author_id, author_name, created_at, "
                "reason, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [session_id, addendum.kind.value, addendum.author, addendum.author_name,
                 to_plain(addendum.created_at), addendum.reason, addendum.text])
        except sqlite3.IntegrityError as exc:
            raise RecordLocked("Addenda can only be added to a signed session; edit the "
                               "draft instead.") from exc
        return replace(addendum, id=cur.lastrowid)

    def delete_draft(self, session_id: int) -> None:
        try:
            with self.db.atomic():
                self.db.execute("DELETE FROM draft_flags WHERE session_id = ?", [session_id])
                self.db.execute("DELETE FROM exercises WHERE session_id = ?", [session_id])
                self.db.execute("DELETE FROM services WHERE session_id = ?", [session_id])
                self.db.execute("DELETE FROM sessions WHERE id = ?", [session_id])
        except sqlite3.IntegrityError as exc:
            raise _locked(exc) from exc

    # --- reading -------------------------------------------------------------------------

    def header(self, session_id: int) -> tuple[SessionStatus, NoteType, int | None]:
        """Status, note type and treating clinician: what permission checks need, cheaply."""
        row = self.db.execute("SELECT status, note_type, delivered_by FROM sessions "
                              "WHERE id = ?", [session_id]).fetchone()
        if row is None:
            raise NotFound(f"No session with id {session_id}")
        return SessionStatus(row[0]), NoteType(row[1]), row[2]

    def get(self, session_id: int) -> Session:
        rows = list(self.db.query("SELECT * FROM sessions WHERE id = ?", [session_id]))
        if not rows:
            raise NotFound(f"No session with id {session_id}")
        return self._build(rows[0])

    def _build(self, row: dict[str, Any]) -> Session:
        sid = row["id"]
        exercises = []
        for r in self.db.query("SELECT * FROM exercises WHERE session_id = ? ORDER BY position",
                               [sid]):
            plain = {n: r[c] for n, c in zip(_EXERCISE_FIELDS, _EXERCISE_COLUMNS, strict=True)}
            plain["cues"] = json.loads(plain["cues"])
            exercises.append(plain)
        services = [dict(r, modifiers=json.loads(r["modifiers"])) for r in self.db.query(
            "SELECT code, minutes, units, modifiers, detail FROM services WHERE session_id = ? "
            "ORDER BY position", [sid])]
        addenda = list(self.db.query(
            "SELECT id, kind, author_id AS author, author_name, created_at, reason, text "
            "FROM addenda WHERE session_id = ? ORDER BY id", [sid]))
        plain = {c: row[c] for c in _SESSION_COLUMNS}
        plain["diagnoses"] = json.loads(plain["diagnoses"])
        plain["acknowledgements"] = json.loads(plain["acknowledgements"])
        if row["status"] == SessionStatus.SIGNED:
            plain["signature"] = {k: row[c] for k, c in _SIGNATURE_COLUMNS.items()}
            plain["place_of_service"] = row["place_of_service"]
        plain.update(id=sid, exercises=exercises, services=services, addenda=addenda)
        return load_rows(Session, [plain])[0]

    def listing(self, *, date: dt.date | None = None, patient_id: int | None = None,
                status: SessionStatus | None = None, limit: int = 5000,
                through: dt.date | None = None) -> list[SessionListing]:
        """Sessions of ``date`` (through ``through``, inclusive, when given)."""
        where, params = [], []
        if date is not None and through is not None:
            where.append("s.date_of_service BETWEEN ? AND ?")
            params += [date.isoformat(), through.isoformat()]
        elif date is not None:
            where.append("s.date_of_service = ?")
            params.append(date.isoformat())
        if patient_id is not None:
            where.append("s.patient_id = ?")
            params.append(patient_id)
        if status is not None:
            where.append("s.status = ?")
            params.append(status.value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.execute(
            "SELECT s.id, s.date_of_service, s.time_in, s.patient_id, p.mrn, "
            "p.last_name || ', ' || p.first_name, u.full_name || ', ' || u.credential, "
            "u.username, s.status, s.note_type, py.name, p.member_id FROM sessions s "
            "JOIN patients p ON p.id = s.patient_id LEFT JOIN users u ON u.id = s.delivered_by "
            "LEFT JOIN payers py ON py.id = p.payer_id "
            f"{clause} ORDER BY s.date_of_service DESC, s.time_in, p.last_name COLLATE NOCASE, "
            "s.id "
            "LIMIT ?", [*params, limit]).fetchall()
        return [SessionListing(r[0], dt.date.fromisoformat(r[1]),
                               dt.time.fromisoformat(r[2]) if r[2] else None, r[3], r[4], r[5],
                               r[6], r[7], SessionStatus(r[8]), NoteType(r[9]), r[10] or "",
                               r[11] or "") for r in rows]

    def reporting_days(self, episode_id: int, before: dt.date, exclude_id: int | None) -> int:
        """Treatment days of the episode's current progress-report period before ``before``.

        A period starts on an evaluation or re-evaluation day (counted) or the day after a
        progress report. A report or evaluation on ``before`` itself (signed this morning)
        starts a new period: the day is then treatment day 1, not the 10th again.
        """
        rows = self.db.execute(
            "SELECT date_of_service, note_type FROM sessions WHERE episode_id = ? AND "
            "date_of_service <= ? AND id IS NOT ? ORDER BY date_of_service DESC",
            [episode_id, before.isoformat(), exclude_id]).fetchall()
        days: set[str] = set()
        starts = (NoteType.PROGRESS_REPORT, NoteType.EVALUATION, NoteType.RE_EVALUATION)
        for day, note_type in rows:
            if day == before.isoformat():
                if note_type in starts:
                    break
                continue  # another visit the same day is the same treatment day
            if note_type == NoteType.PROGRESS_REPORT:
                break
            days.add(day)
            if note_type in (NoteType.EVALUATION, NoteType.RE_EVALUATION):
                break
        return len(days)

    def reporting_start(self, episode_id: int, before: dt.date, exclude_id: int | None
                        ) -> tuple[NoteType, dt.date] | None:
        """The note that began the episode's current progress-report period before
        ``before``, as ``reporting_days`` counts it: the last progress report, else the
        evaluation or re-evaluation; None when neither is on record."""
        rows = self.db.execute(
            "SELECT date_of_service, note_type FROM sessions WHERE episode_id = ? AND "
            "date_of_service <= ? AND id IS NOT ? AND note_type != 'daily'",
            [episode_id, before.isoformat(), exclude_id]).fetchall()
        starts = [(str(day), NoteType(kind)) for day, kind in rows]
        if not starts:
            return None
        day, kind = max(starts, key=lambda r: (r[0], r[1] == NoteType.PROGRESS_REPORT))
        return kind, dt.date.fromisoformat(day)

    def previous_with_exercises(self, session: Session) -> Session | None:
        """The patient's latest signed session with exercises before ``session`` (for
        carry-forward: a draft, someone's unfinished note, is not a record of what was done).

        A visit signed earlier the same day counts: visits are ordered by day, time in, then
        signing time; a same-day visit whose time in is after this note's is not before it.
        The note itself never is.
        """
        rows = self.db.execute(
            "SELECT s.id, s.date_of_service, s.time_in, s.signed_at FROM sessions s "
            "WHERE s.patient_id = ? AND s.status = 'signed' AND s.date_of_service <= ? AND "
            "s.id IS NOT ? AND EXISTS (SELECT 1 FROM exercises e WHERE e.session_id = s.id)",
            [session.patient_id, session.date_of_service.isoformat(), session.id]).fetchall()
        day, mine = session.date_of_service.isoformat(), session.time_in
        visits = [(str(r[1]), dt.time.fromisoformat(str(r[2])) if r[2] else None, str(r[3]),
                   r[0]) for r in rows]
        earlier = [v for v in visits if v[0] < day or mine is None or v[1] is None
                   or v[1] <= mine]
        # Ordered here, not in SQL: the two backends sort a missing time in differently.
        latest = max(earlier, key=lambda v: (v[0], v[1] or dt.time.min, v[2], v[3]),
                     default=None)
        return self.get(latest[3]) if latest else None

    def exercise_history(self, patient_id: int, name: str,
                         including: int | None = None) -> list[dict[str, Any]]:
        """Every performance of one exercise by one patient in signed visits, oldest first
        (progression chart), with the note ``including`` even while it is a draft: another
        unfinished draft is not a visit that happened."""
        return list(self.db.query(
            "SELECT s.date_of_service AS date, e.sets, e.reps, e.load, e.load_unit, "
            "e.hold_seconds, e.duration_minutes FROM exercises e JOIN sessions s ON "
            "s.id = e.session_id WHERE s.patient_id = ? AND e.name = ? COLLATE NOCASE "
            "AND e.change != 'held' AND (s.status = 'signed' OR s.id = ?) "
            "ORDER BY s.date_of_service, s.time_in, s.id", [patient_id, name, including]))

    def exercise_names(self, patient_id: int, including: int | None = None) -> list[str]:
        """The names ``exercise_history`` has points for: signed visits and the note
        ``including`` (a draft elsewhere is nobody's record yet)."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT e.name FROM exercises e JOIN sessions s ON s.id = e.session_id "
            "WHERE s.patient_id = ? AND e.change != 'held' AND (s.status = 'signed' OR "
            "s.id = ?) ORDER BY e.name COLLATE NOCASE", [patient_id, including])]

    def same_day_count(self, patient_id: int, day: dt.date, exclude_id: int | None) -> int:
        return self.db.execute(
            "SELECT count(*) FROM sessions WHERE patient_id = ? AND date_of_service = ? AND "
            "id IS NOT ?", [patient_id, day.isoformat(), exclude_id]).fetchone()[0]

    def billed_units(self, patient_id: int, year: int, before: dt.date,
                     exclude_id: int | None) -> list[tuple[str, int]]:
        """(code, units) of the patient's signed sessions in ``year`` before ``before``."""
        return [(r[0], r[1] or 0) for r in self.db.execute(
            "SELECT v.code, v.units FROM services v JOIN sessions s ON s.id = v.session_id "
            "WHERE s.patient_id = ? AND s.status = 'signed' AND s.date_of_service >= ? AND "
            "s.date_of_service < ? AND s.id IS NOT ?",
            [patient_id, f"{year}-01-01", before.isoformat(), exclude_id]).fetchall()]

    def with_content_hash(self, digest: str) -> int | None:
        row = self.db.execute("SELECT id FROM sessions WHERE content_hash = ?",
                              [digest]).fetchone()
        return row[0] if row else None

    def signed_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT id FROM sessions WHERE status = 'signed' ORDER BY id")]

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM sessions").fetchone()[0]



class DraftFlags:
    """Each draft's blocker and warning counts as last judged, with what they were judged
    under (``judged_under``: rules, code set, day). Forgetting a row is always safe: the
    draft is judged again when next listed."""

    def __init__(self, db: Database):
        self.db = db

    def stored(self, session_ids: list[int]) -> dict[int, tuple[int, int, str]]:
        """(blockers, warnings, judged_under) of those drafts that have counts."""
        out: dict[int, tuple[int, int, str]] = {}
        for start in range(0, len(session_ids), 500):  # bound the number of parameters
            chunk = session_ids[start:start + 500]
            out.update((r[0], (r[1], r[2], r[3])) for r in self.db.execute(
                "SELECT session_id, blockers, warnings, judged_under FROM draft_flags "
                f"WHERE session_id IN ({', '.join('?' * len(chunk))})", chunk))
        return out

    def keep(self, rows: list[tuple[int, int, int, str]]) -> None:
        """Store (session id, blockers, warnings, judged_under) of drafts."""
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO draft_flags (session_id, blockers, warnings, judged_under) "
                "SELECT ?1, ?2, ?3, ?4 WHERE (SELECT status FROM sessions WHERE id = ?1) = "
                "'draft' ON CONFLICT (session_id) DO UPDATE SET blockers = excluded.blockers, "
                "warnings = excluded.warnings, judged_under = excluded.judged_under", rows)

    def forget_patient(self, patient_id: int, except_id: int | None = None) -> None:
        """A change that may alter the findings of the patient's other drafts (their
        same-day sessions, year-to-date amount, plan of care, payer)."""
        self.db.execute("DELETE FROM draft_flags WHERE session_id IN (SELECT id FROM sessions "
                        "WHERE patient_id = ? AND status = 'draft' AND id IS NOT ?)",
                        [patient_id, except_id])

    def forget_all(self) -> None:
        """A payer's rules or the fee schedule changed: every draft is judged again."""
        self.db.execute("DELETE FROM draft_flags")


# --- several workstations -------------------------------------------------------------------

DRAFT_LOCK_CLASS = 0x50544444  # "PTDD": the first key of a draft's advisory lock on a server
LOCK_IDLE_MINUTES = DRAFT_IDLE_DEFAULT  # unless the clinic sets another (draft_idle_minutes)
CHANNEL = "ptdoc"  # the server's notification channel: "<session id> <date of service>"
RESTORED = "restored"  # ...or this: the whole database was replaced by a backup


def announce(db: Database, session_id: int | None, day: dt.date | None) -> None:
    """Tell other workstations a session changed (saved, signed, or closed for editing), in
    the transaction of the change (sent at its commit, never for a change rolled back). A file
    needs nothing: its readers see ``PRAGMA data_version`` move (``Changes``)."""
    if not getattr(db, "server", False):
        return
    if day is None:
        row = db.execute("SELECT date_of_service FROM sessions WHERE id = ?",
                         [session_id]).fetchone()
        if row is None:
            return
        day = dt.date.fromisoformat(row[0])
    db.execute("SELECT pg_notify(?, ?)", [CHANNEL, f"{session_id} {day.isoformat()}"])


def announce_restore(db: Database) -> None:
    """Tell the windows open elsewhere that every day may have changed: a backup replaced the
    database under them (on a file, ``PRAGMA data_version`` moves for them anyway)."""
    if getattr(db, "server", False):
        db.execute("SELECT pg_notify(?, ?)", [CHANNEL, RESTORED])


def _process_alive(pid: int) -> bool:
    """Whether a process of this computer still runs (on Windows, where a signal would end
    the process, it is assumed to: only the idle rule frees its drafts)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def workstation() -> str:
    """This computer's name, as other workstations show it ("FRONT-2")."""
    return socket.gethostname() or "this computer"


@dataclass(frozen=True)
class DraftHolder:
    """Who has a draft open for editing elsewhere, where and since when; ``gone``: their
    program or connection has ended, ``idle``: no save for ``idle_minutes`` (the clinic's
    setting; either way the lock is stale and may be taken over)."""

    user_id: int | None
    host: str
    pid: int
    taken_at: dt.datetime
    touched_at: dt.datetime
    gone: bool
    idle: bool
    idle_minutes: int = LOCK_IDLE_MINUTES

    @property
    def stale(self) -> bool:
        return self.gone or self.idle


class DraftLocks:
    """One opened database's draft locks (``holder`` names it): a row per draft open for
    editing, with who, where and when for others to show. Taking one is a write transaction,
    so two workstations never both take a draft. On a server the row names the holder's
    connection (its server process), which the server ends with the client, and the holder
    keeps a session-level advisory lock on the draft, which ends with it too (both visible to
    the server's administrator): a killed workstation's draft is free at once, its row is
    ignored and replaced by the next taker. A connection to the server that was lost and made
    again (a restart, a dropped network) is a new server process: every draft held here is
    held again under it (``_retake``), except one another workstation took meanwhile, which
    ``holds`` then says is no longer held here.
    On a file, a row whose process is gone (same computer) is stale. A row with no save for
    the clinic's ``draft_idle_minutes`` is stale on both."""

    def __init__(self, db: Database):
        self.db = db
        self.holder = uuid.uuid4().hex
        self.host = workstation()
        self.pid = os.getpid()
        self.server = bool(getattr(db, "server", False))
        self._connection: int | None = None
        self._held: set[int] = set()  # the drafts taken here and not released
        self._retake_pending = False  # the last reconnection's retake failed: try again
        if self.server:
            db.reconnected.append(self._retake)  # type: ignore[attr-defined]

    def take(self, session_id: int, user_id: int | None, now: dt.datetime,
             stale_too: bool = False,
             replacing: Callable[[DraftHolder], None] | None = None) -> DraftHolder | None:
        """Open the draft for editing here: None when it is now held here, else whoever holds
        it elsewhere (a stale holder is replaced only with ``stale_too``). ``replacing`` is
        told, in the same transaction, whose lock is replaced (stale, or ended on a server)."""
        with self.db.atomic():
            row = self._row(session_id)
            if row is not None and row["holder"] == self.holder:
                self.touch(session_id, now)
                self._held.add(session_id)
                return None
            other = self.other(session_id, now)
            if other is not None and not (stale_too and other.stale):
                return other
            if row is not None and replacing is not None:
                replacing(self._holder(row, now))
            stamp = to_plain(now)
            self.db.execute(
                "INSERT INTO draft_locks (session_id, holder, user_id, host, pid, connection, "
                "taken_at, touched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) "
                "DO UPDATE SET holder = excluded.holder, user_id = excluded.user_id, "
                "host = excluded.host, pid = excluded.pid, connection = excluded.connection, "
                "taken_at = excluded.taken_at, touched_at = excluded.touched_at",
                [session_id, self.holder, user_id, self.host, self.pid, self.connection(),
                 stamp, stamp])
            if self.server:  # an idle holder taken over may keep its own until it notices
                self.db.execute("SELECT pg_try_advisory_lock(?, ?)",
                                [DRAFT_LOCK_CLASS, session_id])
        self._held.add(session_id)
        return None

    def holds(self, session_id: int) -> bool:
        """Whether the draft is still held here (one indexed row): not once another
        workstation took it over (idle here, or while this one could not reach the server)."""
        if self._retake_pending:
            self._retake()
        row = self._row(session_id)
        return row is not None and row["holder"] == self.holder

    def _retake(self) -> None:
        """The connection to the server was made again: the old one's server process ended,
        and with it the advisory locks and what made this workstation's rows live. Each draft
        held here is held again under the new one (its process id, its advisory lock), unless
        another workstation took it meanwhile: that one keeps it."""
        self._connection = None  # the old process id would read as a holder that is gone
        self._retake_pending = bool(self._held)
        if not self._retake_pending:
            return
        try:
            with self.db.atomic():
                for session_id in sorted(self._held):
                    if self.db.execute(
                            "UPDATE draft_locks SET connection = ? WHERE session_id = ? AND "
                            "holder = ?", [self.connection(), session_id, self.holder]
                    ).rowcount:
                        self.db.execute("SELECT pg_try_advisory_lock(?, ?)",
                                        [DRAFT_LOCK_CLASS, session_id])
                    else:
                        self._held.discard(session_id)
        except DatabaseError as exc:  # lost again, or busy: tried again by the next ``holds``
            log.warning("the drafts open here could not be held again yet: %s", exc)
            return
        self._retake_pending = False
        if self._held:
            log.info("drafts %s held again after connecting again", sorted(self._held))

    def connection(self) -> int | None:
        """This database connection's server process (None on a file)."""
        if self.server and self._connection is None:
            self._connection = self.db.execute("SELECT pg_backend_pid()").fetchone()[0]
        return self._connection

    def other(self, session_id: int, now: dt.datetime) -> DraftHolder | None:
        """Who holds the draft elsewhere (live or stale), None when nobody, this one, or (on a
        server) a connection that has ended."""
        row = self._row(session_id)
        if row is None or row["holder"] == self.holder:
            return None
        self._held.discard(session_id)
        self._unlock(session_id)  # taken over from here: the advisory lock goes too
        holder = self._holder(row, now)
        # A server ended the holder's connection: released, only its row is left.
        return None if self.server and holder.gone else holder

    def touch(self, session_id: int, now: dt.datetime) -> None:
        """A save: the lock is not idle."""
        self.db.execute("UPDATE draft_locks SET touched_at = ? WHERE session_id = ? AND "
                        "holder = ?", [to_plain(now), session_id, self.holder])

    def release(self, session_id: int) -> None:
        """Free the draft; a window showing it read-only elsewhere learns it (``Changes``)."""
        with self.db.atomic():
            if self.db.execute("DELETE FROM draft_locks WHERE session_id = ? AND holder = ?",
                               [session_id, self.holder]).rowcount:
                announce(self.db, session_id, None)
        self._held.discard(session_id)
        self._unlock(session_id)

    def release_all(self) -> None:
        """Every draft held here (the database is being closed)."""
        with contextlib.suppress(DatabaseError, sqlite3.Error):
            for row in list(self.db.query("SELECT session_id FROM draft_locks WHERE holder = ?",
                                          [self.holder])):
                self.release(row["session_id"])

    def _unlock(self, session_id: int) -> None:
        """This connection's advisory locks on the draft, if it holds any."""
        if self.server:
            self.db.execute(
                "SELECT pg_advisory_unlock(?1, ?2) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid::bigint = ?1 AND objid::bigint = ?2 AND objsubid = 2 AND "
                "pid = pg_backend_pid() AND granted", [DRAFT_LOCK_CLASS, session_id])

    def _row(self, session_id: int) -> dict[str, Any] | None:
        for row in self.db.query(
                "SELECT session_id, holder, user_id, host, pid, connection, taken_at, "
                "touched_at FROM draft_locks WHERE session_id = ?", [session_id]):
            return row
        return None

    def _holder(self, row: dict[str, Any], now: dt.datetime) -> DraftHolder:
        touched = _moment(row["touched_at"])
        idle = self._idle_minutes()
        return DraftHolder(row["user_id"], row["host"], row["pid"], _moment(row["taken_at"]),
                           touched, not self._alive(row),
                           now - touched >= dt.timedelta(minutes=idle), idle)

    def _idle_minutes(self) -> int:
        """The clinic's idle time for an open draft (one row, read only when another
        workstation's lock is judged)."""
        row = self.db.execute("SELECT draft_idle_minutes FROM clinic WHERE id = 1").fetchone()
        return int(row[0]) if row and row[0] else LOCK_IDLE_MINUTES

    def _alive(self, row: dict[str, Any]) -> bool:
        if self.server:  # the holder's server process serves its connection still
            return row["connection"] is not None and bool(self.db.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ?",
                [row["connection"]]).fetchone()[0])
        return row["host"] != self.host or _process_alive(row["pid"])


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Changes:
    """Whether sessions were changed by another connection since last asked, cheaply. On a
    file: ``PRAGMA data_version``, which moves when another connection commits. On a server:
    notifications on CHANNEL (sent in the transaction of each save and signature) received by
    a connection of its own, whose socket ``fileno`` a window can watch."""

    def __init__(self, db: Database):
        self.db = db
        self._version: int | None = None
        self._listener: Any = None
        if getattr(db, "server", False):
            self._listener = db.listener(CHANNEL)  # type: ignore[attr-defined]
        else:
            self._version = self._data_version()

    def fileno(self) -> int | None:
        """The socket to watch for notifications, None for a file (ask on a timer)."""
        return self._listener.fileno() if self._listener is not None else None

    def changed_days(self) -> list[dt.date | None]:
        """The days of service changed since last asked (None: some day, unknown)."""
        if self._listener is not None:
            days = []
            for payload in self._listener.received():
                if payload == RESTORED:
                    days.append(None)
                    continue
                _id, _sep, day = payload.partition(" ")
                try:
                    days.append(dt.date.fromisoformat(day))
                except ValueError:
                    days.append(None)
            return days
        version = self._data_version()
        if version == self._version:
            return []
        self._version = version
        return [None]

    def _data_version(self) -> int:
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
