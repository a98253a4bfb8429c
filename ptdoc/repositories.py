"""Repositories for the clinic's reference data (clinic, users, payers, patients, episodes) and
the append-only audit log. All SQL for those tables lives here; sessions are in session_store.

Every write validates through the domain dataclasses first, so the store refuses invalid data
whoever calls it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlite_utils import Database

from ptdoc import fields
from ptdoc.codec import decoder, to_plain
from ptdoc.domain import Appointment, Clinic, Credential, Episode, Patient, Payer, User
from ptdoc.errors import DatabaseCorrupt, NotFound, ValidationError


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login failed"
    LOGOUT = "logout"
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    SIGN = "sign"
    ADDENDUM = "addendum"
    EXPORT = "export"
    IMPORT = "import"
    PRINT = "print"
    DENIED = "denied"
    BACKUP = "backup"
    RESTORE = "restore"
    ADMIN = "admin"
    TAKE_OVER = "take over"
    LOCK_TAKEN = "lock taken"  # a draft's editing lock taken from a stale or ended holder


def load_rows(cls: type, rows: list[dict[str, Any]]) -> list:
    """Rows (already in the codec's plain form) to records, without re-validating them."""
    decode = decoder(cls)
    try:
        return [decode(row) for row in rows]
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise DatabaseCorrupt(f"Stored {cls.__name__} data cannot be read "
                              f"({type(exc).__name__}: {exc}).") from exc


def _json_lists(row: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        row[name] = json.loads(row[name])
    return row


def _unique(exc: sqlite3.IntegrityError, field: str, message: str) -> ValidationError:
    if "UNIQUE" in str(exc):
        return ValidationError.single(field, message)
    raise exc


class ClinicRepository:
    def __init__(self, db: Database):
        self.db = db

    def get(self) -> Clinic | None:
        rows = list(self.db.query("SELECT name, address, phone, npi, idle_lock_minutes, "
                                  "time_zone, place_of_service, draft_idle_minutes FROM clinic "
                                  "WHERE id = 1"))
        return load_rows(Clinic, rows)[0] if rows else None

    def time_zone(self) -> str | None:
        """The clinic's zone (None before the clinic is set up): read for every time shown."""
        row = self.db.execute("SELECT time_zone FROM clinic WHERE id = 1").fetchone()
        return row[0] if row else None

    def save(self, clinic: Clinic) -> None:
        self.db.execute(
            "INSERT INTO clinic (id, name, address, phone, npi, idle_lock_minutes, time_zone, "
            "place_of_service, draft_idle_minutes) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET "
            "name=excluded.name, address=excluded.address, phone=excluded.phone, "
            "npi=excluded.npi, idle_lock_minutes=excluded.idle_lock_minutes, "
            "time_zone=excluded.time_zone, place_of_service=excluded.place_of_service, "
            "draft_idle_minutes=excluded.draft_idle_minutes",
            [clinic.name, clinic.address, clinic.phone, clinic.npi, clinic.idle_lock_minutes,
             clinic.time_zone, clinic.place_of_service, clinic.draft_idle_minutes])


class UserRepository:
    COLUMNS = "id, username, full_name, credential, npi, active"

    def __init__(self, db: Database):
        self.db = db

    def _load(self, sql: str, params: list) -> list[User]:
        rows = [dict(r, active=bool(r["active"])) for r in self.db.query(sql, params)]
        return load_rows(User, rows)

    def add(self, user: User, password_hash: str, temporary: bool = False) -> User:
        """``temporary``: the password was given by an administrator, to be changed at the
        user's next sign-in."""
        self._refuse_taken_npi(user)
        try:
            cur = self.db.execute(
                "INSERT INTO users (username, full_name, credential, npi, active, password_hash,"
                " must_change_password) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [user.username, user.full_name, user.credential.value, user.npi,
                 int(user.active), password_hash, int(temporary)])
        except sqlite3.IntegrityError as exc:
            raise self._taken(exc, user) from exc
        return replace(user, id=cur.lastrowid)

    def update(self, user: User) -> None:
        self._refuse_taken_npi(user)
        try:
            self.db.execute(
                "UPDATE users SET full_name=?, credential=?, npi=?, active=? WHERE id=?",
                [user.full_name, user.credential.value, user.npi, int(user.active), user.id])
        except sqlite3.IntegrityError as exc:
            raise self._taken(exc, user) from exc

    def _refuse_taken_npi(self, user: User) -> None:
        """One NPI, one user: say whose it is (the unique index ``users_npi`` is the backstop
        for a writer between this read and the write)."""
        if user.npi is None:
            return
        row = self.db.execute("SELECT username FROM users WHERE npi = ? AND id IS NOT ?",
                              [user.npi, user.id]).fetchone()
        if row is not None:
            raise ValidationError.single("npi", f"NPI {user.npi} belongs to user '{row[0]}'; "
                                                "an NPI names one clinician")

    @staticmethod
    def _taken(exc: sqlite3.IntegrityError, user: User) -> ValidationError:
        if "users.npi" in str(exc):
            return _unique(exc, "npi", f"NPI {user.npi} belongs to another user")
        return _unique(exc, "username", f"User name '{user.username}' is taken")

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM users").fetchone()[0]

    def active_with_credential(self, credential: Credential) -> int:
        """How many active users hold the credential (the last administrator is kept)."""
        return self.db.execute("SELECT count(*) FROM users WHERE active = 1 AND credential = ?",
                               [credential.value]).fetchone()[0]

    def set_password_hash(self, user_id: int, password_hash: str,
                          temporary: bool = False) -> None:
        self.db.execute("UPDATE users SET password_hash=?, must_change_password=? WHERE id=?",
                        [password_hash, int(temporary), user_id])

    def must_change_password(self, user_id: int) -> bool:
        """Whether the user's password is a temporary one an administrator gave them."""
        row = self.db.execute("SELECT must_change_password FROM users WHERE id=?",
                              [user_id]).fetchone()
        return bool(row and row[0])

    def password_hash(self, user_id: int) -> str:
        row = self.db.execute("SELECT password_hash FROM users WHERE id=?", [user_id]).fetchone()
        if row is None:
            raise NotFound(f"No user with id {user_id}")
        return row[0]

    def is_active(self, user_id: int) -> bool:
        """One primary-key read: checked on every permission check of a signed-in user."""
        row = self.db.execute("SELECT active FROM users WHERE id = ?", [user_id]).fetchone()
        return bool(row and row[0])

    def get(self, user_id: int) -> User:
        users = self._load(f"SELECT {self.COLUMNS} FROM users WHERE id = ?", [user_id])
        if not users:
            raise NotFound(f"No user with id {user_id}")
        return users[0]

    def by_username(self, username: str) -> User | None:
        users = self._load(f"SELECT {self.COLUMNS} FROM users WHERE username = ?", [username])
        return users[0] if users else None

    def all(self, active_only: bool = False) -> list[User]:
        where = "WHERE active = 1" if active_only else ""
        return self._load(f"SELECT {self.COLUMNS} FROM users {where} "
                          "ORDER BY full_name COLLATE NOCASE", [])

    def with_credential(self, *credentials: Credential) -> list[User]:
        return [u for u in self.all(active_only=True) if u.credential in credentials]


class PayerRepository:
    FLAGS = ("medicare", "gp_required", "cq_applies", "kx_applies", "code_pair_edits")

    def __init__(self, db: Database):
        self.db = db

    def add(self, payer: Payer) -> Payer:
        try:
            cur = self.db.execute(
                f"INSERT INTO payers (name, profile, unit_method, {', '.join(self.FLAGS)}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [payer.name, payer.profile.value, payer.unit_method.value,
                 *(int(getattr(payer, flag)) for flag in self.FLAGS)])
        except sqlite3.IntegrityError as exc:
            raise _unique(exc, "name", f"A payer named '{payer.name}' exists") from exc
        return replace(payer, id=cur.lastrowid)

    def update(self, payer: Payer) -> None:
        self.db.execute(
            f"UPDATE payers SET name = ?, profile = ?, unit_method = ?, "
            f"{', '.join(f'{flag} = ?' for flag in self.FLAGS)} WHERE id = ?",
            [payer.name, payer.profile.value, payer.unit_method.value,
             *(int(getattr(payer, flag)) for flag in self.FLAGS), payer.id])

    def _load(self, where: str, params: list) -> list[Payer]:
        rows = [dict(r, **{flag: bool(r[flag]) for flag in self.FLAGS}) for r in self.db.query(
            f"SELECT id, name, profile, unit_method, {', '.join(self.FLAGS)} FROM payers {where}",
            params)]
        return load_rows(Payer, rows)

    def get(self, payer_id: int) -> Payer:
        found = self._load("WHERE id = ?", [payer_id])
        if not found:
            raise NotFound(f"No payer with id {payer_id}")
        return found[0]

    def all(self) -> list[Payer]:
        return self._load("ORDER BY name", [])


