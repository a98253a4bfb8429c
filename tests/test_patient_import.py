"""Importing a patient list from the window, as a clerk does it: by keyboard, reading what the
window shows. Only the system's open and save dialogs are answered here."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Clinic
from driving import in_modal, main_window
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QWidget
from test_editor import assert_unique_alt_keys

from ptdoc import patient_csv

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier

# What an old system exports: a byte-order mark, Windows line ends, US dates, columns in its
# own case and order, an extra column, and rows a clerk has to fix.
MESSY = ("\ufeffLast_Name,FIRST_NAME,Date_Of_Birth,MRN,Sex,Payer,Member_ID,Notes\r\n"
         "Park,Joy,04/05/1948,OLD-1,F,Medicare Part B,1AB2CD3EF45,\r\n"   # 2: added
         ",Kai,1950-01-01,OLD-2,,,,no last name\r\n"                     # 3: refused
         "Rios,Lu,02/30/1980,OLD-3,M,,,\r\n"                              # 4: refused
         "Moss,Ida,1961-07-08,,,,,\r\n"                                   # 5: added
         "Nunn,Bea,1970-01-02,OLD-1,,,,same MRN as line 2\r\n"            # 6: refused
         "Lee,Ann,03/04/1950,MRN-1,,,,already registered\r\n")            # 7: already here


class FileDialogs:
    """The system's open dialog answers the file a test sets; the save dialog a new path."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path):
        self.answer: Path | None = None
        self.asked = 0
        self.saved: list[Path] = []

        def open_name(*_args: object, **_kwargs: object) -> tuple[str, str]:
            self.asked += 1
            return (str(self.answer), "CSV files (*.csv *.txt)") if self.answer else ("", "")

        def save_name(*_args: object, **_kwargs: object) -> tuple[str, str]:
            path = folder / f"report-{len(self.saved) + 1}.txt"
            self.saved.append(path)
            return str(path), "Text (*.txt)"
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(open_name))
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FileDialogs:
    return FileDialogs(monkeypatch, tmp_path)


def shot(widget: QWidget, artifacts: Path, name: str) -> None:
    folder = artifacts / "import"
    folder.mkdir(exist_ok=True)
    QApplication.processEvents()
    widget.grab().save(str(folder / f"{name}.png"))


def from_the_menu(qtbot, window: QWidget) -> None:
    """Alt+F opens the File menu, I takes Import patients…"""
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    menu = QApplication.activePopupWidget()
    assert "Import patients" in " ".join(a.text() for a in menu.actions())
    qtbot.keyClick(menu, Qt.Key.Key_I)


def test_a_messy_list_is_imported_from_the_menu_and_never_twice(
        qtbot, clinic: Clinic, dialogs: FileDialogs, tmp_path: Path, artifacts: Path):
    export = tmp_path / "old-system.csv"
    export.write_bytes(MESSY.encode("utf-8"))
    dialogs.answer = export
    window = main_window(qtbot, clinic.as_("desk"))
    before = clinic.store.patients.count()
    seen: dict[str, object] = {}

    def read_it(dialog: QWidget) -> None:
        assert_unique_alt_keys(dialog, "import patients")
        panel = dialog.panel
        seen["summary"] = panel.summary.text()
        seen["refused"] = panel.refused_rows()
        assert QApplication.focusWidget() is panel.refused  # ready to read by keyboard
        shot(dialog, artifacts, "1-refused-rows")
        QApplication.clipboard().clear()  # whatever an earlier copy left there
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: "old-system.csv" in QApplication.clipboard().text())
        seen["copied"] = QApplication.clipboard().text()
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: bool(dialogs.saved) and dialogs.saved[0].exists())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)

    in_modal(lambda: from_the_menu(qtbot, window), read_it)
    assert seen["summary"] == ("old-system.csv: 2 added, 1 already here, 3 refused. The refused "
                               "rows were not imported.")
    refused = dict(seen["refused"])
    assert sorted(refused) == ["3", "4", "6"]
    assert "last name is missing" in refused["3"]
    assert "02/30/1980" in refused["4"] and "not a date" in refused["4"]
    assert "repeats line 2" in refused["6"]
    copied = seen["copied"]
    assert copied == dialogs.saved[0].read_text()
    assert "line 2: added as OLD-1 Park, Joy" in copied
    assert "line 7: already here as MRN-1 Lee, Ann" in copied
    assert "line 6: refused: repeats line 2" in copied
    joy = clinic.store.patients.by_mrn("OLD-1")
    assert (joy.first_name, joy.date_of_birth.isoformat(), joy.payer_id, joy.member_id) == (
        "Joy", "1948-04-05", clinic.payer.id, "1AB2CD3EF45")
    assert clinic.store.patients.count() == before + 2

    # The same file again, by its shortcut: nobody is added twice.
    def read_again(dialog: QWidget) -> None:
        seen["again"] = dialog.panel.summary.text()
        shot(dialog, artifacts, "2-again")
    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_I, CTRL_SHIFT), read_again)
    assert seen["again"].startswith("old-system.csv: 0 added, 3 already here, 3 refused")
    assert clinic.store.patients.count() == before + 2
    # The patients added are found like any other.
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.search, "moss")
    assert window.patients.item(0).text().startswith("Moss, Ida")
    window.close()


def test_a_file_that_is_no_patient_list_is_said_plainly(qtbot, clinic: Clinic,
                                                        dialogs: FileDialogs, tmp_path: Path,
                                                        artifacts: Path):
    window = main_window(qtbot, clinic.as_("pt"))
    before = clinic.store.patients.count()
    files = {
        "latin1.csv": ("first_name,last_name,date_of_birth\nÅsa,Berg,2000-01-01\n"
                       .encode("latin-1"), "is not UTF-8 text"),
        "notes.txt": (b"Call Ann back on Tuesday\n", "the header lacks first_name, last_name"),
        "huge.csv": (b"x" * (patient_csv.MAX_BYTES + 1), "is larger than 5,000,000 bytes"),
        "gone.csv": (None, "cannot read"),
    }
    for name, (data, says) in files.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        dialogs.answer = path
        shown: dict[str, str] = {}

        def read(dialog: QWidget, shown: dict[str, str] = shown, name: str = name) -> None:
            panel = dialog.panel
            shown["problem"] = panel.problem.text() if panel.problem.isVisible() else ""
            shown["summary"] = panel.summary.text()
            shown["refused"] = str(panel.refused.isVisible())
            if name == "latin1.csv":
                shot(dialog, artifacts, "3-not-utf8")
        in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_I, CTRL_SHIFT), read)
        assert f"Nothing was imported from {name}: " in shown["problem"], (name, shown)
        assert says in shown["problem"] and "Traceback" not in shown["problem"], shown
        assert shown["summary"] == "" and shown["refused"] == "False"
    assert clinic.store.patients.count() == before
    # Cancelling the open dialog imports nothing and opens nothing.
    dialogs.answer = None
    asked = dialogs.asked
    qtbot.keyClick(window.table, Qt.Key.Key_I, CTRL_SHIFT)
    QTest.qWait(50)
    assert dialogs.asked == asked + 1 and QApplication.activeModalWidget() is None
    window.close()


def test_an_aide_may_not_import(qtbot, clinic: Clinic, dialogs: FileDialogs):
    window = main_window(qtbot, clinic.as_("aide"))
    assert not window.import_action.isEnabled()
    qtbot.keyClick(window.table, Qt.Key.Key_I, CTRL_SHIFT)
    QTest.qWait(50)
    assert dialogs.asked == 0
    window.close()
