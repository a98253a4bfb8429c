"""Patients, plans of care and appointments in the window, driven by keyboard and mouse as the
front desk and the therapists do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conftest import TODAY, Clinic
from driving import PaperOut, in_modal, main_window
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_editor import assert_unique_alt_keys

from ptdoc.domain import NoteType, Sex
from ptdoc.ui.appointment import AppointmentDialog
from ptdoc.ui.episode_form import EpisodeDialog
from ptdoc.ui.new_session import NewSessionDialog
from ptdoc.ui.patient_form import PatientDialog

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
NEXT_VISIT = TODAY + dt.timedelta(days=4)


def press(qtbot, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key, modifiers)


def alt_click(qtbot, key, done) -> None:
    """Alt+letter of a button: it clicks as an animated click, so wait until ``done()``."""
    press(qtbot, key, ALT)
    qtbot.waitUntil(done)


def type_in(qtbot, alt_key, text: str) -> None:
    """Alt+letter to the field, select what is there, type."""
    press(qtbot, alt_key, ALT)
    press(qtbot, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(QApplication.focusWidget(), text)


def shots(artifacts: Path) -> Path:
    folder = artifacts / "patients"
    folder.mkdir(exist_ok=True)
    return folder


def test_register_plan_book_and_document_a_new_patient(qtbot, clinic: Clinic, artifacts: Path,
                                                       monkeypatch, tmp_path: Path):
    folder = shots(artifacts)
    window = main_window(qtbot, clinic.as_("pt"))
    seen: dict[str, object] = {}

    # 1. Register by keyboard: a refused date first, then the duplicate question.
    def register(dialog) -> None:
        assert isinstance(dialog, PatientDialog) and dialog.first.hasFocus()
        assert_unique_alt_keys(dialog, "new patient")
        qtbot.keyClicks(dialog.first, "Ann")
        press(qtbot, Qt.Key.Key_Tab)
        qtbot.keyClicks(QApplication.focusWidget(), "Lee")
        type_in(qtbot, Qt.Key.Key_B, "1950-13-04")
        error = dialog.errors["date_of_birth"]
        alt_click(qtbot, Qt.Key.Key_S, error.isVisible)
        assert error.isVisible() and "YYYY-MM-DD" in error.text() and "1950-13-04" in error.text()
        assert (dialog.first.text(), dialog.born.text()) == ("Ann", "1950-13-04")  # kept
        type_in(qtbot, Qt.Key.Key_B, "1950-03-04")
        press(qtbot, Qt.Key.Key_X, ALT)
        press(qtbot, Qt.Key.Key_Down)
        type_in(qtbot, Qt.Key.Key_H, "555-0100")
        press(qtbot, Qt.Key.Key_P, ALT)
        press(qtbot, Qt.Key.Key_Down)
        type_in(qtbot, Qt.Key.Key_E, "1EG4TE5MK73")
        alt_click(qtbot, Qt.Key.Key_S, dialog.duplicate_box.isVisible)
        assert dialog.duplicate_box.isVisible() and not error.isVisible()
        assert "MRN-1" in dialog.duplicate_text.text()
        assert clinic.store.patients.count() == 1  # nothing saved before the answer
        dialog.grab().save(str(folder / "register-duplicate.png"))
        seen["dialog"] = dialog
        # a namesake born the same day: save anyway
        alt_click(qtbot, Qt.Key.Key_A, lambda: not dialog.isVisible())

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL | SHIFT), register)
    new = seen["dialog"].saved
    assert new is not None and new.mrn != "MRN-1" and new.id != clinic.patient.id
    assert (new.sex, new.phone, new.payer_id, new.member_id) == (
        Sex.FEMALE, "555-0100", clinic.payer.id, "1EG4TE5MK73")
    assert window.patient_view is not None  # the new patient's page
    alt_click(qtbot, Qt.Key.Key_B, lambda: window.pages.currentWidget() is window.day_page)

    # 2. Their page from the search.
    press(qtbot, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.search, new.mrn)
    press(qtbot, Qt.Key.Key_Return)
    page = window.patient_view
    assert page is not None and page.patient.id == new.id
    assert new.mrn in page.header.text() and "1EG4TE5MK73" in page.header.text()
    assert "none booked" in page.appointment.text()
    assert_unique_alt_keys(window, "patient page")

    # 3. A plan of care as a PT: a diagnosis found by words, goals, frequency.
    def plan(dialog) -> None:
        assert isinstance(dialog, EpisodeDialog) and not dialog.read_only
        assert_unique_alt_keys(dialog, "new plan of care")
        type_in(qtbot, Qt.Key.Key_R, "osteoarthritis right knee")
        press(qtbot, Qt.Key.Key_Return)
        assert dialog.codes() == ["M17.11"]
        press(qtbot, Qt.Key.Key_G, ALT)
        qtbot.keyClicks(dialog.goals, "STG: stairs with one rail in 2 weeks")
        qtbot.keyClick(dialog.goals, Qt.Key.Key_Return)
        qtbot.keyClicks(dialog.goals, "LTG: walk 1 mile in 8 weeks")
        type_in(qtbot, Qt.Key.Key_F, "2x/week")
        type_in(qtbot, Qt.Key.Key_U, "8 weeks")
        type_in(qtbot, Qt.Key.Key_P, "Dr. Ada Park")
        type_in(qtbot, Qt.Key.Key_N, "1234567890")  # a wrong check digit
        alt_click(qtbot, Qt.Key.Key_S, dialog.errors["physician_npi"].isVisible)
        assert dialog.isVisible()
        assert dialog.codes() == ["M17.11"] and "LTG" in dialog.goals.toPlainText()
        type_in(qtbot, Qt.Key.Key_N, "1234567893")
        dialog.grab().save(str(folder / "plan-of-care-new.png"))
        alt_click(qtbot, Qt.Key.Key_S, lambda: not dialog.isVisible())

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, ALT), plan)
    (episode,) = clinic.store.episodes.for_patient(new.id)
    assert episode.diagnoses == ("M17.11",) and episode.goals == (
        "STG: stairs with one rail in 2 weeks", "LTG: walk 1 mile in 8 weeks")
    assert (episode.frequency, episode.duration, episode.physician_npi) == (
        "2x/week", "8 weeks", "1234567893")
    assert "M17.11" in page.episodes.item(0).text()

    # 4. Certify it: the physician signed today, through eight weeks, order on file.
    def certify(dialog) -> None:
        assert dialog.dates["certified_on"].hasFocus()
        qtbot.keyClicks(dialog.dates["certified_on"], TODAY.isoformat())
        type_in(qtbot, Qt.Key.Key_H, (TODAY + dt.timedelta(days=56)).isoformat())
        alt_click(qtbot, Qt.Key.Key_O, dialog.order.isChecked)
        alt_click(qtbot, Qt.Key.Key_S, lambda: not dialog.isVisible())

    press(qtbot, Qt.Key.Key_C, ALT)
    assert page.episodes.hasFocus()
    in_modal(lambda: press(qtbot, Qt.Key.Key_Return), certify)
    episode = clinic.store.episodes.get(episode.id)
    assert (episode.certified_on, episode.order_on_file) == (TODAY, True)
    assert [c.action for c in clinic.as_("pt").episode_history(episode.id)] == [
        "create", "certify"]
    assert "certified" in page.episodes.item(0).text()

    # 5. Today's appointment at 09:30 with the PT.
    def book(dialog, day: dt.date, time: str) -> None:
        assert isinstance(dialog, AppointmentDialog) and dialog.time.hasFocus()
        assert_unique_alt_keys(dialog, "appointment")
        type_in(qtbot, Qt.Key.Key_T, time)
        type_in(qtbot, Qt.Key.Key_D, day.isoformat())
        alt_click(qtbot, Qt.Key.Key_B, lambda: not dialog.isVisible())

    in_modal(lambda: press(qtbot, Qt.Key.Key_A, ALT), lambda d: book(d, TODAY, "09:30"))
    assert f"{TODAY} 09:30" in page.appointment.text() and "PT User" in page.appointment.text()
    window.grab().save(str(folder / "patient-page.png"))

    # 6. The day view: expected, not documented.
    alt_click(qtbot, Qt.Key.Key_B, lambda: window.pages.currentWidget() is window.day_page)
    expected = [window.expected.item(i).text() for i in range(window.expected.count())]
    assert [t for t in expected if new.mrn in t] == [
        f"09:30  Lee, Ann · MRN {new.mrn} · born 1950-03-04 · with PT User, PT"]
    window.grab().save(str(folder / "day-expected.png"))

    # 7. An evaluation for them: from the expected list to their page, then Ctrl+N.
    press(qtbot, Qt.Key.Key_X, ALT)
    assert window.expected.hasFocus()
    press(qtbot, Qt.Key.Key_Return)
    assert window.patient_view is not None and window.patient_view.patient.id == new.id

    def evaluation(dialog) -> None:
        assert isinstance(dialog, NewSessionDialog)
        assert dialog.results.currentItem().text().startswith(f"Lee, Ann · MRN {new.mrn}")
        press(qtbot, Qt.Key.Key_T, ALT)
        press(qtbot, Qt.Key.Key_Down)
        assert dialog.note_type.currentData() == NoteType.EVALUATION.value
        press(qtbot, Qt.Key.Key_Return, CTRL)

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), evaluation)
    editor = window.editor
    assert editor is not None and editor.session.patient_id == new.id
    assert editor.session.note_type == NoteType.EVALUATION

    # 8. The next visit, booked from the Sign step.
    press(qtbot, Qt.Key.Key_6, CTRL)
    sign_step = editor.steps[5]
    assert sign_step.next_visit.text() == "Next appointment: none booked"
    in_modal(lambda: press(qtbot, Qt.Key.Key_V, ALT), lambda d: book(d, NEXT_VISIT, "10:00"))
    assert f"{NEXT_VISIT} 10:00 with PT User, PT" in sign_step.next_visit.text()
    editor.grab().save(str(folder / "sign-next-visit.png"))
    press(qtbot, Qt.Key.Key_W, CTRL)
    page = window.patient_view
    assert window.pages.currentWidget() is page and page.visits_model.rowCount() == 1
    assert page.visits_model.row_at(0).note_type == NoteType.EVALUATION
    alt_click(qtbot, Qt.Key.Key_B, lambda: window.pages.currentWidget() is window.day_page)
    assert not any(new.mrn in window.expected.item(i).text()
                   for i in range(window.expected.count()))  # documented now
    window.close()

    # 9. The front desk's summary prints the next appointment.
    desk = main_window(qtbot, clinic.as_("desk"))
    out = PaperOut(monkeypatch, tmp_path)
    in_modal(lambda: qtbot.keyClick(desk.table, Qt.Key.Key_P, CTRL),
             lambda preview: qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton))
    (saved,) = out.saved
    text = " ".join(p.extract_text() for p in PdfReader(saved).pages)
    assert new.mrn in text and f"{NEXT_VISIT} 10:00" in " ".join(text.split())
    desk.close()


def test_a_pta_sees_the_plan_of_care_read_only(qtbot, clinic: Clinic, artifacts: Path):
    window = main_window(qtbot, clinic.as_("pta"))
    press(qtbot, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.search, "Lee")
    press(qtbot, Qt.Key.Key_Return)
    page = window.patient_view
    assert page is not None and not page.new_episode_button.isVisible()
    before = clinic.store.episodes.get(clinic.episode.id)

    def look(dialog) -> None:
        assert isinstance(dialog, EpisodeDialog) and dialog.read_only
        assert "read-only" in dialog.windowTitle() and not dialog.save_button.isVisible()
        assert_unique_alt_keys(dialog, "plan of care, read-only")
        type_in(qtbot, Qt.Key.Key_F, "5x/week")
        assert dialog.frequency.text() == ""  # read-only: nothing typed lands
        press(qtbot, Qt.Key.Key_S, ALT)  # no Save button: nothing happens
        qtbot.wait(50)
        assert dialog.isVisible()
        history = [dialog.history.item(i).text() for i in range(dialog.history.count())]
        assert len(history) == 1 and "create" in history[0] and "M17.11" in history[0]
        dialog.grab().save(str(shots(artifacts) / "plan-of-care-pta.png"))

    press(qtbot, Qt.Key.Key_C, ALT)
    in_modal(lambda: press(qtbot, Qt.Key.Key_Return), look)
    assert clinic.store.episodes.get(clinic.episode.id) == before
    window.close()


def test_the_front_desk_registers_but_sees_no_plan_of_care(qtbot, clinic: Clinic,
                                                            artifacts: Path):
    from PySide6.QtWidgets import QLabel

    clinic.complete_draft("pt", TODAY)  # a visit on the page
    window = main_window(qtbot, clinic.as_("desk"))
    press(qtbot, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.search, "MRN-1")
    press(qtbot, Qt.Key.Key_Return)
    page = window.patient_view
    assert not page.episodes.isVisible() and not page.open_episode_button.isVisible()
    assert page.edit_button.isEnabled() and page.appointment_button.isEnabled()
    assert not page.session_button.isEnabled()
    # the visits do not promise Enter to the front desk; Enter on one says why it stays
    assert page.findChild(QLabel, "visits_label").text() == "&Visits:"
    assert page.visits_model.rowCount() == 1
    page.visits.setFocus()
    page.visits.setCurrentIndex(page.visits_model.index(0, 1))
    press(qtbot, Qt.Key.Key_Return)
    assert window.editor is None and window.pages.currentWidget() is page
    said = window.statusBar().currentMessage()
    assert "may not" in said and "clinical notes" in said, said
    window.grab().save(str(artifacts / "desk-patient-page.png"))

    def correct(dialog) -> None:
        assert dialog.first.text() == "Ann"
        type_in(qtbot, Qt.Key.Key_H, "555-0199")
        alt_click(qtbot, Qt.Key.Key_S, lambda: not dialog.isVisible())

    in_modal(lambda: press(qtbot, Qt.Key.Key_E, ALT), correct)
    assert clinic.store.patients.get(clinic.patient.id).phone == "555-0199"
    assert "555-0199" in page.header.text()
    window.close()