class PatientRepository:
    COLUMNS = ("id, mrn, first_name, last_name, date_of_birth, payer_id, member_id, sex, phone, "
               "address, secondary_payer_id, secondary_member_id")
    _WRITTEN = ("mrn", "first_name", "last_name", "date_of_birth", "payer_id", "member_id",
                "sex", "phone", "address", "secondary_payer_id", "secondary_member_id")

    # Written with the names and MRN they are made from (what patient search compares, m017,
    # m019).
    _KEYS = ("first_key", "last_key", "mrn_key")

    def __init__(self, db: Database):
        self.db = db

    def _params(self, patient: Patient) -> list:
        plain = to_plain(patient)
        return [*(plain[name] for name in self._WRITTEN),
                fields.search_key(patient.first_name), fields.search_key(patient.last_name),
                fields.search_key(patient.mrn)]

    def add(self, patient: Patient) -> Patient:
        written = (*self._WRITTEN, *self._KEYS)
        try:
            cur = self.db.execute(
                f"INSERT INTO patients ({', '.join(written)}) "
                f"VALUES ({', '.join('?' * len(written))})", self._params(patient))
        except sqlite3.IntegrityError as exc:
            raise _unique(exc, "mrn", f"MRN {patient.mrn} belongs to another patient") from exc
        return replace(patient, id=cur.lastrowid)

    def _load(self, where: str, params: list) -> list[Patient]:
        return load_rows(Patient, list(self.db.query(
            f"SELECT {self.COLUMNS} FROM patients {where}", params)))

    def update(self, patient: Patient) -> None:
        try:
            self.db.execute(
                f"UPDATE patients SET "
                f"{', '.join(f'{n}=?' for n in (*self._WRITTEN, *self._KEYS))} WHERE id=?",
                [*self._params(patient), patient.id])
        except sqlite3.IntegrityError as exc:
            raise _unique(exc, "mrn", f"MRN {patient.mrn} belongs to another patient") from exc

    def get(self, patient_id: int) -> Patient:
        found = self._load("WHERE id = ?", [patient_id])
        if not found:
            raise NotFound(f"No patient with id {patient_id}")
        return found[0]

    def by_mrn(self, mrn: str) -> Patient | None:
        found = self._load("WHERE mrn = ?", [mrn])
        return found[0] if found else None

    def by_name_and_birth(self, first: str, last: str, born: dt.date) -> list[Patient]:
        """Patients of that name (any case) born that day."""
        return self._load("WHERE first_name = ? COLLATE NOCASE AND last_name = ? COLLATE "
                          "NOCASE AND date_of_birth = ? ORDER BY id",
                          [first.strip(), last.strip(), born.isoformat()])

    def by_member_id(self, member_id: str) -> list[Patient]:
        """Patients carrying this member ID as their primary or secondary one."""
        return self._load("WHERE member_id = ? OR secondary_member_id = ? ORDER BY id",
                          [member_id, member_id])

    def highest_mrn_number(self, prefix: str) -> int:
        """The largest N of the MRNs written PREFIX-N (0 when none): the next is N + 1.
        ``prefix`` is letters only (a GLOB needs no escaping then)."""
        start = len(prefix) + 2
        row = self.db.execute(
            "SELECT max(CAST(substr(mrn, ?) AS INTEGER)) FROM patients WHERE mrn GLOB ? "
            "AND substr(mrn, ?) NOT GLOB '*[^0-9]*'",
            [start, f"{prefix}-[0-9]*", start]).fetchone()
        return int(row[0] or 0)

    def search(self, text: str, limit: int = 50) -> list[Patient]:
        """By MRN (whole), the beginning of the last or first name (MRN and names in any
        case, with any accents: see ``fields.search_key``), or date of birth (as
        ``fields.parse_date`` reads it), as typed."""
        text = text.strip()
        if not text:
            return self._load("ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE "
                              "LIMIT ?", [limit])
        key = fields.search_key(text)
        # Nothing of a name left (only accents typed): no name begins with it.
        low, high = fields.prefix_range(key) if key else ("", "")
        try:
            born = fields.parse_date(text, "Date of birth", "search")
        except ValidationError:
            born = None  # not a date: a name or an MRN
        day = born.isoformat() if born else text
        return self._load(self.SEARCH, [key, day, low, high, limit, low, high, limit, limit])

    # One indexed lookup per kind (an OR of them scans a name index on a miss): the MRN, the
    # date of birth, and the first LIMIT by each name's key, a range of its index.
    SEARCH = ("WHERE id IN (SELECT id FROM patients WHERE mrn_key = ? "
              "UNION ALL SELECT id FROM patients WHERE date_of_birth = ? "
              "UNION ALL SELECT * FROM (SELECT id FROM patients WHERE last_key >= ? AND "
              "last_key < ? ORDER BY last_key, first_key LIMIT ?) "
              "UNION ALL SELECT * FROM (SELECT id FROM patients WHERE first_key >= ? AND "
              "first_key < ? ORDER BY first_key, last_key LIMIT ?)) "
              "ORDER BY last_key, first_key, id LIMIT ?")

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM patients").fetchone()[0]


