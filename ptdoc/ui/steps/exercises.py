"""Step 3, the exercises: the flowsheet, the library, carry-forward, and the session's
response, assessment and home program."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QTextCursor
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ptdoc.domain import ExerciseChange, ExerciseEntry, NoteType, Session
from ptdoc.errors import KnownError
from ptdoc.followup import (
    confirm_as_before,
    mark_changes,
    proposed_assessment,
    with_proposal,
)
from ptdoc.shorthand import Shorthand, fill, match_name, parse, ranked
from ptdoc.ui.exercise_table import COLUMN, ExerciseTable, ExerciseTableModel
from ptdoc.ui.refusals import Refusal, revert_on_escape
from ptdoc.ui.steps.base import Step, TextArea
from ptdoc.ui.widgets import FieldError, add_field, hbox


class ExerciseBox(QLineEdit):
    """Typing lists the library's exercises that the typed name may stand for, in the window
    (no popup to lose the keyboard to). Enter takes the highlighted one, or the first, with
    any values typed after the name (``bridge 3x12 hold 5``); Down moves into the list;
    Shift+Enter takes the text as a new exercise."""

    entered = Signal(str, str)  # (typed line, the exercise highlighted in the list or "")
    new_name = Signal(str)  # text the user explicitly adds as a new exercise

    def __init__(self, names: list[str]):
        super().__init__(objectName="field_add_exercise")
        self.setPlaceholderText("A few letters, or shorthand: bridge 3x12 hold 5 · Enter adds")
        self.setToolTip("Enter adds the highlighted (or first) exercise listed, with any "
                        "values typed after its name (3x12, hold 5, 5 lb, red band, CGA); an "
                        "exercise already on the flowsheet is changed instead. Shift+Enter "
                        "adds what you typed as a new exercise.")
        self.setMinimumWidth(200)
        self._names = names
        self.matches = QListWidget(objectName="exercise_matches")
        self.matches.setAccessibleName("Exercises matching what is typed")
        self.matches.setMaximumHeight(110)
        self.matches.hide()
        self.textEdited.connect(self._list)
        self.matches.itemActivated.connect(
            lambda item: self._take(item.text()))
        self.matches.installEventFilter(self)

    def set_names(self, names: list[str]) -> None:
        self._names = names

    def names(self) -> list[str]:
        return self._names

    def reset(self) -> None:
        """Empty, with no list of matches left showing."""
        self.clear()
        self.matches.clear()
        self.matches.hide()

    def _list(self, text: str) -> None:
        self.matches.clear()
        found = ranked(parse(text).name, self._names)[:30] if text.strip() else []
        self.matches.addItems(found)
        self.matches.setVisible(bool(found))

    def _take(self, name: str) -> None:
        text = self.text().strip()
        self.setFocus()
        self.entered.emit(text or name, name)

    def eventFilter(self, obj: QWidget, event) -> bool:  # Escape in the list: back to typing
        if obj is self.matches and isinstance(event, QKeyEvent) and \
                event.type() == QKeyEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
            self.setFocus()
            return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Down and self.matches.isVisible() and self.matches.count():
            self.matches.setFocus()
            self.matches.setCurrentRow(0)
            return
        if key == Qt.Key.Key_Escape and self.matches.isVisible():
            self.matches.hide()
            return
        if key not in (Qt.Key.Key_Return, Qt.Key.Key_Enter) or \
                event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier |
                                      Qt.KeyboardModifier.KeypadModifier):
            super().keyPressEvent(event)
            return
        event.accept()
        text = self.text().strip()
        if not text:
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.new_name.emit(text)
        else:
            self.entered.emit(text, "")


SHOWN_ROWS = 6  # of the flowsheet, at least, on a 1366x768 screen


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
        self.carry_button.setToolTip("Add the last signed visit's exercises, each to be "
                                     "confirmed")
        self.undo_button = QPushButton("&Undo remove", objectName="undo_remove")
        self.library_button = QPushButton("Sa&ve to library", objectName="save_to_library")
        self.library_button.setToolTip("Save the selected row to the clinic's exercise library")
        self.chart_button = QPushButton("Progressi&on…", objectName="progression")
        self.confirm_button = QPushButton("&Confirm the rest as before",
                                          objectName="confirm_as_before")
        self.confirm_button.setToolTip("Every carried-forward row not yet confirmed was done "
                                       "as last time (handle the rows that changed first)")
        self.proposal = QLabel(objectName="proposed_assessment")
        self.proposal.setWordWrap(True)
        self.proposal.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.propose_button = QPushButton("&Insert into assessment",
                                          objectName="take_proposal")
        self.propose_button.setToolTip("Add the proposed sentence to the assessment, to edit "
                                       "there")
        self._last_visit: tuple[ExerciseEntry, ...] | None = None
        self.model = ExerciseTableModel(self)
        self.table = ExerciseTable(self.model)
        # Six rows stay in sight on a 1366x768 screen, whatever shows under the table (the
        # proposed sentence, a refusal) or above it (the matches of Add exercise).
        self.table.setMinimumHeight(
            self.table.horizontalHeader().sizeHint().height()
            + SHOWN_ROWS * self.table.verticalHeader().defaultSectionSize()
            + self.table.horizontalScrollBar().sizeHint().height() + 2 * self.table.frameWidth())
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
        for area in (self.response, self.assessment, self.home_program):
            # Room for the flowsheet: three lines each, two when the window is short.
            lines = area.fontMetrics().lineSpacing()
            area.setMinimumHeight(2 * lines + 12)
            area.setMaximumHeight(3 * lines + 14)
        form = QFormLayout()
        self.errors["patient_response"] = add_field(form, "Patient &response:", self.response,
                                                    "patient_response")
        self.errors["assessment"] = add_field(form, "A&ssessment:", self.assessment,
                                              "assessment")
        self.proposal_row = QWidget()
        row = hbox(self.proposal, self.propose_button, grow=self.proposal)
        row.setContentsMargins(0, 0, 0, 0)
        self.proposal_row.setLayout(row)
        form.addRow("", self.proposal_row)
        self.errors["home_program"] = add_field(form, "&Home program:", self.home_program,
                                                "home_program")
        self.errors["exercises"] = self.table_error
        self.inputs.update(exercises=self.table, add_exercise=self.add_box,
                           add_new_exercise=self.new_button, carry_forward=self.carry_button,
                           confirm_as_before=self.confirm_button,
                           take_proposal=self.propose_button,
                           undo_remove=self.undo_button,
                           save_to_library=self.library_button, patient_response=self.response,
                           assessment=self.assessment, home_program=self.home_program)

        top = hbox(add_label, self.add_box, self.new_button, self.carry_button,
                   self.confirm_button, grow=self.add_box)
        # Which visit carry-forward copied, beside the tools (no line of its own).
        self.carried_note = QLabel(objectName="carried_from")
        self.carried_note.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)  # never widens the step
        tools = hbox(self.carried_note, self.undo_button, self.library_button,
                     self.chart_button, grow=self.carried_note)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.add_box.matches)
        layout.addLayout(tools)
        layout.addWidget(table_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.table_error)
        layout.addLayout(form)

        self.add_box.entered.connect(self._enter)
        self.add_box.new_name.connect(self._add_new)
        self.new_button.clicked.connect(lambda: self._add_new(self.add_box.text().strip()))
        self.confirm_button.clicked.connect(self._confirm_rest)
        self.propose_button.clicked.connect(self._take_proposal)
        self.carry_button.clicked.connect(self._carry_forward)
        self.undo_button.clicked.connect(self._undo)
        self.library_button.clicked.connect(self._save_to_library)
        self.chart_button.clicked.connect(self._chart)
        self.table.add_requested.connect(lambda: self.add_box.setFocus())
        self.table.remove_requested.connect(self._remove)
        self.model.edited.connect(self._rows_edited)
        self.model.refused.connect(self._refused)
        revert_on_escape(self.table, lambda index: self.revert_cell(self.model, index))
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
        # A progress report's assessment states the progress toward each goal: room for
        # seven lines there, the flowsheet keeping six rows on a 1366x768 screen.
        lines = self.assessment.fontMetrics().lineSpacing()
        report = session.note_type in (NoteType.PROGRESS_REPORT, NoteType.RE_EVALUATION)
        self.assessment.setMaximumHeight((7 if report else 3) * lines + 14)
        self.assessment.setMinimumHeight((5 if report else 2) * lines + 12)
        self.model.set_rows(session.exercises)
        for field, box, value in (("patient_response", self.response, session.patient_response),
                                  ("assessment", self.assessment, session.assessment),
                                  ("home_program", self.home_program, session.home_program)):
            self.show_text(field, box, value)
        self.undo_button.setEnabled(bool(self.removed) and not self.editor.read_only)
        carried_rows = any(e.change == ExerciseChange.CARRIED for e in session.exercises)
        self.confirm_button.setEnabled(carried_rows and not self.editor.read_only)
        proposal = proposed_assessment(session)
        shown = bool(proposal) and proposal not in session.assessment
        self.proposal.setText(f"Proposed: {proposal}" if shown else "")
        self.proposal_row.setVisible(shown)
        self.propose_button.setEnabled(shown and not self.editor.read_only)

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

    def last_visit(self) -> tuple[ExerciseEntry, ...]:
        """The last visit's rows, which carried rows are compared with (read once)."""
        if self._last_visit is None:
            try:
                self._last_visit = self.editor.workspace.last_visit_exercises(
                    self.editor.session)
            except KnownError:
                self._last_visit = ()
        return self._last_visit

    def _rows_edited(self, rows: tuple[ExerciseEntry, ...]) -> None:
        before = self.editor.session.exercises
        # A new value typed into a carried row says how it changed since the last visit.
        rows = mark_changes(self.last_visit(), before, rows)
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
            self.editor.show_error(field, "")  # here and wherever else its reason was said
        else:
            row = int(field.split("[")[1].split("]")[0])
            self.table_error.show_message(f"Row {row + 1}: {message} (what you typed is kept "
                                          "in red until it is corrected, or Escape restores "
                                          "the saved value)")
        self.editor.refresh_flags()

    def _enter(self, text: str, highlighted: str) -> None:
        """Enter in Add exercise: the highlighted completion, or the exercise the typed line
        names with the values after its name. A name already on the flowsheet changes that
        row (a carried row then says how it changed); otherwise the library's exercise is
        added."""
        line = parse(text)
        if highlighted:  # the chosen exercise, with the values typed after the name
            line = Shorthand(highlighted, line.values, line.leftover)
        rows = self.editor.session.exercises
        on_sheet = match_name(line.name, [e.name for e in rows])
        if on_sheet is not None:
            self._change_row(next(i for i, e in enumerate(rows) if e.name == on_sheet), line)
            return
        name = highlighted or match_name(line.name, self.add_box.names())
        if name is None:
            self.table_error.show_message(
                f'No exercise in the library matches "{line.name or text}". To add '
                f'"{text}" as a new exercise, press Shift+Enter or Add as new.')
            return
        known = self.library.get(name.lower())
        self._add_row(fill(known.entry() if known else ExerciseEntry(name=name[:200]), line))

    def _add_new(self, text: str) -> None:
        """What was typed, as an exercise not in the library (its values read as shorthand)."""
        if not text:
            self.add_box.setFocus()
            return
        line = parse(text)
        self._add_row(fill(ExerciseEntry(name=(line.name or text)[:200]), line))

    def _add_row(self, entry: ExerciseEntry) -> None:
        self.table_error.clear_message()
        if self._apply_rows((*self.editor.session.exercises, entry)):
            self.add_box.reset()
            self._go_to(len(self.editor.session.exercises) - 1, "sets")
        else:
            self.table_error.show_message(self.editor.last_refusal)

    def _change_row(self, index: int, line: Shorthand) -> None:
        before = self.editor.session.exercises
        rows = list(before)
        rows[index] = fill(rows[index], line)
        self.table_error.clear_message()
        if not self.editor.apply(lambda s: replace(s, exercises=mark_changes(
                self.last_visit(), before, tuple(rows))), "exercises"):
            self.table_error.show_message(self.editor.last_refusal)
            return
        self.add_box.reset()
        entry = self.editor.session.exercises[index]
        asks = entry.change in (ExerciseChange.PROGRESSED, ExerciseChange.MODIFIED) and \
            not entry.modification_reason
        self._go_to(index, "modification_reason" if asks else "change")
        if asks:
            self.editor.status(f"'{entry.name}' {entry.change.value}: type the reason")

    def _go_to(self, row: int, key: str) -> None:
        self.table.setFocus()
        self.table.setCurrentIndex(self.model.index(row, COLUMN[key]))

    def _confirm_rest(self) -> None:
        if self._apply_rows(confirm_as_before(self.editor.session.exercises)):
            self.editor.status("The remaining carried rows are confirmed as before")
            self.response.setFocus()

    def _take_proposal(self) -> None:
        proposal = proposed_assessment(self.editor.session)
        if self.editor.apply(lambda s: replace(s, assessment=with_proposal(
                s.assessment, proposal)), "assessment"):
            self.assessment.setFocus()
            self.assessment.moveCursor(QTextCursor.MoveOperation.End)

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
        if not carried.added:
            self.carried_note.setText(f"{carried.told}: every exercise is already here")
            self.editor.status(f"{carried.told}: nothing to add")
            return
        if not self._apply_rows(carried.session.exercises):
            # Refused whatever field the reason names: said here, where the key was pressed.
            self.table_error.show_message(f"Not carried: {self.editor.last_refusal}")
            return
        self.carried_note.setText(carried.told)
        self.editor.status(f"{carried.told}: {carried.added} "
                           f"exercise{'s' * (carried.added != 1)} to confirm")
        rows = carried.session.exercises
        first = next((i for i, e in enumerate(rows) if e.change == ExerciseChange.CARRIED), 0)
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
                                   entry.name if entry else None, self,
                                   self.editor.session.id)
        dialog.exec()
