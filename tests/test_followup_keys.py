"""The follow-up visit by keyboard, as a therapist trying it from the README meets it: refused
times, minutes longer than the visit, the progress report that falls due, the flowsheet's name
column, the clock past midnight and one judgement per save. Driven through the real window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from conftest import PASSWORD, Clinic
from driving import ALT, CTRL, main_window, pick_patient
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from test_what_you_sign import open_from_day, press, step

from ptdoc.domain import SessionStatus
from ptdoc.ui.main_window import MainWindow
from ptdoc.ui.session_editor import SessionEditor


@pytest.fixture
def window(qtbot, clinic: Clinic) -> Iterator[MainWindow]:
    win = main_window(qtbot, clinic.as_("pt"))
    yield win
    win.close()


def type_time(qtbot, mnemonic: Qt.Key, text: str) -> QLineEdit:
    """Alt+I or Alt+O to the time field, select what is there, type, Tab out."""
    press(qtbot, mnemonic, ALT)
    box = QApplication.focusWidget()
    assert isinstance(box, QLineEdit)
    qtbot.keyClick(box, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Tab)
    return box


def flag_texts(editor: SessionEditor) -> list[str]:
    flags = editor.flags.list
    return [flags.item(i).text() for i in range(flags.count())]


def test_a_refused_time_stays_typed_with_its_reason_under_its_own_field(
        qtbot, window: MainWindow, clinic: Clinic) -> None:
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id or 0)
    visit = editor.steps[0]
    assert editor.session.time_in == dt.time(18)  # the note was started at the visit

    # "now" is the time in again: it shows as the clock time at once, red, with the forms
    box = type_time(qtbot, Qt.Key.Key_O, "now")
    assert box is visit.time_out and box.text() == "18:00"
    assert editor.session.time_out is None  # nothing saved behind it
    reason = visit.errors["time_out"].text()
    assert "Time out 18:00 must be after time in (18:00)" in reason
    assert "1000, 10a, 2:30p" in reason
    assert not visit.errors["time_in"].isVisible()
    assert any("Time out: '18:00' is not saved" in t for t in flag_texts(editor))

    # Review lists it, and the Sign step refuses: no password field to type into
    step(qtbot, editor, 5)
    blockers = editor.steps[4].tree.topLevelItem(0)
    assert any("Time out: '18:00' is not saved" in blockers.child(i).text(0)
               for i in range(blockers.childCount()))
    step(qtbot, editor, 6)
    sign_step = editor.steps[5]
    shown = [sign_step.blockers.item(i).text() for i in range(sign_step.blockers.count())]
    assert any("Time out: '18:00' is not saved" in t for t in shown)
    assert not sign_step.secret.isEnabled() and not sign_step.sign_button.isEnabled()

    # a time in after the time out: its reason goes under time in, not time out
    step(qtbot, editor, 1)
    type_time(qtbot, Qt.Key.Key_O, "1900")
    assert editor.session.time_out == dt.time(19) and visit.time_out.text() == "19:00"
    assert not visit.errors["time_out"].isVisible()
    type_time(qtbot, Qt.Key.Key_I, "1930")
    assert visit.time_in.text() == "1930" and editor.session.time_in == dt.time(18)
    assert "Time in '1930' (19:30) must be before time out (19:00)" in \
        visit.errors["time_in"].text()
    assert not visit.errors["time_out"].isVisible()
    # a later time out makes the typed time in fit: it is saved, and both reasons go
    type_time(qtbot, Qt.Key.Key_O, "8p")
    assert (editor.session.time_in, editor.session.time_out) == (dt.time(19, 30), dt.time(20))
    assert (visit.time_in.text(), visit.time_out.text()) == ("19:30", "20:00")
    assert not visit.errors["time_in"].isVisible() and not editor.open_refusals()

    # and the note can be signed again
    step(qtbot, editor, 6)
    assert sign_step.secret.isEnabled()
    qtbot.keyClicks(sign_step.secret, PASSWORD)
    qtbot.keyClick(sign_step.secret, Qt.Key.Key_Return)
    assert editor.session.status == SessionStatus.SIGNED


def test_minutes_longer_than_the_visit_are_said_once_on_the_total(
        qtbot, window: MainWindow, clinic: Clinic) -> None:
    draft = clinic.complete_draft("pt")  # rows of 12 and 11 minutes, 23 billed
    editor = open_from_day(qtbot, window, draft.id or 0)
    visit = editor.steps[0]
    type_time(qtbot, Qt.Key.Key_O, "18:10")  # a ten-minute visit
    assert visit.time_out.text() == "18:10" and editor.session.time_out is None
    reason = visit.errors["time_out"].text()
    assert reason.count("longer than the visit") == 1
    assert "Sit to stand 12 min, Step ups, forward 11 min, billed 97110 23 min" in reason
    assert sum("longer than the visit" in t for t in flag_texts(editor)) == 1
    codes = editor.steps[3]
    assert not codes.errors["total_treatment_minutes"].isVisible()
    assert not editor.steps[2].table_error.isVisible()


@pytest.fixture
def judgements() -> Iterator[list[int | None]]:
    """Each time the rules judge a session: a rule registered like ptdoc's own, counting."""
    from ptdoc.rules.engine import REGISTRY, rule

    judged: list[int | None] = []

    @rule("TEST_JUDGEMENT_COUNTER")
    def counter(ctx):
        judged.append(ctx.session.id)
        return ()

    yield judged
    REGISTRY.pop("TEST_JUDGEMENT_COUNTER")