class AppointmentRepository:
    """Patients' expected visits. A patient has at most one appointment a day, and one
    upcoming ("next") appointment after today: setting a new one replaces those."""

    COLUMNS = "id, patient_id, day, time, clinician_id"

    def __init__(self, db: Database):
        self.db = db

    def _load(self, where: str, params: list) -> list[Appointment]:
        return load_rows(Appointment, list(self.db.query(
            f"SELECT {self.COLUMNS} FROM appointments {where}", params)))

    def set_next(self, appointment: Appointment, today: dt.date) -> Appointment:
        """Store it in place of the patient's appointments after ``today`` and on its day."""
        self.db.execute("DELETE FROM appointments WHERE patient_id = ? AND (day > ? OR day = ?)",
                        [appointment.patient_id, today.isoformat(), appointment.day.isoformat()])
        plain = to_plain(appointment)
        cur = self.db.execute(
            "INSERT INTO appointments (patient_id, day, time, clinician_id) VALUES (?, ?, ?, ?)",
            [appointment.patient_id, plain["day"], plain["time"], appointment.clinician_id])
        return replace(appointment, id=cur.lastrowid)

    def cancel_after(self, patient_id: int, today: dt.date) -> int:
        """Remove the patient's appointments after ``today``; how many there were."""
        return self.db.execute("DELETE FROM appointments WHERE patient_id = ? AND day > ?",
                               [patient_id, today.isoformat()]).rowcount

    def next_after(self, patient_id: int, day: dt.date) -> Appointment | None:
        """The patient's first appointment on a later day than ``day``."""
        found = self._load("WHERE patient_id = ? AND day > ? ORDER BY day, time LIMIT 1",
                           [patient_id, day.isoformat()])
        return found[0] if found else None

    def next_from(self, patient_id: int, day: dt.date) -> Appointment | None:
        """The patient's first appointment on ``day`` or later."""
        found = self._load("WHERE patient_id = ? AND day >= ? ORDER BY day, time LIMIT 1",
                           [patient_id, day.isoformat()])
        return found[0] if found else None

    def same_time(self, appointment: Appointment) -> list[Appointment]:
        """Other patients' appointments with the same clinician at the same day and time."""
        if appointment.clinician_id is None or appointment.time is None:
            return []
        plain = to_plain(appointment)
        return self._load("WHERE day = ? AND time = ? AND clinician_id = ? AND patient_id <> ? "
                          "ORDER BY id", [plain["day"], plain["time"],
                                          appointment.clinician_id, appointment.patient_id])

    def without_note(self, day: dt.date) -> list[Appointment]:
        """The day's appointments of patients who have no session that day, by time."""
        return self._load(
            "WHERE day = ? AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.patient_id = "
            "appointments.patient_id AND s.date_of_service = appointments.day) "
            "ORDER BY time IS NULL, time, id", [day.isoformat()])


