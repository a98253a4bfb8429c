"""The window as ``ptdoc gui`` runs it, driven by keyboard and mouse in this process: sign in as
pt, open the draft from the day view, type into its assessment and stay in the field. Run by
tests/test_quit_signal.py, which then sends the signal a logout or Ctrl+C sends.

Arguments: the database (a path or a server's URL), the draft's id, the text to type, the password.
Prints "typed" once the text is in the field (not yet saved: the field has not been left).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMainWindow

from ptdoc import paths
from ptdoc.ui.app import run
from ptdoc.ui.models import SessionListModel

CTRL = Qt.KeyboardModifier.ControlModifier


def main() -> int:
    db_path, draft_id, text, password = (paths.db_target(sys.argv[1]), int(sys.argv[2]),
                                         sys.argv[3], sys.argv[4])
    app = QApplication(sys.argv[:1])

    def when(ready, act) -> None:  # act(found) once ready() finds it; the loop runs meanwhile
        found = ready()
        if found is None:
            QTimer.singleShot(20, lambda: when(ready, act))
        else:
            act(found)

    def sign_in(dialog) -> None:
        form = dialog.form
        QTest.keyClick(form.user_box, Qt.Key.Key_Home)
        QTest.keyClicks(form.user_box, "PT User")  # typing selects the matching name
        QTest.keyClicks(form.secret, password)
        QTest.keyClick(form.secret, Qt.Key.Key_Return)
        when(main_window, open_and_type)

    def main_window():
        return next((w for w in app.topLevelWidgets()
                     if isinstance(w, QMainWindow) and w.isVisible()), None)

    def open_and_type(window) -> None:
        QTest.qWaitForWindowExposed(window)
        model = window.model
        row = next(r for r in range(model.rowCount()) if model.row_at(r).id == draft_id)
        rect = window.table.visualRect(model.index(row, SessionListModel.COL_PATIENT))
        QTest.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        QTest.keyClick(window.table, Qt.Key.Key_Return)
        editor = window.editor
        QTest.keyClick(editor.step_list, Qt.Key.Key_3, CTRL)
        box = editor.steps[2].assessment
        QTest.mouseClick(box.viewport(), Qt.MouseButton.LeftButton)
        QTest.keyClick(box, Qt.Key.Key_End, CTRL)
        QTest.keyClicks(box, text)
        print("typed", flush=True)

    when(QApplication.activeModalWidget, sign_in)
    return run(db_path, demo_if_missing=False)


if __name__ == "__main__":
    sys.exit(main())
