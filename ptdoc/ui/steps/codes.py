"""Step 4, time and codes: minutes per code, total time, units by the payer's method."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from ptdoc import fields as f
from ptdoc.catalog import codes, evaluation_codes, is_evaluation_code, lookup
from ptdoc.claim import services_from_exercises
from ptdoc.domain import ServiceLine, Session
from ptdoc.ui.refusals import Refusal, revert_on_escape
from ptdoc.ui.service_table import ServiceTableModel
from ptdoc.ui.steps.base import Step
from ptdoc.ui.widgets import FieldError, add_field, hbox


class CodesStep(Step):
    title = "Time and codes"
    owns = ("services", "total_treatment_minutes", "evaluation_code")

    def __init__(self, editor):
        super().__init__(editor)
        self.model = ServiceTableModel(self)
        self.table = QTableView(objectName="service_table")
        self.table.setModel(self.model)
        self.table.setAccessibleName("Billed codes")
        self.table.setTabKeyNavigation(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AnyKeyPressed |
                                   QAbstractItemView.EditTrigger.EditKeyPressed |
                                   QAbstractItemView.EditTrigger.DoubleClicked)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(ServiceTableModel.COL_WHY, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(ServiceTableModel.COL_DESCRIPTION, 220)
        self.table.setColumnWidth(ServiceTableModel.COL_DETAIL, 250)
        for narrow in (ServiceTableModel.COL_CODE, ServiceTableModel.COL_MINUTES,
                       ServiceTableModel.COL_UNITS, ServiceTableModel.COL_MODIFIERS):
            self.table.setColumnWidth(narrow, 70)
        self.table.setWordWrap(True)
        table_label = QLabel("Billed &codes (type minutes, and what was done on a line that "
                             "is not exercise; units and modifiers are computed):")
        table_label.setBuddy(self.table)
        self.code_box = QComboBox(objectName="field_add_code")
        self.code_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.code_box.setMinimumContentsLength(24)
        for info in sorted(codes().values(), key=lambda i: i.code):
            self.code_box.addItem(f"{info.code} {info.description}", info.code)
        # An evaluation's or re-evaluation's own code, chosen by the therapist from the
        # complexity documented: never guessed, so nothing is chosen until they choose.
        self.evaluation = QComboBox(objectName="field_evaluation_code")
        self.evaluation.setAccessibleName("Evaluation code")
        self.evaluation_label = QLabel("E&valuation code:")
        self.evaluation_label.setBuddy(self.evaluation)
        self._evaluation_choices: tuple[str, ...] = ()
        add_label = QLabel("Add co&de:")
        add_label.setBuddy(self.code_box)
        self.add_button = QPushButton("&Add", objectName="add_code")
        self.add_button.setAccessibleName("Add the chosen code")
        self.remove_button = QPushButton("&Remove line", objectName="remove_code")
        self.fill_button = QPushButton("Fill &minutes from exercises",
                                       objectName="fill_minutes")
        self.table_error = FieldError("services")
        form = QFormLayout()
        self.total = QLineEdit(placeholderText="minutes")
        self.errors["total_treatment_minutes"] = add_field(
            form, "&Total treatment time:", self.total, "total_treatment_minutes")
        self.explanation = QLabel(objectName="units_explanation")
        self.explanation.setWordWrap(True)
        self.tie = QComboBox(objectName="field_tie")
        self.tie_label = QLabel("T&ie — the unit goes to:")
        self.tie_label.setBuddy(self.tie)
        self.errors["services"] = self.table_error
        self.inputs.update(services=self.table, add_code=self.code_box,
                           add_code_button=self.add_button, remove_code=self.remove_button,
                           fill_minutes=self.fill_button, total_treatment_minutes=self.total,
                           tie=self.tie, evaluation_code=self.evaluation)

        row = hbox(add_label, self.code_box, self.add_button, self.remove_button,
                   self.fill_button, grow=self.code_box)
        tie_row = hbox(self.tie_label, self.tie, grow=self.tie)
        layout = QVBoxLayout(self)
        layout.addLayout(hbox(self.evaluation_label, self.evaluation, grow=self.evaluation))
        layout.addLayout(row)
        layout.addWidget(table_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.table_error)
        layout.addLayout(form)
        layout.addLayout(tie_row)
        layout.addWidget(self.explanation)

        self.add_button.clicked.connect(self._add)
        # Enter on the chosen code adds it, as the button does (an open list takes its own
        # Enter to choose).
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            enter = QShortcut(QKeySequence(key), self.code_box, self._add)
            enter.setContext(Qt.ShortcutContext.WidgetShortcut)
            enter.setObjectName("add_code_on_enter")
        self.remove_button.clicked.connect(self._remove)
        self.fill_button.clicked.connect(lambda: self.editor.apply(
            lambda s: replace(s, services=services_from_exercises(s)), "services"))
        self.model.edited.connect(self._lines_edited)
        self.model.refused.connect(self._refused)
        revert_on_escape(self.table, lambda index: self.revert_cell(self.model, index))
        self.tie.activated.connect(self._choose_tie)
        self.evaluation.activated.connect(self._choose_evaluation)
        self.bind_text("total_treatment_minutes", self.total, lambda s, text: replace(
            s, total_treatment_minutes=f.parse_int(text, f.TOTAL_MINUTES,
                                                   "total_treatment_minutes")),
            "Total treatment time")

    def load(self, session: Session) -> None:
        review = self.editor.review
        claim = review.claim if review else None
        self.model.read_only = self.editor.read_only
        self.model.set_rows(session.services, claim.lines if claim else ())
        self.show_text("total_treatment_minutes", self.total,
                       "" if session.total_treatment_minutes is None
                       else str(session.total_treatment_minutes))
        self._load_evaluation(session)
        if claim is None:
            return
        units = claim.units
        self.explanation.setText("\n".join(units.explanation) or "No timed minutes yet.")
        tied = units.tied and not self.editor.read_only
        self.tie.setVisible(tied)
        self.tie_label.setVisible(tied)
        self.tie.clear()
        if tied:
            for choice in units.choices:
                label = ", ".join(f"{code} x{n}" for code, n in choice.items() if n)
                self.tie.addItem(label, choice)
            current = [c for c in units.choices if c == claim.chosen]
            self.tie.setCurrentIndex(units.choices.index(current[0]) if current else 0)

    def _load_evaluation(self, session: Session) -> None:
        """Shown on an evaluation (97161-97163) or re-evaluation (97164) only, with the code
        billed, or none chosen."""
        expected = evaluation_codes(session.note_type)
        self.evaluation.setVisible(bool(expected))
        self.evaluation_label.setVisible(bool(expected))
        if not expected:
            return
        if expected != self._evaluation_choices:
            self._evaluation_choices = expected
            self.evaluation.clear()
            self.evaluation.addItem("none billed yet: choose the complexity you documented"
                                    if len(expected) > 1 else
                                    f"none billed yet: choose {expected[0]}", None)
            for code in expected:
                info = lookup(code)
                self.evaluation.addItem(f"{code} {info.description if info else ''}", code)
        billed = [line.code for line in session.services if line.code in expected]
        self.evaluation.setCurrentIndex(self.evaluation.findData(billed[0]) if billed else 0)

    def _choose_evaluation(self, index: int) -> None:
        """The chosen code replaces any evaluation code billed (keeping what its line says),
        so changing the complexity never leaves two; it is the first line."""
        code = self.evaluation.itemData(index)
        if code is None:
            return  # removing a line is Remove line's

        def change(s: Session) -> Session:
            old = next((line for line in s.services if is_evaluation_code(line.code)), None)
            chosen = replace(old, code=code) if old is not None else ServiceLine(code)
            others = tuple(line for line in s.services if not is_evaluation_code(line.code))
            return replace(s, services=(chosen, *others))
        self.editor.apply(change, "services")

    def refusals(self) -> list[Refusal]:
        return self.model.refusals()

    def _lines_edited(self, rows: tuple[ServiceLine, ...]) -> None:
        if not self.editor.apply(lambda s: replace(s, services=rows), "services"):
            self.model.refuse_last_edit(self.editor.last_refusal)

    def _refused(self, field: str, message: str) -> None:
        if message:
            self.table_error.show_message(message)
        else:
            self.editor.show_error(field, "")  # here and wherever else its reason was said
        self.editor.refresh_flags()

    def focus_field(self, field: str) -> bool:
        if field.startswith("services["):
            row = int(field[len("services["):].split("]")[0])
            key = field.split(".", 1)[1] if "." in field else "code"
            column = ServiceTableModel.COLUMNS.get(key, ServiceTableModel.COL_CODE)
            self.table.setFocus()
            self.table.setCurrentIndex(self.model.index(row, column))
            return True
        return super().focus_field(field)

    def _add(self) -> None:
        code = self.code_box.currentData()
        self.editor.apply(lambda s: replace(s, services=(*s.services, ServiceLine(code))),
                          "services")
        row = len(self.editor.session.services) - 1
        self.table.setFocus()
        self.table.setCurrentIndex(self.model.index(row, ServiceTableModel.COL_MINUTES))

    def _remove(self) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            return
        row = index.row()
        self.editor.apply(lambda s: replace(s, services=tuple(
            line for i, line in enumerate(s.services) if i != row)), "services")

    def _choose_tie(self, index: int) -> None:
        choice = self.tie.itemData(index)

        def change(s: Session) -> Session:
            given: set[str] = set()
            lines = []
            for line in s.services:
                units = 0 if line.code in given else choice.get(line.code, line.units)
                given.add(line.code)
                lines.append(replace(line, units=units))
            return replace(s, services=tuple(lines))
        self.editor.apply(change, "services")
