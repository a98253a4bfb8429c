"""The opened database and its repositories, as one object the services hold."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database

from ptdoc import db as dbmod
from ptdoc import paths
from ptdoc.repositories import (
    AppointmentRepository,
    AuditLog,
    ClinicExerciseRepository,
    ClinicRepository,
    EpisodeHistory,
    EpisodeRepository,
    FeeScheduleRepository,
    KeyHistory,
    PatientRepository,
    PayerRepository,
    UserRepository,
)
from ptdoc.session_store import Changes, DraftFlags, DraftLocks, SessionRepository


class Store:
    def __init__(self, db: Database, path: Path | None = None):
        self.db = db
        self.path = path
        self.clinic = ClinicRepository(db)
        self.users = UserRepository(db)
        self.payers = PayerRepository(db)
        self.patients = PatientRepository(db)
        self.episodes = EpisodeRepository(db)
        self.episode_history = EpisodeHistory(db)
        self.appointments = AppointmentRepository(db)
        self.sessions = SessionRepository(db)
        self.draft_flags = DraftFlags(db)
        self.draft_locks = DraftLocks(db)
        self.fees = FeeScheduleRepository(db)
        self.clinic_exercises = ClinicExerciseRepository(db)
        self.audit = AuditLog(db)
        self.keys = KeyHistory(db)

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating and migrating as needed) the database at ``path``: a file, or a
        ``postgresql://`` URL naming a database on a server (ptdoc.pg; psycopg is loaded only
        then)."""
        if paths.is_server_url(path):
            from ptdoc import pg

            return cls(pg.open_database(str(path)))  # type: ignore[arg-type]
        return cls(dbmod.open_database(Path(path)), Path(path))

    def holdings(self) -> str:
        """What clinic data the database holds, in words ("" when none: users, patients and
        sessions are what a clinic starts with)."""
        counts = [(self.users.count(), "user"), (self.patients.count(), "patient"),
                  (self.sessions.count(), "session")]
        return ", ".join(f"{n} {what}{'s' * (n != 1)}" for n, what in counts if n)

    @contextlib.contextmanager
    def statements(self) -> Iterator[list[str]]:
        """The statements sent to the database while inside, in order, on either backend:
        what a screen or a save costs, whatever the data (a count that grows with the rows is
        a query per row)."""
        seen: list[str] = []
        with self.db.traced(seen.append):  # type: ignore[attr-defined]
            yield seen

    def reach(self) -> None:
        """One trivial statement: raises ``ServerUnreachable`` while a server is out of reach
        (and connects again when it is back, as any statement does)."""
        self.db.execute("SELECT 1").fetchone()

    def changes(self) -> Changes:
        """What another workstation changes, asked cheaply (a window's live lists)."""
        return Changes(self.db)

    def close(self) -> None:
        self.draft_locks.release_all()
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