class EpisodeRepository:
    COLUMNS = ("id, patient_id, start_date, diagnoses, goals, frequency, duration, "
               "certified_through, certified_on, order_on_file, physician_name, physician_npi, "
               "discharged_on")

    def __init__(self, db: Database):
        self.db = db

    def _params(self, e: Episode) -> list:
        plain = to_plain(e)
        return [e.patient_id, plain["start_date"], json.dumps(plain["diagnoses"]),
                json.dumps(plain["goals"]), e.frequency, e.duration, plain["certified_through"],
                plain["certified_on"], int(e.order_on_file), e.physician_name, e.physician_npi,
                plain["discharged_on"]]

    def add(self, episode: Episode) -> Episode:
        cur = self.db.execute(
            "INSERT INTO episodes (patient_id, start_date, diagnoses, goals, frequency, "
            "duration, certified_through, certified_on, order_on_file, physician_name, "
            "physician_npi, discharged_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self._params(episode))
        return replace(episode, id=cur.lastrowid)

    def update(self, episode: Episode) -> None:
        self.db.execute(
            "UPDATE episodes SET patient_id=?, start_date=?, diagnoses=?, goals=?, frequency=?, "
            "duration=?, certified_through=?, certified_on=?, order_on_file=?, physician_name=?, "
            "physician_npi=?, discharged_on=? WHERE id=?", [*self._params(episode), episode.id])

    def _load(self, where: str, params: list) -> list[Episode]:
        rows = [_json_lists(dict(r, order_on_file=bool(r["order_on_file"])), "diagnoses", "goals")
                for r in self.db.query(f"SELECT {self.COLUMNS} FROM episodes {where}", params)]
        return load_rows(Episode, rows)

    def get(self, episode_id: int) -> Episode:
        found = self._load("WHERE id = ?", [episode_id])
        if not found:
            raise NotFound(f"No episode with id {episode_id}")
        return found[0]

    def for_patient(self, patient_id: int) -> list[Episode]:
        return self._load("WHERE patient_id = ? ORDER BY start_date DESC", [patient_id])


@dataclass(frozen=True)
class EpisodeChange:
    """One row of a plan of care's history: what was done, by whom, when, and each field's
    value before and after (``changes``: field -> [before, after], as the file writes them)."""

    at: dt.datetime
    user_id: int | None
    actor: str
    action: str
    changes: dict[str, list[Any]]


class EpisodeHistory:
    """Append-only (triggers refuse UPDATE, DELETE and REPLACE)."""

    def __init__(self, db: Database):
        self.db = db

    def add(self, episode_id: int, at: dt.datetime, actor: User | None, action: str,
            changes: dict[str, list[Any]]) -> None:
        self.db.execute(
            "INSERT INTO episode_history (episode_id, at, user_id, actor, action, changes) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [episode_id, to_plain(at.replace(microsecond=0)), actor.id if actor else None,
             actor.username if actor else "cli", action, json.dumps(changes)])

    def for_episode(self, episode_id: int) -> list[EpisodeChange]:
        return [EpisodeChange(dt.datetime.fromisoformat(r[0]), r[1], r[2], r[3], json.loads(r[4]))
                for r in self.db.execute(
                    "SELECT at, user_id, actor, action, changes FROM episode_history "
                    "WHERE episode_id = ? ORDER BY id", [episode_id])]


