"""A clinic's first day, by keyboard, from an empty database: set up, register a patient, their
initial evaluation with its plan of care, the next day's daily note under that plan, and the
front desk's printed summaries with the next appointment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conftest import NOW, TODAY
from driving import PaperOut, in_modal, main_window
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_editor import assert_unique_alt_keys, type_cell
from test_patient_screens import ALT, CTRL, SHIFT, alt_click, press, type_in
from test_setup import run_setup

from ptdoc.domain import ExerciseChange, NoteType, SessionStatus
from ptdoc.icd_index import IcdIndex
from ptdoc.services import Workspace
from ptdoc.store import Store
from ptdoc.ui.appointment import AppointmentDialog
from ptdoc.ui.exercise_table import COLUMN
from ptdoc.ui.login import LoginDialog
from ptdoc.ui.new_session import NewSessionDialog
from ptdoc.ui.patient_form import PatientDialog
from ptdoc.ui.setup_wizard import SetupWizard

PT_PASSWORD = "jane-password"  # the DPT made in the setup assistant (temporary)
DESK_PASSWORD = "4321"
PT_OWN, DESK_OWN = "jane-chose-this", "8765"  # what each chooses at their first sign-in


def choose_own_password(qtbot, form, own: str) -> None:
    """The administrator's password was temporary: the same form asks for one's own, twice."""
    assert form.choosing_password
    qtbot.keyClicks(form.new_password.password, own)
    qtbot.keyClick(form.new_password.password, Qt.Key.Key_Tab)
    qtbot.keyClicks(form.new_password.again, own)
    qtbot.keyClick(form.new_password.again, Qt.Key.Key_Return)


NEXT_DAY = TODAY + dt.timedelta(days=1)
LATER = TODAY + dt.timedelta(days=4)
GOALS = ("STG: stairs with one rail in 2 weeks", "LTG: walk 1 mile in 8 weeks")


def flags(editor) -> str:
    return "; ".join(f"{f.code}: {f.message}" for f in editor.review.blockers)


def book(qtbot, dialog, day: dt.date, time: str) -> None:
    assert isinstance(dialog, AppointmentDialog)
    type_in(qtbot, Qt.Key.Key_T, time)
    type_in(qtbot, Qt.Key.Key_D, day.isoformat())
    alt_click(qtbot, Qt.Key.Key_B, lambda: not dialog.isVisible())


def acknowledge_fee_warning(qtbot, editor) -> None:
    """No fee schedule was entered on the first day: the therapy-threshold warning is answered
    with a written reason on the Review step."""
    press(qtbot, Qt.Key.Key_5, CTRL)
    (warning,) = editor.review.open_warnings
    assert "fee schedule" in warning.message
    review = editor.steps[4]
    group = review.tree.topLevelItem(1)
    item = next(group.child(i) for i in range(group.childCount())
                if group.child(i).data(0, Qt.ItemDataRole.UserRole) == warning)
    review.tree.setCurrentItem(item)
    review.reason.setFocus()
    qtbot.keyClicks(review.reason, "First visits of the year: far below the threshold.")
    qtbot.keyClick(review.reason, Qt.Key.Key_Return)
    assert not editor.review.open_warnings


def sign_with_password(qtbot, editor) -> None:
    acknowledge_fee_warning(qtbot, editor)
    press(qtbot, Qt.Key.Key_6, CTRL)
    assert not editor.review.blockers, flags(editor)
    press(qtbot, Qt.Key.Key_I, ALT)
    qtbot.keyClicks(QApplication.focusWidget(), PT_OWN)
    press(qtbot, Qt.Key.Key_Return)
    assert editor.session.status == SessionStatus.SIGNED, flags(editor)


def start_note(qtbot, window, mrn: str, evaluation: bool) -> None:
    """From the patient's page (Ctrl+F, their MRN, Enter), Ctrl+N's dialog, Ctrl+Enter."""
    press(qtbot, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.search, mrn)
    press(qtbot, Qt.Key.Key_Return)
    assert window.patient_view is not None and window.patient_view.patient.mrn == mrn

    def start(dialog) -> None:
        assert isinstance(dialog, NewSessionDialog)
        assert f"MRN {mrn}" in dialog.results.currentItem().text()
        # a patient with no open plan of care comes for the initial evaluation; then daily
        expected = NoteType.EVALUATION if evaluation else NoteType.DAILY
        assert dialog.note_type.currentData() == expected.value
        press(qtbot, Qt.Key.Key_Return, CTRL)

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), start)
    assert window.editor is not None


def test_first_day_from_an_empty_database(qtbot, store: Store, icd: IcdIndex, artifacts: Path,
                                          monkeypatch, tmp_path: Path):
    folder = artifacts / "first-day"
    folder.mkdir(exist_ok=True)
    day = [TODAY]
    clock = {"today": lambda: day[0],
             "now": lambda: NOW + (dt.datetime.combine(day[0], NOW.time()) -
                                   dt.datetime.combine(TODAY, NOW.time()))}

    # 1. The setup assistant: clinic, administrator, a DPT and the front desk, Medicare.
    wizard = SetupWizard(store)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    run_setup(qtbot, wizard, artifacts, monkeypatch)
    assert {u.username for u in store.users.all()} == {"owner", "jdoe", "sfront"}
    assert store.users.count() == 3

    # 2. The PT signs in.
    login = LoginDialog(store, store.clinic.get().name)
    qtbot.addWidget(login)
    login.form.reload_users("jdoe")
    login.show()
    qtbot.waitUntil(login.isVisible)
    qtbot.keyClicks(login.secret, PT_PASSWORD)
    qtbot.keyClick(login.secret, Qt.Key.Key_Return)
    choose_own_password(qtbot, login.form, PT_OWN)
    assert login.user is not None and login.user.username == "jdoe"
    window = main_window(qtbot, Workspace(store, login.user, codes=icd, **clock))

    # 3. Register the patient (Ctrl+Shift+N).
    seen = {}

    def register(dialog) -> None:
        assert isinstance(dialog, PatientDialog)
        qtbot.keyClicks(dialog.first, "Rosa")
        press(qtbot, Qt.Key.Key_Tab)
        qtbot.keyClicks(QApplication.focusWidget(), "Diaz")
        type_in(qtbot, Qt.Key.Key_B, "1948-07-19")
        press(qtbot, Qt.Key.Key_X, ALT)
        press(qtbot, Qt.Key.Key_Down)
        press(qtbot, Qt.Key.Key_P, ALT)
        qtbot.keyClicks(QApplication.focusWidget(), "Medicare")
        type_in(qtbot, Qt.Key.Key_E, "1EG4TE5MK73")
        seen["dialog"] = dialog
        alt_click(qtbot, Qt.Key.Key_S, lambda: not dialog.isVisible())

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL | SHIFT), register)
    patient = seen["dialog"].saved
    assert patient is not None and store.payers.get(patient.payer_id).name == "Medicare Part B"
    assert store.episodes.for_patient(patient.id) == []

    # 4. The initial evaluation (Ctrl+N) opens their plan of care, attached to it.
    start_note(qtbot, window, patient.mrn, evaluation=True)
    editor = window.editor
    visit, _supervision, exercises, codes, _review, sign = editor.steps
    (episode,) = store.episodes.for_patient(patient.id)
    assert editor.session.episode_id == episode.id and episode.start_date == TODAY
    assert visit.plan.isVisible() and not visit.plan.goals.isReadOnly()
    assert_unique_alt_keys(editor, "evaluation visit")

    # Visit: diagnosis by words, times, then the plan of care in place.
    press(qtbot, Qt.Key.Key_R, ALT)
    qtbot.keyClicks(QApplication.focusWidget(), "osteoarthritis right knee")
    press(qtbot, Qt.Key.Key_Return)
    assert editor.session.diagnoses == ("M17.11",)
    type_in(qtbot, Qt.Key.Key_I, "09:00")
    type_in(qtbot, Qt.Key.Key_O, "09:55")
    press(qtbot, Qt.Key.Key_S, ALT)
    qtbot.keyClicks(QApplication.focusWidget(), GOALS[0])
    press(qtbot, Qt.Key.Key_Return)
    qtbot.keyClicks(QApplication.focusWidget(), GOALS[1])
    type_in(qtbot, Qt.Key.Key_Q, "2x/week")
    type_in(qtbot, Qt.Key.Key_A, "8 weeks")
    type_in(qtbot, Qt.Key.Key_H, "Dr. Ada Park")
    type_in(qtbot, Qt.Key.Key_Y, "1234567890")  # a wrong check digit
    type_in(qtbot, Qt.Key.Key_C, (TODAY + dt.timedelta(days=3)).isoformat())  # future
    press(qtbot, Qt.Key.Key_Tab)
    plan = visit.plan
    assert plan.errors["physician_npi"].isVisible() and plan.errors["certified_on"].isVisible()
    assert "future" in plan.errors["certified_on"].text()
    assert plan.npi.text() == "1234567890"  # kept as typed, beside its reason
    visit.grab().save(str(folder / "1-evaluation-plan-refused.png"))
    type_in(qtbot, Qt.Key.Key_Y, "1234567893")
    type_in(qtbot, Qt.Key.Key_C, TODAY.isoformat())
    type_in(qtbot, Qt.Key.Key_U, (TODAY + dt.timedelta(days=55)).isoformat())
    alt_click(qtbot, Qt.Key.Key_M, plan.order.isChecked)
    episode = store.episodes.get(episode.id)
    assert (episode.goals, episode.frequency, episode.duration, episode.physician_name,
            episode.physician_npi, episode.certified_on, episode.order_on_file) == (
        GOALS, "2x/week", "8 weeks", "Dr. Ada Park", "1234567893", TODAY, True)
    assert not any(e.isVisible() for e in plan.errors.values())
    history = [c.action for c in window.workspace.episode_history(episode.id)]
    assert history[0] == "create" and "certify" in history and len(history) >= 8
    # the line under the episode follows the plan; its goals are in the plan beside it
    assert "certified 2026" in visit.episode_info.text()
    assert "Goals: in the plan of care beside" in visit.episode_info.text()
    visit.grab().save(str(folder / "2-evaluation-plan-of-care.png"))

    # Exercises: one from the library, its minutes; response and assessment.
    press(qtbot, Qt.Key.Key_3, CTRL)
    press(qtbot, Qt.Key.Key_A, ALT)
    qtbot.keyClicks(QApplication.focusWidget(), "Sit to stand")
    press(qtbot, Qt.Key.Key_Return)
    assert [e.name for e in editor.session.exercises] == ["Sit to stand"]
    # The completer's list closed: the window manager gives the main window back its keys.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    editor.focus_field("exercises[0].minutes")
    type_cell(qtbot, exercises.table, "12")
    type_in(qtbot, Qt.Key.Key_R, "Pain 4/10 before, 3/10 after")
    type_in(qtbot, Qt.Key.Key_S, "Good candidate for skilled therapy; limited by knee pain.")
    press(qtbot, Qt.Key.Key_Tab)

    # Time and codes: the evaluation (97162) and the exercise minutes (97110).
    press(qtbot, Qt.Key.Key_4, CTRL)
    alt_click(qtbot, Qt.Key.Key_M, lambda: bool(editor.session.services))
    press(qtbot, Qt.Key.Key_D, ALT)
    qtbot.keyClicks(QApplication.focusWidget(), "97162")
    qtbot.mouseClick(codes.add_button, Qt.MouseButton.LeftButton)
    assert {s.code for s in editor.session.services} == {"97110", "97162"}
    type_in(qtbot, Qt.Key.Key_T, "50")
    press(qtbot, Qt.Key.Key_Tab)

    # Sign with the password; book the next visit from the Sign step.
    sign_with_password(qtbot, editor)
    in_modal(lambda: press(qtbot, Qt.Key.Key_V, ALT), lambda d: book(qtbot, d, NEXT_DAY, "10:00"))
    assert f"{NEXT_DAY} 10:00" in sign.next_visit.text()
    press(qtbot, Qt.Key.Key_1, CTRL)
    assert visit.plan.goals.isReadOnly()  # signed: the plan is read-only here now
    press(qtbot, Qt.Key.Key_W, CTRL)

    # 5. The next day: a daily note under that plan, carried forward from the evaluation.
    day[0] = NEXT_DAY
    press(qtbot, Qt.Key.Key_T, CTRL)  # the window stayed open overnight: Today is the new day
    assert window.day == NEXT_DAY
    start_note(qtbot, window, patient.mrn, evaluation=False)
    editor = window.editor
    visit, _supervision, exercises, codes, _review, sign = editor.steps
    assert editor.session.note_type == NoteType.DAILY
    assert editor.session.episode_id == episode.id and editor.session.diagnoses == ("M17.11",)
    assert not visit.plan.isVisible()  # a daily note does not write the plan
    type_in(qtbot, Qt.Key.Key_I, "10:00")
    type_in(qtbot, Qt.Key.Key_O, "10:40")
    press(qtbot, Qt.Key.Key_3, CTRL)
    alt_click(qtbot, Qt.Key.Key_Y, lambda: bool(editor.session.exercises))
    assert editor.session.exercises[0].change == ExerciseChange.CARRIED
    assert exercises.table.currentIndex().column() == COLUMN["change"]
    type_cell(qtbot, exercises.table, "as before")
    # The change column's list closed: the window manager gives the main window its keys.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert editor.session.exercises[0].change != ExerciseChange.CARRIED
    editor.focus_field("exercises[0].minutes")
    type_cell(qtbot, exercises.table, "25")
    type_in(qtbot, Qt.Key.Key_R, "Pain 3/10 before, 2/10 after")
    type_in(qtbot, Qt.Key.Key_S, "Sit to stand steadier than at evaluation.")
    press(qtbot, Qt.Key.Key_Tab)
    press(qtbot, Qt.Key.Key_4, CTRL)
    # carried minutes are billed already: wait for the ones typed today
    alt_click(qtbot, Qt.Key.Key_M, lambda: [s.minutes for s in editor.session.services] == [25])
    assert [(s.code, s.minutes, s.units) for s in editor.session.services] == [
        ("97110", 25, 2)]
    type_in(qtbot, Qt.Key.Key_T, "30")
    press(qtbot, Qt.Key.Key_Tab)
    assert editor.session.total_treatment_minutes == 30
    sign_with_password(qtbot, editor)
    in_modal(lambda: press(qtbot, Qt.Key.Key_V, ALT), lambda d: book(qtbot, d, LATER, "11:30"))
    press(qtbot, Qt.Key.Key_W, CTRL)

    # 6. The front desk, after Ctrl+L, prints the day's summaries with the next appointment.
    press(qtbot, Qt.Key.Key_L, CTRL)
    form = window.lock_screen.form
    assert form.secret.hasFocus()
    press(qtbot, Qt.Key.Key_Tab, SHIFT)
    qtbot.keyClicks(form.user_box, "Sam")  # (a space would open its list)
    assert form.user_box.currentData() == "sfront"
    press(qtbot, Qt.Key.Key_Tab)
    assert form.secret.hasFocus()
    qtbot.keyClicks(form.secret, DESK_PASSWORD)
    qtbot.keyClick(form.secret, Qt.Key.Key_Return)
    choose_own_password(qtbot, form, DESK_OWN)
    assert window.workspace.actor.username == "sfront", (form.message.text(), form.secret.text())
    out = PaperOut(monkeypatch, tmp_path)
    in_modal(lambda: press(qtbot, Qt.Key.Key_P, CTRL),
             lambda preview: qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton))
    (saved,) = out.saved
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(saved).pages).split())
    assert patient.mrn in text and f"{LATER} 11:30" in text
    signed = [s for s in window.workspace.sessions(patient_mrn=patient.mrn)]
    assert {s.status for s in signed} == {SessionStatus.SIGNED} and len(signed) == 2
    window.close()
