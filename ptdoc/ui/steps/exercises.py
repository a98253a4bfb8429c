"""Step 3, the exercises: the flowsheet, the library, carry-forward, and the session's
response, assessment and home program."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QCompleter,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from ptdoc.domain import ExerciseChange, ExerciseEntry, Session
from ptdoc.errors import KnownError
from ptdoc.ui.exercise_table import COLUMN, ExerciseTable, ExerciseTableModel
from ptdoc.ui.refusals import Refusal, revert_on_escape
from ptdoc.ui.steps.base import Step, TextArea
from ptdoc.ui.widgets import FieldError, add_field, hbox


class ExerciseBox(QLineEdit):
    """Typing offers the library's exercises. Enter takes the highlighted one, or the first
    one offered; Shift+Enter takes the text as it is, as a new exercise."""

    chosen = Signal(str)  # a library exercise's name
    new_name = Signal(str)  # text the user explicitly adds as a new exercise
    no_match = Signal(str)  # Enter on text that matches nothing in the library

    def __init__(self, names: list[str]):
        super().__init__(objectName="field_add_exercise")
        self.setPlaceholderText("A few letters; Enter adds the match")
        self.setToolTip("Enter adds the highlighted (or first) exercise the library offers; "
                        "Shift+Enter adds what you typed as a new exercise")
        self.setMinimumWidth(200)
        completer = QCompleter(names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompleter(completer)
        completer.activated.connect(self.chosen.emit)  # a click in the list

    def set_names(self, names: list[str]) -> None:
        self.completer().model().setStringList(names)

    def match(self) -> str | None:
        """The library exercise Enter takes: highlighted, typed in full, or the first offered."""
        completer = self.completer()
        popup = completer.popup()
        if popup.isVisible() and popup.currentIndex().isValid():
            return popup.currentIndex().data()
        text = self.text().strip()
        if not text:
            return None
        names = completer.model().stringList()
        exact = [n for n in names if n.lower() == text.lower()]
        if exact:
            return exact[0]
        completer.setCompletionPrefix(text)
        return completer.currentCompletion() if completer.setCurrentRow(0) else None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() not in (Qt.Key.Key_Return, Qt.Key.Key_Enter) or \
                event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier |
                                      Qt.KeyboardModifier.KeypadModifier):
            super().keyPressEvent(event)
            return
        event.accept()  # the completer must not add what was typed on its own
        text = self.text().strip()
        name = None if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else self.match()
        self.completer().popup().hide()
        if not text:
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.new_name.emit(text)
        elif name is None:
            self.no_match.emit(text)
        else:
            self.chosen.emit(name)


class ExercisesStep(Step):
    title = "Exercises"
    owns = ("exercises", "patient_response", "assessment", "home_program")

    def __init__(self, editor):
        super().__init__(editor)
        self.library = {e.name.lower(): e for e in editor.workspace.exercise_library()}
        self.add_box = ExerciseBox(sorted(e.name for e in self.library.values()))
        add_label = QLabel("&Add exercise:")
        add_label.setBuddy(self.add_box)
        self.new_button = QPushButton("Add as ne&w", objectName="add_new_exercise")
        self.new_button.setToolTip("Add the typed name as a new exercise, one not in the "
                                   "library (Shift+Enter)")
        self.carry_button = QPushButton("Carr&y forward", objectName="carry_forward")
        self.carry_button.setToolTip("Add last visit's exercises, each to be confirmed")
        self.undo_button = QPushButton("&Undo remove", objectName="undo_remove")
        self.library_button = QPushButton("Sa&ve to library", objectName="save_to_library")
        self.library_button.setToolTip("Save the selected row to the clinic's exercise library")
        self.chart_button = QPushButton("Progressi&on…", objectName="progression")
        self.model = ExerciseTableModel(self)
        self.table = ExerciseTable(self.model)
        table_label = QLabel("Flowsheet (&E) — Tab moves, typing edits, Enter on the last row "
                             "adds, Delete removes:")
        table_label.setBuddy(self.table)
        self.table_error = FieldError("exercises")
        self.removed: list[tuple[int, ExerciseEntry]] = []

        self.response = TextArea("field_patient_response",
                                 "Pain before/after, fatigue, compensations, tolerance")
        self.assessment = TextArea("field_assessment",
                                   "Your reasoning: progress toward goals, why skilled care")
        self.home_program = TextArea("field_home_program",
                                     "Home-program changes and education; compliance")
        form = QFormLayout()
        self.errors["patient_response"] = add_field(form, "Patient &response:", self.response,
                                                    "patient_response")
        self.errors["assessment"] = add_field(form, "A&ssessment:", self.assessment,
                                              "assessment")
        self.errors["home_program"] = add_field(form, "&Home program:", self.home_program,
                                                "home_program")
        self.errors["exercises"] = self.table_error
        self.inputs.update(exercises=self.table, add_exercise=self.add_box,
                           add_new_exercise=self.new_button, carry_forward=self.carry_button,
                           undo_remove=self.undo_button,
                           save_to_library=self.library_button, patient_response=self.response,
                           assessment=self.assessment, home_program=self.home_program)

        top = hbox(add_label, self.add_box, self.new_button, self.carry_button,
                   self.undo_button, self.library_button, self.chart_button, grow=self.add_box)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(table_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.table_error)
        layout.addLayout(form)

        self.add_box.chosen.connect(self._add_exercise)
        self.add_box.new_name.connect(self._add_exercise)
        self.add_box.no_match.connect(lambda text: self.table_error.show_message(
            f'No exercise in the library matches "{text}". To add it as a new exercise, '
            "press Shift+Enter or Add as new."))
        self.new_button.clicked.connect(lambda: self._add_exercise(self.add_box.text().strip()))
        self.carry_button.clicked.connect(self._carry_forward)
        self.undo_button.clicked.connect(self._undo)
        self.library_button.clicked.connect(self._save_to_library)
        self.chart_button.clicked.connect(self._chart)
        self.table.add_requested.connect(lambda: self.add_box.setFocus())
        self.table.remove_requested.connect(self._remove)
        self.model.edited.connect(self._rows_edited)
        self.model.refused.connect(self._refused)
        revert_on_escape(self.table, self.model.forget_refused)
        undo = QAction("Undo remove", self, shortcut=QKeySequence.StandardKey.Undo)
        undo.triggered.connect(self._undo)
        self.table.addAction(undo)
        self.bind_text("patient_response", self.response,
                       lambda s, text: replace(s, patient_response=text), "Patient response")
        self.bind_text("assessment", self.assessment, lambda s, text: replace(s, assessment=text),
                       "Assessment")
        self.bind_text("home_program", self.home_program,
                       lambda s, text: replace(s, home_program=text), "Home program")

    def load(self, session: Session) -> None:
        self.model.read_only = self.editor.read_only
        self.model.set_rows(session.exercises)
        for field, box, value in (("patient_response", self.response, session.patient_response),
                                  ("assessment", self.assessment, session.assessment),
                                  ("home_program", self.home_program, session.home_program)):
            self.show_text(field, box, value)
        self.undo_button.setEnabled(bool(self.removed) and not self.editor.read_only)

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        self.table.setEnabled(True)  # still scrollable and readable
        self.model.read_only = read_only
        self.chart_button.setEnabled(True)

    def focus_field(self, field: str) -> bool:
        if field.startswith("exercises["):
            row = int(field[len("exercises["):].split("]")[0])
            key = field.split(".", 1)[1] if "." in field else "name"
            self.table.setFocus()
            self.table.setCurrentIndex(self.model.index(row, COLUMN.get(key, 0)))
            return True
        return super().focus_field(field)

    def _apply_rows(self, rows: tuple[ExerciseEntry, ...]) -> bool:
        return self.editor.apply(lambda s: replace(s, exercises=rows), "exercises")

    def refusals(self) -> list[Refusal]:
        return self.model.refusals()

    def _rows_edited(self, rows: tuple[ExerciseEntry, ...]) -> None:
        before = self.editor.session.exercises
        if not self._apply_rows(rows):
            self.model.refuse_last_edit(self.editor.last_refusal)
            return
        # A progression or modification asks for its reason right away.
        for i, (old, new) in enumerate(zip(before, rows, strict=False)):
            changed = new.change in (ExerciseChange.PROGRESSED, ExerciseChange.MODIFIED)
            if changed and old.change != new.change and not new.modification_reason:
                self.table.setCurrentIndex(self.model.index(i, COLUMN["modification"]
                                                            if not new.modification
                                                            else COLUMN["modification_reason"]))
                break

    def _refused(self, field: str, message: str) -> None:
        if not message:
            self.table_error.clear_message()
        else:
            row = int(field.split("[")[1].split("]")[0])
            self.table_error.show_message(f"Row {row + 1}: {message} (what you typed is kept "
                                          "in red until it is corrected, or Escape restores "
                                          "the saved value)")
        self.editor.refresh_flags()

    def _add_exercise(self, name: str) -> None:
        """A library exercise with its defaults, or a new one by the name given."""
        if not name:
            self.add_box.setFocus()
            return
        self.table_error.clear_message()
        known = self.library.get(name.lower())
        entry = known.entry() if known else ExerciseEntry(name=name[:200])
        if self._apply_rows((*self.editor.session.exercises, entry)):
            self.add_box.clear()
            row = len(self.editor.session.exercises) - 1
            self.table.setFocus()
            self.table.setCurrentIndex(self.model.index(row, COLUMN["sets"]))

    def _remove(self, row: int) -> None:
        rows = list(self.editor.session.exercises)
        if self.editor.read_only or not 0 <= row < len(rows):
            return
        removed = rows.pop(row)
        if self._apply_rows(tuple(rows)):
            self.removed.append((row, removed))
            self.undo_button.setEnabled(True)
            if rows:
                self.table.setCurrentIndex(self.model.index(min(row, len(rows) - 1), 0))

    def _undo(self) -> None:
        if not self.removed or self.editor.read_only:
            return
        row, entry = self.removed.pop()
        rows = list(self.editor.session.exercises)
        rows.insert(min(row, len(rows)), entry)
        self._apply_rows(tuple(rows))
        self.table.setCurrentIndex(self.model.index(row, 0))

    def _carry_forward(self) -> None:
        try:
            carried = self.editor.workspace.carry_forward(self.editor.session)
        except KnownError as exc:
            self.table_error.show_message(str(exc))
            return
        if self._apply_rows(carried.exercises):
            first = next((i for i, e in enumerate(carried.exercises)
                          if e.change == ExerciseChange.CARRIED), 0)
            self.table.setFocus()
            self.table.setCurrentIndex(self.model.index(first, COLUMN["change"]))

    def _current_entry(self) -> ExerciseEntry | None:
        index: QModelIndex = self.table.currentIndex()
        rows = self.editor.session.exercises
        return rows[index.row()] if index.isValid() and index.row() < len(rows) else None

    def _save_to_library(self) -> None:
        entry = self._current_entry()
        if entry is None:
            self.table_error.show_message("Choose a row to save to the clinic library.")
            return
        saved = self.editor.workspace.add_to_library(entry)
        self.library[saved.name.lower()] = saved
        self.add_box.set_names(sorted(e.name for e in self.library.values()))
        self.editor.status(f"'{saved.name}' saved to the clinic library")

    def _chart(self) -> None:
        from ptdoc.ui.progression import ProgressionDialog

        entry = self._current_entry()
        dialog = ProgressionDialog(self.editor.workspace, self.editor.patient,
                                   entry.name if entry else None, self)
        dialog.exec()
