"""A therapist's second look: a second note the same day, the chart of signed visits, carried
minutes and the billing line, messages that follow the values they name, times as the clock
shows them, and the progress report's words. Driven through the real window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
from conftest import TODAY, Clinic, sign
from driving import CTRL, in_modal, main_window, pick_patient
from PySide6.QtCore import Qt
from test_followup_keys import flag_texts
from test_patient_screens import alt_click
from test_what_you_sign import press, step

from ptdoc.domain import ExerciseChange
from ptdoc.ui.main_window import MainWindow
from ptdoc.ui.new_session import NewSessionDialog


@pytest.fixture
def window(qtbot, clinic: Clinic) -> Iterator[MainWindow]:
    win = main_window(qtbot, clinic.as_("dpt"))
    yield win
    win.close()


def with_load(clinic: Clinic, day: dt.date, pounds: str, username: str = "dpt"):
    """A visit of ``day`` whose sit to stand was done with ``pounds`` lb (still a draft)."""
    draft = clinic.complete_draft(username, day)
    rows = tuple(replace(e, load=Decimal(pounds)) if e.name == "Sit to stand" else e
                 for e in draft.exercises)
    return clinic.as_(username).save_draft(replace(draft, exercises=rows))


def test_a_second_note_the_same_day_carries_the_visit_signed_this_morning(
        qtbot, window: MainWindow, clinic: Clinic, artifacts) -> None:
    ws = clinic.as_("dpt")
    sign(ws, with_load(clinic, TODAY - dt.timedelta(days=2), "4").id or 0)
    this_morning = with_load(clinic, TODAY, "6")
    sign(ws, this_morning.id or 0)
    shown: dict[str, str] = {}

    def start(dialog) -> None:
        assert isinstance(dialog, NewSessionDialog)
        pick_patient(qtbot, dialog)
        shown["same_day"] = dialog.same_day.text() if dialog.same_day.isVisible() else ""
        dialog.grab().save(str(artifacts / "new-session-second-visit-same-day.png"))
        qtbot.keyClick(dialog.date, Qt.Key.Key_Return, CTRL)

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), start)
    assert "Already signed this day: daily note at 18:00" in shown["same_day"]
    assert "unusual" in shown["same_day"]
    editor = window.editor
    assert editor is not None and editor.session.id != this_morning.id
    window.activateWindow()  # as the window manager does when a dialog closes
    qtbot.waitUntil(window.isActiveWindow)
    exercises = editor.steps[2]
    step(qtbot, editor, 3)
    alt_click(qtbot, Qt.Key.Key_Y, lambda: bool(editor.session.exercises))
    assert exercises.carried_note.text().startswith(f"Carried from {TODAY.day} {TODAY:%b}")
    carried = {e.name: e for e in editor.session.exercises}
    assert carried["Sit to stand"].load == Decimal("6")
    assert carried["Sit to stand"].change == ExerciseChange.CARRIED

    # the note itself is never its own source, even once signed
    again = ws.carry_forward(clinic.store.sessions.get(this_morning.id or 0))
    assert again.source.id != this_morning.id and again.source.date_of_service < TODAY


def test_a_new_session_on_a_day_without_a_signed_note_says_nothing_of_it(
        qtbot, window: MainWindow, clinic: Clinic) -> None:
    with_load(clinic, TODAY, "6")  # a draft today is not a signed visit
    dialog = NewSessionDialog(window.workspace, TODAY, clinic.patient, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.same_day.isVisible() and dialog.same_day.text() == ""


def test_the_progression_chart_plots_signed_visits_and_the_note_itself(
        qtbot, window: MainWindow, clinic: Clinic, tmp_path) -> None:
    from pypdf import PdfReader

    ws = clinic.as_("dpt")
    sign(ws, with_load(clinic, TODAY - dt.timedelta(days=6), "4").id or 0)
    with_load(clinic, TODAY - dt.timedelta(days=3), "9")  # someone's unfinished draft
    note = with_load(clinic, TODAY, "6")
    rows = tuple(replace(e, change=ExerciseChange.PROGRESSED, modification_reason="tolerated 4")
                 if e.name == "Sit to stand" else e for e in note.exercises)
    note = sign(ws, ws.save_draft(replace(note, exercises=rows)).id or 0)
    history = ws.exercise_history(clinic.patient.id or 0, "Sit to stand", note.id)
    assert [(h["date"], Decimal(str(h["load"]))) for h in history] == [
        ((TODAY - dt.timedelta(days=6)).isoformat(), 4), (TODAY.isoformat(), 6)]
    pdf = tmp_path / "note.pdf"
    pdf.write_bytes(ws.note_pdf(note.id or 0))
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert f"{TODAY - dt.timedelta(days=6):%m-%d}" in text and "max 6 lb" in text
    assert f"{TODAY - dt.timedelta(days=3):%m-%d}" not in text and "max 9" not in text


@pytest.mark.parametrize("fix", ["minutes", "time out"])
def test_carried_minutes_longer_than_the_visit_bill_once_corrected(
        qtbot, window: MainWindow, clinic: Clinic, fix: str) -> None:
    from test_editor import start_session
    from test_followup_keys import flag_texts, type_time
    from test_visit_round2 import pta_visit
    from test_what_you_sign import type_in_cell

    from ptdoc.ui.exercise_table import COLUMN

    pta_visit(clinic, TODAY - dt.timedelta(days=3), minutes=(16, 15))
    editor = start_session(qtbot, window)
    type_time(qtbot, Qt.Key.Key_I, "2:00p")
    type_time(qtbot, Qt.Key.Key_O, "2:30p")
    step(qtbot, editor, 3)
    alt_click(qtbot, Qt.Key.Key_Y, lambda: bool(editor.session.exercises))
    assert not [s for s in editor.session.services if s.code == "97110"]
    assert any("longer than the visit" in t for t in flag_texts(editor))
    if fix == "minutes":  # the second row took 14 minutes today: 30 in all, the visit's length
        type_in_cell(qtbot, editor.steps[2].table, 1, COLUMN["minutes"], "14")
        billed = 30
    else:  # the visit ended at 14:35
        step(qtbot, editor, 1)
        type_time(qtbot, Qt.Key.Key_O, "2:35p")
        billed = 31
    qtbot.waitUntil(lambda: any(s.code == "97110" for s in editor.session.services))
    assert [(s.code, s.minutes) for s in editor.session.services] == [("97110", billed)]
    assert not any("longer than the visit" in t for t in flag_texts(editor))
    stored = clinic.store.sessions.get(editor.session.id or 0)
    assert [(s.code, s.minutes) for s in stored.services] == [("97110", billed)]
    step(qtbot, editor, 4)
    shown = editor.steps[3].model
    assert shown.index(0, 0).data() == "97110"


def late_window(qtbot, clinic: Clinic) -> MainWindow:
    """The DPT's window at 22:52, for a visit in the late evening."""
    from ptdoc.services import Workspace

    ws = Workspace(clinic.store, clinic.users["dpt"], today=lambda: TODAY,
                   now=lambda: dt.datetime(2026, 11, 26, 22, 52, tzinfo=dt.UTC),
                   codes=clinic.codes)
    return main_window(qtbot, ws)


