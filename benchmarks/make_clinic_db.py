"""Build a realistic clinic database of any size, for measuring ptdoc at clinic scale.

Run: .venv/bin/python benchmarks/make_clinic_db.py --sessions N [--drafts-today K] -o PATH
     [--today YYYY-MM-DD] [--seed S]

How: the demo clinic is built first through the services (users with their signing keys,
payers, fees, 24 patients with episodes and months of signed notes and drafts, all valid).
Its sessions are then the templates of N - (demo) more, written in bulk: patients (20
sessions each), one open plan of care per patient, sessions spread over the years before
``--today`` (most signed, a few recent drafts, and exactly K drafts plus some signed notes on
``--today``), their exercise and service rows, one chained audit row per session (CREATE
by its clinician for a draft, SIGN for a signed note), so the audit chain verifies, and
the recent drafts' stored blocker and warning counts, as saving them in ptdoc leaves them.

What is not real: a cloned signed note carries its template's signature and signed content,
so it does not verify as the clone (``ptdoc verify`` reports those); content hashes are made
unique. Nothing measured here verifies signatures. Triggers and indexes are dropped during
the bulk load and re-created from their own SQL afterwards, so the schema is exactly ptdoc's.
1,000,000 sessions take about 7 minutes on 2 busy cores and 6.7 GB (notes carry their signed
content, 3.6 KB each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptdoc.demo import DEMO_TIME_ZONE, build_demo
from ptdoc.fields import search_key
from ptdoc.repositories import AuditLog

SYLLABLES = ("an", "bel", "car", "dor", "el", "fen", "gar", "hal", "ing", "jor", "kel", "lin",
             "mar", "nor", "ol", "per", "quin", "ros", "sten", "tor", "ul", "ven", "wes",
             "yor", "zan", "bro", "cha", "dan", "ford", "ley", "son", "berg", "ton", "ski")
FIRST = ("Mary", "James", "Patricia", "John", "Jennifer", "Robert", "Linda", "Michael",
         "Elizabeth", "William", "Barbara", "David", "Susan", "Richard", "Jessica", "Joseph",
         "Sarah", "Thomas", "Karen", "Charles", "Nancy", "Daniel", "Lisa", "Matthew", "Betty",
         "Anthony", "Sandra", "Mark", "Ashley", "Donald", "Dorothy", "Steven", "Kimberly",
         "Andrew", "Emily", "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin",
         "Amanda", "Brian", "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald",
         "Rebecca", "Jason", "Laura", "Edward", "Sharon", "Jeffrey", "Cynthia", "Ryan", "Kathleen",
         "Jacob", "Amy", "Gary", "Angela", "Nicholas", "Shirley", "Eric", "Anna", "Jonathan",
         "Brenda", "Stephen", "Pamela", "Larry", "Emma", "Justin", "Nicole", "Scott", "Helen",
         "Brandon", "Samantha", "Benjamin", "Katherine", "Samuel", "Christine", "Gregory",
         "Debra", "Alexander", "Rachel", "Frank", "Carolyn", "Patrick", "Janet", "Raymond",
         "Maria", "Jack", "Olivia", "Dennis", "Heather", "Jerry", "Diane", "Wei", "Aisha")
SESSIONS_PER_PATIENT = 20
EPOCH = dt.date(2000, 1, 3)  # dates of service start in 2000


def last_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).capitalize()


def rows_of(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def build(path: Path, sessions: int, drafts_today: int, today: dt.date, seed: int) -> None:
    if path.exists():
        raise SystemExit(f"{path} already exists; choose a new path")
    rng = random.Random(seed)
    build_demo(path, today).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    have = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
    more = max(0, sessions - have)
    templates = _templates(conn)
    schema = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN "
                          "('index', 'trigger') AND sql IS NOT NULL").fetchall()
    conn.execute("BEGIN")
    for kind, name, _sql in schema:
        conn.execute(f"DROP {kind.upper()} {name}")
    patients = _patients(conn, rng, max(1, more // SESSIONS_PER_PATIENT), today)
    _sessions(conn, rng, templates, patients, more, drafts_today, today)
    for _kind, _name, sql in schema:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()
    judge_drafts(path, today)


def judge_drafts(path: Path, today: dt.date) -> None:
    """Store each recent draft's blocker and warning counts, as saving it in ptdoc would
    have (judged with the full ICD-10-CM code set)."""
    from ptdoc.services import Workspace
    from ptdoc.store import Store

    with Store.open(path) as store:
        ws = Workspace(store, None, today=lambda: today)
        for back in range(16):
            ws.day_overview(today - dt.timedelta(days=back))


def _templates(conn: sqlite3.Connection) -> dict[str, list[dict]]:
    """The demo's sessions with their rows: signed ones and drafts, each with children."""
    out: dict[str, list[dict]] = {"signed": [], "draft": []}
    for s in rows_of(conn, "SELECT * FROM sessions ORDER BY id"):
        s["exercises"] = rows_of(conn, "SELECT * FROM exercises WHERE session_id = ? "
                                       "ORDER BY position", (s["id"],))
        s["services"] = rows_of(conn, "SELECT * FROM services WHERE session_id = ? "
                                      "ORDER BY position", (s["id"],))
        out[s["status"]].append(s)
    return out


