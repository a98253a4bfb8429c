"""From process start to the painted sign-in dialog, against a bare PySide6 window + table.

Run: .venv/bin/python benchmarks/bench_startup.py --db 100k=/tmp/c100k.sqlite3
         --db 1M=/tmp/c1m.sqlite3 [--repeat 7] [--write]
(databases from benchmarks/make_clinic_db.py). Each measurement is a new process (Qt
offscreen): ``ptdoc --db PATH gui --no-demo`` as the command line starts it, stopped when the
sign-in dialog is first painted; and, alternating with it, the floor: a process that imports
PySide6 and paints a main window holding a table. Prints the medians and their ratio;
--write records them in benchmarks/RESULTS.md.

Both start from compiled bytecode, as an installed ptdoc does (the build ships it): the
children run without PYTHONDONTWRITEBYTECODE, after one unmeasured start of each that writes
the bytecode caches. Compiling ptdoc from source on every start would add about 0.1 s that no
clinic's start pays.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import write_section

HERE = Path(__file__).resolve()


def _exit_when_painted(window_of_interest) -> None:
    """In the child: the first paint of that window ends the process with the time."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QWidget

    class Painted(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and \
                    obj.window() is window_of_interest:
                print(f"painted {time.time():.6f}", flush=True)
                os._exit(0)
            return False

    app = QApplication.instance()
    app._painted = Painted(app)  # kept alive with the application
    app.installEventFilter(app._painted)


def child_app(db: str) -> None:
    """ptdoc's own start path; the sign-in dialog's exec is where it is first shown."""
    sys.path.insert(0, str(HERE.parent.parent))
    from ptdoc.ui import login

    shown = login.LoginDialog.exec

    def exec_and_stop(self) -> int:
        _exit_when_painted(self)
        return shown(self)

    login.LoginDialog.exec = exec_and_stop
    from ptdoc.cli import main

    main(["--db", db, "gui", "--no-demo"])


def child_floor() -> None:
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableWidget, QTableWidgetItem

    app = QApplication([])
    window = QMainWindow()
    table = QTableWidget(20, 8)
    for r in range(20):
        for c in range(8):
            table.setItem(r, c, QTableWidgetItem(f"{r},{c}"))
    window.setCentralWidget(table)
    _exit_when_painted(window)
    window.show()
    app.exec()


def run_child(args: list[str], env: dict[str, str]) -> float:
    start = time.time()
    out = subprocess.run([sys.executable, str(HERE), *args], env=env, capture_output=True,
                         text=True, timeout=120)
    lines = [line for line in out.stdout.splitlines() if line.startswith("painted ")]
    if not lines:
        raise SystemExit(f"{args}: never painted (exit {out.returncode})\n{out.stdout}\n"
                         f"{out.stderr}")
    return float(lines[0].split()[1]) - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--db", action="append", default=[], metavar="LABEL=PATH")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.child is not None:
        child_app(args.child[1]) if args.child[0] == "app" else child_floor()
        return
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_STATE_HOME=home,
                   XDG_CONFIG_HOME=home, XDG_CACHE_HOME=home)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        rows = []
        for label, path in (item.split("=", 1) for item in args.db):
            for child in (["--child", "floor"], ["--child", "app", path]):  # warm: bytecode
                run_child(child, env)
                Path(path).with_name(f".{Path(path).name}.running").unlink(missing_ok=True)
            floor, app = [], []
            for _ in range(args.repeat):
                floor.append(run_child(["--child", "floor"], env))
                app.append(run_child(["--child", "app", path], env))
                Path(path).with_name(f".{Path(path).name}.running").unlink(missing_ok=True)
            f, a = statistics.median(floor), statistics.median(app)
            size = Path(path).stat().st_size / 1e6
            print(f"{label:>6} ({size:,.0f} MB): sign-in painted {a:.3f} s, floor {f:.3f} s, "
                  f"ratio {a / f:.2f}x")
            rows.append(f"| {label} | {size:,.0f} MB | {a:.2f} s | {f:.2f} s | {a / f:.2f}x |")
    if args.write:
        write_section("Start-up", f"`benchmarks/bench_startup.py` on {platform.machine()}, "
                      f"{os.cpu_count()} cores, Python {platform.python_version()}, "
                      f"{dt.date.today()}, load average {os.getloadavg()[0]:.2f} (the "
                      "machine is shared): process start to the painted sign-in dialog "
                      f"(`ptdoc --db PATH gui`, offscreen), median of {args.repeat}, against "
                      "the floor (a bare PySide6 window with a table, run alternately), "
                      "both from compiled bytecode as an installed ptdoc starts. "
                      "Goal: at most 2x at every size.\n\n"
                      "| clinic | file | sign-in painted | floor | ratio |\n"
                      "|---|---:|---:|---:|---:|\n"
                      + "\n".join(rows))


if __name__ == "__main__":
    main()
