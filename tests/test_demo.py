"""The demo clinic is realistic, current and obeys every rule of real use."""

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from ptdoc.demo import DEMO_CODES, build_demo
from ptdoc.domain import Credential, NoteType, SessionStatus
from ptdoc.icd_index import KnownCodes
from ptdoc.services import Workspace
from ptdoc.store import Store

TODAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = build_demo(tmp_path_factory.mktemp("demo") / "demo.sqlite3", TODAY)
    yield store
    store.close()


def test_every_role_and_both_kinds_of_payer(demo: Store) -> None:
    assert {u.credential for u in demo.users.all()} == set(Credential)
    payers = demo.payers.all()
    assert any(p.medicare for p in payers)
    assert any(p.unit_method == "per-code" for p in payers)
    assert demo.patients.count() >= 20


def test_months_of_sessions_relative_to_today(demo: Store) -> None:
    rows = demo.sessions.listing()
    dates = [r.date_of_service for r in rows]
    assert max(dates) == TODAY
    assert min(dates) >= TODAY - dt.timedelta(days=80)
    assert (max(dates) - min(dates)).days > 60
    statuses = Counter(r.status for r in rows)
    assert statuses[SessionStatus.SIGNED] > 0.9 * len(rows)
    assert statuses[SessionStatus.DRAFT] >= 4
    assert {r.note_type for r in rows} == {NoteType.DAILY, NoteType.EVALUATION,
                                           NoteType.PROGRESS_REPORT}
    assert demo.sessions.listing(date=TODAY)


def test_signed_notes_verify_and_drafts_hold_the_flagged_gaps(demo: Store) -> None:
    ws = Workspace(demo, None, today=lambda: TODAY, codes=KnownCodes(DEMO_CODES))
    codes, aide, unexplained, no_params = set(), False, False, False
    for row in demo.sessions.listing():
        session = demo.sessions.get(row.id)
        if session.status == SessionStatus.SIGNED:
            assert ws.verify(session), row.id
            assert session.signature.credential.is_clinician
            if session.note_type != NoteType.DAILY:
                assert session.signature.credential.is_therapist
            continue
        codes |= {s.code for s in session.services}
        aide |= any(e.delivered_by == "aide" for e in session.exercises)
        unexplained |= any(e.modification and not e.modification_reason
                           for e in session.exercises)
        no_params |= any(e.sets is None and e.hold_seconds is None and
                         e.duration_minutes is None for e in session.exercises)
    assert "97162" in codes and aide and unexplained and no_params


def test_pta_sessions_carry_cq_where_the_payer_wants_it(demo: Store) -> None:
    found = 0
    for row in demo.sessions.listing():
        if row.clinician_username == "lrivera":
            session = demo.sessions.get(row.id)
            payer = demo.payers.get(demo.patients.get(session.patient_id).payer_id)
            assert session.supervised_by is not None
            assert all(("CQ" in s.modifiers) == payer.cq_applies for s in session.services)
            found += payer.cq_applies
    assert found


def test_signed_demo_notes_pass_every_rule_and_drafts_show_the_gaps(demo: Store,
                                                                    icd) -> None:
    ws = Workspace(demo, None, today=lambda: TODAY, codes=icd)
    flagged = set()
    for row in demo.sessions.listing():
        judged = ws.review(demo.sessions.get(row.id))
        if row.status == SessionStatus.SIGNED:
            assert judged.can_sign, (row.id, judged.blockers, judged.open_warnings)
        else:
            flagged |= {f.code for f in judged.blockers}
    assert flagged >= {"CODE_EVAL_FOR_EXERCISE", "EXERCISE_PARAMS_MISSING",
                       "MODIFICATION_REASON_MISSING", "AIDE_TIME_BILLED"}


def test_demo_diagnoses_are_billable_codes(icd) -> None:
    for code, description in DEMO_CODES.items():
        assert icd.status(code) == "billable", code
        assert icd.description(code) == description


def test_same_day_same_clinic(tmp_path: Path) -> None:
    a = build_demo(tmp_path / "a.sqlite3", TODAY)
    b = build_demo(tmp_path / "b.sqlite3", TODAY)
    try:
        assert [(r.mrn, r.date_of_service, r.status) for r in a.sessions.listing()] == \
            [(r.mrn, r.date_of_service, r.status) for r in b.sessions.listing()]
    finally:
        a.close()
        b.close()
