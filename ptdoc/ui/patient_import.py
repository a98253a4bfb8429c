"""Importing a patient list (CSV) in the window: one panel used by File ▸ Import patients… and
by the setup assistant's last step.

The panel chooses the file (the system's open dialog), hands its bytes to
``Workspace.import_patients`` (which adds the good rows in one transaction) and shows what
happened: how many were added and already here, and every refused row with its line and why,
which can be copied or saved as a report. A file that cannot be read or is not a patient list
is said in one plain line; nothing of it was imported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ptdoc import patient_csv
from ptdoc.errors import AccountDisabled, KnownError
from ptdoc.files import write_private
from ptdoc.services import Workspace
from ptdoc.services.patients import PatientImport
from ptdoc.ui.widgets import FieldError, hbox

COLUMNS_HELP = (f"The first line names the columns, in any order: {', '.join(patient_csv.COLUMNS)}"
                f" ({', '.join(patient_csv.REQUIRED).replace('_', ' ')} are required). Rows "
                "already here are not added twice.")


class ImportPanel(QWidget):
    """Choose a CSV file, import it, show the outcome. ``workspace`` is asked at import time
    (the setup assistant has one only once its administrator exists)."""

    imported = Signal(object)  # the PatientImport

    def __init__(self, workspace: Callable[[], Workspace | None],
                 choose_text: str = "&Import a CSV file…", parent: QWidget | None = None):
        super().__init__(parent, objectName="patient_import")
        self._workspace = workspace
        self.result: PatientImport | None = None
        self.source = ""
        self.choose_button = QPushButton(choose_text, objectName="import_choose")
        self.choose_button.setAutoDefault(False)  # Enter stays the window's default button
        help_text = QLabel(COLUMNS_HELP)
        help_text.setWordWrap(True)
        self.summary = QLabel(objectName="import_summary")
        self.summary.setWordWrap(True)
        self.summary.hide()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem = FieldError("import")
        self.refused = QTableWidget(0, 2, objectName="import_refused")
        self.refused.setHorizontalHeaderLabels(["Line", "Why it was not imported"])
        self.refused.setAccessibleName("Refused rows")
        self.refused.verticalHeader().setVisible(False)
        self.refused.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.refused.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.refused.setWordWrap(True)
        header = self.refused.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.refused_label = QLabel("&Refused rows (correct them in the file and import it "
                                    "again):")
        self.refused_label.setBuddy(self.refused)
        self.copy_button = QPushButton("Co&py report", objectName="import_copy")
        self.save_button = QPushButton("&Save report…", objectName="import_save")
        for button in (self.copy_button, self.save_button):
            button.setAutoDefault(False)
            button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(help_text)
        layout.addLayout(hbox(self.choose_button, None))
        layout.addWidget(self.summary)
        layout.addWidget(self.problem)
        layout.addWidget(self.refused_label)
        layout.addWidget(self.refused, 1)
        layout.addStretch(0)  # takes the room of the table while it is hidden
        layout.addLayout(hbox(None, self.copy_button, self.save_button))
        self._show_refused(False)
        self.choose_button.clicked.connect(lambda: self.choose())
        self.copy_button.clicked.connect(self.copy_report)
        self.save_button.clicked.connect(self.save_report)

    def choose(self) -> bool:
        """Ask for the file and import it; False when none was chosen."""
        name, _filter = QFileDialog.getOpenFileName(
            self, "Import patients from a CSV file", str(Path.home()),
            "CSV files (*.csv *.txt);;All files (*)")
        if not name:
            return False
        self.import_file(Path(name))
        return True

    def import_file(self, path: Path) -> None:
        workspace = self._workspace()
        self.result, self.source = None, path.name
        self.summary.clear()
        self.summary.hide()
        self.problem.clear_message()
        self.refused.setRowCount(0)
        self._show_refused(False)
        try:
            if workspace is None:
                raise KnownError("Patients can be imported once the administrator exists.")
            result = workspace.import_patients(patient_csv.load(path))
        except AccountDisabled:
            return  # the window signs the user out and says why
        except KnownError as exc:
            self.problem.show_message(f"Nothing was imported from {path.name}: {exc}")
        else:
            self.show_result(result)
            self.imported.emit(result)
        self.copy_button.setEnabled(self.result is not None)
        self.save_button.setEnabled(self.result is not None)

    def show_result(self, result: PatientImport) -> None:
        self.result = result
        tail = " The refused rows were not imported." if result.refused else ""
        self.summary.setText(f"{self.source}: {result.summary()}.{tail}")
        self.summary.setAccessibleName(self.summary.text())
        self.summary.show()
        self.refused.setRowCount(len(result.refused))
        for row, problem in enumerate(result.refused):
            line = QTableWidgetItem(str(problem.line))
            line.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.refused.setItem(row, 0, line)
            self.refused.setItem(row, 1, QTableWidgetItem(problem.message))
        self.refused.resizeRowsToContents()
        self._show_refused(bool(result.refused))
        if result.refused:
            self.refused.setCurrentCell(0, 1)
        self.focus_outcome()

    def focus_outcome(self) -> None:
        """The keyboard goes to the refused rows, to read them (else it stays put)."""
        if self.refused.isVisibleTo(self):
            self.refused.setFocus()

    def refused_rows(self) -> list[tuple[str, str]]:
        """What the table shows: each refused row's line and why."""
        return [(self.refused.item(r, 0).text(), self.refused.item(r, 1).text())
                for r in range(self.refused.rowCount())]

    def _show_refused(self, shown: bool) -> None:
        self.refused_label.setVisible(shown)
        self.refused.setVisible(shown)

    def report(self) -> str:
        return self.result.report(self.source) if self.result is not None else ""

    def copy_report(self) -> None:
        QApplication.clipboard().setText(self.report())
        self.problem.clear_message()

    def save_report(self) -> None:
        if self.result is None:
            return
        suggested = Path.home() / f"{Path(self.source).stem}-import-report.txt"
        name, _filter = QFileDialog.getSaveFileName(self, "Save the import report",
                                                    str(suggested), "Text (*.txt)")
        if not name:
            return
        try:
            write_private(Path(name), self.report())
        except OSError as exc:
            self.problem.show_message(f"The report was not saved to {name}: "
                                      f"{exc.strerror or exc}")
            return
        self.problem.clear_message()
        self.summary.setText(f"{self.summary.text()} Report saved to {name}.")


class ImportDialog(QDialog):
    """File ▸ Import patients…: the outcome of an import, with the panel to import another."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent, objectName="import_dialog")
        self.setWindowTitle("Import patients")
        self.panel = ImportPanel(lambda: workspace, "&Import another file…", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel, 1)
        layout.addWidget(buttons)
        self.resize(760, 480)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.panel.focus_outcome()
