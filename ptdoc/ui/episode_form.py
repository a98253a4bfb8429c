"""A plan of care: open an episode, certify, recertify, revise it at a progress report,
discharge (a PT or DPT); a PTA sees it read-only. The plan's history is shown below it."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ptdoc import clock
from ptdoc.domain import Episode, Patient
from ptdoc.errors import KnownError, ValidationError
from ptdoc.fields import DATE_FORMS, parse_date
from ptdoc.permissions import Permission
from ptdoc.services import Workspace
from ptdoc.services.episodes import plan_action
from ptdoc.ui.steps.visit import CODE_ROLE, SearchBox, find_codes
from ptdoc.ui.widgets import FieldError, add_field, show_problems

DATE_FIELDS = (("start_date", "Plan start date"), ("certified_on", "Certification date"),
               ("certified_through", "Certified-through date"),
               ("discharged_on", "Discharge date"))


def history_lines(workspace: Workspace, episode_id: int) -> list[str]:
    """The plan's history as it reads: when, who, what, each field before and after."""
    zone = workspace.time_zone()
    out = []
    for change in workspace.episode_history(episode_id):
        fields = "; ".join(f"{name.replace('_', ' ')}: {json.dumps(old)} → {json.dumps(new)}"
                           for name, (old, new) in change.changes.items())
        out.append(f"{clock.stamp(change.at, zone)} · {change.actor} · {change.action}: "
                   f"{fields}")
    return out


