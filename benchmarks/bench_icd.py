"""The first start's ICD-10-CM index: how long it takes to build, the memory it needs, and
whether the window keeps answering meanwhile.

Run: .venv/bin/python benchmarks/bench_icd.py [--repeat 3] [--write]
Each repeat is a new process with an empty cache folder (Qt offscreen): it builds the index
as the window does after sign-in (``IcdIndex.open`` on a worker, ``run_in_background``) while
a 10 ms timer ticks on the GUI thread, and reports the build time, the process's peak
resident memory before and after, the index's size, and the longest gap between ticks (what
a person typing would feel).

Not a test: figures depend on the machine; keep them in RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from results import write_section

HERE = Path(__file__).resolve()


def child(folder: Path) -> None:
    import resource
    import time

    sys.path.insert(0, str(HERE.parent.parent))
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ptdoc.icd_index import IcdIndex
    from ptdoc.ui.background import run_in_background

    app = QApplication([])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ticks: list[float] = [time.perf_counter()]
    built: list[float] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    start = time.perf_counter()

    def done(_index: object) -> None:
        built.append(time.perf_counter() - start)
        app.quit()

    def failed(error: object) -> None:
        print(json.dumps({"error": str(error)}))
        app.quit()

    run_in_background(lambda: IcdIndex.open(folder), done, failed)
    app.exec()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    size = sum(p.stat().st_size for p in folder.iterdir())
    print(json.dumps({"seconds": built[0], "peak_before_mb": before / 1024,
                      "peak_after_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                      / 1024, "index_mb": size / 1e6, "longest_gap_ms": max(gaps) * 1000}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    runs = []
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            out = subprocess.run([sys.executable, str(HERE), "--child", folder], env=env,
                                 capture_output=True, text=True, timeout=300, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if any("error" in r for r in runs):
        raise SystemExit(f"building the index failed: {runs}")
    figures = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    line = (f"built in {figures['seconds']:.2f} s on a worker; peak memory "
            f"{figures['peak_before_mb']:.0f} MB before, {figures['peak_after_mb']:.0f} MB "
            f"after; index {figures['index_mb']:.0f} MB; longest pause of the window's "
            f"10 ms timer meanwhile {figures['longest_gap_ms']:.0f} ms")
    print(line)
    if args.write:
        write_section("ICD-10-CM index", f"`benchmarks/bench_icd.py` on {dt.date.today()}, "
                      f"load average {os.getloadavg()[0]:.2f}, median of {args.repeat} first "
                      f"starts (an empty cache folder each): {line}.")


if __name__ == "__main__":
    main()
