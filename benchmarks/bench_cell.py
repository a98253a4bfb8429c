"""A flowsheet cell commit on a 40-exercise draft, typed into the real editor window.

Run: .venv/bin/python benchmarks/bench_cell.py --db 10k=/tmp/c10k.sqlite3
         --db 100k=/tmp/c100k.sqlite3 --db 1M=/tmp/c1m.sqlite3 [--repeat N] [--write]
(databases from benchmarks/make_clinic_db.py; ``--db demo`` builds a demo clinic in a
temporary folder instead). In each database a draft of 40 exercises is saved for the newest
patient on the last day listed and opened in ``SessionEditor`` (offscreen) at its Exercises
step. Each repeat types a new Reps value into the next row (typing opens the cell's editor)
and measures from the Enter that commits it until the window has handled every event it
caused: the edit validated, priced, saved (one transaction with its audit row and the stored
draft counts), the note judged again and the table repainted. Median and p99 in ms, and how
many exercise rows a commit wrote (counted by SQLite: ``total_changes`` of the exercises
statements). The draft is deleted afterwards, so the day keeps its drafts.

Not a test: figures depend on the machine; keep them in RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results import write_section

from ptdoc.domain import ExerciseEntry, ServiceLine
from ptdoc.library import shipped_library
from ptdoc.services import Workspace
from ptdoc.store import Store

ROWS = 40
COUNTED = 5  # commits whose exercise row writes are counted (not timed)


def forty_exercises() -> tuple[ExerciseEntry, ...]:
    return tuple(replace(item.entry(), sets=3, reps=10, minutes=1)
                 for item in shipped_library()[:ROWS])


def measure(path: Path, repeat: int) -> dict[str, float]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QTableView

    from ptdoc.ui.exercise_table import COLUMN
    from ptdoc.ui.session_editor import SessionEditor

    app = QApplication.instance() or QApplication([])
    store = Store.open(path)
    today = dt.date.fromisoformat(store.db.execute(
        "SELECT max(date_of_service) FROM sessions").fetchone()[0])
    ws = Workspace(store, store.users.by_username("mchen"), today=lambda: today)
    patient, episode = store.db.execute(
        "SELECT p.id, e.id FROM patients p JOIN episodes e ON e.patient_id = p.id "
        "WHERE e.discharged_on IS NULL ORDER BY p.id DESC LIMIT 1").fetchone()
    draft = ws.save_draft(replace(
        ws.new_session(patient, today, episode), exercises=forty_exercises(),
        services=(ServiceLine("97110", ROWS, 3, ("GP",)),), total_treatment_minutes=45,
        patient_response="Tolerated well", assessment="Progressing."))
    writes: list[int] = []
    try:
        editor = SessionEditor(ws, draft)
        editor.resize(1400, 900)
        editor.show()
        QTest.qWaitForWindowExposed(editor)
        QTest.keyClick(editor, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
        table = editor.findChild(QTableView, "exercise_table")
        model = table.model()
        app.processEvents()

        def commit(n: int) -> float:
            """Type the n-th value into its row; ms from the Enter to the window idle."""
            row = n % ROWS
            value = "11" if (n // ROWS) % 2 == 0 else "10"
            table.setFocus()
            table.setCurrentIndex(model.index(row, COLUMN["reps"]))
            QTest.keyClick(table, value[0])  # the first key opens the cell's editor
            typing = QApplication.focusWidget()
            if typing is table:
                raise SystemExit(f"{path}: typing into the flowsheet opened no editor")
            QTest.keyClicks(typing, value[1:])
            app.processEvents()
            start = time.perf_counter()
            QTest.keyClick(typing, Qt.Key.Key_Return)
            app.processEvents()
            return (time.perf_counter() - start) * 1000

        with counting_writes(store) as written:  # apart: the counting costs time
            for n in range(COUNTED):
                written.clear()
                commit(n)
                writes.append(len(written))
        times = [commit(COUNTED + n) for n in range(repeat)]
        last = COUNTED + repeat - 1
        typed = 11 if (last // ROWS) % 2 == 0 else 10
        if store.sessions.get(draft.id or 0).exercises[last % ROWS].reps != typed:
            raise SystemExit(f"{path}: the typed values were not saved")
        editor.close()
        editor.deleteLater()
        app.processEvents()
    finally:
        store.sessions.delete_draft(draft.id or 0)
        store.close()
    times.sort()
    return {"median": statistics.median(times),
            "p99": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
            "rows written": statistics.median(writes)}


@contextlib.contextmanager
def counting_writes(store: Store) -> Iterator[list[str]]:
    """Each exercise row inserted, updated or deleted while inside, as SQLite sees it
    (temporary triggers on this connection only; the file is not changed)."""
    conn = store.db.conn
    written: list[str] = []
    conn.create_function("ptdoc_bench_written", 1, written.append)
    for event in ("INSERT", "UPDATE", "DELETE"):
        conn.execute(f"CREATE TEMP TRIGGER bench_{event.lower()} AFTER {event} ON "
                     f"main.exercises BEGIN SELECT ptdoc_bench_written('{event}'); END")
    try:
        yield written
    finally:
        for event in ("INSERT", "UPDATE", "DELETE"):
            conn.execute(f"DROP TRIGGER temp.bench_{event.lower()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", action="append", required=True,
                        metavar="LABEL=PATH or demo")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    sizes: dict[str, dict[str, float]] = {}
    for item in args.db:
        label, _, path = item.partition("=")
        with tempfile.TemporaryDirectory() as folder:
            if not path:
                from ptdoc.clock import today
                from ptdoc.demo import DEMO_TIME_ZONE, build_demo

                path = str(Path(folder) / "demo.sqlite3")
                build_demo(Path(path), today(DEMO_TIME_ZONE)).close()
            sizes[label] = measure(Path(path), args.repeat)
        figures = sizes[label]
        print(f"{label:>5} cell commit  median {figures['median']:7.2f} ms  "
              f"p99 {figures['p99']:7.2f} ms  exercise rows written "
              f"{figures['rows written']:g}", flush=True)
    if args.write:
        rows = "\n".join(f"| {label} | {f['median']:.2f} ms | {f['p99']:.2f} ms | "
                         f"{f['rows written']:g} of {ROWS} |" for label, f in sizes.items())
        write_section("Cell commit", f"`benchmarks/bench_cell.py` on {platform.machine()}, "
                      f"{os.cpu_count()} cores, Python {platform.python_version()}, "
                      f"{dt.date.today()}, load average {os.getloadavg()[0]:.2f}: "
                      f"{args.repeat} Reps values typed into a {ROWS}-exercise draft, from "
                      "the Enter that commits the cell to the window idle again.\n\n"
                      "| clinic | median | p99 | exercise rows written |\n|---|---:|---:|---:|\n"
                      + rows)


if __name__ == "__main__":
    main()
