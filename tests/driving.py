"""Helpers for driving modal windows as a person would, and stand-ins for what the operating
system draws (the print dialog, the save dialog). Nothing of ptdoc is replaced here."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QWidget


class PaperOut:
    """The system print dialog accepts and points the printer at a new PDF file; the save
    dialog answers a new path. Every file handed out is listed, in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path):
        self.folder = folder
        self.printed: list[Path] = []
        self.saved: list[Path] = []
        self._numbers = itertools.count(1)
        out = self

        def print_dialog_exec(dialog: QPrintDialog) -> int:
            path = folder / f"printed-{next(out._numbers)}.pdf"
            printer = dialog.printer()
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(str(path))
            out.printed.append(path)
            return QDialog.DialogCode.Accepted.value

        def save_name(*_args: object, **_kwargs: object) -> tuple[str, str]:
            path = folder / f"saved-{next(out._numbers)}.pdf"
            out.saved.append(path)
            return str(path), "PDF (*.pdf)"

        monkeypatch.setattr(QPrintDialog, "exec", print_dialog_exec)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))


CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier


def in_modal(open_it: Callable[[], object], act: Callable[[QWidget], object],
             timeout_ms: int = 5000) -> QWidget:
    """Open a modal window the way ``open_it`` does (a key, a click, a mnemonic: the last
    clicks a moment later) and, once it shows, do ``act`` in it as a person would; the window
    is closed afterwards if ``act`` left it open. A failure inside ``act`` is raised here,
    after the window has closed."""
    seen: dict[str, object] = {}

    def run() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            if "gave up" not in seen:
                QTimer.singleShot(10, run)
            return
        seen["dialog"] = dialog
        try:
            QApplication.processEvents()  # the click or key that opened it, finished first
            dialog.activateWindow()  # as the window manager does for a new window
            assert QTest.qWaitForWindowActive(dialog), "the modal window never became active"
            act(dialog)
        except BaseException as exc:  # re-raised below, once the modal loop has ended
            seen["error"] = exc
        finally:
            if dialog.isVisible() and isinstance(dialog, QDialog):
                dialog.reject()
            seen["done"] = True

    before = QApplication.activeWindow()
    QTimer.singleShot(0, run)
    open_it()
    waited = 0
    while "done" not in seen and waited < timeout_ms:
        QTest.qWait(10)
        waited += 10
    seen["gave up"] = True
    if before is not None and before.isVisible():
        before.activateWindow()  # as the window manager does when a modal window closes
        QTest.qWaitForWindowActive(before)
    if "error" in seen:
        raise seen["error"]  # type: ignore[misc]
    dialog = seen.get("dialog")
    assert isinstance(dialog, QWidget), "no modal window opened"
    return dialog


def main_window(qtbot, workspace, size: tuple[int, int] = (1366, 768)):
    """The main window for ``workspace``, shown and active, as after signing in."""
    from ptdoc.ui.main_window import MainWindow

    win = MainWindow(workspace)
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    return win


def admin_clinic_tab(qtbot, window):
    """Administration opened with Ctrl+Shift+A from the day view, on its Clinic tab (Alt+C):
    the administration window."""
    qtbot.keyClick(window.table, Qt.Key.Key_A,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    admin = window.admin_window
    admin.activateWindow()
    qtbot.waitUntil(admin.isActiveWindow)
    qtbot.keyClick(QApplication.focusWidget() or admin, Qt.Key.Key_C,
                   Qt.KeyboardModifier.AltModifier)
    return admin


def pick_patient(qtbot, dialog, typed: str = "Lee") -> None:
    """In the new-session form: part of the name typed, Enter to the match, Enter on it (the
    cursor then on the date)."""
    qtbot.keyClicks(dialog.search, typed)
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    qtbot.keyClick(dialog.results, Qt.Key.Key_Return)
