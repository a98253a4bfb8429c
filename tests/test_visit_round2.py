"""What a physical therapist met documenting visits from the README, driven through the real
window by keyboard: carry-forward from the last signed visit, the visit's times, the plan of
care's width, addenda signed with a password, the progress report's count and content."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest
from conftest import TODAY, Clinic, sign
from driving import ALT, CTRL, in_modal, main_window, pick_patient
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox
from test_editor import start_session
from test_followup_keys import flag_texts, type_time
from test_patient_screens import alt_click
from test_what_you_sign import press, step

from ptdoc.domain import ExerciseChange, ExerciseEntry, Provider, Session
from ptdoc.ui.exercise_table import COLUMN
from ptdoc.ui.main_window import MainWindow
from ptdoc.ui.new_session import NewSessionDialog
from ptdoc.ui.session_editor import SessionEditor


@pytest.fixture
def window(qtbot, clinic: Clinic) -> Iterator[MainWindow]:
    win = main_window(qtbot, clinic.as_("pt"), (1366, 708))
    yield win
    win.close()


def pta_visit(clinic: Clinic, day: dt.date, minutes: tuple[int, ...] = (12, 11),
              signed: bool = True) -> Session:
    """A visit the PTA wrote, each row delivered by the PTA; signed unless told."""
    draft = clinic.complete_draft("pta", day)
    rows = tuple(replace(e, delivered_by=Provider.PTA, minutes=m)
                 for e, m in zip(draft.exercises, minutes, strict=True))
    services = tuple(replace(s, minutes=sum(minutes)) for s in draft.services)
    draft = clinic.as_("pta").save_draft(replace(draft, exercises=rows, services=services,
                                                 total_treatment_minutes=sum(minutes)))
    return sign(clinic.as_("pta"), draft.id or 0) if signed else draft



def start_proposed_note(qtbot, window: MainWindow) -> SessionEditor:
    """Ctrl+N, Lee, Enter on the match, Ctrl+Enter: the note type the form proposes."""
    def start(dialog) -> None:
        assert isinstance(dialog, NewSessionDialog)
        pick_patient(qtbot, dialog)
        qtbot.keyClick(dialog.date, Qt.Key.Key_Return, CTRL)

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), start)
    assert window.editor is not None
    return window.editor

def test_carry_forward_takes_the_last_signed_visit_delivered_by_this_note(
        qtbot, window: MainWindow, clinic: Clinic, artifacts) -> None:
    pta_visit(clinic, TODAY - dt.timedelta(days=5))
    # two days ago, the PTA's unsigned draft with other exercises: not a record of the visit
    unsigned = clinic.complete_draft("pta", TODAY - dt.timedelta(days=2))
    clinic.as_("pta").save_draft(replace(unsigned, exercises=tuple(
        ExerciseEntry(f"Draft exercise {i}", sets=2, reps=10, minutes=5,
                      delivered_by=Provider.PTA) for i in range(6))))

    editor = start_session(qtbot, window)
    exercises = editor.steps[2]
    step(qtbot, editor, 3)
    alt_click(qtbot, Qt.Key.Key_Y, lambda: bool(editor.session.exercises))
    rows = editor.session.exercises
    assert [e.name for e in rows] == ["Sit to stand", "Step ups, forward"]
    assert all(e.change == ExerciseChange.CARRIED for e in rows)
    # delivered by who delivers this note (the PT), so no CQ and no PTA on the claim
    assert [e.delivered_by for e in rows] == [Provider.PT, Provider.PT]
    by = COLUMN["delivered_by"]
    assert [exercises.model.index(r, by).data() for r in range(2)] == ["PT", "PT"]
    assert [s.modifiers for s in editor.session.services] == [("GP",)]
    assert exercises.carried_note.text() == "Carried from 21 Nov, signed by PTA User, PTA"
    assert "Carried from 21 Nov" in editor.status_label.text()
    window.grab().save(str(artifacts / "carried-from-signed-visit.png"))

    # a row set to PTA on a note no PTA delivers is a blocker naming the row
    exercises.table.setFocus()
    exercises.table.setCurrentIndex(exercises.model.index(1, by))
    qtbot.keyClick(exercises.table, Qt.Key.Key_F2)
    combo = QApplication.focusWidget()
    assert isinstance(combo, QComboBox)
    qtbot.keyClicks(combo, "PTA")
    qtbot.keyClick(combo, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: editor.session.exercises[1].delivered_by == Provider.PTA)
    assert any("Row 2 'Step ups, forward' says a PTA delivered it" in t
               for t in flag_texts(editor))


def test_carry_forward_into_a_visit_shorter_than_the_last_one_says_so(
        qtbot, window: MainWindow, clinic: Clinic) -> None:
    pta_visit(clinic, TODAY - dt.timedelta(days=3), minutes=(16, 15))
    editor = start_session(qtbot, window)
    type_time(qtbot, Qt.Key.Key_I, "2:00p")
    type_time(qtbot, Qt.Key.Key_O, "2:30p")
    assert editor.session.visit_minutes == 30
    step(qtbot, editor, 3)
    alt_click(qtbot, Qt.Key.Key_Y, lambda: bool(editor.session.exercises))
    # the rows come in; the finding says what does not fit
    assert [e.minutes for e in editor.session.exercises] == [16, 15]
    assert any("The exercises add up to 31 minutes, longer than the visit (30 min from 14:00 "
               "to 14:30)" in t for t in flag_texts(editor))
    assert "Carried from 23 Nov" in editor.steps[2].carried_note.text()


def test_times_now_and_two_refused_times(qtbot, clinic: Clinic) -> None:
    from ptdoc.services import Workspace

    clock = [dt.datetime(2026, 11, 26, 22, 8, tzinfo=dt.UTC)]
    ws = Workspace(clinic.store, clinic.users["pt"], today=lambda: TODAY,
                   now=lambda: clock[0], codes=clinic.codes)
    window = main_window(qtbot, ws)
    editor = start_session(qtbot, window)
    visit = editor.steps[0]
    # started at 22:08: time in is 22:05, never a time still to come
    assert editor.session.time_in == dt.time(22, 5) and visit.time_in.text() == "22:05"
    # "now" is the clock time in the field at once, and saved as that
    box = type_time(qtbot, Qt.Key.Key_O, "now")
    assert box.text() == "22:08" and editor.session.time_out == dt.time(22, 8)

    # a refused "now" keeps the minute it was typed at, not the minute it is saved at
    type_time(qtbot, Qt.Key.Key_O, "20:00")
    type_time(qtbot, Qt.Key.Key_I, "14:00")
    type_time(qtbot, Qt.Key.Key_O, "15:30")
    clock[0] = dt.datetime(2026, 11, 26, 22, 8, tzinfo=dt.UTC)
    type_time(qtbot, Qt.Key.Key_I, "now")
    assert visit.time_in.text() == "22:08" and editor.session.time_in == dt.time(14)
    assert "must be before time out (15:30)" in visit.errors["time_in"].text()
    clock[0] = dt.datetime(2026, 11, 26, 22, 9, tzinfo=dt.UTC)
    # the other time typed: the pair is judged as on screen (22:08-22:15, not 14:00-22:15)
    type_time(qtbot, Qt.Key.Key_O, "2215")
    assert (editor.session.time_in, editor.session.time_out) == (dt.time(22, 8),
                                                                dt.time(22, 15))
    assert (visit.time_in.text(), visit.time_out.text()) == ("22:08", "22:15")
    assert not editor.open_refusals() and not visit.errors["time_in"].isVisible()

    # the tester's pair: time in 2130 refused, then time out 2215 saves both
    type_time(qtbot, Qt.Key.Key_I, "14:00")
    type_time(qtbot, Qt.Key.Key_O, "15:30")
    type_time(qtbot, Qt.Key.Key_I, "2130")
    assert "must be before time out (15:30)" in visit.errors["time_in"].text()
    type_time(qtbot, Qt.Key.Key_O, "2215")
    assert (editor.session.time_in, editor.session.time_out) == (dt.time(21, 30),
                                                                dt.time(22, 15))
    assert editor.session.total_treatment_minutes == 45
    assert (visit.time_in.text(), visit.time_out.text()) == ("21:30", "22:15")
    assert not editor.open_refusals()
    window.close()


def widest(widget, depth: int = 0, out: list | None = None) -> list:
    """(minimum width, class, name) of every widget, widest first: what holds a window wide."""
    from PySide6.QtWidgets import QWidget

    out = [] if out is None else out
    for child in widget.findChildren(QWidget):
        if child.isVisibleTo(widget):
            out.append((max(child.minimumSizeHint().width(), child.minimumWidth()),
                        type(child).__name__, child.objectName(),
                        child.parentWidget().objectName() if child.parentWidget() else ""))
    return sorted(out, reverse=True)


LONG_GOALS = (
    "STG 1: independent with the home exercise program, including all progressions of the "
    "closed-chain quadriceps and hip abductor strengthening, within two weeks of this report",
    "LTG 1: ascend and descend a flight of twelve stairs reciprocally with one rail and no "
    "more than 2/10 knee pain, to return to the second-floor apartment safely, in six weeks",
    "LTG 2: walk 1,000 feet on level and uneven ground without an assistive device and with a "
    "normalized gait pattern, to return to community shopping and church, within eight weeks")


def test_every_page_fits_a_1366_screen(qtbot, clinic: Clinic, artifacts) -> None:

    from ptdoc.domain import NoteType

    episode = clinic.admin.store.episodes.get(clinic.episode.id or 0)
    clinic.as_("pt").revise_episode(episode.id or 0, "progress report", goals=LONG_GOALS,
                                    physician_name="Dr. Alexandra Konstantinopoulou-Fitzgerald",
                                    diagnoses=("M17.11", "M25.561", "M62.81", "R26.89",
                                               "M79.604", "R29.6", "Z96.651", "M25.661"))
    for weeks_ago in range(9, 0, -1):
        clinic.complete_draft("pt", TODAY - dt.timedelta(days=3 * weeks_ago))
    window = main_window(qtbot, clinic.as_("pt"))
    assert window.minimumSizeHint().width() <= 1366, widest(window)[:5]

    editor = start_proposed_note(qtbot, window)
    assert editor.session.note_type == NoteType.PROGRESS_REPORT
    for number in range(1, 7):
        step(qtbot, editor, number)
        qtbot.wait(10)
        assert window.minimumSizeHint().width() <= 1366, (number, widest(window)[:6])
    step(qtbot, editor, 1)
    window.resize(1366, 708)
    qtbot.wait(10)
    window.grab().save(str(artifacts / "progress-report-long-plan.png"))
    assert window.width() <= 1366
    press(qtbot, Qt.Key.Key_W, CTRL)  # back to the day: it fits still
    qtbot.waitUntil(lambda: window.editor is None)
    assert window.minimumSizeHint().width() <= 1366, widest(window)[:5]
    window.open_patient(clinic.patient)  # the patient's page with its long plan
    assert window.minimumSizeHint().width() <= 1366, widest(window)[:5]

    # an evaluation of a new patient: the plan of care is written beside the visit
    from ptdoc.domain import Patient

    new = clinic.admin.add_patient(Patient("MRN-2", "Bartholomew-Alexander", "Featherstonehaugh",
                                           dt.date(1948, 5, 6), clinic.payer.id))
    evaluation = window.workspace.new_session(new.id or 0, TODAY,
                                              note_type=NoteType.EVALUATION)
    window.open_session(evaluation.id or 0)
    editor = window.editor
    assert editor is not None and editor.steps[0].plan.isVisibleTo(window)
    for number in range(1, 7):
        step(qtbot, editor, number)
        assert window.minimumSizeHint().width() <= 1366, (number, widest(window)[:6])
    window.close()


def test_a_progress_report_signed_today_restarts_the_count(qtbot, window: MainWindow,
                                                           clinic: Clinic) -> None:
    from driving import in_modal

    from ptdoc.domain import NoteType
    from ptdoc.ui.new_session import NewSessionDialog

    for weeks_ago in range(9, 0, -1):  # nine treatment days: today is the tenth
        clinic.complete_draft("pt", TODAY - dt.timedelta(days=3 * weeks_ago))
    shown: dict[str, str] = {}

    def proposed(dialog) -> None:
        assert isinstance(dialog, NewSessionDialog)
        pick_patient(qtbot, dialog)
        shown.update(type=dialog.note_type.currentText(), why=dialog.note_reason.text())
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), proposed)
    assert shown["type"] == "Progress report" and "treatment day 10" in shown["why"]

    report = clinic.complete_draft("pt", TODAY)
    pt = clinic.as_("pt")
    pt.save_draft(replace(report, note_type=NoteType.PROGRESS_REPORT, assessment=(
        "Sit to stand improved from 3 to 5 repetitions without hands; stairs still need a "
        "rail. Goals progressing; skilled care continues for strength and balance.")))
    sign(pt, report.id or 0)
    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), proposed)
    assert shown["type"] == "Daily", shown
    assert "Treatment day 1 since the last progress report" in shown["why"]


def test_a_progress_report_must_state_progress_toward_the_goals(
        qtbot, window: MainWindow, clinic: Clinic) -> None:

    from ptdoc.domain import NoteType

    clinic.as_("pt").revise_episode(clinic.episode.id or 0, "progress report", goals=(
        "STG: ascend 12 stairs reciprocally with one rail in 3 weeks",
        "LTG: walk 1,000 ft on uneven ground without a device in 8 weeks"))
    for weeks_ago in range(9, 0, -1):
        clinic.complete_draft("pt", TODAY - dt.timedelta(days=3 * weeks_ago))

    editor = start_proposed_note(qtbot, window)
    assert editor.session.note_type == NoteType.PROGRESS_REPORT
    step(qtbot, editor, 3)

    def assess(text: str) -> list[str]:
        press(qtbot, Qt.Key.Key_S, ALT)
        box = QApplication.focusWidget()
        assert box is editor.steps[2].assessment
        qtbot.keyClick(box, Qt.Key.Key_A, CTRL)
        qtbot.keyClicks(box, text)
        qtbot.keyClick(box, Qt.Key.Key_Tab)
        assert editor.session.assessment == text
        return flag_texts(editor)

    flags = assess(".")
    assert any("Blocker: The progress report's assessment is 1 word ('.'): a reviewer expects "
               "progress toward each goal" in t for t in flags), flags
    flags = assess("Patient is doing well overall and tolerating the treatment.")
    assert not any("assessment is" in t for t in flags)
    assert any("Warning: The progress report's assessment mentions none of the plan's goals"
               in t for t in flags), flags
    flags = assess("Stairs: 12 reciprocally with a rail (STG met). Walks 400 ft on grass, "
                   "LTG progressing; skilled care continues for balance.")
    assert not any("progress report's assessment" in t for t in flags), flags


def test_smaller_things_on_the_keys(qtbot, window: MainWindow, clinic: Clinic,
                                    artifacts) -> None:
    from driving import in_modal

    from ptdoc.ui.new_session import NewSessionDialog

    pta_visit(clinic, TODAY - dt.timedelta(days=3))
    for weeks_ago in range(9, 1, -1):  # with the PTA's visit, today is treatment day 10
        clinic.complete_draft("pt", TODAY - dt.timedelta(days=3 * weeks_ago + 1))
    shown: dict[str, str] = {}

    # the line under the note type follows the type chosen
    def start_daily(dialog) -> None:
        assert isinstance(dialog, NewSessionDialog)
        pick_patient(qtbot, dialog)
        shown.update(type=dialog.note_type.currentText(), why=dialog.note_reason.text())
        press(qtbot, Qt.Key.Key_T, ALT)
        assert dialog.note_type.hasFocus()
        qtbot.keyClick(dialog.note_type, Qt.Key.Key_Home)
        shown.update(chosen=dialog.note_type.currentText(), now=dialog.note_reason.text())
        qtbot.wait(20)  # the layout settles as between two key presses
        dialog.grab().save(str(artifacts / "new-session-type-chosen.png"))
        qtbot.keyClick(dialog.note_type, Qt.Key.Key_Return, CTRL)

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), start_daily)
    assert shown["type"] == "Progress report" and shown["why"].startswith("Progress report:")
    assert shown["chosen"] == "Daily"
    assert shown["now"].startswith("Daily chosen instead of the proposed progress report.")
    editor = window.editor
    assert editor is not None

    # the flowsheet's Today column shows "carried forward" whole
    step(qtbot, editor, 3)
    alt_click(qtbot, Qt.Key.Key_Y, lambda: bool(editor.session.exercises))
    table = editor.steps[2].table
    cell = table.visualRect(table.model().index(0, COLUMN["change"]))
    assert table.fontMetrics().horizontalAdvance("carried forward") < cell.width() - 4

    # Sign: Alt+W, then Enter goes to the first blocker's field at once
    step(qtbot, editor, 6)
    sign_step = editor.steps[5]
    press(qtbot, Qt.Key.Key_W, ALT)
    assert sign_step.blockers.hasFocus() and sign_step.blockers.currentRow() == 0
    window.grab().save(str(artifacts / "sign-first-blocker-current.png"))
    first = sign_step.blockers.item(0).text()
    qtbot.keyClick(sign_step.blockers, Qt.Key.Key_Return)
    assert editor.current != 5, first


def test_the_progress_report_on_paper(clinic: Clinic, artifacts) -> None:
    from decimal import Decimal

    from test_daily_note import flat, look, pdf_pages

    from ptdoc.domain import LoadUnit, NoteType, ServiceLine

    pt = clinic.as_("pt")
    draft = pt.new_session(clinic.patient.id or 0, TODAY, clinic.episode.id,
                           NoteType.PROGRESS_REPORT)
    rows = (ExerciseEntry("Knee extension stretch (prone hang)", sets=3, hold_seconds=60,
                          minutes=10),
            ExerciseEntry("Sit to stand", sets=2, reps=8, minutes=8, load=Decimal(4),
                          load_unit=LoadUnit.LB),
            ExerciseEntry("Heel slides", reps=21, minutes=5),
            *(ExerciseEntry(f"Step ups {i}", sets=2, reps=10, minutes=1) for i in range(9)))
    pt.save_draft(replace(
        draft, exercises=rows, total_treatment_minutes=40, time_in=dt.time(9),
        time_out=dt.time(9, 40), patient_response="Pain 2/10 before, 1/10 after.",
        assessment=("Knee flexion 105 degrees, stairs with one rail; progressing toward each "
                    "goal, skilled care continues for strength."),
        home_program="Reviewed. " * 300,
        services=(ServiceLine("97110", 32, 2, ("GP",)),)))
    pdf = pt.note_pdf(draft.id or 0)
    look(pdf, artifacts, "progress-report-paper")
    pages = [flat(text) for text in pdf_pages(pdf)]
    text = " ".join(pages)
    assert "Physical therapy progress report" in text and "report note" not in text
    assert "Service Minutes Units" in text and "ptdoc's words" not in text
    # sets and reps one way: "3 sets", "2 x 8", "21 reps", never "3 x -" or "2x8"
    assert "3 sets, hold 60 s" in text and "2 x 8" in text and "21 reps" in text
    assert "x -" not in text and "2x8" not in text
    # no row has a response of its own: no empty Response column
    assert "Response" not in text
    # the billing table and its sentences on one page
    billing = [i for i, page in enumerate(pages) if "Total timed minutes" in page]
    units = [i for i, page in enumerate(pages) if "97110 GP: PT service under a PT plan" in page
             and "32 timed minutes = 2 units" in page]
    assert billing and billing == units, (billing, units)