def test_saving_a_draft_judges_it_once(qtbot, window: MainWindow, clinic: Clinic,
                                       judgements: list[int | None]) -> None:
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id or 0)
    step(qtbot, editor, 3)
    press(qtbot, Qt.Key.Key_R, ALT)
    response = editor.steps[2].response
    assert response.hasFocus()
    qtbot.keyClick(response, Qt.Key.Key_End, CTRL)
    qtbot.keyClicks(response, " No flare.")  # the flags follow each key (not saved)
    assert len(judgements) >= len(" No flare.")
    judgements.clear()
    qtbot.keyClick(response, Qt.Key.Key_Tab)  # leaving the field saves it
    assert editor.session.patient_response.endswith("No flare.")
    assert judgements == [draft.id]
    # a time, which reads back as the time it was taken for, is judged once too
    step(qtbot, editor, 1)
    press(qtbot, Qt.Key.Key_O, ALT)
    qtbot.keyClicks(editor.steps[0].time_out, "1830")
    judgements.clear()
    qtbot.keyClick(editor.steps[0].time_out, Qt.Key.Key_Tab)
    assert editor.session.time_out == dt.time(18, 30)
    assert judgements == [draft.id]


def test_past_midnight_the_next_day_and_a_new_session_follow_the_clinics_clock(
        qtbot, clinic: Clinic) -> None:
    from ptdoc.domain import Clinic as ClinicRecord
    from ptdoc.services import Workspace
    from ptdoc.ui.new_session import NewSessionDialog

    clinic.admin.save_clinic(ClinicRecord("Clock PT", time_zone="America/Chicago"))
    evening = dt.datetime(2026, 11, 27, 5, 50, tzinfo=dt.UTC)  # 23:50 on the 26th in Chicago
    clock = [evening]
    ws = Workspace(clinic.store, clinic.users["pt"], now=lambda: clock[0], codes=clinic.codes)
    window = main_window(qtbot, ws)
    assert window.day == dt.date(2026, 11, 26)
    press(qtbot, Qt.Key.Key_Right, ALT)  # no later day yet
    assert window.day == dt.date(2026, 11, 26)

    clock[0] = evening + dt.timedelta(minutes=20)  # 00:10 on the 27th
    window.table.setFocus()
    press(qtbot, Qt.Key.Key_Right, ALT)
    assert window.day == dt.date(2026, 11, 27)
    assert window.summary.text().startswith("0 sessions — Friday 27 November 2026")
    press(qtbot, Qt.Key.Key_Left, ALT)
    assert window.day == dt.date(2026, 11, 26)

    # Ctrl+N opened a minute before midnight, the date chosen after it
    clock[0] = evening + dt.timedelta(minutes=9)  # 23:59
    started: list[int | None] = []

    def past_midnight(dialog) -> None:
        assert isinstance(dialog, NewSessionDialog)
        pick_patient(qtbot, dialog)  # to the date
        clock[0] = evening + dt.timedelta(minutes=11)  # 00:01 on the 27th
        qtbot.keyClick(dialog.date, Qt.Key.Key_D, ALT)
        assert dialog.date.hasFocus()
        qtbot.keyClick(dialog.date, Qt.Key.Key_End)  # the day of the month
        qtbot.keyClick(dialog.date, Qt.Key.Key_Up)  # the day after
        assert dialog.date.date().toPython() == dt.date(2026, 11, 27)
        qtbot.keyClick(dialog.date, Qt.Key.Key_Return, CTRL)
        started.append(dialog.session.id if dialog.session else None)

    from driving import in_modal

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), past_midnight)
    assert started and started[0] is not None
    assert clinic.store.sessions.get(started[0]).date_of_service == dt.date(2026, 11, 27)
    window.close()


