"""How many inputs a routine follow-up visit takes, driven through the real window.

Run: .venv/bin/python benchmarks/bench_followup.py [--new-patient-visit] [--write]

The visit, from the day view, signed in as the treating PT: start a daily note for a patient
whose last visit had six exercises, carry them forward, progress Scaption 8 -> 10 lb with a
reason, confirm the other five as before, record the patient's response, take the proposed
assessment sentence, record time out, review, and sign with the password. ``--new-patient-visit``
does the second visit of a patient whose first visit was the evaluation.

Every input goes through Qt's test events to whichever widget has the keyboard focus (as a
keyboard would) or to the button clicked. An input is one key chord, one click, or the typing
of one field's text; keystrokes count each typed character. The signed note is then read back
and checked; the last line printed is ``follow-up visit: N inputs, M keystrokes, signed``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from ptdoc.catalog import payer_from_profile
from ptdoc.claim import apply_claim, build_claim
from ptdoc.domain import (
    Assistance,
    Clinic,
    Credential,
    Cue,
    Episode,
    ExerciseChange,
    LoadUnit,
    NoteType,
    Patient,
    ServiceLine,
    Session,
    SessionStatus,
    User,
)
from ptdoc.identifiers import npi_with_check_digit
from ptdoc.library import shipped_library
from ptdoc.services import Workspace
from ptdoc.store import Store

LIMIT = 30  # the most inputs a routine follow-up visit may take
TODAY = dt.date(2026, 11, 26)
ZONE = "America/Chicago"
START = dt.datetime(2026, 11, 26, 16, 2, tzinfo=dt.UTC)     # 10:02 at the clinic
FINISH = dt.datetime(2026, 11, 26, 16, 47, tzinfo=dt.UTC)   # 10:47
PASSWORD = "follow-up-visit"
EXERCISES = (  # name, sets, reps, load (lb), minutes, cues, assistance
    ("Scaption", 3, 10, 8, 8, (Cue.TACTILE,), None),
    ("Rows with band", 3, 12, None, 6, (Cue.VERBAL,), None),
    ("External rotation with band", 3, 12, None, 6, (), Assistance.INDEPENDENT),
    ("Serratus wall slides", 3, 10, None, 7, (Cue.VISUAL,), None),
    ("Prone Y raises", 3, 10, None, 6, (Cue.VERBAL,), None),
    ("Doorway pectoral stretch", 3, None, None, 7, (), Assistance.INDEPENDENT),
)
PROGRESSED = "Scaption"
REASON = "two pain-free visits at 8 lb"
RESPONSE = "Pain 2/10 before and after; mild periscapular fatigue, no flare."


@dataclass
class Clock:
    now: dt.datetime = START


@dataclass
class Count:
    inputs: int = 0
    keystrokes: int = 0
    log: list[str] = field(default_factory=list)


def build_clinic(folder: Path, clock: Clock, new_patient: bool) -> tuple[Store, User]:
    """A clinic whose patient was seen before (not counted: this is yesterday's work)."""
    store = Store.open(folder / "clinic.sqlite3")
    admin = Workspace(store, None, today=lambda: TODAY, now=lambda: clock.now)
    admin.save_clinic(Clinic("Bench Physical Therapy", "1 Main St, Springfield, IL 62704",
                             "(217) 555-0100", npi_with_check_digit("192837465"),
                             time_zone=ZONE))
    pt = admin.add_user(User("pt", "Pat Therapist", Credential.PT,
                             npi_with_check_digit("111111111")), PASSWORD)
    payer = admin.add_payer(payer_from_profile("Medicare Part B", "medicare"))
    for code, fee in {"97110": "29.50", "97162": "101.20", "97140": "27.40"}.items():
        store.fees.set(code, TODAY.year, Decimal(fee))
    patient = admin.add_patient(Patient("B-1", "Rosa", "Alvarez", dt.date(1954, 5, 6),
                                        payer.id, "1EG4TE5MK73"))
    first = TODAY - dt.timedelta(days=14)
    episode = admin.add_episode(Episode(
        patient.id or 0, first, diagnoses=("M75.101",), goals=("Reach overhead pain-free",),
        frequency="2x/week for 6 weeks", certified_through=first + dt.timedelta(days=89),
        certified_on=first + dt.timedelta(days=3), physician_name="Dr. Ada Park",
        physician_npi=npi_with_check_digit("143256789")))
    ws = Workspace(store, pt, today=lambda: TODAY, now=lambda: clock.now)
    proof = ws.prove_signer(PASSWORD)
    visits = [(first, NoteType.EVALUATION)]
    if not new_patient:
        visits.append((TODAY - dt.timedelta(days=7), NoteType.DAILY))
    for day, kind in visits:
        clock.now = dt.datetime.combine(day, dt.time(17), dt.UTC)
        _signed_visit(ws, proof, patient.id or 0, episode.id, day, kind)
    clock.now = START
    return store, pt


def _signed_visit(ws: Workspace, proof, patient_id: int, episode_id: int | None, day: dt.date,
                  kind: NoteType) -> None:
    library = {e.name: e for e in shipped_library()}
    rows = tuple(replace(library[name].entry(), sets=sets, reps=reps,
                         load=Decimal(load) if load else library[name].load,
                         load_unit=LoadUnit.LB if load else library[name].load_unit,
                         minutes=minutes, cues=cues, assistance=assistance,
                         change=ExerciseChange.NEW if kind == NoteType.EVALUATION
                         else ExerciseChange.AS_BEFORE, pain_before=2, pain_after=2)
                 for name, sets, reps, load, minutes, cues, assistance in EXERCISES)
    minutes = sum(e.minutes or 0 for e in rows)
    lines = (ServiceLine("97110", minutes),)
    total = minutes
    if kind == NoteType.EVALUATION:
        lines = (ServiceLine("97162"), *lines)
        total += 30
    session = ws.new_session(patient_id, day, episode_id, kind)
    session = replace(session, exercises=rows, services=lines, time_in=dt.time(9),
                      time_out=dt.time(9 + total // 60, total % 60),
                      total_treatment_minutes=total,
                      patient_response="Pain 2/10, tolerated well.",
                      assessment="Scapular control improving; continue plan.",
                      home_program="Home program reviewed.")
    session = apply_claim(session, build_claim(ws.rule_context(session)))
    ws.save_draft(session)
    ws.sign(session.id or 0, proof)


class Driver:
    """Inputs as a person makes them, to the widget with the keyboard focus. Each is sent from
    Qt's event loop (not from the script), so a modal window it opens runs while the script
    goes on inside it."""

    def __init__(self, count: Count, window: QWidget):
        self.count = count
        self.window = window

    def focused(self) -> QWidget:
        shown = QApplication.activeWindow()
        if shown is None or not shown.isVisible() or shown.windowType() == Qt.WindowType.Popup:
            # Offscreen, a list of completions takes the window's activation and keeps it
            # when it closes; on a desktop the window under it never loses the keyboard.
            wanted = QApplication.focusWidget()
            under = QApplication.activeModalWidget() or self.window
            under.activateWindow()
            QTest.qWaitForWindowActive(under)
            if wanted is not None and wanted.window() is under and wanted.isVisible():
                wanted.setFocus()
        widget = QApplication.focusWidget() or QApplication.activeWindow()
        assert widget is not None, "nothing has the keyboard focus"
        return widget

    def press(self, key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
              what: str = "") -> None:
        self.count.inputs += 1
        self.count.keystrokes += 1
        self.count.log.append(what or f"key {key.name}")
        QTimer.singleShot(0, lambda: QTest.keyClick(self.focused(), key, modifiers))

    def type(self, text: str, what: str = "") -> None:
        self.count.inputs += 1
        self.count.keystrokes += len(text)
        self.count.log.append(what or f"type '{text}'")
        for char in text:  # each key to wherever the focus is then (a cell opens its editor)
            QTimer.singleShot(0, lambda char=char: QTest.keyClicks(self.focused(), char))


def active(window: QWidget) -> bool:
    """Whether ``window`` has the keyboard; activated as a window manager does when a modal
    window over it closes (offscreen there is none to do it)."""
    if not window.isActiveWindow():
        window.activateWindow()
    return window.isActiveWindow()


CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier


def visit(window, drive: Driver, clock: Clock) -> Iterator[Callable[[], bool] | None]:
    """The visit's inputs. Each ``yield`` lets the window work; a yielded predicate is waited
    for (a window opening, a step showing)."""
    from ptdoc.ui.new_session import NewSessionDialog

    yield lambda: window.isActiveWindow()
    drive.press(Qt.Key.Key_N, CTRL, "Ctrl+N: new session")
    yield lambda: isinstance(QApplication.activeModalWidget(), NewSessionDialog) and \
        QApplication.activeModalWidget().isActiveWindow()
    drive.type("alvarez", "type the patient's name")
    yield None
    drive.press(Qt.Key.Key_Return, CTRL, "Ctrl+Enter: start the session")
    yield lambda: window.editor is not None and window.editor.isVisible() and \
        QApplication.activeModalWidget() is None and active(window)
    editor = window.editor
    exercises = editor.steps[2]
    drive.press(Qt.Key.Key_3, CTRL, "Ctrl+3: exercises")
    yield lambda: editor.current == 2
    drive.press(Qt.Key.Key_Y, ALT, "Alt+Y: carry forward")
    yield lambda: len(editor.session.exercises) == len(EXERCISES)
    drive.press(Qt.Key.Key_A, ALT, "Alt+A: add exercise")
    yield lambda: exercises.add_box.hasFocus()
    drive.type("scaption 10 lb", "type the progression as shorthand")
    drive.press(Qt.Key.Key_Return, what="Enter")
    yield lambda: any(e.change == ExerciseChange.PROGRESSED for e in editor.session.exercises)
    drive.type(REASON, "type the reason (the focus is on Reason)")
    drive.press(Qt.Key.Key_Return, what="Enter")
    yield lambda: next(e for e in editor.session.exercises
                       if e.name == PROGRESSED).modification_reason == REASON
    drive.press(Qt.Key.Key_C, ALT, "Alt+C: confirm the rest as before")
    yield lambda: not any(e.change == ExerciseChange.CARRIED for e in editor.session.exercises)
    drive.type(RESPONSE, "type the patient's response (the focus is on it)")
    drive.press(Qt.Key.Key_I, ALT, "Alt+I: take the proposed assessment sentence")
    yield lambda: bool(editor.session.assessment) and bool(editor.session.patient_response)
    clock.now = FINISH  # the visit ends
    drive.press(Qt.Key.Key_1, CTRL, "Ctrl+1: visit")
    yield lambda: editor.current == 0
    drive.press(Qt.Key.Key_O, ALT, "Alt+O: time out")
    yield None
    drive.type("now", "type 'now'")
    drive.press(Qt.Key.Key_5, CTRL, "Ctrl+5: review")
    yield lambda: editor.current == 4 and editor.session.time_out is not None
    drive.press(Qt.Key.Key_6, CTRL, "Ctrl+6: sign")
    yield lambda: editor.current == 5 and editor.steps[5].secret.hasFocus()
    drive.type(PASSWORD, "type the password")
    drive.press(Qt.Key.Key_Return, what="Enter: sign")
    yield lambda: editor.session.status == SessionStatus.SIGNED


def run(script: Iterator[Callable[[], bool] | None], timeout_ms: int = 20000) -> None:
    """Run the script inside Qt's event loop, so that modal windows it opens keep working."""
    state: dict[str, object] = {}
    waited = [0]

    def step() -> None:
        wait = state.get("wait")
        if callable(wait) and not wait():
            waited[0] += 10
            if waited[0] > timeout_ms:
                state["error"] = AssertionError("timed out waiting after: " + str(state["last"]))
                state["done"] = True
                return
            QTimer.singleShot(10, step)
            return
        waited[0] = 0
        try:
            state["wait"] = next(script)
            state["last"] = getattr(state["wait"], "__code__", None)
        except StopIteration:
            state["done"] = True
            return
        except BaseException as exc:  # reported once the loop is left
            state["error"] = exc
            state["done"] = True
            return
        QTimer.singleShot(30, step)

    QTimer.singleShot(0, step)
    while "done" not in state:
        QTest.qWait(10)
    if "error" in state:
        raise state["error"]  # type: ignore[misc]


@dataclass
class Result:
    inputs: int
    keystrokes: int
    session: Session
    log: list[str]

    @property
    def line(self) -> str:
        state = "signed" if self.session.status == SessionStatus.SIGNED else "NOT signed"
        return f"follow-up visit: {self.inputs} inputs, {self.keystrokes} keystrokes, {state}"


def measure(folder: Path, new_patient: bool = False) -> Result:
    """Build the clinic, drive the visit through the window, check what was signed."""
    from ptdoc.icd_index import IcdIndex
    from ptdoc.ui.main_window import MainWindow

    clock = Clock()
    store, pt = build_clinic(folder, clock, new_patient)
    codes = IcdIndex.open()
    ws = Workspace(store, pt, today=lambda: TODAY, now=lambda: clock.now, codes=codes)
    window = MainWindow(ws)
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    count = Count()
    try:
        run(visit(window, Driver(count, window), clock))
        signed = store.sessions.get(window.editor.session.id or 0)
        check(ws, signed)
        return Result(count.inputs, count.keystrokes, signed, count.log)
    finally:
        window.close()
        window.deleteLater()
        QApplication.processEvents()
        store.close()


def check(ws: Workspace, s: Session) -> None:
    """The signed note holds everything the visit entered, and nothing blocks or waits."""
    assert s.status == SessionStatus.SIGNED, "the note was not signed"
    assert s.note_type == NoteType.DAILY
    assert len(s.exercises) == len(EXERCISES)
    states = {e.name: e.change for e in s.exercises}
    assert states.pop(PROGRESSED) == ExerciseChange.PROGRESSED, "Scaption not progressed"
    assert set(states.values()) == {ExerciseChange.AS_BEFORE}, states
    scaption = next(e for e in s.exercises if e.name == PROGRESSED)
    assert scaption.load == Decimal(10) and scaption.load_unit == LoadUnit.LB
    assert scaption.modification_reason == REASON
    assert "8 -> 10 lb" in scaption.modification
    assert [e.minutes for e in s.exercises] == [m for *_, m, _c, _a in EXERCISES]
    assert (s.time_in, s.time_out) == (dt.time(10), dt.time(10, 47)), (s.time_in, s.time_out)
    assert s.total_treatment_minutes == 47
    timed = sum(m for *_, m, _c, _a in EXERCISES)
    assert [(line.code, line.minutes, line.units) for line in s.services] == \
        [("97110", timed, 3)], s.services
    assert s.patient_response == RESPONSE
    assert "Scaption progressed" in s.assessment and REASON in s.assessment
    review = ws.review(s)
    assert not review.blockers and not review.open_warnings, review.findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--new-patient-visit", action="store_true",
                        help="the second visit of a patient whose first was the evaluation")
    parser.add_argument("--write", action="store_true", help="record in RESULTS.md")
    parser.add_argument("--verbose", action="store_true", help="list every input")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as folder:
        result = measure(Path(folder), args.new_patient_visit)
    if args.verbose:
        for number, what in enumerate(result.log, start=1):
            print(f"{number:3}. {what}")
    if args.write:
        from results import write_section

        name = "Follow-up visit" + (" (second visit after the evaluation)"
                                    if args.new_patient_visit else "")
        write_section(name, "\n".join(f"{i:2}. {what}" for i, what in
                                      enumerate(result.log, start=1))
                      + f"\n\n{result.line}\n")
    del app
    print(result.line)


if __name__ == "__main__":
    main()