class EpisodeDialog(QDialog):
    """``episode`` None opens a new one. After exec(): ``saved`` is the stored episode."""

    def __init__(self, workspace: Workspace, patient: Patient, episode: Episode | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.patient = patient
        self.episode = episode
        self.saved: Episode | None = None
        self.read_only = not workspace.can(Permission.EVALUATE) or (
            episode is not None and episode.discharged_on is not None)
        self.setObjectName("episode_dialog")
        self.setWindowTitle(f"Plan of care · {patient.display_name}" +
                            (" (read-only)" if self.read_only else ""))
        form = QFormLayout()
        self.dates = {name: QLineEdit(placeholderText=DATE_FORMS) for name, _l in DATE_FIELDS}
        self.physician = QLineEdit()
        self.npi = QLineEdit(placeholderText="10 digits")
        self.diagnoses = QListWidget()
        self.diagnoses.setAccessibleName("Diagnoses")
        self.diagnoses.setMaximumHeight(80)
        self.results = QListWidget(objectName="episode_diagnosis_results")
        self.results.setAccessibleName("ICD-10-CM search results")
        self.results.setMaximumHeight(90)
        self.search = SearchBox(self.results)
        self.search.setPlaceholderText("A code (M17.11) or words (knee osteoarthritis); Enter "
                                       "adds, Delete in the list removes")
        self.goals = QPlainTextEdit()
        self.goals.setPlaceholderText("One goal per line (STG: ... in 2 weeks; LTG: ...)")
        self.goals.setTabChangesFocus(True)
        self.goals.setMaximumHeight(80)
        self.frequency = QLineEdit(placeholderText="2x/week")
        self.duration = QLineEdit(placeholderText="8 weeks")
        self.order = QCheckBox("Physician's &order on file", objectName="field_order_on_file")
        self.errors: dict[str, FieldError] = {}
        for label, widget, name in (
                ("S&tart date:", self.dates["start_date"], "start_date"),
                ("Referring &physician:", self.physician, "physician_name"),
                ("Physician &NPI:", self.npi, "physician_npi"),
                ("&Diagnoses:", self.diagnoses, "diagnoses"),
                ("ICD-10-CM sea&rch:", self.search, "diagnosis_search"),
                ("", self.results, "diagnosis_results"),
                ("&Goals (one per line):", self.goals, "goals"),
                ("&Frequency:", self.frequency, "frequency"),
                ("D&uration:", self.duration, "duration"),
                ("&Certified on:", self.dates["certified_on"], "certified_on"),
                ("Certified throug&h:", self.dates["certified_through"], "certified_through"),
                ("", self.order, "order_on_file"),
                ("Disch&arged on:", self.dates["discharged_on"], "discharged_on")):
            self.errors[name] = add_field(form, label, widget, name)
        self.search.setObjectName("field_diagnosis_search")
        self.results.setObjectName("episode_diagnosis_results")
        self.errors["form"] = FieldError("episode")
        self.history = QListWidget(objectName="episode_history")
        self.history.setAccessibleName("History of this plan of care")
        history_label = QLabel("H&istory (read-only):")
        history_label.setBuddy(self.history)
        self.history.setMaximumHeight(110)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save |
                                   QDialogButtonBox.StandardButton.Close)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("&Save plan")
        self.save_button.setObjectName("episode_save")
        self.save_button.setVisible(not self.read_only)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Close")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        self.note = QLabel(objectName="episode_note")
        self.note.setWordWrap(True)

        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(self.note)
        column.addLayout(form)
        column.addWidget(history_label)
        column.addWidget(self.history)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.errors["form"])
        bottom = QHBoxLayout()
        bottom.addWidget(buttons)
        layout.addLayout(bottom)

        self.search.textEdited.connect(
            lambda text: find_codes(self.results, workspace.codes_if_ready, text))
        self.search.returnPressed.connect(lambda: self._add_code(
            self.results.currentItem() or self.results.item(0)))
        self.results.itemActivated.connect(self._add_code)
        self.diagnoses.installEventFilter(self)
        self._load()
        self.resize(720, 700)

    def _load(self) -> None:
        e = self.episode
        codes = self.workspace.codes_if_ready
        if e is None:
            self.dates["start_date"].setText(self.workspace.today().isoformat())
            self.note.setText("A new episode under a plan of care.")
        else:
            for name, _label in DATE_FIELDS:
                value = getattr(e, name)
                self.dates[name].setText(value.isoformat() if value else "")
            self.physician.setText(e.physician_name)
            self.npi.setText(e.physician_npi or "")
            for code in e.diagnoses:
                self._list_code(code, codes.description(code) if codes else None)
            self.goals.setPlainText("\n".join(e.goals))
            self.frequency.setText(e.frequency)
            self.duration.setText(e.duration)
            self.order.setChecked(e.order_on_file)
            for line in history_lines(self.workspace, e.id or 0):
                self.history.addItem(line)
            self.note.setText("Discharged: the plan is closed; open a new episode instead."
                              if e.discharged_on else
                              "Read-only: a PT or DPT changes the plan of care."
                              if self.read_only else
                              "Saving records why in the history: certify (a first "
                              "certification date), recertify (a new one), discharge (a "
                              "discharge date), otherwise a progress report.")
        if self.read_only:
            for box in (*self.dates.values(), self.physician, self.npi, self.frequency,
                        self.duration, self.search):
                box.setReadOnly(True)
            self.goals.setReadOnly(True)
            self.order.setEnabled(False)
            self.results.setEnabled(False)
        self.dates["start_date" if e is None else "certified_on"].setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter takes a diagnosis in the search; saving the plan is the Save button's alone.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return
        super().keyPressEvent(event)

    def eventFilter(self, obj: QWidget, event) -> bool:  # Delete in the diagnosis list
        if obj is self.diagnoses and isinstance(event, QKeyEvent) and \
                event.type() == QKeyEvent.Type.KeyPress and \
                event.key() == Qt.Key.Key_Delete and not self.read_only:
            self.diagnoses.takeItem(self.diagnoses.currentRow())
            return True
        return super().eventFilter(obj, event)

    def _list_code(self, code: str, description: str | None) -> None:
        item = QListWidgetItem(f"{code}  {description or ''}".strip())
        item.setData(CODE_ROLE, code)
        self.diagnoses.addItem(item)

    def _add_code(self, item: QListWidgetItem | None) -> None:
        if item is None or self.read_only:
            return
        code = item.data(CODE_ROLE)
        if code not in self.codes():
            self._list_code(code, item.text().split("  ", 1)[-1].split("  (")[0]
                            if "  " in item.text() else None)
        self.search.clear()
        self.results.clear()

    def codes(self) -> list[str]:
        return [self.diagnoses.item(i).data(CODE_ROLE) for i in range(self.diagnoses.count())]

    def typed(self) -> dict[str, Any]:
        """The plan as typed: every field of an Episode but its ids."""
        problems = []
        values: dict[str, Any] = {}
        for name, label in DATE_FIELDS:
            try:
                values[name] = parse_date(self.dates[name].text(), label, name)
            except ValidationError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ValidationError(problems)
        if values["start_date"] is None:
            raise ValidationError.single("start_date", f"Plan start date is required "
                                                       f"({DATE_FORMS})")
        values.update(
            diagnoses=tuple(self.codes()),
            goals=tuple(g.strip() for g in self.goals.toPlainText().splitlines() if g.strip()),
            frequency=self.frequency.text().strip(), duration=self.duration.text().strip(),
            order_on_file=self.order.isChecked(), physician_name=self.physician.text().strip(),
            physician_npi=self.npi.text().strip() or None)
        return values

    def _save(self) -> None:
        ws = self.workspace
        try:
            values = self.typed()
            if self.episode is None:
                self.saved = ws.add_episode(Episode(self.patient.id or 0, **values))
            else:
                before = self.episode
                changes = {k: v for k, v in values.items() if getattr(before, k) != v}
                self.saved = ws.revise_episode(before.id or 0, plan_action(before, changes),
                                               **changes)
        except KnownError as exc:
            show_problems(self.errors, exc, "form")
            return
        self.accept()