def test_a_patient_due_a_progress_report_is_proposed_one_and_its_plan_is_on_the_keys(
        qtbot, window: MainWindow, clinic: Clinic) -> None:
    from conftest import TODAY
    from driving import in_modal

    from ptdoc.domain import NoteType
    from ptdoc.ui.new_session import NewSessionDialog

    for weeks_ago in range(9, 0, -1):  # nine treatment days under the plan since it began
        clinic.complete_draft("pt", TODAY - dt.timedelta(days=3 * weeks_ago))
    shown: dict[str, str] = {}

    def start(dialog) -> None:
        assert isinstance(dialog, NewSessionDialog)
        pick_patient(qtbot, dialog)
        shown.update(type=dialog.note_type.currentText(), why=dialog.note_reason.text())
        qtbot.keyClick(dialog.date, Qt.Key.Key_Return, CTRL)

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), start)
    assert shown["type"] == "Progress report"
    assert "treatment day 10 since the plan of care began (2026-10-01)" in shown["why"]
    assert "Medicare Part B requires it" in shown["why"]
    editor = window.editor
    assert editor is not None and editor.session.note_type == NoteType.PROGRESS_REPORT
    assert "PROGRESS_REPORT_DUE" not in {f.code for f in editor.review.findings}

    # the plan of care is beside the visit, its goals one key away
    visit = editor.steps[0]
    qtbot.waitUntil(visit.plan.isVisible)
    assert visit.plan.title() == "Plan of care (updated with this progress report)"
    assert "Alt+S" in visit.plan.note.text()
    assert "This progress report is written on treatment day 10" in visit.episode_info.text()
    from test_editor import assert_unique_alt_keys

    assert_unique_alt_keys(window, "a progress report's Visit step")
    press(qtbot, Qt.Key.Key_S, ALT)
    assert visit.plan.goals.hasFocus()
    qtbot.keyClick(visit.plan.goals, Qt.Key.Key_End, CTRL)
    qtbot.keyClick(visit.plan.goals, Qt.Key.Key_Return)
    qtbot.keyClicks(visit.plan.goals, "LTG: stairs reciprocal in 4 weeks")
    qtbot.keyClick(visit.plan.goals, Qt.Key.Key_Tab)  # leaving the field saves it to the plan
    episode = clinic.store.episodes.get(clinic.episode.id or 0)
    assert episode.goals[-1] == "LTG: stairs reciprocal in 4 weeks"
    history = window.workspace.episode_history(episode.id or 0)
    assert history[-1].action == "progress report"

    # written as a daily note after all, the Visit step says a report is due
    press(qtbot, Qt.Key.Key_T, ALT)
    assert visit.note_type.hasFocus()
    qtbot.keyClick(visit.note_type, Qt.Key.Key_Home)
    assert editor.session.note_type == NoteType.DAILY
    assert "A progress report is due: choose it as the Note type (Alt+T)" in \
        visit.episode_info.text()
    assert not visit.plan.isVisible()

    # a PTA is told the report is due and who writes it
    pta_type, why = clinic.as_("pta").proposed_note_type(clinic.patient.id or 0, TODAY,
                                                         clinic.episode.id)
    assert pta_type == NoteType.DAILY and "the supervising PT writes it" in why


def test_after_a_progression_the_name_stays_beside_its_reason_and_six_rows_show(
        qtbot, clinic: Clinic, artifacts) -> None:
    from conftest import TODAY, sign
    from PySide6.QtCore import QPoint

    from ptdoc.domain import ExerciseChange
    from ptdoc.ui.exercise_table import COLUMN

    earlier = clinic.complete_draft("pt", TODAY - dt.timedelta(days=3))
    sign(clinic.as_("pt"), earlier.id or 0)
    # the window as it opens on a 1366x768 screen (its frame and the panel take the rest)
    window = main_window(qtbot, clinic.as_("pt"), (1366, 708))
    from test_editor import start_session

    editor = start_session(qtbot, window)
    exercises = editor.steps[2]
    step(qtbot, editor, 3)
    qtbot.mouseClick(exercises.carry_button, Qt.MouseButton.LeftButton)
    press(qtbot, Qt.Key.Key_A, ALT)
    qtbot.keyClicks(exercises.add_box, "sit to stand 6 lb")
    qtbot.keyClick(exercises.add_box, Qt.Key.Key_Return)
    table = exercises.table
    assert editor.session.exercises[0].change == ExerciseChange.PROGRESSED
    assert table.hasFocus() and table.currentIndex().column() == COLUMN["modification_reason"]
    qtbot.wait(20)  # the layout settles as it does between two key presses

    # the Reason cell is in sight, and so is the name of its row, beside it
    cell = table.visualRect(table.currentIndex())
    assert table.viewport().rect().contains(cell)
    frozen = table.frozen
    assert frozen.isVisible() and cell.left() >= frozen.width() - 2
    first_row = frozen.visualRect(frozen.model().index(0, 0)).center().y()
    name_at = frozen.indexAt(QPoint(10, first_row))
    assert name_at.row() == 0 and name_at.data() == "Sit to stand"
    # with the proposed sentence showing under it, the flowsheet still shows six rows
    assert exercises.proposal_row.isVisible()
    assert table.viewport().height() >= 6 * table.verticalHeader().defaultSectionSize()
    window.grab().save(str(artifacts / "follow-up-exercises-progressed.png"))

    # typing the reason, then Home back to the name: the frozen copy steps aside
    qtbot.keyClick(table, "n")  # the first key opens the cell's editor
    qtbot.keyClicks(QApplication.focusWidget(), "o pain at 4 lb")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.session.exercises[0].modification_reason == "no pain at 4 lb")
    qtbot.keyClick(table, Qt.Key.Key_Home)
    assert table.currentIndex().column() == 0 and not frozen.isVisible()
    window.close()
