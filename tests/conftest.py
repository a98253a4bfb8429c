"""Shared fixtures. Qt runs offscreen; every folder ptdoc writes goes under tmp_path."""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import datetime as dt
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pg_sandbox import PgSandbox, as_superuser
from silent_network import NoNamespace, SilentNetwork

from ptdoc import auth
from ptdoc.catalog import payer_from_profile
from ptdoc.domain import (
    Credential,
    Cue,
    Episode,
    ExerciseEntry,
    LoadUnit,
    Patient,
    ServiceLine,
    Session,
    User,
)
from ptdoc.icd_index import IcdIndex
from ptdoc.identifiers import npi_with_check_digit
from ptdoc.services import Workspace
from ptdoc.store import Store

TODAY = dt.date(2026, 11, 26)
NOW = dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.UTC)
PASSWORD = "correct-horse"

FEES = {"97110": "29.50", "97112": "33.80", "97140": "27.40", "97530": "35.60",
        "97010": "0", "97162": "101.20"}

# Hashed once: scrypt is deliberately slow, and every test clinic has six users.
PASSWORD_HASH = auth.hash_secret(PASSWORD)

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def file_schema(path: Path) -> set[tuple[str, str]]:
    """A SQLite file's tables, indexes, triggers and columns, by name."""
    conn = sqlite3.connect(path)
    try:
        return {(r[0], r[1]) for r in conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")} | {
            ("column", f"{t}.{c[1]}") for (t,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")
            for c in conn.execute(f"PRAGMA table_info({t})")}
    finally:
        conn.close()


@contextlib.contextmanager
def rows_written(store: Store, table: str) -> Iterator[list[tuple[str, int]]]:
    """(INSERT, UPDATE or DELETE, row id) of each row of ``table`` written while inside, as
    the database sees it: on a file, temporary triggers on this connection only; on a
    server, a trigger its superuser adds to the test's own database (read when leaving)."""
    seen: list[tuple[str, int]] = []
    events = {"INSERT": "NEW", "UPDATE": "NEW", "DELETE": "OLD"}
    if store.path is None:
        with _server_rows_written(store, table) as read:
            yield seen
            seen.extend(read())
        return
    conn = store.db.conn
    conn.create_function("test_row_written", 2, lambda event, rowid: seen.append((event,
                                                                                 rowid)))
    for event, ref in events.items():
        conn.execute(f"CREATE TEMP TRIGGER written_{event.lower()} AFTER {event} ON "
                     f"main.{table} BEGIN SELECT test_row_written('{event}', {ref}.id); END")
    try:
        yield seen
    finally:
        for event in events:
            conn.execute(f"DROP TRIGGER temp.written_{event.lower()}")


@contextlib.contextmanager
def _server_rows_written(store: Store, table: str) -> Iterator[object]:
    import psycopg

    with psycopg.connect(as_superuser(store.db.url), autocommit=True) as admin:
        admin.execute("CREATE TABLE test_written (n serial, event text, row_id bigint)")
        admin.execute(
            "CREATE FUNCTION test_row_written() RETURNS trigger LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = public AS $$ BEGIN "
            "IF TG_OP = 'DELETE' THEN INSERT INTO test_written (event, row_id) "
            "VALUES (TG_OP, OLD.id); ELSE INSERT INTO test_written (event, row_id) "
            "VALUES (TG_OP, NEW.id); END IF; RETURN NULL; END $$")
        admin.execute(f"CREATE TRIGGER test_written AFTER INSERT OR UPDATE OR DELETE ON "
                      f"{table} FOR EACH ROW EXECUTE FUNCTION test_row_written()")
        try:
            yield lambda: admin.execute("SELECT event, row_id FROM test_written "
                                        "ORDER BY n").fetchall()
        finally:
            admin.execute(f"DROP TRIGGER test_written ON {table}")
            admin.execute("DROP FUNCTION test_row_written()")
            admin.execute("DROP TABLE test_written")


def sign(ws: Workspace, session_id: int) -> Session:
    """Sign as the workspace's user, typing their password again as signing asks."""
    return ws.sign(session_id, ws.prove_signer(PASSWORD))


@pytest.fixture(scope="session", autouse=True)
def shared_icd_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The ICD-10-CM index takes seconds to build: one per test run, for every process."""
    old = os.environ.get("PTDOC_CACHE_DIR")
    os.environ["PTDOC_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("PTDOC_CACHE_DIR", None)
    else:
        os.environ["PTDOC_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def icd(shared_icd_cache: None) -> Iterator[IcdIndex]:
    index = IcdIndex.open()
    yield index
    index.close()


@pytest.fixture(autouse=True)
def private_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's data, config or log folders."""
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PTDOC_DB", raising=False)
    monkeypatch.delenv("PTDOC_USER", raising=False)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "clinic" / "ptdoc.sqlite3"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=("sqlite", "postgres", "both"), default="both",
                     help="which database the store, service and CLI tests run against "
                          "(both: PostgreSQL too when a sandbox server can be started)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each backend left out by --backend. PTDOC_PG_GUI=0 also leaves out the PostgreSQL
    variants of window tests (they drive the same store through Qt: a quicker run while
    developing on a busy machine), except those about what only a server does (marked
    ``server``: a dropped network, locks and notifications between workstations)."""
    chosen = config.getoption("--backend")
    gui_too = os.environ.get("PTDOC_PG_GUI") != "0"
    keep, dropped = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        window = "qtbot" in getattr(item, "fixturenames", ())
        left_out = (backend == "postgres" and window and not gui_too
                    and item.get_closest_marker("server") is None)
        (dropped if left_out or (backend and chosen not in ("both", backend)) else keep
         ).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgSandbox]:
    """A PostgreSQL sandbox for the run: the one packaging/test started (PTDOC_PG_SANDBOX),
    or one started here and stopped at the end. Skips its tests when none can start."""
    given = os.environ.get("PTDOC_PG_SANDBOX")
    sandbox = PgSandbox(Path(given) if given else Path(tempfile.mkdtemp(prefix="ptdoc-pg-")))
    reason = sandbox.start()
    if reason:
        if not given:
            shutil.rmtree(sandbox.folder, ignore_errors=True)
        pytest.skip(f"no PostgreSQL server: {reason}")
    try:
        sandbox.make_template()
        yield sandbox
    finally:
        if not given:
            sandbox.stop()
            shutil.rmtree(sandbox.folder, ignore_errors=True)


def only_sqlite(backend: str, why: str) -> None:
    """Skip the PostgreSQL variant of a test about the SQLite file itself, saying why."""
    if backend != "sqlite":
        pytest.skip(f"SQLite only: {why}")


@pytest.fixture
def silent(pg_server) -> Iterator[SilentNetwork]:
    """The test's own loopback with a proxy to the sandbox server that can go silent."""
    sockets = [p for p in pg_server.folder.glob(".s.PGSQL.*") if p.suffix != ".lock"]
    try:
        network = SilentNetwork(sockets[0])
    except (NoNamespace, OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"no network namespace for a silent network: {exc}")
    try:
        yield network
    finally:
        network.speak_again()
        network.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_target(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    """Where the test's clinic lives: the SQLite file ``db_path``, or a fresh database on the
    sandbox server (made from the migrated template) named by its URL."""
    if backend == "sqlite":
        yield db_path
        return
    server: PgSandbox = request.getfixturevalue("pg_server")
    name = server.fresh_database()
    try:
        yield server.url(name)
    finally:
        server.drop(name)


@pytest.fixture
def empty_db(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    """Where a new clinic starts from nothing: a file path with nothing there, or an empty
    database on the server named by its owner's URL (the first connection makes ptdoc's
    schema in it)."""
    if backend == "sqlite":
        yield db_path
        return
    server: PgSandbox = request.getfixturevalue("pg_server")
    name = server.empty_database()
    try:
        yield server.url(name, "ptdoc_owner")
    finally:
        server.drop(name)


@pytest.fixture
def store(db_target: object) -> Iterator[Store]:
    with Store.open(db_target) as opened:  # type: ignore[arg-type]
        yield opened


class Clinic:
    """A small clinic in a real database: one user of each role, a patient with an episode."""

    def __init__(self, store: Store, codes: IcdIndex):
        self.store = store
        self.codes = codes
        self.admin = Workspace(store, None, today=lambda: TODAY, now=lambda: NOW, codes=codes)
        self.users: dict[str, User] = {}
        for username, cred, stem in [("pt", Credential.PT, "111111111"),
                                     ("dpt", Credential.DPT, "122222222"),
                                     ("pta", Credential.PTA, "133333333"),
                                     ("aide", Credential.AIDE, None),
                                     ("desk", Credential.FRONT_DESK, None),
                                     ("boss", Credential.ADMIN, None)]:
            npi = npi_with_check_digit(stem) if stem else None
            self.users[username] = store.users.add(
                User(username, f"{username.upper()} User", cred, npi), PASSWORD_HASH)
        self.payer = self.admin.add_payer(payer_from_profile("Medicare Part B", "medicare"))
        for code, fee in FEES.items():
            store.fees.set(code, TODAY.year, Decimal(fee))
        self.patient = self.admin.add_patient(Patient("MRN-1", "Ann", "Lee",
                                                      dt.date(1950, 3, 4), self.payer.id))
        self.episode = self.admin.add_episode(Episode(
            self.patient.id or 0, dt.date(2026, 10, 1), diagnoses=("M17.11",),
            certified_through=dt.date(2026, 12, 29), certified_on=dt.date(2026, 10, 6),
            physician_name="Dr. Ada Park", physician_npi="1234567893"))

    def as_(self, username: str) -> Workspace:
        return Workspace(self.store, self.users[username], today=lambda: TODAY,
                         now=lambda: NOW, codes=self.codes)

    def started_elsewhere(self, target: Any, username: str = "pt") -> Session:
        """A note started today for the clinic's patient by another workstation: its own
        connection to the database ``target`` names."""
        with Store.open(target) as elsewhere:
            ws = Workspace(elsewhere, self.users[username], today=lambda: TODAY,
                           now=lambda: NOW)
            return ws.new_session(self.patient.id or 0, TODAY, self.episode.id)

    def complete_draft(self, username: str = "pt", day: dt.date = TODAY,
                       patient: Patient | None = None, episode: Episode | None = None
                       ) -> Session:
        """A draft with everything a clean note needs, saved by ``username`` (for the
        clinic's patient under their plan of care unless others are given)."""
        ws = self.as_(username)
        patient, episode = patient or self.patient, episode or self.episode
        session = ws.new_session(patient.id or 0, day, episode.id)
        return ws.save_draft(replace(
            session,
            exercises=(ExerciseEntry("Sit to stand", sets=3, reps=10, minutes=12,
                                     load=Decimal("4"), load_unit=LoadUnit.LB,
                                     cues=(Cue.VERBAL,), response="tolerated well"),
                       ExerciseEntry("Step ups, forward", sets=2, reps=12, minutes=11)),
            services=(ServiceLine("97110", 23, 2, ("GP", "CQ") if username == "pta"
                                  else ("GP",)),),
            total_treatment_minutes=30, patient_response="Pain 3/10 before, 2/10 after",
            assessment="Improving sit to stand control."))


@pytest.fixture
def clinic(store: Store, icd: IcdIndex) -> Clinic:
    return Clinic(store, icd)
