"""Billing gaps a clinic's first day found, typed in the editor as a therapist would: the flags
panel says them, Enter on a flag goes where it is fixed, and fixing it clears it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Clinic
from driving import main_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_editor import assert_unique_alt_keys, flag_codes, start_session, type_cell, type_text
from test_patient_screens import ALT, CTRL, alt_click, press

from ptdoc.domain import NoteType
from ptdoc.ui.exercise_table import COLUMN
from ptdoc.ui.main_window import MainWindow
from ptdoc.ui.session_editor import SessionEditor


@pytest.fixture
def window(qtbot, clinic: Clinic) -> Iterator[MainWindow]:
    win = main_window(qtbot, clinic.as_("pt"))
    yield win
    win.close()


def flag_texts(editor: SessionEditor) -> list[str]:
    """What the flags panel shows, line by line."""
    flags = editor.flags.list
    return [flags.item(i).text() for i in range(flags.count())]


def enter_on_flag(qtbot, editor: SessionEditor, words: str) -> None:
    """F8 to the flags panel, the arrow keys to the flag that says ``words``, Enter."""
    press(qtbot, Qt.Key.Key_F8)
    flags = editor.flags.list
    assert flags.hasFocus()
    row = next(i for i, text in enumerate(flag_texts(editor)) if words in text)
    while flags.currentRow() != row:
        press(qtbot, Qt.Key.Key_Down if flags.currentRow() < row else Qt.Key.Key_Up)
    press(qtbot, Qt.Key.Key_Return)


def add_exercise(qtbot, window, name: str) -> None:
    """Ctrl+3 to the flowsheet, Alt+A, the exercise's name and Enter."""
    press(qtbot, Qt.Key.Key_3, CTRL)
    press(qtbot, Qt.Key.Key_A, ALT)
    type_text(qtbot, name)
    press(qtbot, Qt.Key.Key_Return)
    window.activateWindow()  # the completer's list closed
    qtbot.waitUntil(window.isActiveWindow)


def test_an_exercise_without_minutes_under_a_code_not_billed_is_named(
        qtbot, window: MainWindow, artifacts: Path):
    editor = start_session(qtbot, window)
    _visit, _supervision, exercises, codes, _review, _sign = editor.steps

    # The flowsheet: Sit to stand (97110), its minutes not typed yet.
    add_exercise(qtbot, window, "Sit to stand")
    assert [(e.name, e.code, e.minutes) for e in editor.session.exercises] == [
        ("Sit to stand", "97110", None)]

    # Time and codes: only therapeutic activities are billed, 10 minutes.
    press(qtbot, Qt.Key.Key_4, CTRL)
    press(qtbot, Qt.Key.Key_D, ALT)
    qtbot.keyClicks(QApplication.focusWidget(), "97530")
    qtbot.mouseClick(codes.add_button, Qt.MouseButton.LeftButton)
    type_cell(qtbot, codes.table, "10")
    assert [(s.code, s.minutes) for s in editor.session.services] == [("97530", 10)]

    said = [t for t in flag_texts(editor) if "Sit to stand" in t]
    assert said == ["Warning: Row 1 'Sit to stand' is coded 97110, a timed code, but has no "
                    "minutes, and no 97110 line is billed: the exercise is in the note but not "
                    "on the claim."]
    window.grab().save(str(artifacts / "flag-exercise-minutes-missing.png"))

    # Enter on the flag goes to the row's minutes; typing them turns the flag into the one
    # that counts the minutes not billed, and Fill minutes from exercises bills them.
    enter_on_flag(qtbot, editor, "Sit to stand")
    table = exercises.table
    assert editor.current == 2 and table.hasFocus()
    assert (table.currentIndex().row(), table.currentIndex().column()) == (0, COLUMN["minutes"])
    type_cell(qtbot, table, "12")
    assert "EXERCISE_MINUTES_MISSING" not in flag_codes(editor)
    assert any("12 one-on-one minutes of exercise coded 97110" in t for t in flag_texts(editor))
    press(qtbot, Qt.Key.Key_4, CTRL)
    alt_click(qtbot, Qt.Key.Key_M, lambda: len(editor.session.services) == 2)
    assert [(s.code, s.minutes) for s in editor.session.services] == [("97530", 10),
                                                                      ("97110", 12)]
    assert not {"EXERCISE_MINUTES_MISSING", "EXERCISE_CODE_NOT_BILLED"} & flag_codes(editor)


def test_an_evaluation_without_its_code_is_blocked_and_the_therapist_chooses_it(
        qtbot, window: MainWindow, artifacts: Path):
    editor = start_session(qtbot, window)
    _visit, _supervision, exercises, codes, _review, sign = editor.steps

    # Visit: this visit is an evaluation (Alt+T to the note type, Down from Daily).
    press(qtbot, Qt.Key.Key_T, ALT)
    press(qtbot, Qt.Key.Key_Down)
    assert editor.session.note_type == NoteType.EVALUATION

    # Exercises: one row; its minutes typed where its flag leads; 97110 billed from them.
    add_exercise(qtbot, window, "Sit to stand")
    enter_on_flag(qtbot, editor, "'Sit to stand' is coded 97110")
    type_cell(qtbot, exercises.table, "12")
    press(qtbot, Qt.Key.Key_4, CTRL)
    alt_click(qtbot, Qt.Key.Key_M, lambda: bool(editor.session.services))
    assert [(s.code, s.minutes) for s in editor.session.services] == [("97110", 12)]

    missing = ("Blocker: This evaluation bills no evaluation code (one of 97161-97163): the "
               "claim carries only 97110, so the evaluation's charge is lost.")
    assert missing in flag_texts(editor)
    press(qtbot, Qt.Key.Key_6, CTRL)
    assert not sign.sign_button.isEnabled()

    # Enter on the flag goes to the evaluation code, where nothing is chosen for the therapist.
    enter_on_flag(qtbot, editor, "bills no evaluation code")
    assert editor.current == 3 and codes.evaluation.hasFocus()
    assert codes.evaluation.currentText() == \
        "none billed yet: choose the complexity you documented"
    assert [codes.evaluation.itemText(i)[:5] for i in range(1, codes.evaluation.count())] == [
        "97161", "97162", "97163"]
    assert_unique_alt_keys(window, "Time and codes of an evaluation")
    window.grab().save(str(artifacts / "flag-evaluation-code-missing.png"))

    # The arrow keys choose the complexity documented: moderate, one unit, GP; a later
    # choice replaces it, never adds a second evaluation code.
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Down)
    assert [(s.code, s.minutes, s.units, s.modifiers) for s in editor.session.services] == [
        ("97162", None, 1, ("GP",)), ("97110", 12, 1, ("GP",))]
    assert missing not in flag_texts(editor)
    assert not {"EVALUATION_CODE_MISSING", "EVALUATION_CODES_CONFLICT"} & flag_codes(editor)
    press(qtbot, Qt.Key.Key_Down)
    assert [s.code for s in editor.session.services] == ["97163", "97110"]
    assert codes.evaluation.currentText() == "97163 PT evaluation, high complexity"
    window.grab().save(str(artifacts / "evaluation-code-chosen.png"))

    # A daily note shows no evaluation code to choose.
    press(qtbot, Qt.Key.Key_1, CTRL)
    press(qtbot, Qt.Key.Key_T, ALT)
    press(qtbot, Qt.Key.Key_Up)
    assert editor.session.note_type == NoteType.DAILY
    press(qtbot, Qt.Key.Key_4, CTRL)
    assert not codes.evaluation.isVisibleTo(window)
