"""Every enabled action and button of every window, for each role: nothing may raise.

The tour opens the main window as each user, then the day view, the lock screen, the editor
on a draft and on a signed note at every step, and every dialog those open (new session,
previews, progression, addendum), and triggers each enabled QAction and clicks each enabled
button in turn, putting the window back where it was before the next one. Only what the
operating system draws is replaced: the print and file dialogs, message boxes, and a modal
dialog's ``exec`` (which shows the dialog, tours it, and closes it, instead of blocking).
An exception reaching Qt's event loop fails the test, naming the path of clicks that caused
it; a screenshot of each window and dialog visited is saved to artifacts/every-action/.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import PASSWORD, TODAY, Clinic, sign
from driving import PaperOut
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QFileDialog,
    QMessageBox,
    QPushButton,
    QToolButton,
    QWidget,
)

from ptdoc.permissions import Permission
from ptdoc.ui.login import LoginDialog
from ptdoc.ui.main_window import MainWindow

MAX_DEPTH = 3  # a dialog opened from a dialog opened from a dialog is as deep as ptdoc goes


def reachable(action: QAction) -> bool:
    """An action a person can reach: enabled, visible, on a widget that is shown."""
    if not action.isEnabled() or not action.isVisible() or action.isSeparator() or \
            action.menu() is not None:
        return False
    return any(isinstance(o, QWidget) and o.isVisible() for o in action.associatedObjects())


def elements(scope: QWidget) -> list[tuple[str, QObject]]:
    """The enabled actions and buttons of ``scope`` (and its children), each with a key that
    finds it again after the window has been rebuilt."""
    found: list[tuple[str, QObject]] = []
    for action in scope.findChildren(QAction):
        if reachable(action):
            found.append((f"action {action.text()!r} "
                          f"{action.shortcut().toString() or action.objectName()}", action))
    for button in [scope, *scope.findChildren(QAbstractButton)]:
        if isinstance(button, QPushButton | QToolButton) and button.isVisible() and \
                button.isEnabled():
            found.append((f"button {button.objectName() or button.text()!r}", button))
    counted: dict[str, int] = {}
    keyed = []
    for key, obj in found:  # the same key twice (two unnamed buttons) gets a number
        counted[key] = counted.get(key, 0) + 1
        keyed.append((f"{key} #{counted[key]}" if counted[key] > 1 else key, obj))
    return keyed


class Tour:
    def __init__(self, qtbot, clinic: Clinic, role: str, folder: Path):
        self.qtbot = qtbot
        self.clinic = clinic
        self.role = role
        self.folder = folder
        self.path: list[str] = []
        self.failures: list[str] = []
        self.fired: list[str] = []
        self.dialogs_seen: set[str] = set()
        self.window = MainWindow(clinic.as_(role))
        qtbot.addWidget(self.window)
        self.window.resize(1280, 760)
        self.show_window()

    # --- where things are ----------------------------------------------------------------

    def show_window(self) -> None:
        window = self.window
        if not window.isVisible():
            window.show()
        window.activateWindow()
        QTest.qWaitForWindowActive(window)

    def unlocked_window(self) -> MainWindow:
        self.show_window()
        if self.window.locked:
            form = self.window.lock_screen.form
            form.user_box.setCurrentIndex(form.user_box.findData(self.role))
            form.secret.clear()
            self.qtbot.keyClicks(form.secret, PASSWORD)
            self.qtbot.keyClick(form.secret, Qt.Key.Key_Return)
            assert not self.window.locked, form.message.text()
        return self.window

    def day(self) -> QWidget:
        window = self.unlocked_window()
        if window.editor is not None:
            window.close_editor()
        return window

    def patient_page(self) -> QWidget | None:
        window = self.day()
        window.open_patient(self.clinic.patient)
        return window.patient_view

    def locked(self) -> QWidget:
        window = self.day()
        window.lock()
        return window.lock_screen

    def editor_step(self, session_id: int, step: int) -> QWidget | None:
        window = self.unlocked_window()
        if window.editor is None or window.editor.session.id != session_id:
            window.open_session(session_id)
        if window.editor is None:
            return None  # this role may not open notes: the day view says so
        window.editor.go(step)
        return window.editor

    # --- doing ---------------------------------------------------------------------------

    def shoot(self, widget: QWidget, name: str) -> None:
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.role}-{name}".lower()).strip("-")
        widget.grab().save(str(self.folder / f"{slug}.png"))

    def fire(self, key: str, obj: QObject) -> None:
        self.path.append(key)
        label = " > ".join(self.path)
        self.fired.append(label)
        with self.qtbot.capture_exceptions() as caught:
            if isinstance(obj, QAction):
                obj.trigger()
            else:
                self.qtbot.mouseClick(obj, Qt.MouseButton.LeftButton)
            QApplication.processEvents()
        for kind, exc, tb in caught:
            self.failures.append(f"{label}:\n" + "".join(
                traceback.format_exception(kind, exc, tb)))
        self.path.pop()

    def sweep(self, where: str, enter: Callable[[], QWidget | None],
              scope: Callable[[QWidget], list[QWidget]] = lambda top: [top]) -> None:
        """Each element of the screen ``enter`` shows, the screen shown again before each."""
        top = enter()
        if top is None:
            return
        self.shoot(top.window(), where)
        keys = [key for part in scope(top) for key, _obj in elements(part)]
        for key in keys:
            top = enter()
            if top is None:
                return
            match = [obj for part in scope(top) for k, obj in elements(part) if k == key]
            if match:
                self.path.append(where)
                self.fire(key, match[0])
                self.path.pop()

    def visit_dialog(self, dialog: QDialog) -> int:
        """What a modal dialog's exec() does in the tour: show it, fire each of its elements
        (showing it again when one closed it), close it; the result of the last one."""
        if len(self.path) > MAX_DEPTH * 2:
            return QDialog.DialogCode.Rejected.value
        name = f"{type(dialog).__name__} {dialog.windowTitle()}"
        dialog.show()
        dialog.activateWindow()
        QTest.qWaitForWindowActive(dialog)
        kind = type(dialog).__name__
        if kind not in self.dialogs_seen:
            self.dialogs_seen.add(kind)
            self.shoot(dialog, kind)
        self.path.append(name)
        for key in [k for k, _obj in elements(dialog)]:
            if not dialog.isVisible():
                dialog.show()
                dialog.activateWindow()
                QTest.qWaitForWindowActive(dialog)
            match = [obj for k, obj in elements(dialog) if k == key]
            if match:
                self.fire(key, match[0])
        self.path.pop()
        if dialog.isVisible():
            dialog.reject()
        return dialog.result()


@pytest.fixture
def os_dialogs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> PaperOut:
    """Print and save dialogs answer with files, the open dialog a patient list with a row
    to refuse; message boxes answer OK or No."""
    out = PaperOut(monkeypatch, tmp_path)
    patients = tmp_path / "patients.csv"
    patients.write_text("first_name,last_name,date_of_birth\nIda,Moss,1961-07-08\n"
                        "Kai,,1950-01-01\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *_a, **_k: (str(patients), "")))
    for name, answer in (("information", QMessageBox.StandardButton.Ok),
                         ("warning", QMessageBox.StandardButton.Ok),
                         ("critical", QMessageBox.StandardButton.Ok),
                         ("question", QMessageBox.StandardButton.No)):
        monkeypatch.setattr(QMessageBox, name, staticmethod(
            lambda *_a, answer=answer, **_k: answer))
    return out


@pytest.mark.parametrize("role", ["pt", "dpt", "pta", "aide", "desk", "boss"])
def test_every_action_of_every_window(qtbot, clinic: Clinic, role: str, os_dialogs: PaperOut,
                                      monkeypatch: pytest.MonkeyPatch, artifacts: Path,
                                      request: pytest.FixtureRequest):
    assert not request.config.getini("qt_no_exception_capture")  # failures must surface
    folder = artifacts / "every-action"
    folder.mkdir(exist_ok=True)
    earlier = clinic.complete_draft("pt", TODAY - dt.timedelta(days=3))
    sign(clinic.as_("pt"), earlier.id)  # something to carry forward and to chart
    signed = clinic.complete_draft("pt", TODAY - dt.timedelta(days=1))
    sign(clinic.as_("pt"), signed.id)
    author = role if role in ("pt", "dpt", "pta") else "pt"
    draft = clinic.complete_draft(author, TODAY)  # the tour changes it freely
    ready = clinic.complete_draft(author, TODAY - dt.timedelta(days=2))  # clean: to sign

    tour = Tour(qtbot, clinic, role, folder)
    monkeypatch.setattr(QDialog, "exec", lambda dialog: tour.visit_dialog(dialog))
    monkeypatch.setattr(QMessageBox, "exec", lambda dialog: tour.visit_dialog(dialog))

    window = tour.window
    tour.sweep("day", tour.day)
    tour.sweep("patient page", tour.patient_page)
    tour.sweep("lock screen", tour.locked)
    for label, sid, steps in (("draft", draft.id, range(5)), ("ready draft", ready.id, [5]),
                              ("signed", signed.id, range(6))):
        for step in steps:
            def editor_parts(editor: QWidget, step: int = step) -> list[QWidget]:
                # the window's and the editor's own actions once; each step's buttons
                if step == 0:
                    return [editor.window()]
                return [editor.steps[step], *editor.findChildren(QPushButton, "step_back"),
                        *editor.findChildren(QPushButton, "step_next")]
            tour.sweep(f"{label} step {step + 1}",
                       lambda sid=sid, step=step: tour.editor_step(sid, step), editor_parts)
    login = LoginDialog(clinic.store, "Test Clinic")
    qtbot.addWidget(login)
    tour.visit_dialog(login)

    (folder / f"{role}-fired.txt").write_text("\n".join(tour.fired))
    assert not tour.failures, "\n\n".join(tour.failures)
    # the tour reached what this role can reach
    fired = "\n".join(tour.fired)
    ws = window.workspace
    assert "button 'login_ok'" in fired and "lock screen > button 'login_ok'" in fired
    if ws.can(Permission.PRINT_SUMMARY):
        assert "button 'print_summaries' > PdfPreview" in fired
        assert "PdfPreview Day sheet" in fired and "button 'preview_print'" in fired
    if ws.can(Permission.EXPORT_NOTE) and ws.can(Permission.DOCUMENT):
        assert "button 'note_pdf' > PdfPreview Note" in fired
    if ws.can(Permission.MANAGE_PATIENTS):
        assert "day > button 'new_patient' > PatientDialog" in fired
        assert "day > action '&Import patients…' Ctrl+Shift+I > ImportDialog" in fired
        assert "button 'import_save'" in fired and "button 'import_copy'" in fired
        assert "patient page > button 'patient_edit' > PatientDialog" in fired
        assert "patient page > button 'patient_set_appointment' > AppointmentDialog" in fired
    if ws.can(Permission.VIEW_CLINICAL):
        assert "patient page > button 'episode_open' > EpisodeDialog" in fired
    if ws.can(Permission.EVALUATE):
        assert "patient page > button 'episode_new' > EpisodeDialog" in fired
    if ws.can_addendum:
        assert "AddendumDialog" in fired
    if role in ("pt", "dpt", "pta"):
        assert "button 'new_session' > NewSessionDialog" in fired
        assert "button 'sign_button'" in fired and "ProgressionDialog" in fired
    window.close()