class FeeScheduleRepository:
    """The clinic's allowed amount per code and year (for year-to-date therapy amounts)."""

    def __init__(self, db: Database):
        self.db = db

    def set(self, code: str, year: int, amount: Decimal) -> None:
        if not amount.is_finite() or amount < 0:
            raise ValidationError.single("amount", "Amount must be 0 or more")
        self.db.execute("INSERT INTO fee_schedule (code, year, amount) VALUES (?, ?, ?) "
                        "ON CONFLICT(code, year) DO UPDATE SET amount = excluded.amount",
                        [code, year, str(amount)])

    def for_year(self, year: int) -> dict[str, Decimal]:
        return {r[0]: Decimal(r[1]) for r in self.db.execute(
            "SELECT code, amount FROM fee_schedule WHERE year = ?", [year])}


class ClinicExerciseRepository:
    """Exercises the clinic added to the library, stored as the codec's plain JSON."""

    def __init__(self, db: Database):
        self.db = db

    def save(self, exercise: Any) -> None:  # a library.LibraryExercise
        plain = to_plain(exercise)
        self.db.execute("INSERT INTO clinic_exercises (name, defaults) VALUES (?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET defaults = excluded.defaults",
                        [exercise.name, json.dumps(plain)])

    def all(self, cls: type) -> list:
        rows = [json.loads(r[0]) for r in self.db.execute(
            "SELECT defaults FROM clinic_exercises ORDER BY name")]
        return load_rows(cls, rows)