def test_a_refused_time_out_names_the_time_in_as_it_is_now_and_shows_as_the_clock_once_accepted(
        qtbot, clinic: Clinic, artifacts) -> None:
    from test_followup_keys import type_time
    from test_what_you_sign import open_from_day

    window = late_window(qtbot, clinic)
    editor = open_from_day(qtbot, window, clinic.complete_draft("dpt").id or 0)
    visit = editor.steps[0]
    type_time(qtbot, Qt.Key.Key_I, "22:50")
    type_time(qtbot, Qt.Key.Key_O, "1030p")
    assert "must be after time in (22:50)" in visit.errors["time_out"].text()
    type_time(qtbot, Qt.Key.Key_I, "2240")  # still after it: both refused, each says why
    assert "must be after time in (22:40)" in visit.errors["time_out"].text()
    assert "(22:50)" not in visit.errors["time_out"].text()
    assert sum("(22:50)" in t for t in flag_texts(editor)) == 0
    type_time(qtbot, Qt.Key.Key_I, "1000p")
    # both accepted: shown as the clock shows them, not as typed, and no reason is left
    assert (visit.time_in.text(), visit.time_out.text()) == ("22:00", "22:30")
    assert (editor.session.time_in, editor.session.time_out) == (dt.time(22), dt.time(22, 30))
    assert not visit.errors["time_out"].isVisible() and not visit.errors["time_in"].isVisible()
    visit.grab().save(str(artifacts / "visit-times-accepted.png"))
    window.close()


