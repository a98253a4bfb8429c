"""The store and the day view at clinic scale, side by side, each against a floor.

Run: .venv/bin/python benchmarks/bench_store.py --db 10k=/tmp/c10k.sqlite3
         --db 100k=/tmp/c100k.sqlite3 --db 1M=/tmp/c1m.sqlite3 [--write]
     .venv/bin/python benchmarks/bench_store.py --db "100k=/tmp/c100k.sqlite3"
         --db "100k server=postgresql://ptdoc_app@/ptdoc?host=/tmp/sb" --section "Store, both"
(databases from benchmarks/make_clinic_db.py, whose ``--today`` is the day listed; a server's
loaded from such a file with ``ptdoc migrate``). Each
figure is the median of repeats in milliseconds and its ratio to a floor measured in the same
run on the same file, so a busy machine moves both:

- open the database (``Store.open``) against a bare sqlite3 connection reading the schema
  version;
- patient search as typed in the day view (a miss, an MRN, a date of birth, a name prefix)
  against reading one patient by primary key;
- the day view (``MainWindow`` for a clinician, built, shown and painted, offscreen, with the
  ICD-10-CM index not yet open as right after sign-in) against a bare window with a 200-row
  table, painted. The password check of signing in (scrypt, slow on purpose) is not in it;
- a draft save as the editor makes it on every edit (``Workspace.save_draft`` of one of the
  day's drafts with its assessment changed, by its writer, ``expected`` as last saved)
  against a bare transaction updating one row of it: the median and the worst of 30 saves
  (the worst against the floor's worst).

Not a test: figures depend on the machine; keep them in RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results import write_section

from ptdoc import paths
from ptdoc.services import Workspace
from ptdoc.store import Store

GOALS = {"open": None, "search: a miss": 2.0, "search: MRN": 2.0, "search: date of birth": 2.0,
         "search: name prefix": None, "day view painted": 100.0, "draft save": 20.0,
         "draft save: worst": 20.0}
SAVES = 30  # draft saves timed: their median and the worst of them


def timed_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    return statistics.median(timed_ms(fn, repeat))


def painted_ms(make: Callable[[], object], repeat: int) -> float:
    """Median ms from building a window with ``make`` to its first paint (closing it after
    is not counted)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        window = painted(make)()
        times.append((time.perf_counter() - start) * 1000)
        window.close()
        window.deleteLater()
        from PySide6.QtWidgets import QApplication

        QApplication.processEvents()
    return statistics.median(times)