@dataclass(frozen=True)
class StoredKey:
    """One row of the key history: a user's public key and their sealed private key."""

    key_id: str
    user_id: int
    public_key: str
    sealed_private: str
    created_at: dt.datetime
    reason: str
    retired_at: dt.datetime | None  # when the user's next key was made (None: current)


class KeyHistory:
    """Every signing key a user ever had. Append-only (triggers refuse UPDATE, DELETE and
    REPLACE): a note signed with a retired key still verifies against it."""

    def __init__(self, db: Database):
        self.db = db

    def add(self, user_id: int, key_id: str, public_key: str, sealed_private: str,
            at: dt.datetime, reason: str) -> None:
        self.db.execute(
            "INSERT INTO signing_keys (key_id, user_id, public_key, sealed_private, created_at, "
            "reason) VALUES (?, ?, ?, ?, ?, ?)",
            [key_id, user_id, public_key, sealed_private, to_plain(at), reason])

    def _load(self, where: str, params: list) -> list[StoredKey]:
        rows = self.db.execute(
            "SELECT k.key_id, k.user_id, k.public_key, k.sealed_private, k.created_at, k.reason,"
            " (SELECT min(n.created_at) FROM signing_keys n WHERE n.user_id = k.user_id AND "
            f"n.id > k.id) FROM signing_keys k {where}", params).fetchall()
        return [StoredKey(r[0], r[1], r[2], r[3], dt.datetime.fromisoformat(r[4]), r[5],
                          dt.datetime.fromisoformat(r[6]) if r[6] else None) for r in rows]

    def current(self, user_id: int) -> StoredKey | None:
        found = self._load("WHERE k.user_id = ? ORDER BY k.id DESC LIMIT 1", [user_id])
        return found[0] if found else None

    def get(self, key_id: str) -> StoredKey | None:
        found = self._load("WHERE k.key_id = ?", [key_id])
        return found[0] if found else None

    def keyed_since(self) -> dt.datetime:
        """The latest signature a note without a key may carry: notes signed before this
        database began keyed signatures have a SHA-256 only."""
        row = self.db.execute("SELECT since FROM keyed_signatures WHERE id = 1").fetchone()
        return dt.datetime.fromisoformat(row[0]) if row else dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class ChainCheck:
    rows: int
    head: str          # the last row's hash: what paper anchors
    problems: tuple[str, ...]  # the first breaks, at most the limit asked
    broken: int = 0    # every break, listed or not


