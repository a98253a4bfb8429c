"""How fast the store and the day view are with a large clinic (100,000 sessions by default).

Run: .venv/bin/python benchmarks/bench_store.py [--sessions N] [--write]
Prints one line per measurement (median of repeats); --write also updates benchmarks/RESULTS.md.
Not a test: figures depend on the machine; keep them in RESULTS.md to see trends.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results import write_section

from ptdoc import auth
from ptdoc.domain import (
    Credential,
    Cue,
    Episode,
    ExerciseEntry,
    LoadUnit,
    Patient,
    Payer,
    PayerProfile,
    ServiceLine,
    Session,
    UnitMethod,
    User,
)
from ptdoc.identifiers import npi_with_check_digit
from ptdoc.services import Workspace
from ptdoc.store import Store

TODAY = dt.date(2026, 11, 26)
NOW = dt.datetime(2026, 11, 26, 18, tzinfo=dt.UTC)


def exercise(i: int) -> ExerciseEntry:
    return ExerciseEntry(f"Exercise {i % 110}", region="knee", sets=3, reps=10 + i % 5,
                         load=Decimal(5 + i % 20), load_unit=LoadUnit.LB, cues=(Cue.VERBAL,),
                         minutes=5, response="tolerated well", pain_before=3, pain_after=2)


def build(path: Path, sessions: int) -> Store:
    store = Store.open(path)
    with store.db.atomic():
        pt = store.users.add(User("pt", "Bench PT", Credential.PT,
                                  npi_with_check_digit("123456789")),
                             auth.hash_secret("bench-pass"))
        payer = store.payers.add(Payer("Medicare", PayerProfile.MEDICARE, UnitMethod.CMS, True))
        patients = [store.patients.add(Patient(f"B-{i}", f"First{i}", f"Last{i}",
                                               dt.date(1940 + i % 60, 1 + i % 12, 1 + i % 28),
                                               payer.id)).id for i in range(sessions // 20)]
        for i in range(sessions):
            store.sessions.save_draft(Session(
                patient_id=patients[i % len(patients)],
                date_of_service=TODAY - dt.timedelta(days=i % 730),
                delivered_by=pt.id, diagnoses=("M17.11",),
                exercises=tuple(exercise(i + k) for k in range(4)),
                services=(ServiceLine("97110", 20, 1, ("GP",)),),
                total_treatment_minutes=30, assessment="Progressing."), NOW)
    return store


def measure(label: str, fn: Callable[[], object], repeat: int = 7) -> tuple[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    print(f"{label:<58} {median:9.2f} ms")
    return label, median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        start = time.perf_counter()
        build(path, args.sessions).close()
        print(f"built {args.sessions} sessions in {time.perf_counter() - start:.1f} s, "
              f"{path.stat().st_size / 1e6:.0f} MB")
        results.append(measure("open database (quick check, migrations)",
                               lambda: Store.open(path).close(), repeat=3))
        store = Store.open(path)
        ws = Workspace(store, store.users.by_username("pt"), today=lambda: TODAY,
                       now=lambda: NOW)
        results.append(measure("day list (one date of service)",
                               lambda: ws.sessions(date=TODAY - dt.timedelta(days=40))))
        results.append(measure("one patient's sessions", lambda: ws.sessions(patient_mrn="B-77")))
        results.append(measure("patient search as you type ('Last12')",
                               lambda: ws.search_patients("Last12")))
        results.append(measure("load one session (4 exercises)",
                               lambda: store.sessions.get(args.sessions // 2)))
        patient = store.patients.add(Patient("B-NEW", "New", "Patient", dt.date(1960, 1, 1),
                                             store.payers.all()[0].id))
        episode = store.episodes.add(Episode(patient.id, TODAY - dt.timedelta(days=20),
                                             ("M17.11",), certified_on=TODAY -
                                             dt.timedelta(days=15), certified_through=TODAY +
                                             dt.timedelta(days=60)))
        for code, fee in (("97110", "29.50"), ("97140", "27.40")):
            store.fees.set(code, TODAY.year, Decimal(fee))
        big = ws.new_session(patient.id, TODAY, episode.id)
        big = replace(big, exercises=tuple(replace(exercise(i), minutes=1) for i in range(40)),
                      services=(ServiceLine("97110", 40, 3, ("GP", "KX")),),
                      total_treatment_minutes=45, diagnoses=("M17.11",),
                      patient_response="Pain 3/10 to 2/10.", assessment="Progressing.")
        results.append(measure("save a draft edit (40 exercises, audited)",
                               lambda: ws.save_draft(replace(big, assessment=str(time.time())))))
        draft = ws.save_draft(big)
        results.append(measure("review a draft (context from the database, all rules)",
                               lambda: ws.review(draft)))
        proof = ws.prove_signer("bench-pass")
        results.append(measure("sign a session (rules, hash, durable commit)",
                               lambda: ws.sign(draft.id, proof), repeat=1))

        from PySide6.QtWidgets import QApplication

        from ptdoc.ui.main_window import MainWindow
        app = QApplication.instance() or QApplication([])
        results.append(measure("main window with the day view", lambda: MainWindow(ws),
                               repeat=3))
        del app
        store.close()
    if args.write:
        write(results, args.sessions)


def write(results: list[tuple[str, float]], sessions: int) -> None:
    rows = "\n".join(f"| {label} | {ms:.2f} |" for label, ms in results)
    write_section("Store", f"`benchmarks/bench_store.py --sessions {sessions}` on "
                  f"{platform.machine()}, {os.cpu_count()} cores, Python "
                  f"{platform.python_version()}, {dt.date.today()}. Median of repeats, in "
                  f"milliseconds.\n\n| measurement | ms |\n|---|---:|\n{rows}")


if __name__ == "__main__":
    main()