def painted(make: Callable[[], object]) -> Callable[[], object]:
    """Build a window with ``make``, show it and return it once it has been painted."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication.instance() or QApplication([])

    def run() -> object:
        done: list[bool] = []

        class Painted(QObject):
            def eventFilter(self, obj: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and \
                        obj.window() is window:
                    done.append(True)
                return False

        spy = Painted()
        app.installEventFilter(spy)
        window = make()
        window.show()
        while not done:
            app.processEvents()
        app.removeEventFilter(spy)
        return window

    return run


def bare_table() -> object:
    from PySide6.QtWidgets import QMainWindow, QTableWidget, QTableWidgetItem

    window = QMainWindow()
    table = QTableWidget(200, 8)
    for r in range(200):
        for c in range(8):
            table.setItem(r, c, QTableWidgetItem(f"cell {r},{c}"))
    table.resizeColumnsToContents()
    window.setCentralWidget(table)
    window.resize(1280, 760)
    return window


def measure(path: Path | str, repeat: int) -> dict[str, tuple[float, float]]:
    """Each measurement: (median ms, floor ms)."""
    out: dict[str, tuple[float, float]] = {}

    def bare_open() -> None:
        if paths.is_server_url(path):
            import psycopg

            with psycopg.connect(str(path)) as conn:
                conn.execute("SELECT version FROM ptdoc_schema").fetchone()
            return
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA user_version").fetchone()
        conn.close()

    out["open"] = (median_ms(lambda: Store.open(path).close(), repeat),
                   median_ms(bare_open, repeat))
    store = Store.open(path)
    today = dt.date.fromisoformat(store.db.execute(
        "SELECT max(date_of_service) FROM sessions").fetchone()[0])
    ws = Workspace(store, store.users.by_username("mchen"), today=lambda: today)
    some = store.db.execute("SELECT id, mrn, date_of_birth, last_name FROM patients "
                            "ORDER BY id DESC LIMIT 1").fetchone()
    floor = median_ms(lambda: store.patients.get(some[0]), repeat * 5)
    for label, text in (("search: a miss", "Zzqxw"), ("search: MRN", some[1]),
                        ("search: date of birth", some[2]),
                        ("search: name prefix", some[3][:3])):
        found = ws.search_patients(text, 20)
        assert label == "search: a miss" or found, label
        out[label] = (median_ms(lambda t=text: ws.search_patients(t, 20), repeat * 5), floor)
    from ptdoc.ui.main_window import MainWindow

    drafts = sum(1 for r in ws.sessions(date=today) if r.status.value == "draft")
    painted_ms(bare_table, 1)  # Qt's first window pays for fonts and styles: not measured
    out["day view painted"] = (painted_ms(lambda: MainWindow(ws), repeat),
                               painted_ms(bare_table, repeat))
    out["day view painted"] += (drafts,)  # type: ignore[assignment]
    saves, bares = draft_save(store, today, SAVES)
    out["draft save"] = (statistics.median(saves), statistics.median(bares))
    out["draft save: worst"] = (max(saves), max(bares))
    store.close()
    return out


def draft_save(store: Store, today: dt.date, repeat: int) -> tuple[list[float], list[float]]:
    """One of the day's drafts saved by its writer with its assessment changed, as the editor
    saves on every edit; the floor: a bare transaction updating one row of it. Each time."""
    from dataclasses import replace

    sid = store.db.execute("SELECT id FROM sessions WHERE date_of_service = ? AND status = "
                           "'draft' ORDER BY id LIMIT 1", [today.isoformat()]).fetchone()[0]
    writer = store.users.get(store.audit.draft_owner(sid))
    ws = Workspace(store, writer, today=lambda: today)
    stored = [store.sessions.get(sid)]
    count = [0]

    def save() -> None:
        count[0] += 1
        changed = replace(stored[0], assessment=f"Improving sit to stand control ({count[0]}).")
        stored[0] = ws.save_draft(changed, expected=stored[0])

    def bare() -> None:
        count[0] += 1
        with store.db.atomic():
            store.db.execute("UPDATE sessions SET assessment = ? WHERE id = ?",
                             [f"Improving ({count[0]}).", sid])

    save()  # the first save judges with cold caches: not measured
    gc.collect()  # what the day view's windows left is no part of a save
    return timed_ms(save, repeat), timed_ms(bare, repeat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", action="append", required=True, metavar="LABEL=PATH")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument("--section", default="Store", help="the section of RESULTS.md written")
    args = parser.parse_args()
    sizes: dict[str, dict[str, tuple[float, float]]] = {}
    for label, path in (item.split("=", 1) for item in args.db):
        sizes[label] = measure(paths.db_target(path), args.repeat)
        for name, (ms, floor, *more) in sizes[label].items():
            extra = f" ({more[0]} drafts)" if more else ""
            print(f"{label:>5} {name:<24} {ms:9.2f} ms  floor {floor:8.2f} ms  "
                  f"{ms / floor:7.1f}x{extra}", flush=True)
    if args.write:
        write(sizes, args.section)


def write(sizes: dict[str, dict[str, tuple[float, float]]], section: str = "Store") -> None:
    labels = list(sizes)
    head = "| measurement | " + " | ".join(labels) + " | goal |\n|---|" + \
        "---:|" * len(labels) + "---|\n"
    rows = []
    for name, goal in GOALS.items():
        cells = []
        for label in labels:
            if name not in sizes[label]:
                cells.append("-")
                continue
            ms, floor, *more = sizes[label][name]
            drafts = f", {more[0]} drafts" if more else ""
            cells.append(f"{ms:.2f} ms ({ms / floor:.1f}x floor {floor:.2f}{drafts})")
        rows.append(f"| {name} | " + " | ".join(cells) + " | " +
                    (f"<= {goal:g} ms" if goal else "-") + " |")
    write_section(section, f"`benchmarks/bench_store.py` on {platform.machine()}, "
                  f"{os.cpu_count()} cores, Python {platform.python_version()}, "
                  f"{dt.date.today()}, load average {os.getloadavg()[0]:.2f} (the machine "
                  "is shared), databases from `benchmarks/make_clinic_db.py` "
                  "(sessions, 200 drafts on the day listed). Median of repeats; in brackets "
                  "the ratio to the floor measured in the same run (open: a bare sqlite3 "
                  "connection; search: one patient read by id; day view: a bare window with "
                  "a 200-row table, painted; draft save: a bare transaction updating one row;"
                  f" its median and the worst of {SAVES} saves, each against the floor's)."
                  "\n\n" + head + "\n".join(rows))


if __name__ == "__main__":
    main()