def test_escape_on_refused_line_minutes_takes_their_reason_from_the_total_too(
        qtbot, clinic: Clinic) -> None:
    from test_followup_keys import type_time
    from test_what_you_sign import click_cell, open_from_day, type_in_cell

    from ptdoc.ui.service_table import ServiceTableModel

    window = late_window(qtbot, clinic)
    editor = open_from_day(qtbot, window, clinic.complete_draft("dpt").id or 0)
    type_time(qtbot, Qt.Key.Key_I, "22:00")
    type_time(qtbot, Qt.Key.Key_O, "22:30")
    codes = editor.steps[3]
    step(qtbot, editor, 4)
    total = codes.errors["total_treatment_minutes"]
    type_in_cell(qtbot, codes.table, 0, ServiceTableModel.COL_MINUTES, "45")
    assert "billed 97110 45 min" in total.text() and total.isVisible()
    click_cell(qtbot, codes.table, 0, ServiceTableModel.COL_MINUTES)
    qtbot.keyClick(codes.table, Qt.Key.Key_Escape)
    assert codes.model.index(0, ServiceTableModel.COL_MINUTES).data() == "23"
    assert not total.isVisible() and "45" not in total.text()
    assert not codes.table_error.isVisible()
    assert not any("45 min" in t for t in flag_texts(editor))
    window.close()


def test_days_are_counted_since_the_evaluation_and_the_report_states_its_period(
        qtbot, window: MainWindow, clinic: Clinic, artifacts) -> None:
    from test_daily_note import flat, look, pdf_pages

    from ptdoc.domain import NoteType

    dpt = clinic.as_("dpt")
    evaluated = TODAY - dt.timedelta(days=20)
    evaluation = clinic.complete_draft("dpt", evaluated)
    dpt.save_draft(replace(evaluation, note_type=NoteType.EVALUATION))
    dpt.revise_episode(clinic.episode.id or 0, "certify", frequency="2x/week",
                       duration="8 weeks")
    clinic.complete_draft("dpt", TODAY - dt.timedelta(days=3))
    shown: dict[str, str] = {}

    def start(dialog) -> None:
        pick_patient(qtbot, dialog)
        shown["why"] = dialog.note_reason.text()
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), start)
    assert f"Treatment day 3 since the evaluation ({evaluated})" in shown["why"]
    assert "progress report" not in shown["why"].split("(one is due")[0]

    report = clinic.complete_draft("dpt")
    report = dpt.save_draft(replace(report, note_type=NoteType.PROGRESS_REPORT))
    pdf = dpt.note_pdf(report.id or 0)
    text = flat(" ".join(pdf_pages(pdf)))
    assert "2x/week for 8 weeks" in text
    assert f"Reporting period: {evaluated} (evaluation) to {TODAY}" in text
    look(pdf, artifacts, "progress-report-period")


def test_a_shoulder_progress_report_at_1366_shows_the_diagnosis_whole_and_room_to_assess(
        qtbot, clinic: Clinic, artifacts) -> None:
    from test_what_you_sign import open_from_day

    from ptdoc.domain import Episode, NoteType

    dpt = clinic.as_("dpt")
    shoulder = ("M75.41", "M25.511")
    episode = clinic.admin.add_episode(Episode(
        clinic.patient.id or 0, dt.date(2026, 10, 1), diagnoses=shoulder,
        goals=("LTG: reach overhead shelf with right arm without pain in 6 weeks",),
        certified_through=dt.date(2026, 12, 29), certified_on=dt.date(2026, 10, 6),
        physician_name="Dr. Ada Park", physician_npi="1234567893"))
    draft = clinic.complete_draft("dpt", episode=episode)
    draft = dpt.save_draft(replace(draft, note_type=NoteType.PROGRESS_REPORT,
                                   diagnoses=shoulder))
    window = main_window(qtbot, dpt, (1366, 708))
    editor = open_from_day(qtbot, window, draft.id or 0)
    qtbot.wait(20)  # the layout settles as it does between two key presses
    listing = editor.steps[0].diagnoses
    item = listing.item(0)
    assert item.text() == "M75.41  Impingement syndrome of right shoulder"
    assert item.toolTip() == item.text()
    rect = listing.visualItemRect(item)
    assert listing.viewport().rect().contains(rect)  # wrapped whole, code first
    assert rect.height() > listing.fontMetrics().lineSpacing() * 1.5
    window.grab().save(str(artifacts / "progress-report-visit-1366.png"))

    step(qtbot, editor, 3)
    qtbot.wait(20)
    exercises = editor.steps[2]
    lines = exercises.assessment.fontMetrics().lineSpacing()
    assert exercises.assessment.height() >= 6 * lines
    table = exercises.table
    assert table.viewport().height() >= 6 * table.verticalHeader().defaultSectionSize()
    window.grab().save(str(artifacts / "progress-report-exercises-1366.png"))
    window.close()
