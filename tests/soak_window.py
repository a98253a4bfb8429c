"""A long clinic session in one window process: thousands of typed characters across the
editor's fields and flowsheet, and mouse movement. Run by tests/test_soak.py in a child process,
so a Qt binding that corrupts the interpreter (PySide6 6.12.0 aborted after ~1,100 characters)
kills only this child, and the test sees it.

Arguments: the database path, the draft's id and date, the number of characters to type at
least.
Prints one JSON line with what the fields show at the end and the count of characters typed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit

from ptdoc import paths
from ptdoc.services import Workspace
from ptdoc.store import Store
from ptdoc.ui.exercise_table import COLUMN
from ptdoc.ui.main_window import MainWindow
from ptdoc.ui.models import SessionListModel

CTRL = Qt.KeyboardModifier.ControlModifier
WORDS = ("tolerated well with verbal cues for trunk control, no increase in knee pain, "
         "progressed hold time, fatigue after third set ")


def main() -> None:
    db_path, session_id = paths.db_target(sys.argv[1]), int(sys.argv[2])
    day, target = dt.date.fromisoformat(sys.argv[3]), int(sys.argv[4])
    app = QApplication([])
    store = Store.open(db_path)
    window = MainWindow(Workspace(store, store.users.by_username("pt"), today=lambda: day))
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    QTest.qWaitForWindowActive(window)
    none_before = sys.getrefcount(None)
    typed = 0

    def key(key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        QTest.keyClick(QApplication.focusWidget(), key, modifiers)

    def write(widget, text: str) -> None:
        nonlocal typed
        QTest.keyClicks(widget, text)
        typed += len(text)

    def move_mouse(times: int) -> None:
        for i in range(times):
            QTest.mouseMove(window, QPoint(40 + (i * 37) % 1200, 60 + (i * 53) % 650))

    model = window.model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).id == session_id)
    rect = window.table.visualRect(model.index(row, SessionListModel.COL_PATIENT))
    QTest.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    QTest.keyClick(window.table, Qt.Key.Key_Return)
    editor = window.editor
    visit, _supervision, exercises, codes = editor.steps[:4]

    def into(widget) -> None:
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
        QTest.keyClick(widget, Qt.Key.Key_A, CTRL)

    def cell(table, row: int, column: int, text: str) -> None:
        nonlocal typed
        index = table.model().index(row, column)
        table.scrollTo(index)
        QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                         pos=table.visualRect(index).center())
        QTest.keyClick(table, text[0])
        typed += 1
        box = QApplication.focusWidget()
        if isinstance(box, QLineEdit):
            box.selectAll()
            write(box, text)
        QTest.keyClick(box, Qt.Key.Key_Return)
        while table.state() == QAbstractItemView.State.EditingState:
            app.processEvents()

    rounds = 0
    while typed < target:
        rounds += 1
        key(Qt.Key.Key_1, CTRL)
        for box, text in ((visit.time_in, "09:0"), (visit.time_out, "09:4")):
            into(box)
            write(box, f"{text}{rounds % 10}")
            QTest.keyClick(box, Qt.Key.Key_Tab)
        move_mouse(40)
        key(Qt.Key.Key_3, CTRL)
        for box in (exercises.response, exercises.assessment, exercises.home_program):
            into(box)
            write(box, f"Round {rounds}: {WORDS * 2}")
            QTest.keyClick(box, Qt.Key.Key_Tab)
        cell(exercises.table, 0, COLUMN["reps"], str(8 + rounds % 5))
        cell(exercises.table, 1, COLUMN["response"], f"round {rounds} {WORDS}")
        cell(exercises.table, 0, COLUMN["modification"], f"step {rounds} higher box")
        move_mouse(40)
        key(Qt.Key.Key_4, CTRL)
        into(codes.total)
        write(codes.total, str(30 + rounds % 10))
        QTest.keyClick(codes.total, Qt.Key.Key_Tab)
    key(Qt.Key.Key_3, CTRL)
    shown = {
        "time_in": visit.time_in.text(), "time_out": visit.time_out.text(),
        "patient_response": exercises.response.toPlainText(),
        "assessment": exercises.assessment.toPlainText(),
        "home_program": exercises.home_program.toPlainText(),
        "reps": exercises.model.index(0, COLUMN["reps"]).data(),
        "response_1": exercises.model.index(1, COLUMN["response"]).data(),
        "modification_0": exercises.model.index(0, COLUMN["modification"]).data(),
        "total": codes.total.text(), "refused": len(editor.open_refusals()),
    }
    key(Qt.Key.Key_W, CTRL)  # close the note: it is saved
    print(json.dumps({"typed": typed, "rounds": rounds, "shown": shown,
                      "none_lost": none_before - sys.getrefcount(None)}), flush=True)
    window.close()
    store.close()


if __name__ == "__main__":
    main()
