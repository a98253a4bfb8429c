"""The window driven as a person would, keyboard first (offscreen)."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PASSWORD, TODAY, Clinic, only_sqlite, sign
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget

from ptdoc.ui.login import LoginDialog
from ptdoc.ui.main_window import MainWindow
from ptdoc.ui.models import SessionListModel


def test_sign_in_with_the_keyboard(qtbot, clinic: Clinic) -> None:
    dialog = LoginDialog(clinic.store, "Test Clinic")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.user_box, "PTA")
    assert dialog.user_box.currentData() == "pta"
    qtbot.keyClicks(dialog.secret, "wrong-password")
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    assert dialog.isVisible() and "wrong password" in dialog.message.text()
    dialog.secret.clear()
    qtbot.keyClicks(dialog.secret, PASSWORD)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    assert dialog.user is not None and dialog.user.username == "pta"


@pytest.fixture
def window(qtbot, clinic: Clinic) -> Iterator[MainWindow]:
    clinic.complete_draft("pt", TODAY)
    signed = clinic.complete_draft("pta", TODAY - dt.timedelta(days=1))
    sign(clinic.as_("pta"), signed.id)
    win = MainWindow(clinic.as_("desk"))
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    yield win
    win.close()  # before the store closes


def test_day_view_navigates_by_keyboard(qtbot, window: MainWindow) -> None:
    model = window.model
    assert model.rowCount() == 1
    assert model.index(0, SessionListModel.COL_PATIENT).data() == "Lee, Ann"
    # the front desk sees the draft's flags as its day sheet prints them: none here
    assert model.index(0, SessionListModel.COL_STATUS).data() == "Awaiting signature"
    # signed in: the day's list has the keyboard, its first session current, none selected
    assert QApplication.focusWidget() is window.table
    qtbot.keyClick(window.table, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert window.day == TODAY  # no future days (today by the clinic's clock at each press)
    assert window.statusBar().currentMessage() == "This is today: there is no later day to show."
    assert window.table.currentIndex().row() == 0
    assert not window.table.selectionModel().selectedRows()
    qtbot.keyClick(window.date_edit, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert window.day == TODAY - dt.timedelta(days=1)
    assert model.index(0, SessionListModel.COL_STATUS).data() == "Signed"
    assert model.index(0, SessionListModel.COL_CLINICIAN).data() == "PTA User, PTA"
    assert "1 signed, 0 drafts" in window.summary.text()
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert model.rowCount() == 0
    qtbot.keyClick(window.table, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert window.day == TODAY and model.rowCount() == 1
    assert "Signed in as DESK User, front desk" in window.signed_in.text()


def test_session_list_model_is_well_behaved(qtmodeltester, window: MainWindow) -> None:
    qtmodeltester.check(window.model)


def test_every_input_has_a_name(window: MainWindow) -> None:
    named = {label.buddy() for label in window.findChildren(QLabel) if label.buddy()}
    for widget in window.findChildren(QWidget):
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus or not widget.isVisibleTo(window):
            continue
        if isinstance(widget, QAbstractButton):
            assert widget.text() or widget.accessibleName(), widget
        elif widget.objectName() and not widget.objectName().startswith("qt_"):
            assert widget in named or widget.accessibleName(), widget.objectName()


def test_screenshot(window: MainWindow, artifacts: Path) -> None:
    window.resize(1100, 600)
    assert window.grab().save(str(artifacts / "main_window.png"))


def test_daily_backup_runs_off_the_gui_thread(qtbot, window: MainWindow, db_path: Path,
                                              backend: str) -> None:
    only_sqlite(backend, "the daily backup copies the SQLite file; a server's is pg_dump")
    from ptdoc import paths
    from ptdoc.ui.app import start_daily_backup

    start_daily_backup(window, db_path)
    qtbot.waitUntil(lambda: "Daily backup written" in window.statusBar().currentMessage(),
                    timeout=10_000)
    assert list(paths.backup_dir(db_path).glob("ptdoc-daily-*.sqlite3"))


def test_an_error_off_the_windows_thread_is_logged_not_shown(qapp, tmp_path: Path, monkeypatch,
                                                              caplog) -> None:
    """A background task that fails as the application goes (a window closed at once) must
    not make a message box on its thread: Qt aborts the process for that."""
    import sys
    import threading

    from PySide6.QtWidgets import QMessageBox

    from ptdoc.ui.app import install_crash_hook

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back afterwards
    install_crash_hook(tmp_path / "ptdoc.log")

    def fail() -> None:
        try:
            raise ValueError("failed in a worker")
        except ValueError:
            sys.excepthook(*sys.exc_info())

    worker = threading.Thread(target=fail)
    worker.start()
    worker.join()
    assert shown == [] and "failed in a worker" in caplog.text