def _patients(conn: sqlite3.Connection, rng: random.Random, count: int,
              today: dt.date) -> list[tuple[int, int, int]]:
    """``count`` patients with one open plan of care each: (patient id, episode id, payer)."""
    payers = [r[0] for r in conn.execute("SELECT id FROM payers")]
    first_id = conn.execute("SELECT max(id) FROM patients").fetchone()[0] + 1
    first_episode = conn.execute("SELECT max(id) FROM episodes").fetchone()[0] + 1
    episode = _templates_episode(conn)
    patients, episodes = [], []
    for n in range(count):
        pid, eid = first_id + n, first_episode + n
        born = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(80 * 365))
        payer = rng.choice(payers)
        first, last = rng.choice(FIRST), last_name(rng)
        mrn = f"RPT-{pid:07d}"
        patients.append((pid, mrn, first, last,
                         born.isoformat(), payer, f"M{rng.randrange(10**7, 10**8)}",
                         rng.choice(("female", "male")), f"555-{rng.randrange(10**4):04d}",
                         search_key(first), search_key(last), search_key(mrn)))
        start = today - dt.timedelta(days=40)
        episodes.append({**episode, "id": eid, "patient_id": pid,
                         "start_date": start.isoformat(),
                         "certified_on": (start + dt.timedelta(days=2)).isoformat(),
                         "certified_through": (start + dt.timedelta(days=88)).isoformat(),
                         "discharged_on": None})
    conn.executemany("INSERT INTO patients (id, mrn, first_name, last_name, date_of_birth, "
                     "payer_id, member_id, sex, phone, first_key, last_key, mrn_key) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     patients)
    _insert(conn, "episodes", episodes)
    return [(p[0], e["id"], p[5]) for p, e in zip(patients, episodes, strict=True)]


def _templates_episode(conn: sqlite3.Connection) -> dict:
    return rows_of(conn, "SELECT * FROM episodes ORDER BY id LIMIT 1")[0]


def _insert(conn: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    names = list(rows[0])
    conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                     f"({', '.join('?' * len(names))})", [[r[n] for n in names] for r in rows])


def _sessions(conn: sqlite3.Connection, rng: random.Random, templates: dict,
              patients: list[tuple[int, int, int]], count: int, drafts_today: int,
              today: dt.date) -> None:
    span = min(max(30, count // 150), (today - EPOCH).days)
    first_session = conn.execute("SELECT max(id) FROM sessions").fetchone()[0] + 1
    last_audit, previous = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1"
                                        ).fetchone()
    users = dict(conn.execute("SELECT id, username FROM users"))
    signed_today = drafts_today // 4
    batch: dict[str, list[dict]] = {"sessions": [], "exercises": [], "services": [],
                                    "audit": []}
    started = time.perf_counter()
    for n in range(count):
        sid = first_session + n
        if n < drafts_today + signed_today:
            day, draft = today, n < drafts_today
        else:
            day = today - dt.timedelta(days=1 + rng.randrange(span))
            draft = (today - day).days <= 14 and rng.random() < 0.1
        template = rng.choice(templates["draft" if draft else "signed"])
        patient, episode, _payer = patients[rng.randrange(len(patients))]
        stamp = f"{day.isoformat()}T{15 + rng.randrange(6)}:{rng.randrange(60):02d}:00+00:00"
        row = {k: v for k, v in template.items() if k not in ("exercises", "services")}
        row.update(id=sid, patient_id=patient, episode_id=episode,
                   date_of_service=day.isoformat(), created_at=stamp, updated_at=stamp,
                   time_in=f"{7 + rng.randrange(11):02d}:{rng.choice((0, 15, 30, 45)):02d}:00")
        if not draft:
            row.update(signed_at=stamp, content_hash=hashlib.sha256(
                f"{template['content_hash']}-{sid}".encode()).hexdigest())
        batch["sessions"].append(row)
        for child in ("exercises", "services"):
            batch[child] += [{**c, "id": None, "session_id": sid} for c in template[child]]
        last_audit += 1
        actor = template["delivered_by"] if draft else template["signer_id"]
        audit = {"id": last_audit, "at": stamp, "user_id": actor, "actor": users[actor],
                 "action": "create" if draft else "sign", "entity": "session",
                 "entity_id": sid, "detail": ""}
        digest = AuditLog.row_hash(previous, audit)
        batch["audit"].append({**audit, "prev_hash": previous, "hash": digest})
        previous = digest
        if len(batch["sessions"]) >= 20_000 or n == count - 1:
            for table, rows in batch.items():
                _insert(conn, table, rows)
                rows.clear()
            print(f"  {n + 1:,} sessions ({time.perf_counter() - started:.0f} s)",
                  file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--drafts-today", type=int, default=200)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                        help="the clinic's today (default: today in the demo's time zone)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.sessions < 1 or args.drafts_today < 0:
        parser.error("--sessions must be at least 1 and --drafts-today at least 0")
    from ptdoc.clock import today as clinic_today

    today = args.today or clinic_today(DEMO_TIME_ZONE)
    start = time.perf_counter()
    build(args.output, args.sessions, args.drafts_today, today, args.seed)
    conn = sqlite3.connect(args.output)
    total, drafts = conn.execute("SELECT count(*), sum(status = 'draft' AND date_of_service = ?) "
                                 "FROM sessions", (today.isoformat(),)).fetchone()
    conn.close()
    print(f"{args.output}: {total:,} sessions ({drafts} drafts on {today}), "
          f"{args.output.stat().st_size / 1e6:.0f} MB, {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