class AuditLog:
    """Append-only (triggers refuse UPDATE and DELETE) and a hash chain: each row carries the
    previous row's hash and the hash of that with its own content, so a row changed, removed
    or slipped in shows where the chain breaks. Details carry ids and codes, never patient
    names or note text."""

    CHAINED = "id, at, user_id, actor, action, entity, entity_id, detail"
    GENESIS = "0" * 64

    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def row_hash(previous: str, row: dict[str, Any]) -> str:
        content = [previous, *(row[c] for c in AuditLog.CHAINED.split(", "))]
        return hashlib.sha256(json.dumps(content, separators=(",", ":"),
                                         ensure_ascii=False).encode()).hexdigest()

    def record(self, actor: User | None, action: AuditAction, entity: str = "",
               entity_id: int | None = None, detail: str = "",
               at: dt.datetime | None = None) -> None:
        """Append a row. Callers that change data call this inside their own transaction, so
        the change and its row commit together; the last row is read by primary key."""
        when = (at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        with self.db.atomic():
            last = self.db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1"
                                   ).fetchone()
            row = {"id": (last[0] + 1) if last else 1, "at": to_plain(when),
                   "user_id": actor.id if actor else None,
                   "actor": actor.username if actor else "cli", "action": action.value,
                   "entity": entity, "entity_id": entity_id, "detail": detail}
            previous = (last[1] or self.GENESIS) if last else self.GENESIS
            self.db.execute(
                f"INSERT INTO audit ({self.CHAINED}, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*row.values(), previous, self.row_hash(previous, row)])

    def head(self) -> tuple[int, str]:
        """The number of the last row and its hash."""
        row = self.db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        return (row[0], row[1] or self.GENESIS) if row else (0, self.GENESIS)

    def check_chain(self, limit: int = 20) -> ChainCheck:
        """Recompute every link; at most ``limit`` problems are listed (``broken`` counts them
        all)."""
        problems: list[str] = []
        previous, rows, head, broken = self.GENESIS, 0, self.GENESIS, 0
        for row in self.db.query(f"SELECT {self.CHAINED}, prev_hash, hash FROM audit "
                                 "ORDER BY id"):
            rows += 1
            problem = None
            if row["prev_hash"] != previous:
                problem = (f"audit row {row['id']}: it does not follow the row before it (a row "
                           "was removed, slipped in or changed before it)")
            elif row["hash"] != self.row_hash(previous, row):
                problem = f"audit row {row['id']}: its content was changed after it was written"
            if problem:
                broken += 1
                if len(problems) < limit:
                    problems.append(problem)
            previous = head = row["hash"] or ""
        return ChainCheck(rows, head, tuple(problems), broken)

    def draft_writers(self, session_id: int) -> list[int | None]:
        """Who writes a draft: its creator and whoever took it over since, oldest first, each
        once (None: nobody named, as for a draft made at the command line)."""
        writers: list[int | None] = []
        for row in self.db.query(
                "SELECT user_id FROM audit WHERE entity = 'session' AND entity_id = ? AND "
                "action IN (?, ?, ?) ORDER BY id",
                [session_id, AuditAction.CREATE.value, AuditAction.TAKE_OVER.value,
                 AuditAction.IMPORT.value]):
            if row["user_id"] in writers:
                writers.remove(row["user_id"])
            writers.append(row["user_id"])
        return writers

    def disabled_at(self, user_id: int) -> dt.datetime | None:
        """When the user was last disabled (None: never, as far as the log says)."""
        row = self.db.execute(
            "SELECT at FROM audit WHERE entity = 'user' AND entity_id = ? AND action = ? AND "
            "detail = 'disable' ORDER BY id DESC LIMIT 1",
            [user_id, AuditAction.ADMIN.value]).fetchone()
        return dt.datetime.fromisoformat(row[0]) if row else None

    def failures_in_a_row(self, user_id: int) -> tuple[int, dt.datetime | None]:
        """Wrong secrets of the user since their last accepted one, and when the last was."""
        failures, last = 0, None
        for row in self.db.query(
                "SELECT at, action FROM audit WHERE user_id = ? AND action IN (?, ?) "
                "ORDER BY id DESC LIMIT 64",
                [user_id, AuditAction.LOGIN.value, AuditAction.LOGIN_FAILED.value]):
            if row["action"] == AuditAction.LOGIN.value:
                break
            failures += 1
            last = last or dt.datetime.fromisoformat(row["at"])
        return failures, last

    def entries(self, entity: str | None = None, entity_id: int | None = None,
                limit: int = 1000) -> list[dict[str, Any]]:
        where, params = "", []
        if entity is not None:
            where, params = "WHERE entity = ? AND entity_id = ?", [entity, entity_id]
        return list(self.db.query(f"SELECT at, user_id, actor, action, entity, entity_id, detail "
                                  f"FROM audit {where} ORDER BY id DESC LIMIT ?",
                                  [*params, limit]))
