"""The therapist's flow, driven through the real window with the keyboard (offscreen)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import PASSWORD, TODAY, Clinic, sign
from driving import in_modal, main_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QTabBar,
    QWidget,
)

from ptdoc.domain import ExerciseChange, ServiceLine, SessionStatus
from ptdoc.errors import RecordLocked
from ptdoc.store import Store
from ptdoc.ui.addendum import AddendumDialog
from ptdoc.ui.exercise_table import COLUMN
from ptdoc.ui.login import LoginDialog
from ptdoc.ui.main_window import MainWindow
from ptdoc.ui.new_session import NewSessionDialog
from ptdoc.ui.pdf_preview import PdfPreview
from ptdoc.ui.progression import ProgressionDialog
from ptdoc.ui.session_editor import SessionEditor

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def window(qtbot, clinic: Clinic) -> Iterator[MainWindow]:
    win = main_window(qtbot, clinic.as_("pt"))
    yield win
    win.close()


def start_session(qtbot, window: MainWindow) -> SessionEditor:
    """Ctrl+N's dialog, driven by keyboard: find the patient, Enter, start."""
    dialog = NewSessionDialog(window.workspace, window.day, None, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClicks(dialog.search, "Lee")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    assert dialog.results.hasFocus() and dialog.results.currentItem() is not None
    qtbot.keyClick(dialog.results, Qt.Key.Key_Return)
    assert dialog.date.hasFocus() and dialog.session is None
    qtbot.keyClick(dialog.date, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.session is not None
    dialog.close()
    window.activateWindow()  # as the window manager does when a dialog closes
    qtbot.waitUntil(window.isActiveWindow)
    window.open_session(dialog.session.id)
    assert window.editor is not None
    return window.editor


def type_cell(qtbot, table, text: str) -> None:
    """Type into the current cell as a person would, then Tab to the next one."""
    target = QApplication.focusWidget()
    if target is None or (target is not table and not table.isAncestorOf(target)):
        table.setFocus()
        target = table
    if target is table:  # not editing yet: the first key opens the cell's editor
        qtbot.keyClick(table, text[0])
        target, text = QApplication.focusWidget(), text[1:]
    if text:
        qtbot.keyClicks(target, text)
    qtbot.keyClick(target, Qt.Key.Key_Tab)


def key_target() -> QWidget:
    """Where a key goes: an open popup (a completer's list) first, else the focus."""
    target = QApplication.activePopupWidget() or QApplication.focusWidget()
    assert target is not None, "no widget has the keyboard focus"
    return target


def press(qtbot, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed where the keyboard focus is, as a person would press it."""
    qtbot.keyClick(key_target(), key, modifiers)


def type_text(qtbot, text: str) -> None:
    """Typed one key at a time where each key goes (a popup may open while typing)."""
    for char in text:
        qtbot.keyClick(key_target(), char)


def flag_codes(editor: SessionEditor) -> set[str]:
    return {f.code for f in editor.review.findings}


def test_a_session_from_start_to_signature_and_addendum(qtbot, window: MainWindow,
                                                        clinic: Clinic, artifacts: Path):
    editor = start_session(qtbot, window)
    visit, supervision, exercises, codes, _review, sign = editor.steps
    assert editor.session.diagnoses == ("M17.11",)  # from the episode
    assert "DIAGNOSIS_MISSING" not in flag_codes(editor)

    # 1. Visit: add a second diagnosis by searching words
    qtbot.keyClicks(visit.search, "muscle weakness generalized")
    qtbot.keyClick(visit.search, Qt.Key.Key_Return)
    assert "M62.81" in editor.session.diagnoses

    # 2. Supervision: the signed-in PT delivered it
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert editor.current == 1
    assert supervision.delivered.currentData() == clinic.users["pt"].id

    # 3. Exercises: one from the library, one typed freely with no parameters
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(exercises.add_box, "Sit to stand")
    qtbot.keyClick(exercises.add_box, Qt.Key.Key_Return)
    assert editor.session.exercises[0].sets == 3  # library defaults
    exercises.add_box.setFocus()
    type_text(qtbot, "Ball toss in tandem")
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # a new exercise
    assert "EXERCISE_PARAMS_MISSING" in flag_codes(editor)

    # the blocker in the flags panel jumps to its cell; fix it with the keyboard
    flags = editor.flags.list
    row = next(i for i in range(flags.count())
               if "Ball toss" in flags.item(i).text())
    flags.setCurrentRow(row)
    flags.setFocus()
    qtbot.keyClick(flags, Qt.Key.Key_Return)
    table = exercises.table
    assert editor.current == 2 and table.hasFocus()
    assert (table.currentIndex().row(), table.currentIndex().column()) == (1, COLUMN["sets"])
    type_cell(qtbot, table, "2")
    type_cell(qtbot, table, "15")
    assert editor.session.exercises[1].reps == 15
    assert "EXERCISE_PARAMS_MISSING" not in flag_codes(editor)

    # minutes of each exercise, cues, and the session's response and assessment
    for i, minutes in ((0, "12"), (1, "11")):
        editor.focus_field(f"exercises[{i}].minutes")
        type_cell(qtbot, table, minutes)
    editor.focus_field("exercises[0].cues")
    type_cell(qtbot, table, "verbal")
    exercises.response.setFocus()
    qtbot.keyClicks(exercises.response, "Pain 3/10 before, 2/10 after; mild fatigue.")
    exercises.assessment.setFocus()
    assert editor.session.patient_response.startswith("Pain 3/10")
    qtbot.keyClicks(exercises.assessment, "Better sit-to-stand control with verbal cues.")
    codes.setFocus()

    # 4. Time and codes: minutes from the exercises, total time, units computed live
    editor.go(3)
    qtbot.mouseClick(codes.fill_button, Qt.MouseButton.LeftButton)
    assert [(s.code, s.minutes) for s in editor.session.services] == [("97110", 23)]
    codes.total.setFocus()
    qtbot.keyClicks(codes.total, "35")
    qtbot.keyClick(codes.total, Qt.Key.Key_Tab)
    line = editor.session.services[0]
    assert (line.units, line.modifiers) == (2, ("GP",))
    assert "23 timed minutes = 2 units" in codes.explanation.text()

    # 5-6. Review is clean; sign with the keyboard
    editor.go(4)
    assert not editor.review.blockers and not editor.review.open_warnings
    editor.go(5)
    assert sign.sign_button.isEnabled()
    sign.secret.setFocus()
    qtbot.keyClicks(sign.secret, PASSWORD)
    qtbot.keyClick(sign.secret, Qt.Key.Key_Return)
    assert editor.session.status == SessionStatus.SIGNED
    assert editor.read_only and "signed" in editor.banner.text()
    window.grab().save(str(artifacts / "editor-signed.png"))

    # the note is locked: the table refuses edits and so does the service
    assert not exercises.model.setData(exercises.model.index(0, COLUMN["sets"]), "5")
    with pytest.raises(RecordLocked):
        window.workspace.save_draft(replace(editor.session, status=SessionStatus.DRAFT,
                                            signature=None, assessment="changed"))

    # an addendum, through the form, by keyboard
    def fill_addendum(dialog) -> None:
        qtbot.keyClicks(dialog.reason_box, "Late call from patient")
        qtbot.keyClick(dialog.reason_box, Qt.Key.Key_Tab)
        qtbot.keyClicks(dialog.text_box, "Patient reports no soreness the next day.")
        qtbot.keyClick(dialog.text_box, Qt.Key.Key_Tab)
        qtbot.keyClicks(dialog.secret_box, PASSWORD)
        qtbot.keyClick(dialog.secret_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert dialog.result() == QDialog.DialogCode.Accepted

    dialog = in_modal(lambda: qtbot.mouseClick(sign.addendum_button, Qt.MouseButton.LeftButton),
                      fill_addendum)
    assert isinstance(dialog, AddendumDialog)
    stored = clinic.store.sessions.get(editor.session.id)
    assert [a.reason for a in stored.addenda] == ["Late call from patient"]
    assert "Late call" in sign.addenda.item(0).text()


def popup_rows(box: QLineEdit) -> list[str]:
    """The exercises listed under Add exercise for what is typed (none while hidden)."""
    matches = box.matches
    if not matches.isVisible():
        return []
    return [matches.item(i).text() for i in range(matches.count())]


def test_enter_takes_the_offered_exercise_and_new_ones_are_explicit(qtbot, window: MainWindow):
    editor = start_session(qtbot, window)
    exercises = editor.steps[2]
    box = exercises.add_box
    press(qtbot, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    assert box.hasFocus()

    # "sit to" + Enter: the list offers "Sit to stand", and Enter takes it
    type_text(qtbot, "sit to")
    qtbot.waitUntil(lambda: popup_rows(box) == ["Sit to stand"])
    press(qtbot, Qt.Key.Key_Return)
    added = editor.session.exercises[-1]
    assert (added.name, added.sets) == ("Sit to stand", 3)  # with the library's defaults
    assert not box.matches.isVisible() and box.text() == ""

    # a highlighted completion wins over the first one
    box.setFocus()
    type_text(qtbot, "step u")
    qtbot.waitUntil(lambda: popup_rows(box) == ["Step ups, forward", "Step ups, lateral"])
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Enter)
    assert [e.name for e in editor.session.exercises] == ["Sit to stand", "Step ups, lateral"]

    # a name the library does not know: Enter says how to add it, and adds nothing
    box.setFocus()
    type_text(qtbot, "Ball toss")
    press(qtbot, Qt.Key.Key_Return)
    assert len(editor.session.exercises) == 2
    assert 'No exercise in the library matches "Ball toss"' in exercises.table_error.text()
    assert "Shift+Enter" in exercises.table_error.text()
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert editor.session.exercises[-1].name == "Ball toss"
    assert editor.session.exercises[-1].sets is None and not exercises.table_error.isVisible()

    # or by the labelled button, even while the list offers something else
    box.setFocus()
    type_text(qtbot, "sit to")
    qtbot.waitUntil(lambda: popup_rows(box) == ["Sit to stand"])
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.mouseClick(exercises.new_button, Qt.MouseButton.LeftButton)
    assert editor.session.exercises[-1].name == "sit to"
    assert exercises.new_button.text().replace("&", "") == "Add as new"
    assert "new exercise" in exercises.new_button.toolTip()


def test_nonsense_is_refused_at_the_field_and_kept(qtbot, window: MainWindow):
    editor = start_session(qtbot, window)
    _visit, _sup, exercises, codes, _review, _sign = editor.steps
    editor.go(2)
    qtbot.keyClicks(exercises.add_box, "Leg press")
    qtbot.keyClick(exercises.add_box, Qt.Key.Key_Return)
    before = editor.session
    editor.focus_field("exercises[0].reps")
    type_cell(qtbot, exercises.table, "-3")
    index = exercises.model.index(0, COLUMN["reps"])
    assert index.data() == "-3"  # what was typed stays, in red, with the reason
    assert "Reps must be a number from 1 to 300" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert "Row 1: Reps must be" in exercises.table_error.text()
    editor.focus_field("exercises[0].load")
    type_cell(qtbot, exercises.table, "900")
    assert "Load must be a number from 0.1 to 500 lb" in exercises.table_error.text()
    assert editor.session.exercises == before.exercises  # nothing stored
    editor.go(3)
    codes.total.setFocus()
    qtbot.keyClicks(codes.total, "lots")
    qtbot.keyClick(codes.total, Qt.Key.Key_Tab)
    error = codes.errors["total_treatment_minutes"]
    assert error.isVisible() and "Total treatment time must be a number" in error.text()
    assert codes.total.text() == "lots"
    assert editor.session.total_treatment_minutes is None


def test_flags_follow_the_keyboard_before_the_field_is_left(qtbot, window: MainWindow):
    editor = start_session(qtbot, window)
    editor.go(3)
    codes = editor.steps[3]
    editor.apply(lambda s: replace(s, services=(ServiceLine("97110", 20),)), "services")
    assert "TOTAL_TIME_INCONSISTENT" in flag_codes(editor)
    codes.total.setFocus()
    qtbot.keyClicks(codes.total, "30")
    panel = [editor.flags.list.item(i).text() for i in range(editor.flags.list.count())]
    assert not any("Total treatment time" in text for text in panel)
    assert editor.session.total_treatment_minutes is None  # not saved until Tab
    qtbot.keyClick(codes.total, Qt.Key.Key_Tab)
    assert editor.session.total_treatment_minutes == 30
    assert "Saved" in editor.status_label.text()


def test_carry_forward_makes_each_row_a_choice(qtbot, window: MainWindow, clinic: Clinic):
    earlier = clinic.complete_draft("pt", TODAY - dt.timedelta(days=3))
    sign(clinic.as_("pt"), earlier.id)
    editor = start_session(qtbot, window)
    exercises = editor.steps[2]
    editor.go(2)
    qtbot.mouseClick(exercises.carry_button, Qt.MouseButton.LeftButton)
    rows = editor.session.exercises
    assert [e.name for e in rows] == ["Sit to stand", "Step ups, forward"]
    # dosing and minutes come along (the billed minutes follow them); today's facts do not
    assert all(e.change == ExerciseChange.CARRIED and e.response == "" and e.pain_after is None
               for e in rows)
    assert [e.minutes for e in rows] == [e.minutes for e in earlier.exercises] == [12, 11]
    assert [(s.code, s.minutes) for s in editor.session.services] == [("97110", 23)]
    assert "CARRY_FORWARD_UNCONFIRMED" in flag_codes(editor)
    table = exercises.table
    assert table.currentIndex().column() == COLUMN["change"]
    exercises.model.setData(exercises.model.index(0, COLUMN["change"]), "as before")
    exercises.model.setData(exercises.model.index(1, COLUMN["change"]), "progressed")
    assert editor.session.exercises[1].change == ExerciseChange.PROGRESSED
    assert table.currentIndex().column() == COLUMN["modification"]  # asks for the why
    assert "CARRY_FORWARD_UNCONFIRMED" not in flag_codes(editor)
    assert "MODIFICATION_REASON_MISSING" in flag_codes(editor)


def test_delete_and_undo_a_row(qtbot, window: MainWindow):
    editor = start_session(qtbot, window)
    exercises = editor.steps[2]
    editor.go(2)
    for name in ("Quad sets", "Heel slides"):
        exercises.add_box.setFocus()
        qtbot.keyClicks(exercises.add_box, name)
        qtbot.keyClick(exercises.add_box, Qt.Key.Key_Return)
    table = exercises.table
    table.setCurrentIndex(exercises.model.index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert [e.name for e in editor.session.exercises] == ["Heel slides"]
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [e.name for e in editor.session.exercises] == ["Quad sets", "Heel slides"]
    table.setCurrentIndex(exercises.model.index(1, 0))
    qtbot.keyClick(table, Qt.Key.Key_Return)  # Enter on the last row: add the next one
    assert exercises.add_box.hasFocus()


def test_a_tie_is_the_clinicians_choice(qtbot, window: MainWindow):
    editor = start_session(qtbot, window)
    codes = editor.steps[3]
    editor.go(3)
    editor.apply(lambda s: replace(s, services=(ServiceLine("97112", 7), ServiceLine("97110", 7),
                                                ServiceLine("97140", 7)),
                                   total_treatment_minutes=25), "services")
    assert codes.tie.isVisible() and codes.tie.count() == 3
    assert "tie" in codes.explanation.text()
    codes.tie.setFocus()
    codes.tie.setCurrentIndex(2)
    codes.tie.activated.emit(2)
    units = {s.code: s.units for s in editor.session.services}
    assert units == {"97112": 0, "97110": 0, "97140": 1}
    assert "UNITS_MINUTES_MISMATCH" not in flag_codes(editor)


def test_warning_needs_a_written_reason(qtbot, window: MainWindow, clinic: Clinic):
    other = clinic.complete_draft("pt", TODAY)  # a second session the same day: a warning
    editor = start_session(qtbot, window)
    assert other.id != editor.session.id
    review = editor.steps[4]
    editor.go(4)
    warning = next(f for f in editor.review.open_warnings if f.code == "DUPLICATE_SESSION")
    tree = review.tree
    group = tree.topLevelItem(1)
    item = next(group.child(i) for i in range(group.childCount())
                if group.child(i).data(0, Qt.ItemDataRole.UserRole) == warning)
    tree.setCurrentItem(item)
    review.reason.setFocus()
    qtbot.keyClick(review.reason, Qt.Key.Key_Return)
    assert "Select a warning" not in review.errors["acknowledgements"].text()
    assert "Reason is required" in review.errors["acknowledgements"].text()
    qtbot.keyClicks(review.reason, "Second visit: the patient came back for gait training.")
    qtbot.keyClick(review.reason, Qt.Key.Key_Return)
    assert [a.code for a in editor.session.acknowledgements] == ["DUPLICATE_SESSION"]
    assert warning not in editor.review.open_warnings


def test_idle_lock_hides_patients_keeps_typing_and_switches_user(qtbot, window: MainWindow,
                                                                 clinic: Clinic):
    editor = start_session(qtbot, window)
    exercises = editor.steps[2]
    editor.go(2)
    exercises.assessment.setFocus()
    qtbot.keyClicks(exercises.assessment, "Typed just before the lock")
    window.idle.timer.setInterval(50)
    window.idle.timer.start()
    qtbot.waitUntil(lambda: window.locked, timeout=3000)
    assert not window.table.isVisible() and not editor.isVisible()
    assert not window.summaries_action.isEnabled() and not window.new_action.isEnabled()
    stored = clinic.store.sessions.get(editor.session.id)
    assert stored.assessment == "Typed just before the lock"  # saved before hiding
    form = window.lock_screen.form
    form.user_box.setCurrentIndex(form.user_box.findData("dpt"))
    qtbot.keyClicks(form.secret, PASSWORD)
    qtbot.keyClick(form.secret, Qt.Key.Key_Return)
    assert not window.locked and window.editor is None
    assert window.workspace.actor.username == "dpt"
    assert "DPT User" in window.signed_in.text()


def sign_in_on_lock_screen(qtbot, window: MainWindow, user: str) -> None:
    """The lock screen's own fields: type the user's name, Tab, the password, Enter."""
    form = window.lock_screen.form
    assert form.secret.hasFocus()
    qtbot.keyClick(form.secret, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
    assert form.user_box.hasFocus()
    qtbot.keyClicks(form.user_box, f"{user.upper()} User")
    assert form.user_box.currentData() == user
    press(qtbot, Qt.Key.Key_Tab)
    qtbot.keyClicks(form.secret, PASSWORD)
    qtbot.keyClick(form.secret, Qt.Key.Key_Return)


def test_another_user_sees_nothing_of_the_previous_one(qtbot, window: MainWindow,
                                                        clinic: Clinic):
    clinic.complete_draft("pt", TODAY - dt.timedelta(days=4))
    window.search.setFocus()
    qtbot.keyClicks(window.search, "Lee")
    assert window.patients.isVisible() and window.patients.count() == 1
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert window.patient_view is not None and "Lee, Ann" in window.patient_view.header.text()
    qtbot.keyClick(window.patient_view.visits, Qt.Key.Key_Return)
    assert window.editor is not None
    press(qtbot, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked and "Locked" in window.signed_in.text()
    sign_in_on_lock_screen(qtbot, window, "desk")
    assert not window.locked and window.editor is None
    assert window.signed_in.text().startswith("Signed in as DESK User, front desk")
    assert "PT User" not in window.signed_in.text()
    assert window.search.text() == "" and not window.patients.isVisible()
    assert window.patients.count() == 0
    assert window.summary.text().startswith("0 sessions — ")  # today's day, not the patient
    assert window.patient_view is None and window.pages.currentWidget() is window.day_page
    assert window.table.hasFocus()


def test_after_unlock_the_day_list_has_the_keyboard(qtbot, window: MainWindow, clinic: Clinic):
    clinic.complete_draft("pt", TODAY)
    press(qtbot, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    press(qtbot, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)  # the day, re-read
    window.date_edit.setFocus()
    press(qtbot, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    sign_in_on_lock_screen(qtbot, window, "dpt")
    assert QApplication.focusWidget() is window.table
    assert window.table.currentIndex().row() == 0
    press(qtbot, Qt.Key.Key_Return)  # opens the first session
    assert window.editor is not None


def test_same_user_unlocks_back_into_the_note(qtbot, window: MainWindow):
    editor = start_session(qtbot, window)
    window.lock()
    form = window.lock_screen.form
    assert form.user_box.currentData() == "pt"
    qtbot.keyClicks(form.secret, "wrong")
    qtbot.keyClick(form.secret, Qt.Key.Key_Return)
    assert window.locked and "wrong password" in form.message.text()
    form.secret.clear()
    qtbot.keyClicks(form.secret, PASSWORD)
    qtbot.keyClick(form.secret, Qt.Key.Key_Return)
    assert window.pages.currentWidget() is editor


def test_front_desk_cannot_open_or_start_clinical_notes(qtbot, clinic: Clinic):
    draft = clinic.complete_draft("pt", TODAY)
    win = MainWindow(clinic.as_("desk"))
    qtbot.addWidget(win)
    win.show()
    assert not win.new_button.isEnabled()
    win.table.setCurrentIndex(win.model.index(0, 0))
    win.open_selected()
    assert win.editor is None
    assert "may not open clinical notes" in win.notice.text()
    assert clinic.store.sessions.get(draft.id) == draft
    win.close()


def test_pta_sees_a_pt_draft_read_only(qtbot, clinic: Clinic):
    draft = clinic.complete_draft("pt", TODAY)
    win = MainWindow(clinic.as_("pta"))
    qtbot.addWidget(win)
    win.show()
    win.open_session(draft.id)
    assert win.editor is not None and win.editor.read_only
    assert not win.editor.apply(lambda s: replace(s, assessment="PTA edit"), "assessment")
    assert clinic.store.sessions.get(draft.id).assessment == draft.assessment
    win.close()


def test_patient_search_opens_the_patients_page(qtbot, window: MainWindow, clinic: Clinic):
    older = clinic.complete_draft("pt", TODAY - dt.timedelta(days=5))
    clinic.as_("pt").save_draft(replace(older, exercises=()))  # a gap that blocks signing
    clinic.complete_draft("pt", TODAY - dt.timedelta(days=2))
    window.search.setFocus()
    qtbot.keyClicks(window.search, "1950-03-04")
    assert window.patients.count() == 1
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    page = window.patient_view
    assert window.pages.currentWidget() is page and page.visits.hasFocus()
    dates = [page.visits_model.row_at(r).date_of_service for r in range(2)]
    assert page.visits_model.rowCount() == 2 and dates[0] > dates[1]  # newest first
    # each draft's status as the day view says it, its open flags counted
    newer_status, older_status = page.visits_model.column_texts(page.visits_model.COL_STATUS)
    assert newer_status == "Awaiting signature"
    assert older_status.startswith("Open flags (") and "blocker" in older_status
    qtbot.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    assert window.patient_view is None and window.pages.currentWidget() is window.day_page


def test_find_patient_takes_an_mrn_in_any_case_and_says_when_nobody_matches(
        qtbot, window: MainWindow, clinic: Clinic, artifacts: Path):
    def results() -> list[str]:
        assert window.patients.isVisible()
        return [window.patients.item(r).text() for r in range(window.patients.count())]

    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search.hasFocus()
    qtbot.keyClicks(window.search, "mrn-1")  # the MRN as typed in a hurry: MRN-1
    assert results() == ["Lee, Ann · MRN MRN-1 · born 1950-03-04"]
    for typed in ("wal", "ee", "mrn-"):  # no name begins so; an MRN is whole
        window.search.selectAll()
        qtbot.keyClicks(window.search, typed)
        assert results() == [f"No patient matches '{typed}' (names match from their "
                             "beginning; MRN and date of birth whole)"], typed
    window.grab().save(str(artifacts / "find-patient-no-match.png"))
    # the line is read, not opened: Enter leaves the day view where it is
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert window.pages.currentWidget() is window.day_page and window.patient_view is None
    assert not window.patients.item(0).flags() & Qt.ItemFlag.ItemIsSelectable
    window.search.selectAll()
    qtbot.keyClicks(window.search, "MRN-1")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert window.patient_view is not None and window.patient_view.patient.mrn == "MRN-1"


def test_progression_chart(qtbot, clinic: Clinic, artifacts: Path):
    for days in (9, 6, 3):
        draft = clinic.complete_draft("pt", TODAY - dt.timedelta(days=days))
        ex = draft.exercises[0]
        sign(clinic.as_("pt"), clinic.as_("pt").save_draft(replace(draft, exercises=(
            replace(ex, reps=8 + days, load=ex.load + 10 - days), *draft.exercises[1:]))).id)
    dialog = ProgressionDialog(clinic.as_("pt"), clinic.patient, "Sit to stand")
    qtbot.addWidget(dialog)
    dialog.show()
    assert len(dialog.chart.rows) == 3
    assert "3 x 17" in dialog.table.text()  # sets and reps as on paper
    dialog.grab().save(str(artifacts / "progression.png"))


def test_models_are_well_behaved(qtmodeltester, qtbot, window: MainWindow):
    editor = start_session(qtbot, window)
    editor.apply(lambda s: replace(s, services=(ServiceLine("97110", 20),)), "services")
    qtmodeltester.check(editor.steps[2].model)
    qtmodeltester.check(editor.steps[3].model)
    qtmodeltester.check(window.model)


def test_every_input_of_every_step_has_a_name(qtbot, window: MainWindow):
    editor = start_session(qtbot, window)
    for i in range(len(editor.steps)):
        editor.go(i)
        named = {label.buddy() for label in window.findChildren(QLabel) if label.buddy()}
        for widget in editor.steps[i].findChildren(QWidget):
            if widget.focusPolicy() == Qt.FocusPolicy.NoFocus or \
                    not widget.isVisibleTo(window) or widget.objectName().startswith("qt_"):
                continue
            if isinstance(widget, QAbstractButton):
                assert widget.text() or widget.accessibleName(), widget
            elif isinstance(widget, QLineEdit | QListWidget) or widget.objectName():
                parent = widget.parentWidget()
                assert widget in named or widget.accessibleName() or \
                    (parent is not None and parent in named), \
                    (editor.steps[i].title, widget.objectName(), type(widget).__name__)


def test_screenshots_of_each_step(qtbot, window: MainWindow, clinic: Clinic, artifacts: Path):
    earlier = clinic.complete_draft("pt", TODAY - dt.timedelta(days=3))
    sign(clinic.as_("pt"), earlier.id)
    editor = start_session(qtbot, window)
    editor.steps[2]._carry_forward()
    for i, step in enumerate(editor.steps):
        editor.go(i)
        path = artifacts / f"step-{i + 1}-{step.title.lower().replace(' ', '-')}.png"
        assert window.grab().save(str(path))
    assert window.width() <= 1366


KILL_CHILD = textwrap.dedent("""
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    from ptdoc.store import Store
    from ptdoc.services import Workspace
    from ptdoc.ui.session_editor import SessionEditor
    app = QApplication([])
    store = Store.open(__import__("ptdoc.paths").paths.db_target(sys.argv[1]))
    ws = Workspace(store, store.users.by_username("pt"))
    editor = SessionEditor(ws, store.sessions.get(int(sys.argv[2])))
    editor.show()
    editor.activateWindow()
    from PySide6.QtTest import QTest
    QTest.qWaitForWindowActive(editor)
    box = editor.steps[2].assessment
    box.setFocus()
    box.setPlainText("Typed in the window, then the power went out")
    box.clearFocus()               # leaving the field saves it
    app.processEvents()
    print("left the field", flush=True)
    time.sleep(60)
""")


@pytest.mark.slow
def test_killed_window_keeps_the_draft(clinic: Clinic, db_target):
    draft = clinic.complete_draft("pt", TODAY)
    clinic.store.close()
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    child = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(db_target), str(draft.id)],
                             stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout.readline().strip() == "left the field"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    with Store.open(db_target) as store:
        assert store.sessions.get(draft.id).assessment == \
            "Typed in the window, then the power went out"


def mnemonics(window: QWidget) -> list[str]:
    """The Alt+letter keys of everything visible in a window at once: labels with buddies,
    buttons and check boxes, group boxes, tabs, and the menu bar of a main window."""
    texts = [label.text() for label in window.findChildren(QLabel)
             if label.buddy() is not None and label.isVisibleTo(window)]
    texts += [b.text() for b in window.findChildren(QAbstractButton) if b.isVisibleTo(window)]
    texts += [g.title() for g in window.findChildren(QGroupBox) if g.isVisibleTo(window)]
    for tabs in window.findChildren(QTabBar):
        if tabs.isVisibleTo(window):
            texts += [tabs.tabText(i) for i in range(tabs.count()) if tabs.isTabVisible(i)]
    if isinstance(window, QMainWindow):
        texts += [a.text() for a in window.menuBar().actions() if a.isVisible()]
    found = []
    for text in texts:
        match = re.search(r"&([^&])", text.replace("&&", ""))
        if match:
            found.append(match.group(1).lower())
    return found


def assert_unique_alt_keys(window: QWidget, where: str) -> None:
    keys = mnemonics(window)
    clashes = sorted({k for k in keys if keys.count(k) > 1})
    assert not clashes, (where, clashes, sorted(keys))


def test_every_alt_key_is_unique_on_every_page(qtbot, window: MainWindow, clinic: Clinic):
    """Each step is checked together with the editor's own buttons and the main window's
    menu bar; then the lock screen and every dialog."""
    assert_unique_alt_keys(window, "day view")
    draft = clinic.complete_draft("pt", TODAY)
    sign(clinic.as_("pt"), draft.id)
    editor = start_session(qtbot, window)
    for i in range(len(editor.steps)):
        editor.go(i)
        assert editor.close_button.isVisibleTo(window) and editor.next_button.isVisibleTo(window)
        assert_unique_alt_keys(window, editor.steps[i].title)
    window.open_session(draft.id)
    window.editor.go(5)
    assert window.editor.steps[5].addendum_button.isVisibleTo(window)
    assert_unique_alt_keys(window, "Sign, once signed")
    window.lock()
    assert_unique_alt_keys(window, "lock screen")
    for dialog in (NewSessionDialog(window.workspace, window.day, None, window),
                   AddendumDialog(window),
                   ProgressionDialog(window.workspace, clinic.patient, "Sit to stand", window),
                   PdfPreview(window.workspace.note_pdf(draft.id), "Note", "note.pdf",
                              lambda _purpose: None, window),
                   LoginDialog(clinic.store, "Test Clinic")):
        qtbot.addWidget(dialog)
        assert_unique_alt_keys(dialog, type(dialog).__name__)


def test_alt_c_on_time_and_codes_goes_to_the_billed_codes(qtbot, window: MainWindow):
    editor = start_session(qtbot, window)
    codes = editor.steps[3]
    press(qtbot, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert editor.current == 3
    codes.total.setFocus()
    press(qtbot, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    assert window.editor is editor and editor.isVisible()
    assert codes.table.hasFocus()
    press(qtbot, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)  # C&lose note
    qtbot.waitUntil(lambda: window.editor is None)  # a mnemonic clicks as an animated click


def test_addendum_by_keyboard(qtbot, window: MainWindow, clinic: Clinic):
    draft = clinic.complete_draft("pt", TODAY)
    sign(clinic.as_("pt"), draft.id)
    press(qtbot, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    press(qtbot, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)  # the day, re-read
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    editor = window.editor
    assert editor is not None and editor.read_only
    press(qtbot, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    sign_step = editor.steps[5]

    def refused_then_saved_by_ctrl_enter(dialog) -> None:
        assert dialog.kind_box.hasFocus()
        press(qtbot, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
        assert dialog.reason_box.hasFocus()
        qtbot.keyClicks(dialog.reason_box, "Phone call")
        press(qtbot, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
        assert dialog.text_box.hasFocus()
        press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)  # Save, not an "s"
        qtbot.waitUntil(lambda: dialog.message.text() != "")  # a mnemonic clicks animated
        assert dialog.isVisible() and dialog.text_box.toPlainText() == ""
        assert dialog.message.text().startswith("Text is required")
        qtbot.keyClicks(dialog.text_box, "No soreness the next day.")
        assert dialog.message.text() == ""  # gone as soon as both are filled
        # an addendum is signed: a wrong password is refused as at signing, the form stays
        press(qtbot, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
        assert dialog.secret_box.hasFocus()
        qtbot.keyClicks(dialog.secret_box, "not-my-password")
        press(qtbot, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
        # the words signing says to a wrong password
        assert dialog.isVisible() and dialog.message.text() == "Wrong password/PIN for PT User, PT."
        assert dialog.secret_box.text() == "" and dialog.secret_box.hasFocus()
        assert not clinic.store.sessions.get(draft.id).addenda
        qtbot.keyClicks(dialog.secret_box, PASSWORD)
        press(qtbot, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
        assert dialog.result() == QDialog.DialogCode.Accepted

    press_alt_a = lambda: press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)  # noqa: E731
    in_modal(press_alt_a, refused_then_saved_by_ctrl_enter)

    def saved_by_alt_s_from_the_text(dialog) -> None:
        qtbot.keyClicks(dialog.kind_box, "Correction")
        press(qtbot, Qt.Key.Key_Tab)
        qtbot.keyClicks(dialog.reason_box, "Wrong side")
        press(qtbot, Qt.Key.Key_Tab)
        qtbot.keyClicks(dialog.text_box, "Left knee, not right.")
        press(qtbot, Qt.Key.Key_Tab)
        qtbot.keyClicks(dialog.secret_box, PASSWORD)
        press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: not dialog.isVisible())
        assert dialog.result() == QDialog.DialogCode.Accepted
        assert dialog.text_box.toPlainText() == "Left knee, not right."

    in_modal(press_alt_a, saved_by_alt_s_from_the_text)
    stored = clinic.store.sessions.get(draft.id)
    assert [(a.kind.value, a.reason, a.text) for a in stored.addenda] == [
        ("amendment", "Phone call", "No soreness the next day."),
        ("correction", "Wrong side", "Left knee, not right.")]
    assert sign_step.addenda.count() == 2


def test_ctrl_digit_opens_a_step_from_any_field(qtbot, window: MainWindow):
    editor = start_session(qtbot, window)
    editor.steps[0].time_in.setFocus()
    press(qtbot, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert editor.current == 2
    press(qtbot, Qt.Key.Key_F8)
    assert editor.flags.list.hasFocus()


def test_shortcuts_still_work_once_signed(qtbot, window: MainWindow, clinic: Clinic):
    draft = clinic.complete_draft("pt", TODAY)
    window.open_session(draft.id)
    editor = window.editor
    editor.go(5)
    sign = editor.steps[5]
    sign.secret.setFocus()
    qtbot.keyClicks(sign.secret, PASSWORD)
    qtbot.keyClick(sign.secret, Qt.Key.Key_Return)
    assert editor.session.signature is not None and not sign.sign_button.isVisible()
    assert QApplication.focusWidget() is not None
    press(qtbot, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert window.editor is None and window.table.hasFocus()
