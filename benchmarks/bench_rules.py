"""How long the rules take on a large note: every rule and the claim on 40 exercises.

Run: .venv/bin/python benchmarks/bench_rules.py [--write]
The target is well under a frame (16 ms), since the flags panel re-evaluates on every edit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results import write_section

from ptdoc.catalog import payer_from_profile
from ptdoc.domain import (
    Credential,
    Cue,
    Episode,
    ExerciseChange,
    ExerciseEntry,
    LoadUnit,
    Patient,
    ServiceLine,
    Session,
    User,
)
from ptdoc.icd_index import IcdIndex
from ptdoc.review import review_context
from ptdoc.rule_context import RuleContext


def big_context(codes: IcdIndex) -> RuleContext:
    exercises = tuple(ExerciseEntry(
        f"Exercise {i}", sets=3, reps=10, load=Decimal(5 + i), load_unit=LoadUnit.LB,
        cues=(Cue.VERBAL,), minutes=1, change=ExerciseChange.PROGRESSED,
        modification="Added load", modification_reason="Good form at 2/10 pain",
        response="tolerated") for i in range(40))
    session = Session(patient_id=1, episode_id=1, date_of_service=dt.date(2026, 11, 20),
                      delivered_by=1, diagnoses=("M17.11", "M62.81", "R26.89"),
                      exercises=exercises, total_treatment_minutes=60,
                      services=(ServiceLine("97110", 40, 3, ("GP",)),
                                ServiceLine("97140", 10, 1, ("GP",))),
                      patient_response="Pain 3/10 to 2/10", assessment="Progressing.")
    return RuleContext(
        session=session, today=dt.date(2026, 11, 26), codes=codes,
        patient=Patient("A1", "Ann", "Lee", dt.date(1950, 1, 1), 1, id=1),
        payer=payer_from_profile("Medicare", "medicare"),
        episode=Episode(1, dt.date(2026, 10, 1), ("M17.11",), certified_on=dt.date(2026, 10, 5),
                        certified_through=dt.date(2026, 12, 29), id=1),
        users={1: User("pt", "Pat", Credential.PT, "1234567893", id=1)},
        treatment_days_since_progress_report=4, year_to_date_amount=Decimal("900"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="append to benchmarks/RESULTS.md")
    args = parser.parse_args()
    codes = IcdIndex.open()
    ctx = big_context(codes)
    review_context(ctx)  # warm up caches (catalog, rule pack)
    times = []
    for _ in range(200):
        start = time.perf_counter()
        judged = review_context(ctx)
        times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    worst = max(times)
    line = (f"all rules + claim, 40 exercises: median {median:.2f} ms, max {worst:.2f} ms "
            f"({len(judged.findings)} findings)")
    print(line)
    if args.write:
        write_section("Rules", f"`benchmarks/bench_rules.py` on {dt.date.today()}: {line}.")


if __name__ == "__main__":
    main()
