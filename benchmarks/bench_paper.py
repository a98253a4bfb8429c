"""How fast paper is made: a 200-session day of summaries, its day sheet, and 200 notes.

Run: .venv/bin/python benchmarks/bench_paper.py [--sessions 200] [--write]
Target: a day's summaries in under two seconds on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import tempfile
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader
from results import write_section

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
    User,
)
from ptdoc.icd_index import KnownCodes
from ptdoc.identifiers import npi_with_check_digit
from ptdoc.services import Workspace
from ptdoc.store import Store

TODAY = dt.date(2026, 11, 26)


def build(path: Path, sessions: int) -> Workspace:
    store = Store.open(path)
    pt = store.users.add(User("pt", "Bench Therapist", Credential.PT,
                              npi_with_check_digit("123456789")), auth.hash_secret("x" * 8))
    ws = Workspace(store, pt, today=lambda: TODAY,
                   codes=KnownCodes({"M17.11": "Unilateral primary osteoarthritis, right knee"}))
    payer = store.payers.add(payer_from_profile("Medicare", "medicare"))
    with store.db.atomic():
        for i in range(sessions):
            patient = store.patients.add(Patient(f"P-{i}", f"First{i}", f"Last{i}",
                                                 dt.date(1950, 1, 1 + i % 28), payer.id))
            episode = store.episodes.add(Episode(patient.id, TODAY - dt.timedelta(20),
                                                 ("M17.11",), certified_on=TODAY -
                                                 dt.timedelta(15)))
            draft = ws.new_session(patient.id, TODAY, episode.id)
            rows = tuple(ExerciseEntry(f"Exercise {k}", sets=3, reps=10, minutes=4,
                                       load=Decimal(5), load_unit=LoadUnit.LB,
                                       cues=(Cue.VERBAL,), response="tolerated well")
                         for k in range(6))
            ws.save_draft(replace(draft, exercises=rows, total_treatment_minutes=30,
                                  services=(ServiceLine("97110", 24, 2, ("GP",)),),
                                  patient_response="Pain 3/10 to 2/10",
                                  assessment="Progressing toward goals."))
    return ws


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = build(Path(tmp) / "paper.sqlite3", args.sessions)
        ids = ws.day_ids(TODAY)
        ws.summaries_pdf(ids[:2])  # fonts and caches
        lines = []
        start = time.perf_counter()
        pdf = ws.summaries_pdf(ids)
        took = time.perf_counter() - start
        count = len(PdfReader(io.BytesIO(pdf)).pages)
        lines.append(f"{args.sessions} session summaries: {took:.2f} s for {count} pages "
                     f"({took / count * 1000:.1f} ms a page)")
        start = time.perf_counter()
        pdf = ws.day_sheet_pdf(TODAY)
        took = time.perf_counter() - start
        count = len(PdfReader(io.BytesIO(pdf)).pages)
        lines.append(f"day sheet of {args.sessions} sessions: {took:.2f} s for {count} pages")
        start = time.perf_counter()
        pages = 0
        for sid in ids:
            pages += len(PdfReader(io.BytesIO(ws.note_pdf(sid))).pages)
        took = time.perf_counter() - start
        lines.append(f"{len(ids)} daily notes: {took:.2f} s for {pages} pages "
                     f"({took / pages * 1000:.1f} ms a page, {took / len(ids) * 1000:.0f} ms "
                     "a note)")
        ws.store.close()
    for line in lines:
        print(line)
    if args.write:
        write_section("Paper", f"`benchmarks/bench_paper.py` on {dt.date.today()} "
                               "(times include reading the sessions and running the rules):"
                               "\n\n" + "\n".join(f"- {line}" for line in lines))


if __name__ == "__main__":
    main()
